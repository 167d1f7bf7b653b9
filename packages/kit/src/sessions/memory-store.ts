// Sessions in this process's memory: for tests and a single instance. Behind
// a load balancer each instance would have its own sessions; use the
// PostgreSQL or Redis store there.
import { KitError } from '../errors.ts';
import { parseRecord, type SessionRecord, type SessionStore } from './store.ts';

export interface MemorySessionStoreOptions {
  /** Most sessions kept; the least recently written is dropped first. Default 10 000. */
  maxEntries?: number;
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
}

interface Entry {
  // Kept as JSON so that a caller mutating an object after set() or get()
  // does not change the stored session: the same copy semantics as the
  // PostgreSQL and Redis stores.
  json: string;
  expiresAt: number;
}

class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #clock: () => number;

  constructor(max: number, clock: () => number) {
    this.#max = max;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(idHash: string): Promise<SessionRecord | null> {
    const entry = this.#live(idHash);
    return Promise.resolve(entry ? parseRecord(entry.json) : null);
  }

  set(idHash: string, record: SessionRecord, ttlMs: number): Promise<void> {
    // Delete first so that Map order is write order: the first key is the
    // least recently written, which is the one dropped when full (bounded
    // memory: a flood of new visitors cannot grow the process without end).
    this.#entries.delete(idHash);
    this.#entries.set(idHash, { json: JSON.stringify(record), expiresAt: this.#clock() + ttlMs });
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(key);
    }
    return Promise.resolve();
  }

  touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void> {
    const entry = this.#live(idHash);
    const record = entry ? parseRecord(entry.json) : null;
    if (entry && record) {
      entry.json = JSON.stringify({ ...record, lastSeenAt });
      entry.expiresAt = this.#clock() + ttlMs;
    }
    return Promise.resolve();
  }

  destroy(idHash: string): Promise<void> {
    this.#entries.delete(idHash);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#entries.clear();
    return Promise.resolve();
  }

  #live(idHash: string): Entry | undefined {
    const entry = this.#entries.get(idHash);
    if (entry && entry.expiresAt <= this.#clock()) {
      this.#entries.delete(idHash);
      return undefined;
    }
    return entry;
  }
}

export function memorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore & { readonly size: number } {
  const max = options.maxEntries ?? 10_000;
  if (!Number.isInteger(max) || max < 1) throw new KitError('RAMPART_ERR_SESSION_OPTIONS', `memorySessionStore: maxEntries must be a positive integer, got ${String(max)}`);
  return new MemorySessionStore(max, options.clock ?? Date.now);
}
