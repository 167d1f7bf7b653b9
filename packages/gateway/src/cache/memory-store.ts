// The in-process store: an LRU of resources (every variant of one `uri`)
// bounded in bytes of headers and bodies, answered synchronously so that a
// hit never waits on a promise. Recency is a doubly linked list, so a hit
// moves its resource to the young end with a few pointer writes.
import type { CacheStore, CacheStoreStats, PurgeResult, StoredResponse } from './store.ts';

export interface MemoryStoreOptions {
  /** Bound on stored bytes (headers and bodies); the least recently used resources go first. */
  readonly maxBytes: number;
  /** Bodies larger than this are not stored. */
  readonly maxObjectBytes: number;
  /** Clock (ms since the epoch), for tests. */
  readonly now?: () => number;
}

/** Bookkeeping per stored variant beyond its header and body bytes (object, arrays, key). */
const OVERHEAD = 160;

interface Resource {
  readonly uri: string;
  /** Most recently stored first; replaced, never mutated, so a caller's array stays as it was. */
  variants: readonly StoredResponse[];
  bytes: number;
  /** Earliest removeAt among the variants: a lookup before it filters nothing. */
  firstRemoveAt: number;
  older: Resource | null;
  newer: Resource | null;
}

const NONE: readonly StoredResponse[] = Object.freeze([]);

export function sizeOf(uri: string, r: StoredResponse): number {
  let bytes = OVERHEAD + uri.length + r.body.length + r.variant.length + r.reason.length;
  for (const h of r.headers) bytes += h.length;
  for (const v of r.vary) bytes += v.length;
  for (const t of r.tags) bytes += t.length;
  return bytes;
}

export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  readonly #maxBytes: number;
  readonly #maxObjectBytes: number;
  readonly #now: () => number;
  readonly #resources = new Map<string, Resource>();
  /** tag → the uris holding a variant with that tag. */
  readonly #tags = new Map<string, Set<string>>();
  #oldest: Resource | null = null;
  #newest: Resource | null = null;
  #bytes = 0;
  #entries = 0;
  #evictions = 0;

  constructor(options: MemoryStoreOptions) {
    if (!(options.maxBytes > 0) || !(options.maxObjectBytes > 0)) throw new RangeError('maxBytes and maxObjectBytes must be positive');
    this.#maxBytes = options.maxBytes;
    this.#maxObjectBytes = options.maxObjectBytes;
    this.#now = options.now ?? Date.now;
  }

  lookup(uri: string): readonly StoredResponse[] {
    const resource = this.#resources.get(uri);
    if (resource === undefined) return NONE;
    if (resource.firstRemoveAt <= this.#now()) {
      this.#dropExpired(resource);
      if (resource.variants.length === 0) return NONE;
    }
    this.#touch(resource);
    return resource.variants;
  }

  put(uri: string, response: StoredResponse): void {
    const size = sizeOf(uri, response);
    const existing = this.#resources.get(uri);
    // What cannot be kept must not leave an older copy of the same variant behind.
    if (response.body.length > this.#maxObjectBytes || size > this.#maxBytes || response.removeAt <= this.#now()) {
      if (existing !== undefined) this.#replace(existing, existing.variants.filter((v) => v.variant !== response.variant));
      return;
    }
    if (existing === undefined) {
      const resource: Resource = { uri, variants: [response], bytes: size, firstRemoveAt: response.removeAt, older: null, newer: null };
      this.#resources.set(uri, resource);
      this.#bytes += size;
      this.#entries++;
      this.#index(uri, response.tags);
      this.#link(resource);
    } else {
      this.#replace(existing, [response, ...existing.variants.filter((v) => v.variant !== response.variant)]);
      this.#touch(existing);
    }
    this.#evict(uri);
  }

  update(uri: string, variant: string, changes: Pick<StoredResponse, 'headers' | 'requestTime' | 'responseTime' | 'removeAt' | 'tags'>): void {
    const resource = this.#resources.get(uri);
    if (resource === undefined) return;
    const i = resource.variants.findIndex((v) => v.variant === variant);
    // An expired variant is gone, as in the Redis store, even if not yet dropped.
    if (i === -1 || resource.variants[i]!.removeAt <= this.#now()) return;
    const next = resource.variants.slice();
    next[i] = { ...resource.variants[i]!, ...changes };
    this.#replace(resource, next);
    this.#evict(uri);
  }

  purgeUri(uri: string): PurgeResult {
    const resource = this.#resources.get(uri);
    if (resource === undefined) return { purged: 0 };
    const purged = this.#live(resource.variants);
    this.#replace(resource, NONE);
    return { purged };
  }

  purgePrefix(prefix: string): PurgeResult {
    let purged = 0;
    for (const [uri, resource] of this.#resources) {
      if (!uri.startsWith(prefix)) continue;
      purged += this.#live(resource.variants);
      this.#replace(resource, NONE);
    }
    return { purged };
  }

  purgeTag(tag: string): PurgeResult {
    const uris = this.#tags.get(tag);
    if (uris === undefined) return { purged: 0 };
    let purged = 0;
    for (const uri of [...uris]) {
      const resource = this.#resources.get(uri);
      if (resource === undefined) continue;
      const keep = resource.variants.filter((v) => !v.tags.includes(tag));
      purged += this.#live(resource.variants.filter((v) => v.tags.includes(tag)));
      this.#replace(resource, keep);
    }
    this.#tags.delete(tag);
    return { purged };
  }

  purgeAll(): PurgeResult {
    let purged = 0;
    for (const resource of this.#resources.values()) purged += this.#live(resource.variants);
    this.#resources.clear();
    this.#tags.clear();
    this.#oldest = null;
    this.#newest = null;
    this.#bytes = 0;
    this.#entries = 0;
    return { purged };
  }

  stats(): CacheStoreStats {
    return { kind: 'memory', entries: this.#entries, bytes: this.#bytes, maxBytes: this.#maxBytes, evictions: this.#evictions };
  }

  close(): Promise<void> {
    this.purgeAll();
    return Promise.resolve();
  }

  #dropExpired(resource: Resource): void {
    const now = this.#now();
    this.#replace(resource, resource.variants.filter((v) => v.removeAt > now));
  }

  /** Variants a lookup could still return: purges count these, as the Redis store does. */
  #live(variants: readonly StoredResponse[]): number {
    const now = this.#now();
    let n = 0;
    for (const v of variants) if (v.removeAt > now) n++;
    return n;
  }

  /** Sets a resource's variants, keeping bytes, entries, the tag index and the LRU list right; none left removes it. */
  #replace(resource: Resource, variants: readonly StoredResponse[]): void {
    const before = resource.variants;
    let bytes = 0;
    let first = Infinity;
    for (const v of variants) {
      bytes += sizeOf(resource.uri, v);
      if (v.removeAt < first) first = v.removeAt;
    }
    this.#bytes += bytes - resource.bytes;
    this.#entries += variants.length - before.length;
    resource.bytes = bytes;
    resource.variants = variants;
    resource.firstRemoveAt = first;
    for (const v of before) this.#unindex(resource, v.tags);
    for (const v of variants) this.#index(resource.uri, v.tags);
    if (variants.length === 0) {
      this.#resources.delete(resource.uri);
      this.#unlink(resource);
    }
  }

  #index(uri: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let set = this.#tags.get(tag);
      if (set === undefined) {
        set = new Set();
        this.#tags.set(tag, set);
      }
      set.add(uri);
    }
  }

  /** Drops `uri` from the sets of `tags` that none of its remaining variants carries. */
  #unindex(resource: Resource, tags: readonly string[]): void {
    for (const tag of tags) {
      if (resource.variants.some((v) => v.tags.includes(tag))) continue;
      const set = this.#tags.get(tag);
      if (set === undefined) continue;
      set.delete(resource.uri);
      if (set.size === 0) this.#tags.delete(tag);
    }
  }

  /** Evicts the least recently used resources until the bound holds; `keep` goes last. */
  #evict(keep: string): void {
    let victim = this.#oldest;
    while (this.#bytes > this.#maxBytes && victim !== null) {
      const next = victim.newer;
      if (victim.uri !== keep || next === null) {
        this.#evictions += victim.variants.length;
        this.#replace(victim, NONE);
      }
      victim = next;
    }
  }

  #link(resource: Resource): void {
    resource.older = this.#newest;
    resource.newer = null;
    if (this.#newest !== null) this.#newest.newer = resource;
    this.#newest = resource;
    if (this.#oldest === null) this.#oldest = resource;
  }

  #unlink(resource: Resource): void {
    if (resource.older !== null) resource.older.newer = resource.newer;
    else if (this.#oldest === resource) this.#oldest = resource.newer;
    if (resource.newer !== null) resource.newer.older = resource.older;
    else if (this.#newest === resource) this.#newest = resource.older;
    resource.older = null;
    resource.newer = null;
  }

  #touch(resource: Resource): void {
    if (this.#newest === resource) return;
    this.#unlink(resource);
    this.#link(resource);
  }
}
