import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, unlink, writeFile, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from './db.ts';
import { DataError } from './errors.ts';
import { migrate } from './migrate.ts';
import { sql } from './sql.ts';
import { startTestPostgres } from './testing.ts';

const pg = await startTestPostgres();
const root = await mkdtemp(path.join(os.tmpdir(), 'rampart-migrate-'));
test.after(async () => {
  await pg.stop();
  await rm(root, { recursive: true, force: true });
});

let databases = 0;
/** A database of its own for one test, so tests do not see each other's migrations. */
async function freshDb(t: { after: (fn: () => Promise<void>) => void }): Promise<{ db: Db; url: string }> {
  const name = `m${++databases}`;
  await pg.db.query(sql`CREATE DATABASE ${sql.ident(name)}`);
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  const db = createDb({ url: url.href, max: 3 });
  t.after(() => db.close());
  return { db, url: url.href };
}

let packages = 0;
/** A folder `<root>/pN/migrations` under a package.json named `name` (none when null), holding `files`. */
async function pkg(name: string | null, files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `p${++packages}`, 'migrations');
  await mkdir(dir, { recursive: true });
  if (name !== null) await writeFile(path.join(dir, '..', 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

const code = (expected: string, ...parts: (string | RegExp)[]) => (err: unknown) => {
  assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
  assert.equal(err.code, expected, err.message);
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(err.message.includes(part), `${JSON.stringify(part)} not in: ${err.message}`);
    else assert.match(err.message, part);
  }
  return true;
};

async function tableExists(db: Db, table: string): Promise<boolean> {
  const { found } = await db.one<{ found: boolean }>(sql`SELECT to_regclass(${table}) IS NOT NULL AS found`);
  return found;
}

async function records(db: Db): Promise<{ name: string; sha256: string }[]> {
  return db.many(sql`SELECT name, sha256 FROM rampart_migrations ORDER BY applied_at, name`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('applies files in number order, each recorded with its sha256 under the package name', async (t) => {
  const { db } = await freshDb(t);
  const files = {
    '010_fill.sql': 'INSERT INTO steps (n) VALUES (3);',
    '001_create.sql': 'CREATE TABLE steps (n int NOT NULL);\nINSERT INTO steps (n) VALUES (1);',
    '2-second.sql': 'INSERT INTO steps (n) VALUES (2);',
    'README.md': 'not a migration',
  };
  const dir = await pkg('@test/alpha', files);
  const messages: string[] = [];
  const result = await migrate(db, [dir], { log: (m) => messages.push(m) });

  const names = ['@test/alpha/001_create.sql', '@test/alpha/2-second.sql', '@test/alpha/010_fill.sql'];
  assert.deepEqual(result, { applied: names, current: names });
  assert.deepEqual(await db.many(sql`SELECT n FROM steps`), [{ n: 1 }, { n: 2 }, { n: 3 }], 'a number, not a string comparison, puts 2 before 010');
  assert.deepEqual(await records(db), [
    { name: names[0], sha256: sha256(files['001_create.sql']) },
    { name: names[1], sha256: sha256(files['2-second.sql']) },
    { name: names[2], sha256: sha256(files['010_fill.sql']) },
  ]);
  assert.ok(messages.includes('applying @test/alpha/001_create.sql'), messages.join('\n'));
});

test('a second run applies nothing', async (t) => {
  const { db } = await freshDb(t);
  const dir = await pkg('@test/alpha', { '001_a.sql': 'CREATE TABLE once (n int); INSERT INTO once VALUES (1);' });
  const first = await migrate(db, [dir]);
  const messages: string[] = [];
  const second = await migrate(db, [dir], { log: (m) => messages.push(m) });
  assert.deepEqual(second, { applied: [], current: first.current });
  assert.deepEqual(await db.many(sql`SELECT n FROM once`), [{ n: 1 }]);
  assert.deepEqual(messages, ['migrations up to date']);
});

test('the record does not depend on where the checkout lives, nor on its line endings', async (t) => {
  const { db } = await freshDb(t);
  const dir = await pkg('@test/moved', { '001_a.sql': 'CREATE TABLE moved (n int);\nINSERT INTO moved VALUES (1);\n' });
  await migrate(db, [dir]);
  const elsewhere = path.join(root, 'elsewhere', 'checkout');
  await cp(path.dirname(dir), elsewhere, { recursive: true });
  await writeFile(path.join(elsewhere, 'migrations', '001_a.sql'), '\uFEFFCREATE TABLE moved (n int);\r\nINSERT INTO moved VALUES (1);\r\n');
  assert.deepEqual(await migrate(db, [path.join(elsewhere, 'migrations')]), { applied: [], current: ['@test/moved/001_a.sql'] });
});

test('a changed file is refused, for every changed file, before anything new is applied', async (t) => {
  const { db } = await freshDb(t);
  const dir = await pkg('@test/alpha', { '001_a.sql': 'CREATE TABLE a (n int);', '002_b.sql': 'CREATE TABLE b (n int);' });
  await migrate(db, [dir]);
  await writeFile(path.join(dir, '001_a.sql'), 'CREATE TABLE a (n bigint);');
  await writeFile(path.join(dir, '002_b.sql'), 'CREATE TABLE b (n bigint);');
  await writeFile(path.join(dir, '003_c.sql'), 'CREATE TABLE c (n int);');
  await assert.rejects(
    migrate(db, [dir]),
    code('RAMPART_ERR_MIGRATION_CHANGED', '@test/alpha/001_a.sql', '@test/alpha/002_b.sql', path.join(dir, '001_a.sql'), 'add a new migration instead of editing an applied one'),
  );
  assert.equal(await tableExists(db, 'c'), false, 'the new file was not applied');
  assert.deepEqual((await records(db)).map((r) => r.name), ['@test/alpha/001_a.sql', '@test/alpha/002_b.sql']);
});

test('a .sql file not named NNN_words.sql is refused before the database is touched', async (t) => {
  const { db } = await freshDb(t);
  for (const bad of ['create_users.sql', '001_Users.sql', '001.sql', '001_a b.sql', 'v1_x.sql']) {
    const dir = await pkg('@test/alpha', { '001_ok.sql': 'CREATE TABLE ok (n int);', [bad]: 'SELECT 1;' });
    await assert.rejects(migrate(db, [dir]), code('RAMPART_ERR_MIGRATION_NAME', path.join(dir, bad), 'NNN_words.sql'), bad);
  }
  assert.equal(await tableExists(db, 'rampart_migrations'), false);
  assert.equal(await tableExists(db, 'ok'), false);
});

test('a folder that does not exist is refused, naming it', async (t) => {
  const { db } = await freshDb(t);
  const missing = path.join(root, 'no-such-folder');
  await assert.rejects(migrate(db, [missing]), code('RAMPART_ERR_MIGRATION_DIR', missing, 'does not exist'));
  const file = path.join(await pkg(null, { '001_a.sql': '' }), '001_a.sql');
  await assert.rejects(migrate(db, [file]), code('RAMPART_ERR_MIGRATION_DIR', 'is not a folder'));
});

test('a failing migration is rolled back with its record, stops the run, and says where it failed', async (t) => {
  const { db } = await freshDb(t);
  const dir = await pkg('@test/alpha', {
    '001_ok.sql': 'CREATE TABLE ok (n int);',
    '002_half.sql': 'CREATE TABLE half (n int);\nINSERT INTO half VALUES (1);\nINSERT INTO half VALUES (2);  SELEC 1;\n',
    '003_later.sql': 'CREATE TABLE later (n int);',
  });
  await assert.rejects(
    migrate(db, [dir]),
    code('RAMPART_ERR_MIGRATION_FAILED', '@test/alpha/002_half.sql', path.join(dir, '002_half.sql'), 'line 3, column 31', 'syntax error at or near "SELEC"', 'SQLSTATE 42601'),
  );
  assert.equal(await tableExists(db, 'ok'), true);
  assert.equal(await tableExists(db, 'half'), false, 'the statements before the failing one were rolled back');
  assert.equal(await tableExists(db, 'later'), false, 'the run stopped');
  assert.deepEqual((await records(db)).map((r) => r.name), ['@test/alpha/001_ok.sql']);

  await writeFile(path.join(dir, '002_half.sql'), 'CREATE TABLE half (n int);');
  const fixed = await migrate(db, [dir]);
  assert.deepEqual(fixed.applied, ['@test/alpha/002_half.sql', '@test/alpha/003_later.sql']);
});

test('a file that commits the transaction it runs in is reported', async (t) => {
  const { db } = await freshDb(t);
  const dir = await pkg('@test/alpha', { '001_commit.sql': 'BEGIN; CREATE TABLE committed (n int); COMMIT;' });
  await assert.rejects(migrate(db, [dir]), code('RAMPART_ERR_MIGRATION_FAILED', '@test/alpha/001_commit.sql', 'COMMIT'));
  assert.equal(await tableExists(db, 'rampart_migrations'), true);
  assert.deepEqual(await records(db), []);
});

test('two concurrent runs on separate pools apply each file exactly once', async (t) => {
  const { db, url } = await freshDb(t);
  const other = createDb({ url, max: 2 });
  t.after(() => other.close());
  // The first run to take the lock blocks on `gate` inside 001 until the test
  // lets go; meanwhile the second has to be waiting for the advisory lock.
  await db.query(sql`CREATE TABLE gate (n int)`);
  const dir = await pkg('@test/alpha', {
    '001_a.sql': 'CREATE TABLE counted (file text PRIMARY KEY); INSERT INTO counted VALUES (\'001\'); INSERT INTO gate VALUES (1);',
    '002_b.sql': 'INSERT INTO counted VALUES (\'002\');',
    '003_c.sql': 'INSERT INTO counted VALUES (\'003\');',
  });
  const gate = await db.pool.connect();
  let runs: Promise<{ applied: string[]; current: string[] }>[] = [];
  const logs: string[][] = [[], []];
  try {
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE gate IN ACCESS EXCLUSIVE MODE');
    runs = [db, other].map((d, i) => migrate(d, [dir], { log: (m) => logs[i]?.push(m) }));
    runs.forEach((run) => run.catch(() => {}));
    const database = new URL(url).pathname.slice(1);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const waits = await pg.db.many<{ wait_event: string }>(
        sql`SELECT wait_event FROM pg_stat_activity WHERE datname = ${database} AND wait_event_type = 'Lock' ORDER BY wait_event`,
      );
      if (waits.map((w) => w.wait_event).join() === 'advisory,relation') break;
      assert.ok(Date.now() < deadline, `both runs never got in flight together: ${JSON.stringify(waits)}`);
    }
    await gate.query('COMMIT');
  } finally {
    // Before the pool closes: pool.end() waits for every checked-out client.
    gate.release();
  }

  const results = await Promise.all(runs);
  const all = ['@test/alpha/001_a.sql', '@test/alpha/002_b.sql', '@test/alpha/003_c.sql'];
  assert.deepEqual(results.map((r) => r.applied).sort((a, b) => b.length - a.length), [all, []]);
  assert.deepEqual(results[0]?.current, all);
  assert.deepEqual(results[1]?.current, all);
  assert.deepEqual(await db.many(sql`SELECT file FROM counted ORDER BY file`), [{ file: '001' }, { file: '002' }, { file: '003' }]);
  assert.ok(logs.some((l) => l.some((m) => m.includes('waiting for it'))), 'the second run said it was waiting');
  const { held } = await pg.db.one<{ held: number }>(sql`SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory'`);
  assert.equal(held, 0, 'the advisory lock is released');
});

test('several folders: in the order given, each labelled by its nearest package.json', async (t) => {
  const { db } = await freshDb(t);
  const alpha = await pkg('@test/alpha', { '001_schema.sql': 'CREATE TABLE seq (label text, at serial);', '002_more.sql': 'INSERT INTO seq (label) VALUES (\'alpha 2\');' });
  const beta = await pkg('@test/beta', { '001_schema.sql': 'INSERT INTO seq (label) VALUES (\'beta 1\');' });
  const plain = await pkg(null, { '001_schema.sql': 'INSERT INTO seq (label) VALUES (\'plain 1\');' });
  const nested = path.join(path.dirname(alpha), 'deeper', 'sql');
  await mkdir(nested, { recursive: true });
  await writeFile(path.join(nested, '005_nested.sql'), 'INSERT INTO seq (label) VALUES (\'nested\');');

  const plainLabel = path.relative(process.cwd(), plain).split(path.sep).join('/');
  const result = await migrate(db, [alpha, beta, plain, nested]);
  assert.deepEqual(result.applied, [
    '@test/alpha/001_schema.sql',
    '@test/alpha/002_more.sql',
    '@test/beta/001_schema.sql',
    `${plainLabel}/001_schema.sql`,
    '@test/alpha/005_nested.sql',
  ]);
  assert.deepEqual((await db.many<{ label: string }>(sql`SELECT label FROM seq ORDER BY at`)).map((r) => r.label), ['alpha 2', 'beta 1', 'plain 1', 'nested']);
});

test('two folders that would record the same name are refused', async (t) => {
  const { db } = await freshDb(t);
  const alpha = await pkg('@test/alpha', { '001_schema.sql': 'SELECT 1;' });
  const again = path.join(path.dirname(alpha), 'more');
  await mkdir(again);
  await writeFile(path.join(again, '001_schema.sql'), 'SELECT 2;');
  await assert.rejects(migrate(db, [alpha, again]), code('RAMPART_ERR_MIGRATION_NAME', 'would both be recorded as @test/alpha/001_schema.sql'));
  assert.deepEqual((await migrate(db, [alpha, alpha])).applied, ['@test/alpha/001_schema.sql'], 'one folder given twice is one folder');
});

test('a recorded file that is gone is reported and left alone; other packages are not its business', async (t) => {
  const { db } = await freshDb(t);
  const alpha = await pkg('@test/alpha', { '001_a.sql': 'SELECT 1;', '002_b.sql': 'SELECT 2;' });
  const beta = await pkg('@test/beta', { '001_a.sql': 'SELECT 1;' });
  await migrate(db, [alpha, beta]);
  await unlink(path.join(alpha, '002_b.sql'));
  const messages: string[] = [];
  const result = await migrate(db, [alpha], { log: (m) => messages.push(m) });
  assert.deepEqual(result.applied, []);
  assert.deepEqual(result.current, ['@test/alpha/001_a.sql', '@test/alpha/002_b.sql', '@test/beta/001_a.sql']);
  const gone = messages.filter((m) => m.includes('no longer on disk'));
  assert.equal(gone.length, 1, messages.join('\n'));
  assert.ok(gone[0]?.includes('@test/alpha/002_b.sql'));
  assert.ok(!gone[0]?.includes('@test/beta'), 'beta was not passed, so its records are not missing');
});
