import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPostgres } from './testing.ts';
import { createListener, notify } from './listener.ts';
import { sql } from './sql.ts';
import { DataError } from './errors.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a notification reaches every listener of its channel, and only those', async (t) => {
  const got: string[][] = [[], []];
  const other: string[] = [];
  const a = createListener(pg.db, { channels: ['news'], onNotification: (_c, p) => got[0]!.push(p) });
  const b = createListener(pg.url, { channels: ['news', 'Other'], onNotification: (c, p) => (c === 'news' ? got[1]!.push(p) : other.push(p)) });
  t.after(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.ready(), b.ready()]);
  assert.equal(a.connected, true);
  await notify(pg.db, 'news', 'hello');
  await notify(pg.db, 'Other', 'case kept');
  await waitFor('both listeners', () => got[0]!.length === 1 && got[1]!.length === 1 && other.length === 1);
  assert.deepEqual(got, [['hello'], ['hello']]);
  assert.deepEqual(other, ['case kept']);
});

test('NOTIFY in a transaction is delivered at commit, and never after a rollback', async (t) => {
  const got: string[] = [];
  const listener = createListener(pg.db, { channels: ['tx'], onNotification: (_c, p) => got.push(p) });
  t.after(() => listener.close());
  await listener.ready();
  await assert.rejects(
    pg.db.transaction(async (tx) => {
      await notify(tx, 'tx', 'rolled back');
      throw new Error('abort');
    }),
    /abort/,
  );
  await pg.db.transaction(async (tx) => {
    await notify(tx, 'tx', 'committed');
    // A marker sent after: when it arrives, anything sent before it has too.
  });
  await notify(pg.db, 'tx', 'marker');
  await waitFor('the marker', () => got.includes('marker'));
  assert.deepEqual(got, ['committed', 'marker']);
});

test('a dropped connection is reported, reconnected and listening again; onConnect runs again', async (t) => {
  const got: string[] = [];
  let connects = 0;
  let disconnects = 0;
  const listener = createListener(pg.db, {
    channels: ['drop'],
    onNotification: (_c, p) => got.push(p),
    onConnect: () => connects++,
    onDisconnect: () => disconnects++,
    minDelayMs: 20,
  });
  t.after(() => listener.close());
  await listener.ready();
  assert.equal(connects, 1);
  await pg.db.query(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name like '%-listener' and query like 'LISTEN "drop"%'`);
  await waitFor('the disconnection', () => disconnects === 1);
  await waitFor('the reconnection', () => connects === 2 && listener.connected);
  await notify(pg.db, 'drop', 'after');
  await waitFor('the notification after reconnecting', () => got.includes('after'));
});

test('close() stops listening and reconnecting; ready() of a listener closed first rejects', async () => {
  const got: string[] = [];
  const listener = createListener(pg.db, { channels: ['closed'], onNotification: (_c, p) => got.push(p) });
  await listener.ready();
  await listener.close();
  assert.equal(listener.connected, false);
  await notify(pg.db, 'closed', 'nobody');
  const marker = createListener(pg.db, { channels: ['closed'], onNotification: (_c, p) => got.push(`marker:${p}`) });
  await marker.ready();
  await notify(pg.db, 'closed', 'x');
  await waitFor('the second listener', () => got.includes('marker:x'));
  await marker.close();
  assert.deepEqual(got, ['marker:x']);

  const early = createListener('postgres://nobody@127.0.0.1:1/none', { channels: ['x'], onNotification: () => {} });
  await early.close();
  await assert.rejects(early.ready(), /closed/);
});

test('a throwing onNotification goes to onError and the listener keeps going', async (t) => {
  const errors: Error[] = [];
  const got: string[] = [];
  const listener = createListener(pg.db, {
    channels: ['throws'],
    onNotification: (_c, p) => {
      if (p === 'bad') throw new Error('handler failed');
      got.push(p);
    },
    onError: (err) => errors.push(err),
  });
  t.after(() => listener.close());
  await listener.ready();
  await notify(pg.db, 'throws', 'bad');
  await notify(pg.db, 'throws', 'good');
  await waitFor('the good one', () => got.includes('good'));
  assert.equal(errors[0]?.message, 'handler failed');
  assert.equal(listener.connected, true);
});

test('a channel that is not a plain identifier is refused when the listener is created', () => {
  for (const bad of ['a;b', 'x"y', '', 'with space']) {
    assert.throws(() => createListener(pg.db, { channels: [bad], onNotification: () => {} }), (err: unknown) => err instanceof DataError && err.code === 'RAMPART_ERR_SQL_IDENT', bad);
  }
});
