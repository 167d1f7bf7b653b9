// Gateway configs for tests, written as JSON (which is YAML) so that any key
// of an upstream, a route or `limits` can be set without string surgery.

export interface ConfigOptions {
  /** Extra keys of upstream `app`: `{ headersTimeout: '300ms' }`. */
  upstream?: Record<string, unknown>;
  /** Extra keys of the catch-all route. */
  route?: Record<string, unknown>;
  /** Replaces the catch-all route. */
  routes?: Record<string, unknown>[];
  limits?: Record<string, unknown>;
  /** Other top-level keys (`trustedProxies`, `shutdownGrace`, ...). */
  top?: Record<string, unknown>;
  /** Access log lines (default on). */
  access?: boolean;
  /** `127.0.0.1:0` by default. */
  listen?: string;
}

export function gatewayConfig(servers: string[], options: ConfigOptions = {}): string {
  return JSON.stringify({
    listen: options.listen ?? '127.0.0.1:0',
    admin: false,
    log: { level: 'info', access: options.access ?? true },
    limits: options.limits ?? {},
    upstreams: { app: { servers, ...options.upstream } },
    routes: options.routes ?? [{ path: '/', upstream: 'app', ...options.route }],
    ...options.top,
  });
}
