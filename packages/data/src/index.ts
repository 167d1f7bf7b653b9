export { sql, isSql, Sql } from './sql.ts';
export { Db, createDb, type DbOptions, type Queryable } from './db.ts';
export { DataError, type DataErrorCode } from './errors.ts';
export { migrate } from './migrate.ts';
export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from './embedded.ts';
export { createListener, notify, type Listener, type ListenerOptions } from './listener.ts';
