// Request coalescing (Varnish's "waiting list", nginx's proxy_cache_lock):
// at most one upstream request per cache key at a time; other requests for
// the key wait for its head. When a response turns out not storable, the key
// is remembered for a while as uncacheable (Varnish's hit-for-miss), so that
// later requests for it go upstream at once instead of queueing behind each
// other only to be sent upstream anyway.
import type { SharedFetch } from './shared-fetch.ts';

/** How long a key stays "do not wait" after an uncacheable response (Varnish's builtin VCL: 120 s). */
export const HIT_FOR_MISS_MS = 120_000;
/** After an error status, coalescing comes back sooner: the next good response should be shared again quickly. */
export const HIT_FOR_MISS_ERROR_MS = 10_000;
/** Keys remembered as uncacheable at most; the oldest are forgotten first. */
const MAX_UNCACHEABLE = 10_000;

export class Coalescer {
  /** Fetches that later requests may join, by cache key (resource key + the route's secondary key). */
  readonly #inflight = new Map<string, SharedFetch>();
  /** key → until when it counts as uncacheable (ms since the epoch). */
  readonly #uncacheable = new Map<string, number>();
  /** Every fetch that may still store what it brings, joinable or not. */
  readonly #active = new Set<SharedFetch>();

  /** `fetch` went upstream; until `untrack`, an invalidation of its uri reaches it. */
  track(fetch: SharedFetch): void {
    this.#active.add(fetch);
  }

  untrack(fetch: SharedFetch): void {
    this.#active.delete(fetch);
  }

  get(key: string): SharedFetch | undefined {
    return this.#inflight.get(key);
  }

  set(key: string, fetch: SharedFetch): void {
    this.#inflight.set(key, fetch);
  }

  /** Forgets `fetch` under `key`, unless another fetch has taken its place. */
  delete(key: string, fetch: SharedFetch): void {
    if (this.#inflight.get(key) === fetch) this.#inflight.delete(key);
  }

  get size(): number {
    return this.#inflight.size;
  }

  markUncacheable(key: string, now: number, forMs: number): void {
    this.#uncacheable.delete(key);
    this.#uncacheable.set(key, now + forMs);
    if (this.#uncacheable.size > MAX_UNCACHEABLE) {
      const oldest = this.#uncacheable.keys().next().value;
      if (oldest !== undefined) this.#uncacheable.delete(oldest);
    }
  }

  isUncacheable(key: string, now: number): boolean {
    if (this.#uncacheable.size === 0) return false;
    const until = this.#uncacheable.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#uncacheable.delete(key);
    return false;
  }

  clearUncacheable(key: string): void {
    if (this.#uncacheable.size > 0) this.#uncacheable.delete(key);
  }

  /**
   * An unsafe request changed the resource (RFC 9111 §4.4): fetches in flight
   * for it were sent before the change, so what they bring must not be stored.
   */
  invalidate(uri: string): void {
    for (const fetch of this.#active) if (fetch.uri === uri) fetch.invalidate();
  }
}
