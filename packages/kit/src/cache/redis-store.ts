// Entries in Redis, shared by every process that uses the same server and
// prefix: one string per entry with PX expiry, one integer per tag (INCR),
// and SET NX PX locks for single-flight across processes.
//
// Tag keys have no expiry on purpose. With a maxmemory-policy of volatile-*
// (volatile-lru, volatile-ttl, …) Redis evicts only keys that expire, which
// are entries; a tag counter evicted under allkeys-* would read as 0 again,
// and an entry recorded at 0 before an invalidation would look current.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KitError } from '../errors.ts';
import { decodeEntry, encodeEntry, type CacheStore, type StoredEntry } from './store.ts';

// Deletes the lock only if it is still ours: after a PX expiry someone else
// may hold it (the Redis documentation's pattern for SET NX locks).
const UNLOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';
  readonly #client: Redis;
  readonly #owned: boolean;

  constructor(client: Redis, owned: boolean) {
    this.#client = client;
    this.#owned = owned;
  }

  async get(key: string): Promise<StoredEntry | null> {
    const text = await this.#client.get(key);
    return text === null ? null : decodeEntry(text);
  }

  async set(key: string, entry: StoredEntry, ttlMs: number): Promise<void> {
    await this.#client.set(key, encodeEntry(entry), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(key);
  }

  async tagVersions(tags: readonly string[]): Promise<number[]> {
    if (tags.length === 0) return [];
    const values = await this.#client.mget(...tags);
    return values.map((v) => (v === null ? 0 : Number(v)));
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const pipeline = this.#client.pipeline();
    for (const tag of tags) pipeline.incr(tag);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline aborted');
  }

  async lock(key: string, ttlMs: number): Promise<string | null> {
    const token = randomBytes(16).toString('base64url');
    const ok = await this.#client.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return ok === 'OK' ? token : null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.#client.eval(UNLOCK, 1, key, token);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#client.quit().catch(() => this.#client.disconnect());
  }
}

/**
 * Given a redis:// URL the store opens its own connection and close() quits
 * it; given an ioredis client it shares it and leaves it open.
 */
export function redisCacheStore(urlOrClient: string | Redis): CacheStore {
  if (typeof urlOrClient === 'string') {
    if (!/^rediss?:\/\//.test(urlOrClient)) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', 'redisCacheStore: expected a redis:// or rediss:// URL or an ioredis client');
    const client = new Redis(urlOrClient, { maxRetriesPerRequest: 2 });
    // Without a listener a lost connection is an unhandled 'error' event;
    // ioredis reconnects by itself and the failed command rejects.
    client.on('error', () => {});
    return new RedisCacheStore(client, true);
  }
  if (!(urlOrClient instanceof Redis)) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', 'redisCacheStore: expected a redis:// URL or an ioredis client');
  return new RedisCacheStore(urlOrClient, false);
}
