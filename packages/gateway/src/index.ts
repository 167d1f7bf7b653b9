export { Gateway, type GatewayOptions, type UpstreamRunner, type RunnerStatus, type RunnerInstance } from './gateway.ts';
export { loadConfigFile, parseConfig, type GatewayConfig, type RouteConfig, type UpstreamConfig, type RunConfig, type AutoscaleConfig, type RunCheck, type RunProblem, type ParseOptions } from './config/load.ts';
export type { DatabaseConfig } from './config/database.ts';
export type { Upstream, UpstreamServer } from './upstream/upstream.ts';
export { ConfigSchema } from './config/schema.ts';
export { RampartError, ConfigError, BadRequestError } from './errors.ts';
export { createLogger, type Logger } from './observability/log.ts';
export type { Middleware, MiddlewareFactory, Dispatch, ProxyRequest, ResponseHandler, ResponseController, HeaderList } from './middleware/types.ts';
