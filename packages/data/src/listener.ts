// LISTEN/NOTIFY: a message bus that every process of an app already has,
// through the database it shares. A listener needs a connection of its own
// for as long as it listens (a pooled connection goes back to the pool, and
// its LISTEN with it), so it opens one outside the pool and keeps it open,
// reconnecting with backoff when it drops.
//
// PostgreSQL delivers a notification to every session listening on its
// channel when the sending transaction commits, in commit order (docs, SQL
// command NOTIFY). A notification sent while a listener is disconnected is
// lost for it: `onConnect` runs after every reconnection, so that the owner
// can treat everything it learned before as possibly out of date.
import pg from 'pg';
import type { Db, Queryable } from './db.ts';
import { sql } from './sql.ts';

export interface ListenerOptions {
  /** Channel names: plain identifiers (letters, digits, _ and $), used as they are written (quoted). */
  channels: readonly string[];
  /** One notification. Exceptions it throws are caught and given to onError. */
  onNotification: (channel: string, payload: string) => void;
  /** After LISTEN succeeded on every channel: the first time and after every reconnection. */
  onConnect?: () => void;
  /** The connection failed or dropped; notifications are lost until onConnect. */
  onDisconnect?: (err: Error) => void;
  /** Errors that are not a disconnection (a throwing onNotification). */
  onError?: (err: Error) => void;
  /** Delay before reconnecting, doubled after each failure up to maxDelayMs. Defaults 100 ms and 5000 ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface Listener {
  /** True while LISTEN is in effect on a live connection. */
  readonly connected: boolean;
  /** Resolves at the first successful connection; rejects if the listener is closed before. */
  ready(): Promise<void>;
  /** Ends the connection and stops reconnecting. */
  close(): Promise<void>;
}

function connectionConfig(target: Db | string): pg.ClientConfig {
  if (typeof target === 'string') return { connectionString: target, application_name: 'rampart-listener' };
  const options = target.pool.options as pg.PoolConfig;
  return { connectionString: options.connectionString, application_name: `${options.application_name ?? 'rampart'}-listener` };
}

class PgListener implements Listener {
  readonly #config: pg.ClientConfig;
  readonly #options: ListenerOptions;
  readonly #listen: string[];
  readonly #minDelay: number;
  readonly #maxDelay: number;
  #client: pg.Client | null = null;
  #connected = false;
  #closed = false;
  #delay: number;
  #timer: NodeJS.Timeout | null = null;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (err: Error) => void;

  constructor(config: pg.ClientConfig, options: ListenerOptions) {
    this.#config = config;
    this.#options = options;
    // sql.ident refuses anything but a plain identifier, so the text is safe to send as it is.
    this.#listen = options.channels.map((channel) => sql`LISTEN ${sql.ident(channel)}`.toQuery().text);
    this.#minDelay = options.minDelayMs ?? 100;
    this.#maxDelay = options.maxDelayMs ?? 5000;
    this.#delay = this.#minDelay;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // ready() may never be awaited; a rejection at close() must not be unhandled.
    this.#ready.catch(() => {});
    void this.#connect();
  }

  get connected(): boolean {
    return this.#connected;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async #connect(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    // keepAlive: a connection whose peer vanished without a FIN (a cut
    // network, a killed VM) is otherwise never noticed by a listener, which
    // only ever reads.
    const client = new pg.Client({ ...this.#config, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    this.#client = client;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      const was = this.#connected;
      this.#connected = false;
      if (this.#client === client) this.#client = null;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.#closed) return;
      if (was || this.#delay === this.#minDelay) this.#options.onDisconnect?.(err);
      this.#timer = setTimeout(() => void this.#connect(), this.#delay);
      this.#timer.unref();
      this.#delay = Math.min(this.#delay * 2, this.#maxDelay);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the listener connection ended')));
    client.on('notification', (message) => {
      try {
        this.#options.onNotification(message.channel, message.payload ?? '');
      } catch (err) {
        this.#options.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
    try {
      await client.connect();
      for (const text of this.#listen) await client.query(text);
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (failed) return;
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#connected = true;
    this.#delay = this.#minDelay;
    this.#resolveReady();
    this.#options.onConnect?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#rejectReady(new Error('the listener was closed'));
    const client = this.#client;
    this.#client = null;
    if (client !== null) {
      client.removeAllListeners('end');
      client.removeAllListeners('notification');
      await client.end().catch(() => {});
    }
  }
}

/**
 * A LISTEN connection of its own, on the database of `db` (or a URL), kept
 * open and reconnected until close(). Notifications go to onNotification;
 * onConnect runs after each (re)connection, onDisconnect when it drops.
 * Channel names must be plain identifiers (RAMPART_ERR_SQL_IDENT).
 */
export function createListener(target: Db | string, options: ListenerOptions): Listener {
  return new PgListener(connectionConfig(target), options);
}

/**
 * NOTIFY `channel` with `payload` (at most 7999 bytes: PostgreSQL's limit).
 * Sent through `db` — a pool, or a transaction, so that it is delivered only
 * if and when that transaction commits.
 */
export async function notify(db: Queryable, channel: string, payload: string): Promise<void> {
  await db.query(sql`select pg_notify(${channel}, ${payload})`);
}
