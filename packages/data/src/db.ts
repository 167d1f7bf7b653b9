// A pool that only takes `sql` fragments. The methods say how many rows the
// caller expects, so that "exactly one" is checked here and not forgotten at
// each call site.
import pg from 'pg';
import { isSql, type Sql } from './sql.ts';
import { DataError } from './errors.ts';

export interface Queryable {
  query: <R extends object = Record<string, unknown>>(query: Sql) => Promise<{ rows: R[]; rowCount: number }>;
  /** Rows as objects. */
  many: <R extends object = Record<string, unknown>>(query: Sql) => Promise<R[]>;
  /** Exactly one row, or RAMPART_ERR_ROW_COUNT. */
  one: <R extends object = Record<string, unknown>>(query: Sql) => Promise<R>;
  /** Zero or one row. */
  maybeOne: <R extends object = Record<string, unknown>>(query: Sql) => Promise<R | null>;
}

export interface DbOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Most connections in the pool. Default 10. */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

type Client = pg.Pool | pg.PoolClient;

function queryable(client: () => Client): Queryable {
  const query = async <R extends object>(q: Sql) => {
    if (!isSql(q)) throw new DataError('RAMPART_ERR_SQL_NOT_TEMPLATE', 'queries must be built with the sql tag: db.query(sql`select …`)');
    const { text, values } = q.toQuery();
    const result = await client().query<R>(text, values);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };
  return {
    query,
    many: async <R extends object>(q: Sql) => (await query<R>(q)).rows,
    one: async <R extends object>(q: Sql) => {
      const { rows } = await query<R>(q);
      if (rows.length !== 1) throw new DataError('RAMPART_ERR_ROW_COUNT', `expected exactly one row, got ${rows.length}`);
      return rows[0] as R;
    },
    maybeOne: async <R extends object>(q: Sql) => {
      const { rows } = await query<R>(q);
      if (rows.length > 1) throw new DataError('RAMPART_ERR_ROW_COUNT', `expected at most one row, got ${rows.length}`);
      return rows[0] ?? null;
    },
  };
}

export class Db implements Queryable {
  readonly pool: pg.Pool;
  readonly query: Queryable['query'];
  readonly many: Queryable['many'];
  readonly one: Queryable['one'];
  readonly maybeOne: Queryable['maybeOne'];

  constructor(options: DbOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10, application_name: options.applicationName ?? 'rampart' });
    // An idle client whose server went away emits 'error' on the pool; without
    // a listener that would end the process. The next query reconnects.
    this.pool.on('error', () => {});
    const q = queryable(() => this.pool);
    this.query = q.query;
    this.many = q.many;
    this.one = q.one;
    this.maybeOne = q.maybeOne;
  }

  /** Runs fn in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const held = holdClient(client);
    let open = true;
    // `tx` kept past the callback (a forgotten await, a closure) would run on a
    // connection already handed to someone else, outside any transaction.
    const tx = queryable(() => {
      if (!open) throw new DataError('RAMPART_ERR_TRANSACTION_DONE', 'this transaction has ended: await every query inside the transaction callback');
      return client;
    });
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(held.fail);
      throw err;
    } finally {
      open = false;
      held.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Guards a client checked out of the pool. pg-pool removes its own 'error'
 * listener while a client is checked out, so a server that goes away between
 * two queries would emit an unhandled 'error' and end the process; and a
 * connection that failed must be closed, not handed to the next caller.
 */
export function holdClient(client: pg.PoolClient): { fail: (err: unknown) => void; release: () => void } {
  let broken: Error | undefined;
  const fail = (err: unknown) => {
    broken ??= err instanceof Error ? err : new Error(String(err));
  };
  client.on('error', fail);
  return {
    fail,
    release() {
      client.off('error', fail);
      client.release(broken);
    },
  };
}

/** The query methods on one checked-out connection (migrations hold one for their advisory lock). */
export function clientQueryable(client: pg.PoolClient): Queryable {
  return queryable(() => client);
}

export function createDb(options: DbOptions): Db {
  return new Db(options);
}
