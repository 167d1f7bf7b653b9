// The edge cache's storage contract. The cache logic (RFC 9111: what may be
// stored, freshness, validation, Vary, coalescing) lives above it, in the
// middleware; a store only keeps stored responses and finds them again. Two
// stores implement it with the same semantics: MemoryCacheStore (an LRU
// bounded in bytes, the default) and RedisCacheStore (shared by several
// gateways). test/cache/store-conformance.test.ts runs one suite on both.
import type { HeaderList } from '../middleware/types.ts';

/**
 * One stored response: a variant of a resource. A resource (one `uri` key)
 * can hold several variants: one per distinct value of the route's key
 * headers/cookies and of the request fields named by the response's Vary.
 */
export interface StoredResponse {
  readonly status: number;
  readonly reason: string;
  /**
   * Header fields as stored (names lower-case): hop-by-hop fields,
   * Content-Length and Transfer-Encoding removed; the cache writes framing
   * itself. Set-Cookie is never stored.
   */
  readonly headers: HeaderList;
  /** The whole body, de-chunked. */
  readonly body: Buffer;
  /** Milliseconds since the epoch: when the request that fetched this response was sent (RFC 9111 §4.2.3 request_time). */
  readonly requestTime: number;
  /** Milliseconds since the epoch: when its head arrived (response_time). */
  readonly responseTime: number;
  /**
   * Selects this variant among the resource's others: the route's key
   * headers/cookies and the Vary-named request fields, normalised, as one
   * string built by the cache. Two responses with the same `variant` under
   * one `uri` replace each other.
   */
  readonly variant: string;
  /** The response's Vary field names, lower-case, as the cache needs them to build `variant` for a new request. `['*']` is never stored. */
  readonly vary: readonly string[];
  /** Tags from Cache-Tag / Surrogate-Key, for purge by tag. */
  readonly tags: readonly string[];
  /**
   * Milliseconds since the epoch after which no rule (freshness, stale-while-
   * revalidate, stale-if-error, serving stale while every server is down)
   * can use this response: the store may drop it from then on.
   */
  readonly removeAt: number;
}

/** What a purge removed. */
export interface PurgeResult {
  /** Stored variants removed that a lookup could still have returned (unexpired). */
  readonly purged: number;
}

export interface CacheStoreStats {
  readonly kind: 'memory' | 'redis';
  /** Variants held (memory: exact; redis: the count this gateway can see cheaply, or null). */
  readonly entries: number | null;
  /** Bytes held, headers and bodies (memory: exact; redis: null). */
  readonly bytes: number | null;
  /** The bound on `bytes` (memory), or null. */
  readonly maxBytes: number | null;
  /** Variants evicted to stay under maxBytes since start. */
  readonly evictions: number;
}

/**
 * `uri` is the cache's resource key: `<host><path>?<normalised query>` (host
 * is `*` when the route's key leaves it out), so that a purge by URL or by
 * prefix is a string match on it. A memory store answers synchronously (the
 * hit path stays free of promises); a Redis store returns promises. Callers
 * handle both with `isPromise`.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** Every unexpired variant stored under `uri`, most recently stored first; an empty array when none. */
  lookup(uri: string): readonly StoredResponse[] | Promise<readonly StoredResponse[]>;
  /** Stores `response` under `uri`, replacing the variant with the same `variant` string. */
  put(uri: string, response: StoredResponse): void | Promise<void>;
  /**
   * Replaces the stored header fields and times of a variant after a 304
   * (RFC 9111 §3.2, §4.3.4), keeping its body. No-op when it is gone or past its removeAt.
   */
  update(uri: string, variant: string, changes: Pick<StoredResponse, 'headers' | 'requestTime' | 'responseTime' | 'removeAt' | 'tags'>): void | Promise<void>;
  /*
   * Purges: lookup, put and update never reject (a store that fails costs
   * hits only), but a purge does (RAMPART_ERR_CACHE_STORE) when it cannot be
   * recorded, since a purge that silently did nothing leaves stale content.
   */
  /** Removes every variant under exactly this `uri` (RFC 9111 §4.4 invalidation, purge by URL). */
  purgeUri(uri: string): PurgeResult | Promise<PurgeResult>;
  /** Removes every variant whose `uri` starts with `prefix`. */
  purgePrefix(prefix: string): PurgeResult | Promise<PurgeResult>;
  /** Removes every variant carrying `tag`. */
  purgeTag(tag: string): PurgeResult | Promise<PurgeResult>;
  /** Removes everything this store holds (Redis: under its key prefix only). */
  purgeAll(): PurgeResult | Promise<PurgeResult>;
  stats(): CacheStoreStats;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
