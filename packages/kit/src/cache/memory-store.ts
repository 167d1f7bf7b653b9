// Entries in this process's memory, bounded by count and by bytes, least
// recently used first out. Other processes cannot see them nor its tag
// versions: behind a load balancer give createCache a `broadcast`
// (postgresBroadcast) so that invalidations reach every instance.
import { KitError } from '../errors.ts';
import type { CacheStore, StoredEntry } from './store.ts';

export interface MemoryCacheStoreOptions {
  /** Most entries. Default 10 000. */
  maxEntries?: number;
  /** Most bytes of keys and values (JSON text, counted as UTF-16: what the strings take in memory). Default 64 MiB. */
  maxBytes?: number;
  /** Most tag versions remembered. Default 100 000; forgetting one makes some entries misses, never stale hits. */
  maxTags?: number;
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
}

interface Held {
  readonly entry: StoredEntry;
  readonly expiresAt: number;
  readonly bytes: number;
}

// Rough cost of one entry beyond its strings (the Map slot, the objects).
const OVERHEAD = 128;

class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Held>();
  readonly #versions = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxTags: number;
  readonly #clock: () => number;
  #bytes = 0;
  // Versions come from one counter, so a tag's new version is above every
  // version any tag ever had. A forgotten tag reads as #floor, the highest
  // version forgotten so far: never below what an entry may have recorded
  // for it, so forgetting can turn a current entry into a miss but can never
  // make a stale one current again.
  #sequence = 0;
  #floor = 0;

  constructor(options: Required<Omit<MemoryCacheStoreOptions, 'clock'>> & { clock: () => number }) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#maxTags = options.maxTags;
    this.#clock = options.clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): Promise<StoredEntry | null> {
    const held = this.#entries.get(key);
    if (held === undefined) return Promise.resolve(null);
    this.#entries.delete(key);
    if (held.expiresAt <= this.#clock()) {
      this.#bytes -= held.bytes;
      return Promise.resolve(null);
    }
    // Re-inserted: Map order is use order, the first key the least recently used.
    this.#entries.set(key, held);
    return Promise.resolve(held.entry);
  }

  set(key: string, entry: StoredEntry, ttlMs: number): Promise<void> {
    this.#remove(key);
    const bytes = 2 * (key.length + entry.value.length) + entry.tags.reduce((n, [tag]) => n + 2 * tag.length + 16, 0) + OVERHEAD;
    // One value larger than the whole budget is not kept (it would evict everything else).
    if (bytes > this.#maxBytes) return Promise.resolve();
    this.#entries.set(key, { entry, expiresAt: this.#clock() + ttlMs, bytes });
    this.#bytes += bytes;
    for (const [oldest, held] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= held.bytes;
    }
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#remove(key);
    return Promise.resolve();
  }

  tagVersions(tags: readonly string[]): Promise<number[]> {
    return Promise.resolve(tags.map((tag) => this.#versions.get(tag) ?? this.#floor));
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) {
      this.#versions.delete(tag);
      this.#versions.set(tag, ++this.#sequence);
    }
    for (const [oldest, version] of this.#versions) {
      if (this.#versions.size <= this.#maxTags) break;
      this.#versions.delete(oldest);
      this.#floor = Math.max(this.#floor, version);
    }
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.clear();
  }

  #remove(key: string): void {
    const held = this.#entries.get(key);
    if (held === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= held.bytes;
  }
}

function bound(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', `memoryCacheStore: ${name} must be a positive whole number, got ${String(value)}`);
  return value;
}

/** An LRU store in this process, bounded by entries and bytes. */
export function memoryCacheStore(options: MemoryCacheStoreOptions = {}): CacheStore & { readonly size: number; readonly bytes: number; clear(): Promise<void> } {
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new KitError('RAMPART_ERR_CACHE_OPTIONS', 'memoryCacheStore: clock must be a function returning milliseconds');
  return new MemoryCacheStore({
    maxEntries: bound('maxEntries', options.maxEntries, 10_000),
    maxBytes: bound('maxBytes', options.maxBytes, 64 * 1024 * 1024),
    maxTags: bound('maxTags', options.maxTags, 100_000),
    clock: options.clock ?? Date.now,
  });
}
