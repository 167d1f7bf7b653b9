// Active health checking: a heartbeat `GET <path>` to every server on its own
// timer, judged by status and time, with HAProxy's rise/fall hysteresis
// (configuration.txt, "5.2 Server and default-server options": `check`,
// `inter`, `fastinter`, `downinter`, `rise`, `fall`, `init-state`).
//
// Heartbeats go through one undici Client per server, never through the
// proxy's data-path pools: a check must not take a pooled connection from a
// client request, nor be hidden behind one (ARCHITECTURE.md names undici for
// outbound HTTP where throughput per request is not the point).
import { Client } from 'undici';

/**
 * HAProxy's `init-state` (3.1+): how a server is counted before its checks
 * have said anything.
 * - `fully-up`: healthy; `fall` failures in a row mark it down.
 * - `up` (HAProxy's default): healthy, but a failing *first* check marks it
 *   down at once, so a server that is dead at start is not sent `fall`
 *   intervals of traffic.
 * - `down`: unhealthy; a passing first check marks it up at once.
 * - `fully-down`: unhealthy until `rise` checks in a row pass — for servers
 *   that must prove readiness (instances a supervisor has just started).
 */
export type InitialState = 'fully-up' | 'up' | 'down' | 'fully-down';

/** Inclusive range of HTTP status codes a heartbeat may answer with. */
export type StatusRange = readonly [low: number, high: number];

/** Anything with an id and an origin (a `ServerConfig` is one). */
export interface HealthTarget {
  readonly id: string;
  /** `http://host:port`; any path is ignored. */
  readonly url: string;
}

export interface CheckDetail {
  /** Status of the heartbeat's response, when one came. */
  readonly status?: number;
  /** Why the check failed; absent when it passed. */
  readonly error?: string;
  /** From sending the heartbeat to the end of its response (or to the failure). */
  readonly latencyMs: number;
}

/** A server's health as the checker sees it; a snapshot for `/status`. */
export interface ServerHealth {
  readonly id: string;
  readonly healthy: boolean;
  readonly consecutiveOk: number;
  readonly consecutiveFail: number;
  /** Epoch ms when the last check finished; null before the first. */
  readonly lastCheckAt: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly checks: number;
}

export interface ActiveHealthOptions {
  /** Path (and query) of the heartbeat request; starts with `/`. */
  readonly path: string;
  /** Time between checks (HAProxy `inter`). Default 2000 ms. */
  readonly intervalMs?: number;
  /** Between checks while a server is in transition — up with failures, or down with passes (HAProxy `fastinter`). Default `intervalMs`. */
  readonly fastIntervalMs?: number;
  /** Between checks while a server is down with no pass yet (HAProxy `downinter`). Default `intervalMs`. */
  readonly downIntervalMs?: number;
  /** A check that has not completed in this time fails (HAProxy `timeout check`). Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Each delay is the interval ± this fraction of it, at random. Default 0.1. */
  readonly jitter?: number;
  /** Statuses that pass. Default [[200, 399]], HAProxy's `http-check expect` default (2xx and 3xx). */
  readonly expectedStatus?: readonly StatusRange[];
  /** Passes in a row that make an unhealthy server healthy. Default 2 (HAProxy). */
  readonly rise?: number;
  /** Failures in a row that make a healthy server unhealthy. Default 3 (HAProxy). */
  readonly fall?: number;
  /** Initial state of servers added without their own. Default `up` (HAProxy). */
  readonly initial?: InitialState;
  /** Host header of the heartbeat. Default: the server's own host:port. */
  readonly host?: string;
  /**
   * Reuse one connection across checks. Default false: like HAProxy, each
   * check opens a fresh connection, so it also proves the server still
   * accepts connections (a server that stopped listening keeps answering on
   * an old keep-alive socket), and no check races a server's idle timeout.
   */
  readonly keepAlive?: boolean;
  /** Unref the checker's timers so they never keep the process alive. Default true. */
  readonly unref?: boolean;
  /** Source of randomness for jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** A server became healthy or unhealthy. */
  readonly onChange: (serverId: string, healthy: boolean, detail: CheckDetail) => void;
  /** Every check's result (metrics, `/status` latency). Called before `onChange`. */
  readonly onCheck?: (serverId: string, ok: boolean, detail: CheckDetail) => void;
}

/** The largest heartbeat body read; past it the connection is dropped rather than drained. */
const MAX_BODY = 64 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

interface Entry {
  readonly target: HealthTarget;
  readonly client: Client;
  healthy: boolean;
  /** Failures in a row that mark this server down; 1 before the first check of an `up` server. */
  fallNeeded: number;
  /** Passes in a row that mark this server up; 1 before the first check of a `down` server. */
  riseNeeded: number;
  consecutiveOk: number;
  consecutiveFail: number;
  lastCheckAt: number | null;
  lastLatencyMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
  checks: number;
  timer: NodeJS.Timeout | null;
  deadline: NodeJS.Timeout | null;
  inflight: AbortController | null;
  removed: boolean;
}

export class ActiveHealthCheck {
  readonly #path: string;
  readonly #intervalMs: number;
  readonly #fastIntervalMs: number;
  readonly #downIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #jitter: number;
  readonly #expected: readonly StatusRange[];
  readonly #rise: number;
  readonly #fall: number;
  readonly #initial: InitialState;
  readonly #headers: Record<string, string> | undefined;
  readonly #keepAlive: boolean;
  readonly #unref: boolean;
  readonly #random: () => number;
  readonly #onChange: ActiveHealthOptions['onChange'];
  readonly #onCheck: ActiveHealthOptions['onCheck'];
  readonly #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(options: ActiveHealthOptions) {
    if (!options.path.startsWith('/')) throw new TypeError(`health check path must start with "/" (got ${JSON.stringify(options.path)})`);
    this.#path = options.path;
    this.#intervalMs = positive('intervalMs', options.intervalMs ?? 2000);
    this.#fastIntervalMs = positive('fastIntervalMs', options.fastIntervalMs ?? this.#intervalMs);
    this.#downIntervalMs = positive('downIntervalMs', options.downIntervalMs ?? this.#intervalMs);
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? 1000);
    this.#jitter = options.jitter ?? 0.1;
    if (!(this.#jitter >= 0 && this.#jitter < 1)) throw new RangeError(`jitter must be in [0, 1) (got ${this.#jitter})`);
    this.#expected = options.expectedStatus ?? [[200, 399]];
    if (this.#expected.length === 0) throw new RangeError('expectedStatus must name at least one status');
    this.#rise = integer('rise', options.rise ?? 2);
    this.#fall = integer('fall', options.fall ?? 3);
    this.#initial = options.initial ?? 'up';
    this.#headers = options.host === undefined ? undefined : { host: options.host };
    this.#keepAlive = options.keepAlive ?? false;
    this.#unref = options.unref ?? true;
    this.#random = options.random ?? Math.random;
    this.#onChange = options.onChange;
    this.#onCheck = options.onCheck;
  }

  /**
   * Starts checking a server; its first check runs at once (as Envoy's,
   * whose `initial_jitter` defaults to 0), so a server added as `down` can
   * join as soon as it answers.
   */
  add(target: HealthTarget, options: { readonly initial?: InitialState } = {}): void {
    if (this.#stopped) throw new Error('this health checker is stopped');
    if (this.#entries.has(target.id)) throw new Error(`server ${target.id} is already checked`);
    const initial = options.initial ?? this.#initial;
    const healthy = initial === 'up' || initial === 'fully-up';
    const origin = new URL(target.url).origin;
    const entry: Entry = {
      target,
      // undici's own timeouts back up the check's deadline; either one fails the check.
      client: new Client(origin, { connectTimeout: this.#timeoutMs, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs, pipelining: 1 }),
      healthy,
      fallNeeded: initial === 'up' ? 1 : this.#fall,
      riseNeeded: initial === 'down' ? 1 : this.#rise,
      consecutiveOk: 0,
      consecutiveFail: 0,
      lastCheckAt: null,
      lastLatencyMs: null,
      lastStatus: null,
      lastError: null,
      checks: 0,
      timer: null,
      deadline: null,
      inflight: null,
      removed: false,
    };
    this.#entries.set(target.id, entry);
    this.#schedule(entry, 0);
  }

  /** Stops checking a server: its timer is cleared, a check in flight aborted, its connection closed. */
  async remove(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    await dispose(entry);
  }

  /** Stops every check; resolves when every heartbeat connection is closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map(dispose));
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  isHealthy(id: string): boolean | undefined {
    return this.#entries.get(id)?.healthy;
  }

  /** A snapshot of one server's health, for `/status`. */
  get(id: string): ServerHealth | undefined {
    const e = this.#entries.get(id);
    return e && snapshot(e);
  }

  list(): ServerHealth[] {
    return [...this.#entries.values()].map(snapshot);
  }

  #schedule(entry: Entry, delayMs: number): void {
    entry.timer = setTimeout(() => void this.#run(entry), delayMs);
    if (this.#unref) entry.timer.unref();
  }

  async #run(entry: Entry): Promise<void> {
    entry.timer = null;
    const controller = new AbortController();
    entry.inflight = controller;
    let timedOut = false;
    // One deadline over the whole check (connect, head and body), as HAProxy's
    // `timeout check`; undici's timeouts are per phase.
    entry.deadline = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    if (this.#unref) entry.deadline.unref();
    const started = performance.now();
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await entry.client.request({
        method: 'GET',
        path: this.#path,
        headers: this.#headers,
        signal: controller.signal,
        // `Connection: close` and a fresh connection per check, unless kept alive.
        reset: !this.#keepAlive,
      });
      status = response.statusCode;
      // Read the body so a kept-alive connection is reusable and a server
      // that fails while sending it fails the check. Not body.dump(): it
      // resolves on a body cut short. Past MAX_BODY the rest is not worth
      // reading; leaving the loop destroys the body and its connection.
      let read = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        read += chunk.length;
        if (read > MAX_BODY) break;
      }
      if (!statusMatches(status, this.#expected)) error = `unexpected status ${status}`;
    } catch (err) {
      error = timedOut || TIMEOUT_CODES.has(codeOf(err)) ? `timed out after ${this.#timeoutMs} ms` : describe(err);
    } finally {
      clearTimeout(entry.deadline);
      entry.deadline = null;
      entry.inflight = null;
    }
    if (entry.removed) return;
    const latencyMs = performance.now() - started;
    const detail: CheckDetail = status === undefined ? { error, latencyMs } : error === undefined ? { status, latencyMs } : { status, error, latencyMs };
    const changed = this.#record(entry, error === undefined, detail);
    // State and the next check are settled before the callbacks run, so they
    // see a consistent checker; a callback that throws surfaces as an
    // unhandled rejection, as a throwing event listener would.
    this.#schedule(entry, nextDelay(this.#baseInterval(entry), this.#jitter, this.#random));
    this.#onCheck?.(entry.target.id, error === undefined, detail);
    if (changed) this.#onChange(entry.target.id, entry.healthy, detail);
  }

  /** Applies one result; returns whether the server changed state. */
  #record(entry: Entry, ok: boolean, detail: CheckDetail): boolean {
    entry.checks++;
    entry.lastCheckAt = Date.now();
    entry.lastLatencyMs = detail.latencyMs;
    entry.lastStatus = detail.status ?? null;
    entry.lastError = detail.error ?? null;
    if (ok) {
      entry.consecutiveOk++;
      entry.consecutiveFail = 0;
    } else {
      entry.consecutiveFail++;
      entry.consecutiveOk = 0;
    }
    const changed = entry.healthy ? entry.consecutiveFail >= entry.fallNeeded : entry.consecutiveOk >= entry.riseNeeded;
    if (changed) entry.healthy = !entry.healthy;
    // The `up` / `down` shortcuts of init-state apply to the first check only.
    entry.fallNeeded = this.#fall;
    entry.riseNeeded = this.#rise;
    return changed;
  }

  #baseInterval(entry: Entry): number {
    if (entry.healthy) return entry.consecutiveFail > 0 ? this.#fastIntervalMs : this.#intervalMs;
    return entry.consecutiveOk > 0 ? this.#fastIntervalMs : this.#downIntervalMs;
  }
}

/**
 * The delay before the next check: `base` ± `jitter` × `base`, so the checks
 * of many servers (and of many gateways) drift apart instead of arriving in
 * step (Envoy's `interval_jitter_percent`, HAProxy's `spread-checks`).
 */
export function nextDelay(baseMs: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(baseMs * (1 + jitter * (2 * random() - 1))));
}

export function statusMatches(status: number, expected: readonly StatusRange[]): boolean {
  for (const [low, high] of expected) if (status >= low && status <= high) return true;
  return false;
}

/**
 * Parses an expected-status list such as `200-399` or `200,204,300-302` for
 * the config loader. Returns the ranges, or a message saying what is wrong.
 */
export function parseStatusRanges(text: string): StatusRange[] | string {
  const ranges: StatusRange[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    if (!m) return `not a status or a range of statuses: ${JSON.stringify(part.trim())} (expected e.g. "200-399" or "200,204")`;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low < 100 || high > 599) return `status ${low < 100 ? low : high} is outside 100-599`;
    if (low > high) return `range ${low}-${high} is empty`;
    ranges.push([low, high]);
  }
  return ranges;
}

async function dispose(entry: Entry): Promise<void> {
  entry.removed = true;
  if (entry.timer) clearTimeout(entry.timer);
  if (entry.deadline) clearTimeout(entry.deadline);
  entry.inflight?.abort();
  // destroy() closes the socket at once, also under a check in flight.
  await entry.client.destroy().catch(() => {});
}

function snapshot(e: Entry): ServerHealth {
  return {
    id: e.target.id,
    healthy: e.healthy,
    consecutiveOk: e.consecutiveOk,
    consecutiveFail: e.consecutiveFail,
    lastCheckAt: e.lastCheckAt,
    lastLatencyMs: e.lastLatencyMs,
    lastStatus: e.lastStatus,
    lastError: e.lastError,
    checks: e.checks,
  };
}

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

function describe(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number of milliseconds (got ${value})`);
  return value;
}

function integer(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be an integer ≥ 1 (got ${value})`);
  return value;
}
