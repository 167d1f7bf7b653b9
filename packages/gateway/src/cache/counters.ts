// Per-route cache counters: plain numbers bumped on the request path and read
// by /metrics and the admin API when asked (a prom-client label lookup per
// request would cost more than a hit does). Kept by route label across
// reloads, so a reload does not reset what Prometheus has seen.

/** How a request of a cached route was answered. */
export const RESULTS = ['hit', 'stale', 'revalidated', 'miss', 'bypass', 'pass'] as const;
export type CacheResult = (typeof RESULTS)[number];

export class RouteCounters {
  hit = 0;
  /** Served stale on purpose: stale-while-revalidate, stale-if-error, stale-if-down, max-stale. */
  stale = 0;
  /** A stored response confirmed by an upstream 304. */
  revalidated = 0;
  /** Answered by a full upstream response (stored or not). */
  miss = 0;
  /** Bypass cookie, request with a body, If-Match and the like: the cache stood aside. */
  bypass = 0;
  /** Methods the cache does not serve (POST, PUT, OPTIONS, …). */
  pass = 0;
  /** Requests that waited for another's upstream response instead of sending their own. */
  collapsed = 0;
  /** Responses stored. */
  stored = 0;
  /** Stored resources removed by unsafe methods (RFC 9111 §4.4). */
  invalidations = 0;
}

export class CacheCounters {
  readonly #routes = new Map<string, RouteCounters>();

  forRoute(label: string): RouteCounters {
    let counters = this.#routes.get(label);
    if (counters === undefined) {
      counters = new RouteCounters();
      this.#routes.set(label, counters);
    }
    return counters;
  }

  entries(): IterableIterator<[string, RouteCounters]> {
    return this.#routes.entries();
  }
}
