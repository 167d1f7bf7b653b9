// Retries: which failed requests may be sent again (to another server), and
// a budget so that retries cannot multiply load when many requests fail at
// once — the retry storm that turns a slow server into a down cluster.
// The budget is Envoy's (RetryBudget in the circuit-breakers proto,
// docs/root/intro/arch_overview/upstream/circuit_breaking.rst): concurrent
// retries are capped at budget_percent of the active requests, and never
// below min_retry_concurrency so a quiet upstream can still retry.

/** Where the exchange was when it failed. */
export type FailurePhase =
  /** No connection: nothing reached the server. */
  | 'connect'
  /** The connection closed after the request was sent and before any byte of a response. */
  | 'reset-before-response'
  /** No response head in time. */
  | 'timeout'
  /** A response had begun. */
  | 'response';

export interface RetryQuestion {
  readonly method: string;
  /** Any byte of the request body has been written upstream. */
  readonly bodyStreamed: boolean;
  readonly phase: FailurePhase;
  /** The route allows retrying non-idempotent methods (POST, PATCH, …). */
  readonly routeAllowsNonIdempotent: boolean;
}

/** RFC 9110 §9.2.2: sending these twice has the effect of sending them once. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Whether a failed request may be retried on another server (issue #3):
 * only if the failure came before any response byte — a refused or failed
 * connection, or a reset before the response — and the request can be
 * replayed as it was.
 */
export function isRetryable(q: RetryQuestion): boolean {
  // The gateway streams bodies without keeping them; bytes already sent
  // cannot be sent again.
  if (q.bodyStreamed) return false;
  switch (q.phase) {
    case 'connect':
    case 'reset-before-response':
      if (IDEMPOTENT_METHODS.has(q.method)) return true;
      // RFC 9110 §9.2.2: a client must not retry a non-idempotent request
      // unless it knows the request is safe to repeat; here the route's
      // owner says so. CONNECT opens a tunnel and is never replayed.
      return q.routeAllowsNonIdempotent && q.method !== 'CONNECT';
    case 'timeout':
      // The server has the request and may still be working on it: a retry
      // doubles the load on servers that are already too slow, after the
      // client has waited the whole timeout once.
      return false;
    case 'response':
      // Part of the response may already have reached the client.
      return false;
  }
}

export interface RetryBudgetOptions {
  /** Active requests to the upstream now, retries included (Envoy counts upstream_rq_active). */
  readonly activeRequests: () => number;
  /** Concurrent retries as a share of active requests, in percent. Default 20 (Envoy). */
  readonly budgetPercent?: number;
  /** Concurrent retries always allowed, however few requests are active. Default 3 (Envoy). */
  readonly minRetryConcurrency?: number;
}

export class RetryBudget {
  readonly #activeRequests: () => number;
  readonly #percent: number;
  readonly #min: number;
  #retries = 0;
  /** Retries refused by the budget (Envoy's upstream_rq_retry_overflow). */
  overflowed = 0;

  constructor(options: RetryBudgetOptions) {
    this.#activeRequests = options.activeRequests;
    this.#percent = options.budgetPercent ?? 20;
    this.#min = options.minRetryConcurrency ?? 3;
    if (!(this.#percent >= 0 && this.#percent <= 100)) throw new RangeError(`budgetPercent must be in [0, 100] (got ${this.#percent})`);
    if (!(Number.isInteger(this.#min) && this.#min >= 0)) throw new RangeError(`minRetryConcurrency must be an integer ≥ 0 (got ${this.#min})`);
  }

  /** Concurrent retries allowed now: max(min, percent × active), rounded down as Envoy does. */
  get limit(): number {
    return Math.max(this.#min, Math.floor((this.#percent * this.#activeRequests()) / 100));
  }

  /** Retries under way. */
  get active(): number {
    return this.#retries;
  }

  /** Takes a place for one retry; false when the budget is spent. Pair each true with one release(). */
  tryAcquire(): boolean {
    if (this.#retries >= this.limit) {
      this.overflowed++;
      return false;
    }
    this.#retries++;
    return true;
  }

  /** The retry has ended, however it ended. */
  release(): void {
    if (this.#retries > 0) this.#retries--;
  }
}
