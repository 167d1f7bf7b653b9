// The edge cache's end-to-end tests: a real gateway (admin listener on) with
// `cache` on its route, in front of a real node:http upstream that counts and
// records every request it gets and answers as each test says.
import http from 'node:http';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

export type Answer = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

export interface CacheSetup {
  readonly gw: TestGateway;
  readonly upstream: TestUpstream;
  /** Every request the upstream received, in order. */
  readonly seen: SeenRequest[];
  /** Requests the upstream received for `path` (with query), or all. */
  count(path?: string): number;
  get(path: string, headers?: Record<string, string | string[]>, method?: string): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The Cache-Status member this cache added (the last one). */
  readonly cacheStatus: string;
}

export interface SetupOptions {
  /** The route's `cache:` value (default true). */
  readonly cache?: unknown;
  /** The top-level `cache:` section. */
  readonly store?: Record<string, unknown>;
  /** Extra keys of upstream `app`. */
  readonly upstream?: Record<string, unknown>;
  /** Extra keys of the route. */
  readonly route?: Record<string, unknown>;
  /** Routes to use instead of the single catch-all one (`upstream: app` filled in). */
  readonly routes?: Record<string, unknown>[];
}

export function gatewayYaml(servers: string[], options: SetupOptions = {}): string {
  const routes = options.routes?.map((r) => ({ upstream: 'app', ...r })) ?? [{ path: '/', upstream: 'app', cache: options.cache ?? true, ...options.route }];
  return JSON.stringify({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    log: { level: 'warn', access: false },
    ...(options.store === undefined ? {} : { cache: options.store }),
    upstreams: { app: { servers, ...options.upstream } },
    routes,
  });
}

export async function setup(answer: Answer, options: SetupOptions = {}): Promise<CacheSetup> {
  const seen: SeenRequest[] = [];
  const upstream = await startUpstream((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    answer(req, res, seen.length);
  });
  const gw = await startGateway(gatewayYaml([upstream.url], options));
  return {
    gw,
    upstream,
    seen,
    count: (path) => (path === undefined ? seen.length : seen.filter((s) => s.url === path).length),
    get: (path, headers = {}, method = 'GET') => request(gw.port, path, headers, method),
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}

/** One request on a fresh connection (no pooling: each request stands alone). */
export function request(port: number, path: string, headers: Record<string, string | string[]> = {}, method = 'GET', body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const list = res.headers['cache-status'];
        const members = (Array.isArray(list) ? list.join(', ') : (list ?? '')).split(/,\s*(?=[A-Za-z0-9_.-]+(?:;|$))/);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), cacheStatus: members.at(-1) ?? '' });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.end(body);
  });
}

/** POST to the admin listener. */
export async function admin(gw: TestGateway, path: string, method = 'POST'): Promise<{ status: number; json: Record<string, unknown> | null; text: string }> {
  const res = await fetch(gw.adminUrl + path, { method });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

export function cacheable(res: http.ServerResponse, body: string, headers: Record<string, string | number | string[]> = {}): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=3600', ...headers });
  res.end(body);
}

/** Sockets the upstream has open now (to cut a server's connections). */
export function destroyConnections(server: http.Server): void {
  (server as http.Server & { closeAllConnections(): void }).closeAllConnections();
}
