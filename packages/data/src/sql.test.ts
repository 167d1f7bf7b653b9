import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { isSql, sql, Sql } from './sql.ts';
import { DataError } from './errors.ts';
import { startTestPostgres, type TestPostgres } from './testing.ts';

const code = (expected: string) => (err: unknown) => err instanceof DataError && err.code === expected;

test('placeholders are numbered in order through nested fragments and joins', () => {
  const conditions = sql.join([sql`a = ${1}`, sql`b = ${'two'}`, sql`c IN (${sql.join([sql`${3}`, sql`${4}`])})`], sql` AND `);
  const query = sql`SELECT * FROM t WHERE ${conditions} AND d = ${sql`lower(${'FIVE'})`} LIMIT ${6}`;
  assert.deepEqual(query.toQuery(), {
    text: 'SELECT * FROM t WHERE a = $1 AND b = $2 AND c IN ($3, $4) AND d = lower($5) LIMIT $6',
    values: [1, 'two', 3, 4, 'FIVE', 6],
  });
});

test('a fragment used twice gets fresh placeholders each time', () => {
  const id = sql`${42}`;
  assert.deepEqual(sql`${id} + ${id}`.toQuery(), { text: '$1 + $2', values: [42, 42] });
});

test('join of nothing is empty, and empty adds no text and no values', () => {
  assert.equal(sql.join([]), sql.empty);
  assert.deepEqual(sql`SELECT 1${sql.empty}${sql.join([])}`.toQuery(), { text: 'SELECT 1', values: [] });
  assert.deepEqual(sql.join([sql`x`, sql`y`]).toQuery(), { text: 'x, y', values: [] });
});

test('ident quotes plain names and refuses anything it would have to escape', () => {
  assert.equal(sql.ident('users').toQuery().text, '"users"');
  assert.equal(sql.ident('public', 'Users_2$').toQuery().text, '"public"."Users_2$"');
  assert.equal(sql.ident('a'.repeat(63)).toQuery().text, `"${'a'.repeat(63)}"`);
  for (const bad of ['a"b', 'x; drop table users', '', '1abc', 'a b', 'a.b', 'é', 'a'.repeat(64), '$a']) {
    assert.throws(() => sql.ident(bad), code('RAMPART_ERR_SQL_IDENT'), JSON.stringify(bad));
  }
  assert.throws(() => sql.ident('ok', 'a"b'), code('RAMPART_ERR_SQL_IDENT'), 'every part is checked');
  assert.throws(() => sql.ident(), code('RAMPART_ERR_SQL_IDENT'));
});

test('sql called as a function, not as a tag, is refused', () => {
  const call = sql as unknown as (strings: unknown, ...values: unknown[]) => Sql;
  assert.throws(() => call(['SELECT 1']), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
  assert.throws(() => call(Object.freeze(['SELECT 1'])), code('RAMPART_ERR_SQL_NOT_TEMPLATE'), 'frozen but without raw');
  assert.throws(() => call('SELECT 1'), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
  assert.throws(() => call(['SELECT ', ''], 1), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
});

test('a fragment cannot be made from text outside the tag', () => {
  const Make = Sql as unknown as new (key: symbol, strings: string[], values: unknown[]) => Sql;
  assert.throws(() => new Make(Symbol('rampart.sql.internal'), ['DROP TABLE users'], []), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
  const lookAlike = { strings: ['DROP TABLE users'], values: [], toQuery: () => ({ text: 'DROP TABLE users', values: [] }) };
  assert.equal(isSql(lookAlike), false);
  assert.equal(isSql(Object.create(Sql.prototype)), false, 'the prototype alone does not carry the brand');
  assert.equal(isSql(sql`SELECT 1`), true);
});

test('a fragment cannot be changed after it is built', () => {
  const fragment = sql.join([sql`a`, sql`b`]);
  assert.throws(() => (fragment.values as unknown[]).push(sql`; DROP TABLE users`), TypeError);
  assert.equal(fragment.toQuery().text, 'a, b');
});

test('against PostgreSQL', async (t) => {
  const pg: TestPostgres = await startTestPostgres();
  t.after(() => pg.stop());

  await t.test('a hostile value round-trips as data', async () => {
    await pg.db.query(sql`CREATE TABLE x (id serial PRIMARY KEY, v text NOT NULL)`);
    const hostile = [`'; drop table x; --`, `Robert'); DROP TABLE x;--`, `\\'; DROP TABLE x; --`, `$1`, `$$; DROP TABLE x; $$`, `"x"`, 'é 💥 \u2028'];
    for (const v of hostile) await pg.db.query(sql`INSERT INTO x (v) VALUES (${v})`);
    const rows = await pg.db.many<{ v: string }>(sql`SELECT v FROM x ORDER BY id`);
    assert.deepEqual(rows.map((r) => r.v), hostile);
    const { n } = await pg.db.one<{ n: number }>(sql`SELECT count(*)::int AS n FROM x WHERE v = ${hostile[0]}`);
    assert.equal(n, 1);
  });

  await t.test('identifiers and nested fragments run as PostgreSQL reads them', async () => {
    await pg.db.query(sql`CREATE TABLE ${sql.ident('Mixed_Case$')} (${sql.join([sql`${sql.ident('Id')} int`, sql`note text`])})`);
    const values = [sql`(${1}, ${'one'})`, sql`(${2}, ${'two'})`];
    await pg.db.query(sql`INSERT INTO ${sql.ident('public', 'Mixed_Case$')} VALUES ${sql.join(values)}`);
    const rows = await pg.db.many<{ Id: number; note: string }>(sql`SELECT * FROM ${sql.ident('Mixed_Case$')} WHERE ${sql.ident('Id')} = ANY(${[2, 3]}::int[])`);
    assert.deepEqual(rows, [{ Id: 2, note: 'two' }]);
  });

  await t.test('the pool refuses text', async () => {
    const query = pg.db.query as unknown as (q: unknown) => Promise<unknown>;
    await assert.rejects(query('SELECT 1'), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
    await assert.rejects(query({ text: 'SELECT 1', values: [] }), code('RAMPART_ERR_SQL_NOT_TEMPLATE'));
  });

  await t.test('one and maybeOne check the row count', async () => {
    await assert.rejects(pg.db.one(sql`SELECT 1 WHERE false`), code('RAMPART_ERR_ROW_COUNT'));
    await assert.rejects(pg.db.one(sql`SELECT generate_series(1, 2)`), code('RAMPART_ERR_ROW_COUNT'));
    await assert.rejects(pg.db.maybeOne(sql`SELECT generate_series(1, 2)`), code('RAMPART_ERR_ROW_COUNT'));
    assert.equal(await pg.db.maybeOne(sql`SELECT 1 WHERE false`), null);
  });

  await t.test('a transaction commits on resolve and rolls back on throw', async () => {
    await pg.db.query(sql`CREATE TABLE tx (v int)`);
    await pg.db.transaction(async (tx) => {
      await tx.query(sql`INSERT INTO tx VALUES (${1})`);
    });
    await assert.rejects(pg.db.transaction(async (tx) => {
      await tx.query(sql`INSERT INTO tx VALUES (${2})`);
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(await pg.db.many(sql`SELECT v FROM tx`), [{ v: 1 }]);
  });

  await t.test('a transaction handle used after the callback is refused', async () => {
    let leaked: Parameters<Parameters<typeof pg.db.transaction>[0]>[0] | undefined;
    await pg.db.transaction(async (tx) => {
      leaked = tx;
      await tx.query(sql`SELECT 1`);
    });
    assert.ok(leaked);
    await assert.rejects(leaked.query(sql`SELECT 1`), code('RAMPART_ERR_TRANSACTION_DONE'));
  });

  await t.test('a transaction whose connection is killed does not end the process, and the pool recovers', async () => {
    let held: EventEmitter | undefined;
    pg.db.pool.once('acquire', (client: EventEmitter) => {
      held = client;
    });
    await assert.rejects(pg.db.transaction(async (tx) => {
      const { pid } = await tx.one<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`);
      assert.ok(held);
      // Under node:test an uncaught 'error' is not always pinned on a test, so
      // the listener that keeps it from ending the process is checked itself.
      assert.ok(held.listenerCount('error') > 0, 'the checked-out client has an error listener');
      // Not events.once: it listens for 'error' too, which is what is tested.
      const ended = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the killed connection did not end within 5 s')), 5000);
        held?.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await pg.db.query(sql`SELECT pg_terminate_backend(${pid})`);
      // pg emits 'error' (then 'end') on a client that is idle between two
      // queries when the server ends its session; without a listener that
      // 'error' would end the test process.
      await ended;
      await tx.query(sql`SELECT 1`);
    }), /terminat|not queryable/);
    const { ok } = await pg.db.one<{ ok: number }>(sql`SELECT 1 AS ok`);
    assert.equal(ok, 1);
  });
});
