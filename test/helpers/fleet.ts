// A fleet of real upstream servers for balancer tests. Each one answers with
// its own name (body and `x-instance`), counts what it served, can hold
// requests until released, delay its answers, fail its heartbeat on a script,
// and be killed (listener closed, every socket destroyed) mid-load.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

export interface Instance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly server: http.Server;
  /** Requests answered (or held), heartbeats excluded. */
  hits: number;
  /** Heartbeats received. */
  checks: number;
  /** Delay before answering a non-heartbeat request, in ms. */
  delayMs: number;
  /** Statuses of the next heartbeats, consumed in order; `healthStatus` after that. */
  readonly healthScript: number[];
  /** Status of heartbeats once the script is empty. */
  healthStatus: number;
  /** Requests to paths starting with `/hold` wait here until released. */
  readonly held: http.ServerResponse[];
  /** Releases every held request with 200 and this instance's name. */
  release(): void;
  /** Closes the listener and destroys every open socket at once, as a crash would. */
  kill(): void;
  close(): Promise<void>;
}

function answer(name: string, res: http.ServerResponse, extra = ''): void {
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'text/plain', 'x-instance': name }).end(name + extra);
}

export async function startInstance(name: string): Promise<Instance> {
  const sockets = new Set<net.Socket>();
  const instance: Instance = {
    name,
    port: 0,
    url: '',
    server: undefined as unknown as http.Server,
    hits: 0,
    checks: 0,
    delayMs: 0,
    healthScript: [],
    healthStatus: 200,
    held: [],
    release() {
      for (const res of instance.held.splice(0)) answer(name, res);
    },
    kill() {
      instance.server.close();
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        instance.release();
        instance.server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    if (req.url === '/healthz') {
      instance.checks++;
      const status = instance.healthScript.shift() ?? instance.healthStatus;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
      return;
    }
    instance.hits++;
    // Drain any request body before answering, so the gateway's write completes.
    req.resume();
    if (req.url?.startsWith('/hold')) {
      instance.held.push(res);
      return;
    }
    if (instance.delayMs > 0) setTimeout(() => answer(name, res), instance.delayMs);
    else req.on('end', () => answer(name, res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  Object.assign(instance, { port, url: `http://127.0.0.1:${port}`, server });
  return instance;
}

export async function startFleet(count: number): Promise<Instance[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startInstance(`s${i}`)));
}

/** A loopback port that refuses connections (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and resets each one as soon as a request byte arrives. */
export async function startResetter(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { url: '', requests: 0, close: () => Promise.resolve() };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      state.requests++;
      socket.resetAndDestroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

export interface ServerView {
  id: string;
  url: string;
  state: string;
  weight: number;
  inflight: number;
  served: number;
  failed: number;
  lastHealthLatencyMs: number | null;
}

export interface UpstreamView {
  balance: string;
  panic: boolean;
  inflight: number;
  retriesRefused: number;
  servers: ServerView[];
}

/** `GET /status` on the admin listener, upstream `app`. */
export async function upstreamStatus(adminUrl: string, name = 'app'): Promise<UpstreamView> {
  const res = await fetch(`${adminUrl}/status`);
  const body = (await res.json()) as { upstreams: Record<string, UpstreamView> };
  return body.upstreams[name]!;
}

/** One GET; resolves with the status, the instance that answered (or null) and the body. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; instance: string | null; body: string; setCookie: string | null }> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  return { status: res.status, instance: res.headers.get('x-instance'), body, setCookie: res.headers.get('set-cookie') };
}

/** The instance names of `n` GETs, one after the other. */
export async function sequence(url: string, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(url, headers);
    if (r.status !== 200 || r.instance === null) throw new Error(`request ${i}: status ${r.status}: ${r.body}`);
    names.push(r.instance);
  }
  return names;
}

export function countBy(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

/** A gateway config (JSON, which is YAML) with upstream `app` over `servers` and an admin listener. */
export function fleetConfig(servers: (string | { url: string; weight: number })[], upstream: Record<string, unknown> = {}, route: Record<string, unknown> = {}): string {
  return JSON.stringify({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    log: { level: 'info', access: true },
    upstreams: { app: { servers, ...upstream } },
    routes: [{ path: '/', upstream: 'app', ...route }],
  });
}
