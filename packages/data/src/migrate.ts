// Ordered, checksummed migrations: folders of `NNN_words.sql` files, each run
// once per database in its own transaction and recorded with its SHA-256 in
// `rampart_migrations`.
//
// Order of a run:
//   1. read every folder and refuse bad names before touching the database;
//   2. take a session-level advisory lock on one connection, so that several
//      processes starting together (three app instances) apply each file once;
//   3. refuse if any recorded file changed, before anything new is applied;
//   4. apply the rest, one transaction per file together with its record row.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { clientQueryable, holdClient, type Db } from './db.ts';
import { DataError } from './errors.ts';
import { sql } from './sql.ts';

/** `001_create_users.sql`: a number, `_` or `-`, then lower-case words. */
const FILE_NAME = /^([0-9]+)[_-][a-z0-9_-]+\.sql$/;

// One key for every rampart process: advisory locks are per database, so two
// databases in one cluster do not wait for each other. The number is the
// ASCII of "rampmigr" as a bigint, to stay clear of keys an application picks.
const LOCK_KEY = '8241989122704107378';

interface MigrationFile {
  /** `<package name>/<file>`, the key in rampart_migrations. */
  readonly name: string;
  readonly file: string;
  readonly text: string;
  readonly sha256: string;
}

interface Folder {
  readonly dir: string;
  readonly label: string;
  readonly files: readonly MigrationFile[];
}

/**
 * Applies the migrations in `dirs` (files in number order, folders in the order
 * given) that this database has not recorded yet.
 *
 * Refuses, before applying anything: a `.sql` file not named `NNN_words.sql`
 * (RAMPART_ERR_MIGRATION_NAME), a folder that does not exist
 * (RAMPART_ERR_MIGRATION_DIR), a recorded file whose content changed
 * (RAMPART_ERR_MIGRATION_CHANGED). A failing file is rolled back and stops the
 * run (RAMPART_ERR_MIGRATION_FAILED); the files before it stay applied.
 *
 * A recorded file that is no longer in its folder is reported through `log`
 * and otherwise left alone: that is what an older release sees when it is
 * rolled back onto a database a newer one migrated, and refusing would block
 * the rollback.
 */
export async function migrate(db: Db, dirs: readonly string[], options?: { log?: (message: string) => void }): Promise<{ applied: string[]; current: string[] }> {
  const log = options?.log ?? (() => {});
  const folders = await readFolders(dirs);

  const client = await db.pool.connect();
  const held = holdClient(client);
  const q = clientQueryable(client);
  let locked = false;
  try {
    // Session-level, not transaction-level: the lock has to outlive the one
    // transaction per file. It is held by this connection only, so the whole
    // run stays on it (PostgreSQL docs, 13.3.5 Advisory Locks).
    const { got } = await q.one<{ got: boolean }>(sql`SELECT pg_try_advisory_lock(${LOCK_KEY}::bigint) AS got`);
    if (!got) {
      log('another process is applying migrations to this database; waiting for it');
      await q.query(sql`SELECT pg_advisory_lock(${LOCK_KEY}::bigint)`);
    }
    locked = true;

    await q.query(sql`CREATE TABLE IF NOT EXISTS rampart_migrations (
      name text PRIMARY KEY,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const recorded = new Map<string, string>();
    for (const row of await q.many<{ name: string; sha256: string }>(sql`SELECT name, sha256 FROM rampart_migrations`)) {
      recorded.set(row.name, row.sha256);
    }

    const changed: string[] = [];
    const pending: MigrationFile[] = [];
    for (const folder of folders) {
      for (const m of folder.files) {
        const sha = recorded.get(m.name);
        if (sha === undefined) pending.push(m);
        else if (sha !== m.sha256) changed.push(`${m.name} (${m.file}): recorded sha256 ${sha}, now ${m.sha256}`);
      }
    }
    if (changed.length > 0) {
      throw new DataError('RAMPART_ERR_MIGRATION_CHANGED', `${changed.length === 1 ? 'a migration' : `${changed.length} migrations`} changed after being applied to this database:\n  ${changed.join('\n  ')}\nadd a new migration instead of editing an applied one (or restore the file as it was)`);
    }
    const known = new Set(folders.flatMap((f) => f.files.map((m) => m.name)));
    const labels = new Set(folders.map((f) => f.label));
    const gone = [...recorded.keys()].filter((name) => labels.has(labelOf(name)) && !known.has(name));
    if (gone.length > 0) {
      log(`recorded in rampart_migrations but no longer on disk (left as they are; a rollback to an older release looks like this): ${gone.join(', ')}`);
    }

    const applied: string[] = [];
    for (const m of pending) {
      log(`applying ${m.name}`);
      await applyOne(client, m, held.fail);
      applied.push(m.name);
    }
    if (applied.length === 0) log('migrations up to date');

    const current = await q.many<{ name: string }>(sql`SELECT name FROM rampart_migrations ORDER BY applied_at, name`);
    return { applied, current: current.map((r) => r.name) };
  } finally {
    if (locked) await q.query(sql`SELECT pg_advisory_unlock(${LOCK_KEY}::bigint)`).catch(held.fail);
    held.release();
  }
}

async function applyOne(client: pg.PoolClient, m: MigrationFile, fail: (err: unknown) => void): Promise<void> {
  const q = clientQueryable(client);
  await client.query('BEGIN');
  try {
    const { before } = await q.one<{ before: string }>(sql`SELECT pg_current_xact_id()::text AS before`);
    // The one place in rampart where SQL text runs as is: the content of a
    // migration file from the repository, never input. It goes through pg's
    // simple query protocol (a query without parameters), which is what lets
    // one file hold several statements (PostgreSQL docs, Frontend/Backend
    // Protocol: "Multiple Statements in a Simple Query").
    await client.query(m.text);
    const { after } = await q.one<{ after: string }>(sql`SELECT pg_current_xact_id()::text AS after`);
    if (after !== before) {
      throw new DataError('RAMPART_ERR_MIGRATION_FAILED', `migration ${m.name} (${m.file}) ended the transaction it runs in (a COMMIT or ROLLBACK in the file), so what ran before a COMMIT is in the database but the file is not recorded. Remove BEGIN/COMMIT/ROLLBACK from the file (each migration already runs in one transaction), check the database by hand, and run again`);
    }
    await q.query(sql`INSERT INTO rampart_migrations (name, sha256) VALUES (${m.name}, ${m.sha256})`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(fail);
    if (err instanceof DataError) throw err;
    throw new DataError('RAMPART_ERR_MIGRATION_FAILED', `migration ${m.name} (${m.file}) failed and was rolled back; later migrations were not applied: ${describe(err, m.text)}`, { cause: err });
  }
}

/** PostgreSQL's message with its SQLSTATE, detail, hint and, from the error position, line and column in the file. */
function describe(err: unknown, text: string): string {
  if (!(err instanceof pg.DatabaseError)) return err instanceof Error ? err.message : String(err);
  let out = '';
  // `position` counts characters (code points) from 1 into the query text
  // (PostgreSQL docs, Frontend/Backend Protocol: "Error and Notice Message Fields").
  const position = Number(err.position);
  if (Number.isInteger(position) && position > 0) {
    const before = Array.from(text).slice(0, position - 1).join('');
    const lines = before.split('\n');
    out += `line ${lines.length}, column ${Array.from(lines.at(-1) ?? '').length + 1}: `;
  }
  out += err.message;
  if (err.code) out += ` [SQLSTATE ${err.code}]`;
  if (err.detail) out += `\n  detail: ${err.detail}`;
  if (err.hint) out += `\n  hint: ${err.hint}`;
  if (err.where) out += `\n  where: ${err.where}`;
  // 25001 active_sql_transaction: CREATE INDEX CONCURRENTLY, VACUUM and the like.
  if (err.code === '25001') out += '\n  each migration runs in one transaction, so this statement cannot be in one; run it outside rampart migrations';
  return out;
}

async function readFolders(dirs: readonly string[]): Promise<Folder[]> {
  const folders: Folder[] = [];
  const byName = new Map<string, string>();
  const seen = new Set<string>();
  for (const given of dirs) {
    const dir = path.resolve(given);
    if (seen.has(dir)) continue;
    seen.add(dir);
    const info = await stat(dir).catch(() => null);
    if (info === null || !info.isDirectory()) {
      throw new DataError('RAMPART_ERR_MIGRATION_DIR', `migrations folder ${given} (${dir}) ${info === null ? 'does not exist' : 'is not a folder'}: create it or fix the path`);
    }
    const label = await labelFor(dir);
    const files: MigrationFile[] = [];
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.name.toLowerCase().endsWith('.sql')) continue;
      const file = path.join(dir, entry.name);
      if (!FILE_NAME.test(entry.name)) {
        throw new DataError('RAMPART_ERR_MIGRATION_NAME', `migration file ${file} is not named NNN_words.sql (digits, then _ or -, then a-z 0-9 _ -, like 001_create_users.sql): rename it, or move it out of ${dir}`);
      }
      if (!entry.isFile() && !(await stat(file)).isFile()) continue;
      const name = `${label}/${entry.name}`;
      const other = byName.get(name);
      if (other !== undefined) {
        throw new DataError('RAMPART_ERR_MIGRATION_NAME', `${file} and ${other} would both be recorded as ${name}: keep one package's migrations in one folder, or rename one of them`);
      }
      byName.set(name, file);
      files.push(readMigration(name, file, await readFile(file, 'utf8')));
    }
    files.sort(byNumberThenName);
    folders.push({ dir, label, files });
  }
  return folders;
}

function readMigration(name: string, file: string, content: string): MigrationFile {
  // PostgreSQL reads a byte-order mark as text ("syntax error at or near"), and
  // a checkout with Windows line endings is the same migration: neither may
  // count as a change to an applied file.
  const text = content.startsWith('\uFEFF') ? content.slice(1) : content;
  const sha256 = createHash('sha256').update(text.replaceAll('\r\n', '\n')).digest('hex');
  return { name, file, text, sha256 };
}

/** `9_b.sql` before `10_a.sql`: by number, so a folder that mixes widths still runs in the order its author meant; then by name. */
function byNumberThenName(a: MigrationFile, b: MigrationFile): number {
  const na = BigInt(FILE_NAME.exec(path.basename(a.file))?.[1] ?? '0');
  const nb = BigInt(FILE_NAME.exec(path.basename(b.file))?.[1] ?? '0');
  if (na !== nb) return na < nb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The `name` of the nearest package.json at or above `dir`, so that the record
 * does not depend on where the checkout lives; without one, the folder relative
 * to the working directory.
 */
async function labelFor(dir: string): Promise<string> {
  for (let at = dir; ; at = path.dirname(at)) {
    const text = await readFile(path.join(at, 'package.json'), 'utf8').catch(() => null);
    if (text !== null) {
      const name = parseName(text);
      if (name !== null) return name;
    }
    if (path.dirname(at) === at) break;
  }
  return path.relative(process.cwd(), dir).split(path.sep).join('/') || '.';
}

function parseName(text: string): string | null {
  try {
    const json: unknown = JSON.parse(text);
    const name = typeof json === 'object' && json !== null ? (json as { name?: unknown }).name : undefined;
    return typeof name === 'string' && name !== '' ? name : null;
  } catch {
    return null;
  }
}

function labelOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/'));
}
