// The contract between createCache and a place to keep entries. The cache
// does the namespacing (every key and tag it hands over already carries its
// prefix), the JSON, single-flight and the tag comparison; a store keeps
// strings with an expiry, tag version counters and, if it is shared between
// processes, short locks. memoryCacheStore and redisCacheStore implement it
// with the same semantics (cache.test.ts runs one suite on both).
//
// Tag invalidation is O(1) per tag: a tag is a counter, an entry records the
// counters of its tags when its value was computed, and a read compares them
// with the current ones (one MGET in Redis). Invalidating a tag increments
// its counter; the entries it made stale are found lazily, never scanned.

/** A tag (as the store knows it) and its version when the value was computed. */
export type TagVersion = readonly [tag: string, version: number];

export interface StoredEntry {
  /** The value, as JSON text. */
  readonly value: string;
  /** The entry is current while every one of these still has its version. */
  readonly tags: readonly TagVersion[];
}

export interface CacheStore {
  /** 'memory' (this process only) or 'redis' (shared). */
  readonly kind: string;
  get(key: string): Promise<StoredEntry | null>;
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * The current version of each tag, in order. Versions only ever grow while
   * the store lives, so an entry recorded at an older version is stale.
   */
  tagVersions(tags: readonly string[]): Promise<number[]>;
  /** Moves each tag to a new version: every entry recorded with it is stale. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /** Drops every entry (after the invalidation broadcast may have lost messages). */
  clear?(): Promise<void>;
  /** A lock shared by every process using the store (SET NX PX): a token, or null when someone else holds it. */
  lock?(key: string, ttlMs: number): Promise<string | null>;
  /** Releases the lock if `token` still holds it. */
  unlock?(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

export function isCacheStore(value: unknown): value is CacheStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return ['get', 'set', 'delete', 'tagVersions', 'invalidateTags', 'close'].every((m) => typeof s[m] === 'function');
}

// One string per entry in shared stores: the tag versions as JSON, a newline
// (JSON.stringify never writes a raw one), then the value's JSON.
export function encodeEntry(entry: StoredEntry): string {
  return `${JSON.stringify(entry.tags)}\n${entry.value}`;
}

export function decodeEntry(text: string): StoredEntry | null {
  const newline = text.indexOf('\n');
  if (newline === -1) return null;
  let tags: unknown;
  try {
    tags = JSON.parse(text.slice(0, newline));
  } catch {
    return null;
  }
  if (!Array.isArray(tags) || !tags.every((t) => Array.isArray(t) && t.length === 2 && typeof t[0] === 'string' && typeof t[1] === 'number')) return null;
  return { tags: tags as TagVersion[], value: text.slice(newline + 1) };
}
