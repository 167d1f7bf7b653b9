// The gateway: an entrypoint (HTTP/1.1 listener), the routes built from the
// config with their middleware chains, the upstreams with their pools, and
// the admin listener. A reload swaps routes and upstreams in one assignment.
import net from 'node:net';
import { once } from 'node:events';
import type { GatewayConfig } from './config/load.ts';
import { compose } from './middleware/compose.ts';
import { Router, type CompiledRoute } from './router/router.ts';
import { Upstream, type UpstreamObserver, type UpstreamServer } from './upstream/upstream.ts';
import { StickyCookies } from './upstream/sticky.ts';
import { Http1Connection, type RequestRecord } from './entrypoint/http1-connection.ts';
import type { EntrypointContext } from './entrypoint/context.ts';
import type { BadRequestError } from './errors.ts';
import { GatewayMetrics } from './observability/metrics.ts';
import { createLogger, lineWriter, type Logger } from './observability/log.ts';
import { AccessLog } from './observability/access-log.ts';
import { startAdmin, type AdminServer } from './admin/admin-server.ts';
import { EdgeCache } from './cache/edge-cache.ts';
import { purgeTarget } from './cache/purge-request.ts';
import type { PurgeResult } from './cache/store.ts';

interface Runtime {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly loadedAt: Date;
}

export interface GatewayOptions {
  readonly logger?: Logger;
}

/**
 * What starts and stops the servers of an upstream at run time: under
 * `rampart up`, the supervisor of a `run:` upstream. The gateway keeps the
 * balancer; the runner adds its instances to the live Upstream when they are
 * ready and drains and removes them before they stop. No dependency on the
 * supervisor package: anything with this shape can run servers.
 */
export interface UpstreamRunner {
  /**
   * The upstream of this name is now `upstream`: at registration, and after
   * every reload (which builds new Upstreams from the file, without the
   * servers added at run time). Put the live instances in it. Called before
   * that upstream takes its first request.
   */
  attach(upstream: Upstream): void;
  /** For /status: the autoscaler's state and the instances (with their PIDs). */
  status(): RunnerStatus;
  /** `POST /upstreams/<name>/restart`: replaces every instance, one at a time; settles when done. */
  restart(): Promise<void>;
}

export interface RunnerStatus {
  /** `{ enabled: false }` for a fixed number of instances. */
  readonly autoscale: object;
  readonly instances: readonly RunnerInstance[];
}

export interface RunnerInstance {
  readonly id: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly state: string;
}

export interface ServerStatus {
  id: string;
  url: string;
  /** The instance behind this server, when a runner started it. */
  instance?: string;
  pid?: number;
  state: string;
  weight: number;
  inflight: number;
  served: number;
  failed: number;
  lastHealthLatencyMs: number | null;
  connections: { open: number; idle: number };
}

function serverStatus(s: UpstreamServer): ServerStatus {
  return {
    id: s.id,
    url: s.config.url,
    state: s.state,
    weight: s.weight,
    inflight: s.inflight,
    served: s.served,
    failed: s.failed,
    lastHealthLatencyMs: s.lastHealthLatencyMs,
    connections: { open: s.pool.openConnections, idle: s.pool.idleConnections },
  };
}

export class Gateway {
  readonly logger: Logger;
  readonly metrics = new GatewayMetrics({
    inflight: () => this.#inflight,
    connections: () => this.#connections.size,
    cache: () => this.#cache,
  });
  #runtime: Runtime;
  #server: net.Server | null = null;
  #admin: AdminServer | null = null;
  readonly #connections = new Set<Http1Connection>();
  readonly #tunnels = new Set<Http1Connection>();
  /** By upstream name; kept across reloads, attached to each new Upstream of that name. */
  readonly #runners = new Map<string, UpstreamRunner>();
  #shuttingDown = false;
  #inflight = 0;
  readonly #ctx: EntrypointContext;
  readonly #observer: UpstreamObserver;
  readonly #accessLog: AccessLog;
  /** Sticky-cookie keys: from the environment, else one random key for this process. */
  readonly #stickyKeys: readonly Buffer[];
  /** The edge cache: its store and what cached routes share, across reloads. */
  readonly #cache: EdgeCache;

  private constructor(config: GatewayConfig, options: GatewayOptions) {
    this.logger = options.logger ?? createLogger(config.log.level);
    this.#stickyKeys = this.#loadStickyKeys(config);
    this.#cache = new EdgeCache(this.logger);
    this.#accessLog = new AccessLog(lineWriter(this.logger));
    this.#observer = {
      onServerState: (upstream, server, detail) => {
        this.logger.info({ upstream: upstream.name, server: server.config.url, id: server.id, state: server.state, ...detail }, 'server state changed');
      },
      onExchangeFinish: (upstream, _server, _exchange, error) => {
        if (error && error.code !== 'RAMPART_ERR_CLIENT_ABORTED') this.metrics.upstreamErrors.labels(upstream.name, error.code).inc();
      },
    };
    this.#runtime = this.#build(config, undefined);
    this.#ctx = {
      config: () => this.#runtime.config,
      router: () => this.#runtime.router,
      shuttingDown: () => this.#shuttingDown,
      isTrustedProxy: (address) => {
        const list = this.#runtime.config.trustedProxies;
        return list !== null && list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
      },
      onRequestStart: () => {
        this.#inflight++;
      },
      onRequestDone: (record) => this.#requestDone(record),
      onRejected: (error, remote) => this.#rejected(error, remote),
      onTunnelOpen: (conn) => this.#tunnels.add(conn),
      onConnectionClose: (conn) => {
        this.#connections.delete(conn);
        this.#tunnels.delete(conn);
      },
    };
  }

  /** Starts the listeners; resolves once both accept connections. */
  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const gateway = new Gateway(config, options);
    try {
      // Before the listener opens, so that the first request finds the store.
      await gateway.#cache.open(config);
      await gateway.#listen();
    } catch (err) {
      await gateway.#cache.close();
      for (const upstream of gateway.#runtime.upstreams.values()) upstream.retire(undefined);
      throw err;
    }
    return gateway;
  }

  get config(): GatewayConfig {
    return this.#runtime.config;
  }

  /** Actual port of the client listener (useful with `listen: 0`). */
  get port(): number {
    return (this.#server?.address() as net.AddressInfo | null)?.port ?? 0;
  }

  get adminPort(): number {
    return this.#admin?.port ?? 0;
  }

  get inflight(): number {
    return this.#inflight;
  }

  async #listen(): Promise<void> {
    const config = this.#runtime.config;
    const server = net.createServer({ noDelay: true });
    server.maxConnections = config.limits.maxConnections;
    server.on('connection', (socket) => {
      const conn = new Http1Connection(socket, this.#ctx);
      this.#connections.add(conn);
      if (this.#shuttingDown) conn.closeGracefully();
    });
    server.on('drop', () => this.metrics.rejected.labels('max-connections').inc());
    server.listen({ port: config.listen.port, host: config.listen.host, backlog: 1024 });
    await once(server, 'listening');
    this.#server = server;
    if (config.admin !== null) {
      try {
        this.#admin = await startAdmin(config.admin, this);
      } catch (err) {
        // Half a gateway is worse than none: without this the client listener
        // would stay open and keep the process alive after start() failed.
        server.close();
        for (const upstream of this.#runtime.upstreams.values()) upstream.retire(undefined);
        throw err;
      }
    }
    this.logger.info({ listen: this.port, admin: this.adminPort || null, file: config.file }, 'gateway listening');
  }

  /**
   * Applies a new configuration: new requests use it at once, requests in
   * flight finish on the old one, client connections stay open. The listen
   * and admin addresses are fixed at start; a change there needs a restart.
   */
  reload(config: GatewayConfig, why?: string): void {
    const previous = this.#runtime;
    const next = this.#build(config, previous);
    this.#runtime = next;
    this.#cache.reconfigure(config);
    if (this.#server) this.#server.maxConnections = config.limits.maxConnections;
    for (const [name, upstream] of previous.upstreams) upstream.retire(next.upstreams.get(name));
    const ignored: string[] = [];
    if (!sameAddress(previous.config.listen, config.listen)) ignored.push('listen');
    if (JSON.stringify(previous.config.admin) !== JSON.stringify(config.admin)) ignored.push('admin');
    this.logger.level = config.log.level;
    this.metrics.configReloads.labels('applied').inc();
    this.logger.info({ file: config.file, why, routes: config.routes.length, upstreams: config.upstreams.size, needsRestart: ignored.length ? ignored : undefined }, 'configuration reloaded');
  }

  #build(config: GatewayConfig, previous: Runtime | undefined): Runtime {
    const upstreams = new Map<string, Upstream>();
    for (const [name, u] of config.upstreams) upstreams.set(name, new Upstream(u, this.#observer, previous?.upstreams.get(name), this.#stickyKeys));
    const routes: CompiledRoute[] = config.routes.map((route) => {
      const upstream = upstreams.get(route.upstream)!;
      // The cache is innermost: the route's middleware (shields, header
      // rules) runs before it on the way in and over hits on the way out.
      const cache = this.#cache.layer(route, upstream);
      const terminal = cache === null ? upstream.dispatch : cache(upstream.dispatch);
      return { config: route, dispatch: compose(route.middleware, terminal, { route, logger: this.logger }) };
    });
    // Last, once nothing else can fail: the caller swaps these upstreams in
    // right after, in the same tick, so no request sees one without its instances.
    for (const [name, runner] of this.#runners) {
      const upstream = upstreams.get(name);
      if (upstream === undefined) continue;
      try {
        runner.attach(upstream);
      } catch (err) {
        // A bug in a runner must not leave the gateway half reloaded.
        this.logger.error({ err, upstream: name }, 'attaching the instances to the reloaded upstream failed');
      }
    }
    return { config, router: new Router(routes), upstreams, loadedAt: new Date() };
  }

  #loadStickyKeys(config: GatewayConfig): readonly Buffer[] {
    const fromEnv = StickyCookies.keysFromEnv();
    if (fromEnv !== null) return fromEnv;
    if ([...config.upstreams.values()].some((u) => u.sticky !== null)) {
      this.logger.warn('RAMPART_STICKY_KEYS is not set: sticky cookies are signed with a random key of this process, so pins end when it restarts and other gateways will not honour them');
    }
    return [StickyCookies.ephemeralKey()];
  }

  #requestDone(record: RequestRecord): void {
    this.#inflight--;
    const seconds = (performance.now() - record.startedAt) / 1e3;
    this.metrics.observeRequest(record.route ?? '(none)', record.status, seconds);
    if (this.#runtime.config.log.access) this.#accessLog.log(record, seconds);
  }

  #rejected(error: BadRequestError, remote: string): void {
    this.metrics.rejected.labels(String(error.status)).inc();
    this.logger.warn({ remote, status: error.status, reason: error.message }, 'request refused');
  }

  status(): Record<string, unknown> {
    const upstreams: Record<string, unknown> = {};
    for (const [name, upstream] of this.#runtime.upstreams) {
      const run = this.#runners.get(name)?.status();
      const byUrl = new Map(run?.instances.map((i) => [i.url, i]));
      upstreams[name] = {
        balance: upstream.config.balance,
        panic: upstream.panic,
        inflight: upstream.inflight,
        retriesRefused: upstream.retriesRefused,
        servers: upstream.servers.map((s) => {
          const status = serverStatus(s);
          const instance = byUrl.get(s.config.url);
          return instance === undefined ? status : { ...status, instance: instance.id, pid: instance.pid };
        }),
        // Fixed server lists do not scale; a runner says how its instances do.
        autoscale: run?.autoscale ?? { enabled: false },
        ...(run === undefined ? {} : { instances: run.instances }),
      };
    }
    return {
      upstreams,
      routes: this.#runtime.config.routes.map((r) => ({ path: r.path, host: r.host ?? null, upstream: r.upstream, cache: r.cache !== null && r.cache !== undefined })),
      cache: this.cacheStatus(),
      config: { file: this.#runtime.config.file, loadedAt: this.#runtime.loadedAt.toISOString() },
      connections: this.#connections.size,
      inflight: this.#inflight,
      shuttingDown: this.#shuttingDown,
    };
  }

  /** The edge cache's store and per-route counters (admin `GET /cache`, `/status`). */
  cacheStatus(): ReturnType<EdgeCache['stats']> {
    return this.#cache.stats();
  }

  /**
   * `POST /cache/purge?url=…|prefix=…|tag=…|all=1` (admin API): a string is
   * what is wrong with the parameters; otherwise what was removed.
   */
  async purgeCache(params: URLSearchParams): Promise<PurgeResult | string> {
    const router = this.#runtime.router;
    const target = purgeTarget(params, (host, path) => router.match(host, path)?.config ?? null);
    if (typeof target === 'string') return target;
    const result = await this.#cache.purge(target);
    this.logger.info({ purge: target, purged: result.purged, why: 'admin API' }, 'cache purged');
    return result;
  }

  /** Drains or undrains a server (admin API); null when there is no such server. */
  setDraining(upstreamName: string, id: string, draining: boolean): ServerStatus | null {
    const upstream = this.#runtime.upstreams.get(upstreamName);
    const server = upstream === undefined ? null : draining ? upstream.drain(id) : upstream.undrain(id);
    if (server === null) return null;
    this.logger.info({ upstream: upstreamName, server: server.config.url, id, state: server.state }, draining ? 'server draining' : 'server back in rotation');
    return serverStatus(server);
  }

  /** The live upstream of that name (the supervisor adds and removes its servers). */
  upstream(name: string): Upstream | undefined {
    return this.#runtime.upstreams.get(name);
  }

  /**
   * Hands the servers of upstream `name` to `runner` (null: takes them back;
   * the runner removes its instances itself). The runner is attached to the
   * live upstream now and to its successor at every reload.
   */
  setRunner(name: string, runner: UpstreamRunner | null): void {
    if (runner === null) {
      this.#runners.delete(name);
      return;
    }
    this.#runners.set(name, runner);
    const upstream = this.#runtime.upstreams.get(name);
    if (upstream !== undefined) runner.attach(upstream);
  }

  /** Rolling restart of a run upstream (admin API); null when no runner runs its servers. */
  restartUpstream(name: string): Promise<void> | null {
    const runner = this.#runtime.upstreams.has(name) ? this.#runners.get(name) : undefined;
    if (runner === undefined) return null;
    this.logger.info({ upstream: name, why: 'admin API' }, 'rolling restart requested');
    return runner.restart();
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish within
   * `graceMs`, close idle keep-alive connections at once, then force-close
   * whatever is left.
   */
  async close(graceMs = this.#runtime.config.shutdownGraceMs): Promise<{ forced: number }> {
    this.#shuttingDown = true;
    const server = this.#server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const conn of this.#connections) conn.closeGracefully();
    for (const conn of this.#tunnels) conn.socket.destroy();
    const deadline = Date.now() + graceMs;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - Date.now()))));
    }
    const forced = this.#connections.size;
    for (const conn of this.#connections) conn.socket.destroy();
    await closed;
    for (const upstream of this.#runtime.upstreams.values()) upstream.retire(undefined);
    await this.#admin?.close();
    await this.#cache.close();
    this.logger.info({ forced }, 'gateway stopped');
    return { forced };
  }
}

function sameAddress(a: GatewayConfig['listen'], b: GatewayConfig['listen']): boolean {
  return a.port === b.port && a.host === b.host;
}
