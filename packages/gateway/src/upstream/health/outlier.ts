// Passive health: outlier ejection from the results of real requests, as
// Envoy's consecutive-failure detection
// (docs/root/intro/arch_overview/upstream/outlier.rst; OutlierDetection proto).
// A server that fails `consecutiveFailures` requests in a row is ejected —
// no new requests — for baseEjectionTime × the number of times it has been
// ejected, capped at maxEjectionTime, and returns by itself when that time
// is up. Active checks find a dead server within rise/fall × interval;
// this finds it within a few requests.
//
// Failures counted are the ones that originate at the connection (Envoy's
// "locally originated" errors: connect failure, reset, timeout). A 5xx
// response counts only with `consecutive5xx`: it says the application
// failed one request, which is often the request's fault, not the server's;
// without the option a 5xx proves the server reachable and counts as a
// success, as in Envoy's split_external_local_origin_errors mode.

export type FailureKind = 'connect' | 'reset' | 'timeout' | '5xx';

export interface EjectReason {
  /** The failure that tipped the count. */
  readonly kind: FailureKind;
  /** Failures in a row when the server was ejected. */
  readonly consecutive: number;
  /** Times ejected, this one included, after decay: the multiplier of baseEjectionTime. */
  readonly ejections: number;
  readonly durationMs: number;
}

export interface OutlierOptions {
  /** Failures in a row that eject a server. Default 5 (Envoy's consecutive_5xx). */
  readonly consecutiveFailures?: number;
  /** Count 5xx responses as failures. Default false. */
  readonly consecutive5xx?: boolean;
  /** Default 30 000 ms (Envoy). */
  readonly baseEjectionTimeMs?: number;
  /** Default 300 000 ms (Envoy). */
  readonly maxEjectionTimeMs?: number;
  /**
   * Largest share of the servers ejected at once, in percent; an ejection
   * past it is skipped (and reported to onOverflow). Default 50, not Envoy's
   * 10: with the two to five instances an upstream here usually has, 10%
   * would forbid ejecting even one server of three (33%), so a dead instance
   * would keep receiving requests until active checks caught it. Above 50%
   * ejection buys nothing, because the panic threshold (50%, panic.ts) then
   * balances over every server anyway.
   */
  readonly maxEjectionPercent?: number;
  /**
   * While a server stays in service, its ejection count drops by one every
   * this many ms, so an old incident does not lengthen the next ejection
   * forever. Envoy decrements it once per healthy `interval`; default 10 000
   * ms, Envoy's interval.
   */
  readonly decayIntervalMs?: number;
  /** Return ejected servers on a timer when their time is up. Default true; false leaves it to tick(). */
  readonly timers?: boolean;
  /** Clock, epoch ms. Default Date.now. */
  readonly now?: () => number;
  readonly onEject?: (id: string, until: number, reason: EjectReason) => void;
  readonly onReturn?: (id: string) => void;
  /** An ejection was due but skipped by maxEjectionPercent (Envoy's ejections_overflow). */
  readonly onOverflow?: (id: string, kind: FailureKind) => void;
}

export interface OutlierState {
  readonly id: string;
  readonly ejected: boolean;
  /** When an ejected server returns, epoch ms; null when in service. */
  readonly ejectedUntil: number | null;
  /** The current multiplier (times ejected, after decay). */
  readonly ejections: number;
  readonly consecutiveFailures: number;
}

interface Host {
  consecutive: number;
  ejections: number;
  ejectedUntil: number | null;
  /** When it last returned to service (decay runs from here). */
  returnedAt: number;
}

export class OutlierDetector {
  readonly #threshold: number;
  readonly #count5xx: boolean;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxPercent: number;
  readonly #decayMs: number;
  /** The multiplier at which the ejection time reaches its cap; counting further would only slow the decay. */
  readonly #maxEjections: number;
  readonly #timers: boolean;
  readonly #now: () => number;
  readonly #onEject: OutlierOptions['onEject'];
  readonly #onReturn: OutlierOptions['onReturn'];
  readonly #onOverflow: OutlierOptions['onOverflow'];
  readonly #hosts = new Map<string, Host>();
  #ejected = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: OutlierOptions = {}) {
    this.#threshold = options.consecutiveFailures ?? 5;
    if (!(Number.isInteger(this.#threshold) && this.#threshold >= 1)) throw new RangeError(`consecutiveFailures must be an integer ≥ 1 (got ${this.#threshold})`);
    this.#count5xx = options.consecutive5xx ?? false;
    this.#baseMs = options.baseEjectionTimeMs ?? 30_000;
    this.#maxMs = options.maxEjectionTimeMs ?? 300_000;
    if (!(this.#baseMs > 0)) throw new RangeError(`baseEjectionTimeMs must be > 0 (got ${this.#baseMs})`);
    if (!(this.#maxMs >= this.#baseMs)) throw new RangeError(`maxEjectionTimeMs (${this.#maxMs}) must be ≥ baseEjectionTimeMs (${this.#baseMs})`);
    this.#maxPercent = options.maxEjectionPercent ?? 50;
    if (!(this.#maxPercent >= 0 && this.#maxPercent <= 100)) throw new RangeError(`maxEjectionPercent must be in [0, 100] (got ${this.#maxPercent})`);
    this.#decayMs = options.decayIntervalMs ?? 10_000;
    if (!(this.#decayMs > 0)) throw new RangeError(`decayIntervalMs must be > 0 (got ${this.#decayMs})`);
    this.#maxEjections = Math.ceil(this.#maxMs / this.#baseMs);
    this.#timers = options.timers ?? true;
    this.#now = options.now ?? (() => Date.now());
    this.#onEject = options.onEject;
    this.#onReturn = options.onReturn;
    this.#onOverflow = options.onOverflow;
  }

  /** Tracks a server; adding one already tracked changes nothing. */
  add(id: string): void {
    if (!this.#hosts.has(id)) this.#hosts.set(id, { consecutive: 0, ejections: 0, ejectedUntil: null, returnedAt: this.#now() });
  }

  /** Forgets a server (no onReturn: it is gone, not back). */
  remove(id: string): void {
    const host = this.#hosts.get(id);
    if (!host) return;
    this.#hosts.delete(id);
    if (host.ejectedUntil !== null) {
      this.#ejected--;
      this.#arm();
    }
  }

  has(id: string): boolean {
    return this.#hosts.has(id);
  }

  /** A request to this server got a response that counts as success. */
  success(id: string): void {
    const host = this.#hosts.get(id);
    // Results that arrive while ejected (requests in flight at ejection, or
    // panic routing) neither extend nor end the ejection: only time does.
    if (host && host.ejectedUntil === null) host.consecutive = 0;
  }

  /** A request to this server failed. */
  failure(id: string, kind: FailureKind): void {
    if (kind === '5xx' && !this.#count5xx) return this.success(id);
    const host = this.#hosts.get(id);
    if (!host || host.ejectedUntil !== null || this.#stopped) return;
    host.consecutive++;
    // Past the threshold every further failure tries again, so a server
    // skipped for maxEjectionPercent is ejected once room frees up.
    if (host.consecutive >= this.#threshold) this.#eject(id, host, kind);
  }

  /** A response with this status arrived from the server. */
  response(id: string, status: number): void {
    if (status >= 500) this.failure(id, '5xx');
    else this.success(id);
  }

  isEjected(id: string): boolean {
    return this.#hosts.get(id)?.ejectedUntil != null;
  }

  /** Servers ejected now. */
  get ejectedCount(): number {
    return this.#ejected;
  }

  get(id: string): OutlierState | undefined {
    const host = this.#hosts.get(id);
    if (!host) return undefined;
    return {
      id,
      ejected: host.ejectedUntil !== null,
      ejectedUntil: host.ejectedUntil,
      ejections: this.#decayed(host, this.#now()),
      consecutiveFailures: host.consecutive,
    };
  }

  /**
   * Returns every server whose ejection has ended by `now`. Runs by itself
   * on a timer unless `timers: false`.
   */
  tick(now: number = this.#now()): void {
    if (this.#stopped) return;
    const returned: string[] = [];
    for (const [id, host] of this.#hosts) {
      if (host.ejectedUntil !== null && host.ejectedUntil <= now) {
        host.ejectedUntil = null;
        host.consecutive = 0;
        host.returnedAt = now;
        this.#ejected--;
        returned.push(id);
      }
    }
    this.#arm();
    for (const id of returned) this.#onReturn?.(id);
  }

  /**
   * Returns a server to service now, e.g. on a passing active health check
   * (Envoy's successful_active_health_check_uneject_host). Its ejection
   * count stays, so a server that keeps failing real requests is ejected
   * for longer each time.
   */
  uneject(id: string): void {
    const host = this.#hosts.get(id);
    if (!host || host.ejectedUntil === null || this.#stopped) return;
    host.ejectedUntil = null;
    host.consecutive = 0;
    host.returnedAt = this.#now();
    this.#ejected--;
    this.#arm();
    this.#onReturn?.(id);
  }

  /** Clears the timer; no callback runs afterwards. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #eject(id: string, host: Host, kind: FailureKind): void {
    // Envoy: eject only while the number ejected stays within the allowed
    // share; integers, so 50% of 2 servers is exactly one.
    if ((this.#ejected + 1) * 100 > this.#maxPercent * this.#hosts.size) {
      this.#onOverflow?.(id, kind);
      return;
    }
    const now = this.#now();
    host.ejections = Math.min(this.#decayed(host, now) + 1, this.#maxEjections);
    const durationMs = Math.min(this.#baseMs * host.ejections, this.#maxMs);
    host.ejectedUntil = now + durationMs;
    const consecutive = host.consecutive;
    host.consecutive = 0;
    this.#ejected++;
    this.#arm();
    this.#onEject?.(id, host.ejectedUntil, { kind, consecutive, ejections: host.ejections, durationMs });
  }

  /** The ejection count after one decrement per decay interval in service. */
  #decayed(host: Host, now: number): number {
    if (host.ejectedUntil !== null || host.ejections === 0) return host.ejections;
    return Math.max(0, host.ejections - Math.floor((now - host.returnedAt) / this.#decayMs));
  }

  /** One timer, for the earliest return. */
  #arm(): void {
    if (!this.#timers || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let next = Infinity;
    for (const host of this.#hosts.values()) if (host.ejectedUntil !== null && host.ejectedUntil < next) next = host.ejectedUntil;
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.tick(), Math.max(0, next - this.#now()));
    this.#timer.unref();
  }
}
