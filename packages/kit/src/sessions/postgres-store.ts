// Sessions in PostgreSQL (table kit_sessions, migrations/001_sessions.sql):
// every instance of the app sees the same sessions. Expiry is checked with
// the database's now() so that instances with skewed clocks agree.
import { sql, type Db } from '@rampart/data';
import { KitError } from '../errors.ts';
import type { SessionRecord, SessionStore } from './store.ts';

export interface PostgresSessionStoreOptions {
  /** How often expired rows are deleted, in ms; 0 turns the timer off (call prune() yourself). Default 5 min. */
  pruneInterval?: number;
}

interface Row {
  data: Record<string, unknown>;
  created_at: Date;
  last_seen_at: Date;
}

class PostgresSessionStore implements SessionStore {
  readonly #db: Db;
  readonly #pruner: Pruner;

  constructor(db: Db, pruneInterval: number) {
    this.#db = db;
    this.#pruner = startPruner(pruneInterval, () => this.prune());
  }

  async get(idHash: string): Promise<SessionRecord | null> {
    const row = await this.#db.maybeOne<Row>(sql`
      select data, created_at, last_seen_at from kit_sessions
      where id_hash = ${idHash} and expires_at > now()`);
    if (!row) return null;
    return { data: row.data, createdAt: row.created_at.getTime(), lastSeenAt: row.last_seen_at.getTime() };
  }

  async set(idHash: string, record: SessionRecord, ttlMs: number): Promise<void> {
    await this.#db.query(sql`
      insert into kit_sessions (id_hash, data, created_at, last_seen_at, expires_at)
      values (${idHash}, ${JSON.stringify(record.data)}::jsonb, ${new Date(record.createdAt)}, ${new Date(record.lastSeenAt)},
              now() + ${ttlMs}::float8 * interval '1 millisecond')
      on conflict (id_hash) do update set
        data = excluded.data, created_at = excluded.created_at,
        last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at`);
  }

  async touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void> {
    await this.#db.query(sql`
      update kit_sessions set last_seen_at = ${new Date(lastSeenAt)},
        expires_at = now() + ${ttlMs}::float8 * interval '1 millisecond'
      where id_hash = ${idHash} and expires_at > now()`);
  }

  async destroy(idHash: string): Promise<void> {
    await this.#db.query(sql`delete from kit_sessions where id_hash = ${idHash}`);
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    return (await this.#db.query(sql`delete from kit_sessions where expires_at <= now()`)).rowCount;
  }

  /** Stops the prune timer. The Db belongs to the caller and stays open. */
  close(): Promise<void> {
    this.#pruner.stop();
    return Promise.resolve();
  }
}

export interface Pruner {
  stop(): void;
}

/** A best-effort interval: a failed prune is retried at the next tick; reads already ignore expired rows. */
export function startPruner(intervalMs: number, prune: () => Promise<unknown>): Pruner {
  if (!Number.isInteger(intervalMs) || intervalMs < 0) {
    throw new KitError('RAMPART_ERR_SESSION_OPTIONS', `pruneInterval must be a whole number of ms (0 = off), got ${String(intervalMs)}`);
  }
  if (intervalMs === 0) return { stop() {} };
  let running = false;
  const timer = setInterval(function pruneExpired() {
    if (running) return;
    running = true;
    void prune().catch(() => {}).finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export function postgresSessionStore(db: Db, options: PostgresSessionStoreOptions = {}): SessionStore & { prune(): Promise<number> } {
  return new PostgresSessionStore(db, options.pruneInterval ?? 5 * 60_000);
}
