// An upstream: a named group of servers, the balancer that picks one per
// request, and what keeps the picks sound: active heartbeats, passive
// outlier ejection, panic mode, slow start, retries within a budget, sticky
// cookies and draining. The set of servers can change at run time (servers
// started by the supervisor join when ready and leave after draining).
import type { HashKey, ServerConfig, UpstreamConfig } from '../config/load.ts';
import { parseServerUrl } from '../config/parse-values.ts';
import { noServer, type RampartError } from '../errors.ts';
import type { Dispatch, HeaderList, ProxyRequest, ResponseController, ResponseHandler } from '../middleware/types.ts';
import type { Duplex } from 'node:stream';
import { ConnectionPool } from './connection-pool.ts';
import { Exchange, type ExchangeEvents } from './exchange.ts';
import { createBalancer, type Balancer } from './balancer/index.ts';
import { ActiveHealthCheck } from './health/active.ts';
import { OutlierDetector, type FailureKind } from './health/outlier.ts';
import { inPanic } from './health/panic.ts';
import { isRetryable, RetryBudget, type FailurePhase } from './health/retry-budget.ts';
import { SlowStart } from './health/slow-start.ts';
import { StickyCookies, readCookie } from './sticky.ts';

export type ServerState = 'starting' | 'ready' | 'draining' | 'ejected' | 'unhealthy';

export class UpstreamServer {
  /** Replaced when a reload keeps this server: its id (position) and weight may change. */
  config: ServerConfig;
  readonly pool: ConnectionPool;
  id: string;
  /** Weight after slow start; what the balancer reads. */
  weight: number;
  inflight = 0;
  served = 0;
  failed = 0;
  /** Not yet ready (a starting instance). */
  starting = false;
  draining = false;
  /** The heartbeat says so (true without heartbeats). */
  healthy = true;
  ejected = false;
  lastHealthLatencyMs: number | null = null;
  /** Set by the Upstream that owns this server now (a reload may hand it on). */
  events: ExchangeEvents = { onFinish() {} };

  constructor(config: ServerConfig, upstream: UpstreamConfig) {
    this.config = config;
    this.id = config.id;
    this.weight = config.weight;
    this.pool = new ConnectionPool(config, upstream);
  }

  /** Its place on a hash ring: the address, which a reload does not renumber. */
  get ringKey(): string {
    return this.config.url;
  }

  get state(): ServerState {
    if (this.draining) return 'draining';
    if (this.starting) return 'starting';
    if (!this.healthy) return 'unhealthy';
    if (this.ejected) return 'ejected';
    return 'ready';
  }
}

export interface UpstreamObserver {
  onExchangeFinish(upstream: Upstream, server: UpstreamServer, exchange: Exchange, error: RampartError | null): void;
  onServerState?(upstream: Upstream, server: UpstreamServer, detail: Record<string, unknown>): void;
}

const PHASE_BY_CODE: Record<string, FailurePhase> = {
  RAMPART_ERR_UPSTREAM_CONNECT: 'connect',
  RAMPART_ERR_UPSTREAM_CONNECT_TIMEOUT: 'connect',
  RAMPART_ERR_UPSTREAM_RESET: 'reset-before-response',
  RAMPART_ERR_UPSTREAM_HEADERS_TIMEOUT: 'timeout',
};
const KIND_BY_CODE: Record<string, FailureKind> = {
  RAMPART_ERR_UPSTREAM_CONNECT: 'connect',
  RAMPART_ERR_UPSTREAM_CONNECT_TIMEOUT: 'connect',
  RAMPART_ERR_UPSTREAM_RESET: 'reset',
  RAMPART_ERR_UPSTREAM_HEADERS_TIMEOUT: 'timeout',
  RAMPART_ERR_UPSTREAM_IDLE_TIMEOUT: 'timeout',
};

export class Upstream {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly servers: UpstreamServer[];
  readonly dispatch: Dispatch;
  readonly #observer: UpstreamObserver;
  readonly #balancer: Balancer<UpstreamServer>;
  readonly #health: ActiveHealthCheck | null;
  readonly #outlier: OutlierDetector | null;
  readonly #slowStart: SlowStart | null;
  readonly #budget: RetryBudget;
  /** Retried requests that hold a budget slot (connect-failure retries do not). */
  readonly #budgeted = new WeakSet<ProxyRequest>();
  readonly #sticky: StickyCookies | null;
  readonly #timeouts: { headersMs: number; idleMs: number };
  #eligible: UpstreamServer[] = [];
  /** URLs of #eligible, for sticky verification without a per-request array. */
  #eligibleUrls: string[] = [];
  /** Servers each retried request has failed on; only kept when a request may retry more than once. */
  readonly #tried = new WeakMap<ProxyRequest, readonly UpstreamServer[]>();
  #panic = false;
  #inflight = 0;
  #rampTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: UpstreamConfig, observer: UpstreamObserver, previous?: Upstream, stickyKeys?: readonly Buffer[]) {
    this.name = config.name;
    this.config = config;
    this.#observer = observer;
    this.#timeouts = { headersMs: config.headersTimeoutMs, idleMs: config.idleTimeoutMs };
    // A reload keeps the pools (and their warm connections) of servers that
    // stay, and their health: a reload must not send traffic to a server the
    // heartbeat has just taken out.
    this.servers = config.servers.map((s) => {
      const kept = previous?.servers.find((p) => p.config.url === s.url);
      if (kept && sameTimeouts(previous!.config, config)) {
        // Ids are positions in the file: a reordered list gives a kept server
        // a new id, which must not collide with a newcomer's.
        kept.config = s;
        kept.id = s.id;
        kept.weight = s.weight;
        return kept;
      }
      return new UpstreamServer(s, config);
    });
    for (const server of this.servers) {
      this.#bind(server);
      // The new outlier detector has no ejection on record, so nothing would
      // ever end one carried over; without heartbeats nothing would end an
      // unhealthy mark either. Health carries over through #createHealth.
      server.ejected = false;
      if (config.health === null) server.healthy = true;
    }
    this.#balancer = createBalancer<UpstreamServer>(config.balance);
    this.#budget = new RetryBudget({
      activeRequests: () => this.#inflight,
      budgetPercent: config.retries.budgetPercent,
      minRetryConcurrency: config.retries.minConcurrency,
    });
    this.#sticky = config.sticky === null ? null : new StickyCookies({ cookie: config.sticky.cookie, ttlMs: config.sticky.ttlMs, keys: stickyKeys ?? [StickyCookies.ephemeralKey()] });
    this.#slowStart = config.health !== null && config.health.slowStartMs > 0 ? new SlowStart({ windowMs: config.health.slowStartMs }) : null;
    this.#outlier = config.outlier === null ? null : this.#createOutlier(config);
    this.#health = config.health === null ? null : this.#createHealth(config);
    this.#refresh();
    this.dispatch = (request, handler) => this.#dispatch(request, handler, null);
  }

  /** Requests in flight to this upstream's servers, retries included. */
  get inflight(): number {
    return this.#inflight;
  }

  get panic(): boolean {
    return this.#panic;
  }

  /** Retries refused because the budget was spent. */
  get retriesRefused(): number {
    return this.#budget.overflowed;
  }

  #bind(server: UpstreamServer): void {
    // One events object per server, not one closure per request.
    server.events = {
      onFinish: (exchange, error) => {
        server.inflight--;
        this.#inflight--;
        // A retry holds its budget slot for as long as its exchange runs,
        // however that ends: a client that leaves aborts the exchange without
        // the response handler hearing of it. Attempts is raised only after
        // the failed exchange finished, so > 0 here means this one is a retry.
        if (exchange.request.attempts !== undefined && exchange.request.attempts > 0 && this.#budgeted.delete(exchange.request)) this.#budget.release();
        if (error) server.failed++;
        else server.served++;
        this.#passive(server, exchange, error);
        this.#observer.onExchangeFinish(this, server, exchange, error);
      },
      retry: (exchange, error) => this.#retry(server, exchange, error),
    };
  }

  #createOutlier(config: UpstreamConfig): OutlierDetector {
    const o = config.outlier!;
    const detector = new OutlierDetector({
      consecutiveFailures: o.consecutiveFailures,
      consecutive5xx: o.consecutive5xx,
      baseEjectionTimeMs: o.baseEjectionTimeMs,
      maxEjectionTimeMs: o.maxEjectionTimeMs,
      maxEjectionPercent: o.maxEjectionPercent,
      onEject: (id, until, reason) => {
        const server = this.#byId(id);
        if (!server) return;
        server.ejected = true;
        this.#refresh();
        this.#observer.onServerState?.(this, server, { event: 'ejected', until: new Date(until).toISOString(), ...reason });
      },
      onReturn: (id) => {
        const server = this.#byId(id);
        if (!server) return;
        server.ejected = false;
        this.#slowStart?.begin(id);
        this.#refresh();
        this.#observer.onServerState?.(this, server, { event: 'returned' });
      },
    });
    for (const s of this.servers) detector.add(s.id);
    return detector;
  }

  #createHealth(config: UpstreamConfig): ActiveHealthCheck {
    const h = config.health!;
    const check = new ActiveHealthCheck({
      path: h.path,
      intervalMs: h.intervalMs,
      timeoutMs: h.timeoutMs,
      rise: h.rise,
      fall: h.fall,
      jitter: h.jitter,
      expectedStatus: h.expectStatus,
      onCheck: (id, _ok, detail) => {
        const server = this.#byId(id);
        if (server) server.lastHealthLatencyMs = detail.latencyMs;
      },
      onChange: (id, healthy, detail) => {
        const server = this.#byId(id);
        if (!server) return;
        server.healthy = healthy;
        if (healthy) {
          // A server the heartbeat brings back has served its sentence.
          if (server.ejected) this.#outlier?.uneject(id);
          server.ejected = false;
          this.#slowStart?.begin(id);
        }
        this.#refresh();
        this.#observer.onServerState?.(this, server, { event: healthy ? 'healthy' : 'unhealthy', ...detail });
      },
    });
    // A server kept by a reload while unhealthy stays out until it passes `rise` checks.
    for (const s of this.servers) check.add({ id: s.id, url: s.config.url }, { initial: s.starting || !s.healthy ? 'fully-down' : 'up' });
    return check;
  }

  /** Rebuilds the balancer's set after any change of state or weight. */
  #refresh(): void {
    const live = this.servers.filter((s) => !s.draining && !s.starting);
    const healthy = live.filter((s) => s.healthy && !s.ejected);
    // Envoy's panic mode: with too few healthy servers, spreading load over
    // all of them fails fewer requests than crushing the healthy few.
    this.#panic = live.length > 0 && inPanic(healthy.length, live.length, this.config.panicThreshold);
    this.#eligible = this.#panic ? live : healthy;
    this.#eligibleUrls = this.#eligible.map((s) => s.config.url);
    let ramping = false;
    for (const s of this.#eligible) {
      s.weight = this.#slowStart ? this.#slowStart.weight(s.id, s.config.weight) : s.config.weight;
      if (this.#slowStart?.isRamping(s.id)) ramping = true;
    }
    this.#balancer.update(this.#eligible);
    if (ramping && this.#rampTimer === null && !this.#closed) {
      this.#rampTimer = setInterval(() => this.#refresh(), 250);
      this.#rampTimer.unref();
    } else if (!ramping && this.#rampTimer !== null) {
      clearInterval(this.#rampTimer);
      this.#rampTimer = null;
    }
  }

  #byId(id: string): UpstreamServer | undefined {
    return this.servers.find((s) => s.id === id);
  }

  /** `exclude`: the servers that already failed this request (a retry), else null. */
  #dispatch(request: ProxyRequest, handler: ResponseHandler, exclude: readonly UpstreamServer[] | null): void {
    let server: UpstreamServer | null = null;
    let pin: string | null = null;
    const sticky = this.#sticky;
    if (sticky !== null && exclude === null) {
      const url = sticky.verify(headerValue(request.headers, 'cookie'), this.#eligibleUrls);
      if (url !== null) server = this.#eligible.find((s) => s.config.url === url) ?? null;
    }
    if (server === null) {
      server = this.#pick(request, exclude);
      if (server !== null && sticky !== null) pin = server.config.url;
    }
    if (server === null) {
      if (exclude !== null && this.#budgeted.delete(request)) this.#budget.release();
      const err = noServer(this.name);
      const controller: ResponseController = { pause() {}, resume() {}, abort() {}, aborted: false };
      handler.onRequestStart(controller);
      handler.onResponseError(controller, err);
      return;
    }
    request.server = server.config.url;
    server.inflight++;
    this.#inflight++;
    const target = pin === null ? handler : new PinningHandler(handler, sticky!.issue(pin, request.secure));
    new Exchange(request, target, server.pool, this.#timeouts, server.events).start();
  }

  #pick(request: ProxyRequest, exclude: readonly UpstreamServer[] | null): UpstreamServer | null {
    const key = this.config.balance === 'hash' ? hashKeyOf(request, this.config.hashKey) : undefined;
    const first = this.#balancer.pick(key === undefined ? undefined : { key });
    if (first === null || exclude === null || !exclude.includes(first)) return first;
    // A retry goes to a server this request has not failed on: ask again,
    // then take any other.
    const second = this.#balancer.pick(key === undefined ? undefined : { key });
    if (second !== null && !exclude.includes(second)) return second;
    return this.#eligible.find((s) => !exclude.includes(s)) ?? null;
  }

  #retry(server: UpstreamServer, exchange: Exchange, error: RampartError): boolean {
    const request = exchange.request;
    const attempts = request.attempts ?? 0;
    if (attempts >= this.config.retries.attempts || this.#closed) return false;
    const phase = PHASE_BY_CODE[error.code] ?? 'response';
    if (!isRetryable({ method: request.method, bodyStreamed: exchange.bodyStreamed, phase, routeAllowsNonIdempotent: request.route.retryNonIdempotent })) return false;
    // Every server this request failed on, so that no retry goes back to one
    // (Envoy's previous_hosts predicate). Made on the retry path only.
    const tried = this.#tried.get(request);
    const exclude = tried === undefined ? [server] : [...tried, server];
    if (this.#eligible.every((s) => exclude.includes(s))) return false;
    // A request that never reached a server (connection refused or timed
    // out) adds no load when sent elsewhere: it is the dead server's share
    // moving, not amplification, so it does not spend the budget. The budget
    // exists for retries of requests a server may have processed.
    if (phase !== 'connect') {
      if (!this.#budget.tryAcquire()) return false;
      this.#budgeted.add(request);
    }
    if (this.config.retries.attempts > 1) this.#tried.set(request, exclude);
    request.attempts = attempts + 1;
    // A pin issued for the failed attempt names the server that failed: the
    // retry's own pin replaces it, rather than follow it in a second Set-Cookie.
    const handler = exchange.handler;
    this.#dispatch(request, handler instanceof PinningHandler ? handler.inner : handler, exclude);
    return true;
  }

  #passive(server: UpstreamServer, exchange: Exchange, error: RampartError | null): void {
    const outlier = this.#outlier;
    const kind = error === null ? undefined : KIND_BY_CODE[error.code];
    if (this.config.balance === 'ewma') {
      if (exchange.headersAt !== 0) this.#balancer.observe?.(server, exchange.headersAt - exchange.startedAt, error !== null);
      // A server that fails before answering (refused, reset, timed out)
      // would otherwise never be sampled and keep looking fast.
      else if (kind !== undefined) this.#balancer.observe?.(server, performance.now() - exchange.startedAt, true);
    }
    if (outlier === null) return;
    if (error === null) {
      outlier.response(server.id, exchange.status);
      return;
    }
    if (kind !== undefined) outlier.failure(server.id, kind);
  }

  /** Stops new requests to a server; in-flight ones finish. Sticky clients are pinned elsewhere. */
  drain(id: string): UpstreamServer | null {
    const server = this.#byId(id);
    if (!server) return null;
    server.draining = true;
    this.#refresh();
    return server;
  }

  undrain(id: string): UpstreamServer | null {
    const server = this.#byId(id);
    if (!server) return null;
    server.draining = false;
    this.#slowStart?.begin(id);
    this.#refresh();
    return server;
  }

  /**
   * Adds a server at run time (an instance the supervisor started). It takes
   * requests once `markReady` is called (or at once when `starting` is false).
   */
  addServer(url: string, options: { starting: boolean; weight?: number }): UpstreamServer {
    const parsed = parseServerUrl(url);
    if (typeof parsed === 'string') throw new TypeError(parsed);
    const existing = this.servers.find((s) => s.config.url === parsed.url);
    if (existing) return existing;
    const id = nextId(this.servers);
    const server = new UpstreamServer({ ...parsed, id, weight: options.weight ?? 1 }, this.config);
    server.starting = options.starting;
    this.servers.push(server);
    this.#bind(server);
    this.#outlier?.add(id);
    this.#health?.add({ id, url: server.config.url }, { initial: options.starting ? 'fully-down' : 'up' });
    this.#refresh();
    return server;
  }

  markReady(id: string): void {
    const server = this.#byId(id);
    if (!server) return;
    server.starting = false;
    server.healthy = true;
    this.#slowStart?.begin(id);
    this.#refresh();
  }

  /** Removes a server at once (drain it first to let requests finish). */
  removeServer(id: string): void {
    const i = this.servers.findIndex((s) => s.id === id);
    if (i === -1) return;
    const [server] = this.servers.splice(i, 1);
    this.#outlier?.remove(id);
    void this.#health?.remove(id);
    this.#slowStart?.end(id);
    server!.pool.close();
    this.#refresh();
  }

  /** Servers no longer in the config: their idle connections close; checks stop. */
  retire(next: Upstream | undefined): void {
    this.#closed = true;
    if (this.#rampTimer !== null) clearInterval(this.#rampTimer);
    void this.#health?.stop();
    this.#outlier?.stop();
    for (const s of this.servers) if (!next?.servers.includes(s)) s.pool.close();
  }
}

/** Adds the affinity cookie to the response of a request that was (re)pinned. */
class PinningHandler implements ResponseHandler {
  /** The handler this one wraps; a retry unwraps it. */
  readonly inner: ResponseHandler;
  readonly #cookie: string;

  constructor(inner: ResponseHandler, cookie: string) {
    this.inner = inner;
    this.#cookie = cookie;
  }

  onRequestStart(c: ResponseController): void {
    this.inner.onRequestStart(c);
  }
  onResponseStart(c: ResponseController, status: number, headers: HeaderList, reason: string): void {
    this.inner.onResponseStart(c, status, [...headers, 'set-cookie', this.#cookie], reason);
  }
  onResponseData(c: ResponseController, chunk: Buffer): void {
    this.inner.onResponseData(c, chunk);
  }
  onResponseEnd(c: ResponseController): void {
    this.inner.onResponseEnd(c);
  }
  onResponseError(c: ResponseController, error: RampartError): void {
    this.inner.onResponseError(c, error);
  }
  onUpgrade(c: ResponseController, status: number, headers: HeaderList, socket: Duplex, head: Buffer): void {
    this.inner.onUpgrade(c, status, [...headers, 'set-cookie', this.#cookie], socket, head);
  }
}

function headerValue(headers: HeaderList, name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) value = value === undefined ? headers[i + 1] : `${value}; ${headers[i + 1]!}`;
  }
  return value;
}

function hashKeyOf(request: ProxyRequest, key: HashKey): string | undefined {
  switch (key.kind) {
    case 'ip':
      return request.remoteAddress;
    case 'path': {
      const q = request.target.indexOf('?');
      return q === -1 ? request.target : request.target.slice(0, q);
    }
    case 'header':
      return headerValue(request.headers, key.name);
    case 'cookie': {
      const cookies = headerValue(request.headers, 'cookie');
      return cookies === undefined ? undefined : (readCookie(cookies, key.name) ?? undefined);
    }
    default:
      return undefined;
  }
}

function nextId(servers: readonly UpstreamServer[]): string {
  let max = -1;
  for (const s of servers) {
    const n = Number(s.id);
    if (Number.isInteger(n) && n > max) max = n;
  }
  return String(max + 1);
}

function sameTimeouts(a: UpstreamConfig, b: UpstreamConfig): boolean {
  return a.connectTimeoutMs === b.connectTimeoutMs && a.keepAlive.maxIdle === b.keepAlive.maxIdle && a.keepAlive.idleTimeoutMs === b.keepAlive.idleTimeoutMs;
}
