// The revocation list of sealed-cookie sessions. A sealed cookie stays
// decryptable until it expires, so "log out" and "regenerate" must be
// remembered on the server: the cookie's jti is listed here until the
// cookie's absolute expiry, after which the timeout refuses it anyway.
import type { Redis } from 'ioredis';
import { sql, type Db } from '@rampart/data';
import { startPruner, type PostgresSessionStoreOptions } from './postgres-store.ts';
import { useRedis } from './redis-client.ts';

export interface RevocationStore {
  revoke(jti: string, ttlMs: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Stops timers and closes connections the store opened itself. */
  close(): Promise<void>;
}

export function isRevocationStore(value: unknown): value is RevocationStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return ['revoke', 'isRevoked', 'close'].every((m) => typeof s[m] === 'function');
}

/**
 * One process only: with several instances behind a balancer, a cookie
 * revoked on one is still accepted by the others. Not size-bounded on
 * purpose (dropping an entry would un-revoke a session); expired entries
 * are swept as new ones arrive.
 */
export function memoryRevocationStore(options: { clock?: () => number } = {}): RevocationStore {
  const clock = options.clock ?? Date.now;
  const until = new Map<string, number>();
  let sinceSweep = 0;
  return {
    revoke(jti, ttlMs) {
      if (++sinceSweep >= 256) {
        sinceSweep = 0;
        const now = clock();
        for (const [key, expiry] of until) if (expiry <= now) until.delete(key);
      }
      until.set(jti, Math.max(until.get(jti) ?? 0, clock() + ttlMs));
      return Promise.resolve();
    },
    isRevoked: (jti) => Promise.resolve((until.get(jti) ?? 0) > clock()),
    close: () => Promise.resolve(until.clear()),
  };
}

/** Table kit_session_revocations (migrations/001_sessions.sql); the Db stays the caller's. */
export function postgresRevocationStore(db: Db, options: PostgresSessionStoreOptions = {}): RevocationStore & { prune(): Promise<number> } {
  const prune = async () => (await db.query(sql`delete from kit_session_revocations where expires_at <= now()`)).rowCount;
  const pruner = startPruner(options.pruneInterval ?? 5 * 60_000, prune);
  return {
    async revoke(jti, ttlMs) {
      await db.query(sql`
        insert into kit_session_revocations (jti, expires_at)
        values (${jti}, now() + ${ttlMs}::float8 * interval '1 millisecond')
        on conflict (jti) do update set expires_at = greatest(kit_session_revocations.expires_at, excluded.expires_at)`);
    },
    async isRevoked(jti) {
      return (await db.maybeOne(sql`select 1 from kit_session_revocations where jti = ${jti} and expires_at > now()`)) !== null;
    },
    prune,
    close: () => Promise.resolve(pruner.stop()),
  };
}

/** Keys rampart:revoked:<jti>, expiring with PX at the cookie's absolute expiry. */
export function redisRevocationStore(urlOrClient: string | Redis): RevocationStore {
  const redis = useRedis(urlOrClient, 'redisRevocationStore');
  return {
    async revoke(jti, ttlMs) {
      await redis.client.set(`rampart:revoked:${jti}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    isRevoked: async (jti) => (await redis.client.exists(`rampart:revoked:${jti}`)) === 1,
    close: () => redis.close(),
  };
}
