// Sessions in Redis: one hash per session at rampart:sess:<sha256(id)>,
// expiring with PEXPIRE, so Redis itself removes idle sessions.
import type { Redis } from 'ioredis';
import type { SessionRecord, SessionStore } from './store.ts';
import { useRedis, type OwnedRedis } from './redis-client.ts';

const PREFIX = 'rampart:sess:';

// A hash rather than one JSON string so that touch() moves lastSeenAt
// without rewriting (and racing with a concurrent set() of) the data. The
// script makes "only if it still exists" atomic: a plain HSET would revive a
// session that expired or was destroyed a moment earlier.
const TOUCH = `
if redis.call('exists', KEYS[1]) == 1 then
  redis.call('hset', KEYS[1], 'seen', ARGV[1])
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0`;

class RedisSessionStore implements SessionStore {
  readonly #redis: OwnedRedis;

  constructor(redis: OwnedRedis) {
    this.#redis = redis;
  }

  async get(idHash: string): Promise<SessionRecord | null> {
    const h = await this.#redis.client.hgetall(PREFIX + idHash);
    if (h.data === undefined || h.created === undefined || h.seen === undefined) return null;
    let data: unknown;
    try {
      data = JSON.parse(h.data);
    } catch {
      return null;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
    return { data: data as Record<string, unknown>, createdAt: Number(h.created), lastSeenAt: Number(h.seen) };
  }

  async set(idHash: string, record: SessionRecord, ttlMs: number): Promise<void> {
    const key = PREFIX + idHash;
    const results = await this.#redis.client
      .multi()
      .del(key)
      .hset(key, { data: JSON.stringify(record.data), created: String(record.createdAt), seen: String(record.lastSeenAt) })
      .pexpire(key, Math.max(1, Math.ceil(ttlMs)))
      .exec();
    const failed = results?.find(([err]) => err !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
  }

  async touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void> {
    await this.#redis.client.eval(TOUCH, 1, PREFIX + idHash, String(lastSeenAt), String(Math.max(1, Math.ceil(ttlMs))));
  }

  async destroy(idHash: string): Promise<void> {
    await this.#redis.client.del(PREFIX + idHash);
  }

  close(): Promise<void> {
    return this.#redis.close();
  }
}

/** Given a URL the store opens its own connection and close() quits it; given a client, close() leaves it open. */
export function redisSessionStore(urlOrClient: string | Redis): SessionStore {
  return new RedisSessionStore(useRedis(urlOrClient, 'redisSessionStore'));
}
