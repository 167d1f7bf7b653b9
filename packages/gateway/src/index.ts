export { Gateway, type GatewayOptions } from './gateway.ts';
export { loadConfigFile, parseConfig, type GatewayConfig, type RouteConfig, type UpstreamConfig } from './config/load.ts';
export { ConfigSchema } from './config/schema.ts';
export { RampartError, ConfigError, BadRequestError } from './errors.ts';
export { createLogger, type Logger } from './observability/log.ts';
export type { Middleware, MiddlewareFactory, Dispatch, ProxyRequest, ResponseHandler, ResponseController, HeaderList } from './middleware/types.ts';
