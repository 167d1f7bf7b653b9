// One behaviour suite over every SessionStore (the undici way: one test body,
// several implementations), against a real PostgreSQL and a real redis-server.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestRedis } from '@rampart/data/testing';
import { sql } from '@rampart/data';
import type { SessionRecord, SessionStore } from './store.ts';
import { memorySessionStore } from './memory-store.ts';
import { postgresSessionStore } from './postgres-store.ts';
import { redisSessionStore } from './redis-store.ts';
import { hashSessionId, createSessionId } from './session-id.ts';
import { memoryRevocationStore, postgresRevocationStore, redisRevocationStore, type RevocationStore } from './revocation.ts';
import { postgresWithKitTables, waitFor } from './test-support.ts';

const pg = await postgresWithKitTables();
const redis = await startTestRedis();
after(async () => {
  await pg.stop();
  await redis?.stop();
});

const implementations: { name: string; skip: string | false; make(): SessionStore }[] = [
  { name: 'memory', skip: false, make: () => memorySessionStore() },
  { name: 'postgres', skip: false, make: () => postgresSessionStore(pg.db, { pruneInterval: 0 }) },
  { name: 'redis', skip: redis ? false : 'redis-server is not installed', make: () => redisSessionStore(redis!.url) },
];

const record = (data: Record<string, unknown> = { user: 'ada', roles: ['admin'], n: 1.5 }): SessionRecord => ({
  data,
  createdAt: 1_700_000_000_123,
  lastSeenAt: 1_700_000_000_456,
});
const key = () => hashSessionId(createSessionId());

for (const impl of implementations) {
  describe(`${impl.name} session store`, { skip: impl.skip }, () => {
    const use = (t: { after(fn: () => Promise<void>): void }) => {
      const store = impl.make();
      t.after(() => store.close());
      return store;
    };

    test('set then get returns an equal copy of the record', async (t) => {
      const store = use(t);
      const k = key();
      const r = record({ user: 'ada', nested: { list: [1, 'two', null], flag: true }, '__proto__': 'plain key' });
      await store.set(k, r, 60_000);
      const got = await store.get(k);
      assert.deepEqual(got, JSON.parse(JSON.stringify(r)));
      assert.equal(Object.getPrototypeOf(got!.data), Object.prototype);
      (r.data.nested as { flag: boolean }).flag = false;
      assert.equal(((await store.get(k))!.data.nested as { flag: boolean }).flag, true, 'the store keeps its own copy');
    });

    test('an unknown key reads as null', async (t) => {
      const store = use(t);
      assert.equal(await store.get(key()), null);
    });

    test('set replaces the whole record and keys are independent', async (t) => {
      const store = use(t);
      const [a, b] = [key(), key()];
      await store.set(a, record({ x: 1, y: 2 }), 60_000);
      await store.set(b, record({ other: true }), 60_000);
      await store.set(a, { data: { x: 3 }, createdAt: 5, lastSeenAt: 6 }, 60_000);
      assert.deepEqual(await store.get(a), { data: { x: 3 }, createdAt: 5, lastSeenAt: 6 });
      assert.deepEqual((await store.get(b))?.data, { other: true });
    });

    test('destroy removes the record; destroying an unknown key is not an error', async (t) => {
      const store = use(t);
      const k = key();
      await store.set(k, record(), 60_000);
      await store.destroy(k);
      assert.equal(await store.get(k), null);
      await store.destroy(key());
    });

    test('touch moves lastSeenAt, keeps the data and never creates a record', async (t) => {
      const store = use(t);
      const k = key();
      await store.set(k, record(), 60_000);
      await store.touch(k, 1_800_000_000_000, 60_000);
      assert.deepEqual(await store.get(k), { ...record(), lastSeenAt: 1_800_000_000_000 });
      const missing = key();
      await store.touch(missing, 1, 60_000);
      assert.equal(await store.get(missing), null);
    });

    test('a record is gone once its ttl has passed; touch pushes the expiry out', async (t) => {
      const store = use(t);
      const [short, touched] = [key(), key()];
      await store.set(short, record(), 150);
      await store.set(touched, record(), 150);
      await store.touch(touched, 2, 60_000);
      assert.notEqual(await store.get(short), null, 'present before its ttl');
      await waitFor('the short record to expire', async () => (await store.get(short)) === null);
      assert.equal((await store.get(touched))?.lastSeenAt, 2, 'the touched record outlived the first ttl');
    });
  });
}

test('memory store: bounded, the least recently written session is dropped first', async () => {
  const store = memorySessionStore({ maxEntries: 2 });
  await store.set('a', record(), 60_000);
  await store.set('b', record(), 60_000);
  await store.set('a', record({ again: 1 }), 60_000);
  await store.set('c', record(), 60_000);
  assert.equal(store.size, 2);
  assert.equal(await store.get('b'), null);
  assert.deepEqual((await store.get('a'))?.data, { again: 1 });
  assert.notEqual(await store.get('c'), null);
});

test('memory store: expiry follows the injected clock', async () => {
  let now = 1_000;
  const store = memorySessionStore({ clock: () => now });
  await store.set('a', record(), 500);
  now = 1_499;
  assert.notEqual(await store.get('a'), null);
  now = 1_500;
  assert.equal(await store.get('a'), null);
  assert.equal(store.size, 0, 'an expired entry is removed when read');
});

test('postgres store: rows hold the hash and expiry; prune deletes only expired rows', async (t) => {
  const store = postgresSessionStore(pg.db, { pruneInterval: 0 });
  t.after(() => store.close());
  const [live, dead] = [key(), key()];
  await store.set(live, record(), 60_000);
  await store.set(dead, record(), 1);
  const row = await pg.db.one<{ id_hash: string; in_a_minute: boolean }>(sql`
    select id_hash, expires_at between now() + interval '59 seconds' and now() + interval '61 seconds' as in_a_minute
    from kit_sessions where id_hash = ${live}`);
  assert.deepEqual(row, { id_hash: live, in_a_minute: true });
  await waitFor('the 1 ms row to be past its expiry', async () => (await store.get(dead)) === null);
  // Earlier tests in this file left expired rows of their own in the table.
  const expired = await pg.db.one<{ n: number }>(sql`select count(*)::int as n from kit_sessions where expires_at <= now()`);
  assert.ok(expired.n >= 1);
  assert.equal(await store.prune(), expired.n);
  const left = await pg.db.many<{ id_hash: string }>(sql`select id_hash from kit_sessions where id_hash in (${live}, ${dead})`);
  assert.deepEqual(left, [{ id_hash: live }]);
  assert.equal(await store.prune(), 0);
});

test('postgres store: the prune timer deletes expired rows and stops on close', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const store = postgresSessionStore(pg.db, { pruneInterval: 60_000 });
  const k = key();
  await store.set(k, record(), 1);
  const count = async () => (await pg.db.one<{ n: number }>(sql`select count(*)::int as n from kit_sessions where id_hash = ${k}`)).n;
  await waitFor('the row to be past its expiry', async () => (await store.get(k)) === null);
  assert.equal(await count(), 1, 'expired but not yet pruned');
  t.mock.timers.tick(60_000);
  await waitFor('the timer to prune the row', async () => (await count()) === 0);
  await store.close();
  await store.set(k, record(), 1);
  await waitFor('the row to be past its expiry', async () => (await store.get(k)) === null);
  t.mock.timers.tick(120_000);
  assert.equal(await count(), 1, 'no prune after close()');
});

test('redis store: one key per session at rampart:sess:<hash> with a PX expiry; a shared client stays open', { skip: redis ? false : 'redis-server is not installed' }, async (t) => {
  const client = new Redis(redis!.url);
  t.after(() => client.quit());
  const store = redisSessionStore(client);
  const k = key();
  await store.set(k, record(), 60_000);
  const pttl = await client.pttl(`rampart:sess:${k}`);
  assert.ok(pttl > 59_000 && pttl <= 60_000, `pttl ${pttl}`);
  await store.touch(k, 9, 120_000);
  assert.ok((await client.pttl(`rampart:sess:${k}`)) > 119_000);
  await store.close();
  assert.equal(await client.ping(), 'PONG', 'close() leaves a client it was given open');
});

const revocationStores: { name: string; skip: string | false; make(): RevocationStore }[] = [
  { name: 'memory', skip: false, make: () => memoryRevocationStore() },
  { name: 'postgres', skip: false, make: () => postgresRevocationStore(pg.db, { pruneInterval: 0 }) },
  { name: 'redis', skip: redis ? false : 'redis-server is not installed', make: () => redisRevocationStore(redis!.url) },
];

for (const impl of revocationStores) {
  test(`${impl.name} revocation store: a revoked jti is listed until its ttl, others never`, { skip: impl.skip }, async (t) => {
    const store = impl.make();
    t.after(() => store.close());
    const [long, short, other] = [createSessionId(), createSessionId(), createSessionId()];
    await store.revoke(long, 60_000);
    await store.revoke(short, 150);
    assert.equal(await store.isRevoked(long), true);
    assert.equal(await store.isRevoked(short), true);
    assert.equal(await store.isRevoked(other), false);
    await waitFor('the short revocation to lapse', async () => !(await store.isRevoked(short)));
    assert.equal(await store.isRevoked(long), true);
  });
}

test('postgres revocation store: prune removes lapsed rows only', async (t) => {
  const store = postgresRevocationStore(pg.db, { pruneInterval: 0 });
  t.after(() => store.close());
  const [live, lapsed] = [createSessionId(), createSessionId()];
  await store.revoke(live, 60_000);
  await store.revoke(lapsed, 1);
  await waitFor('the 1 ms revocation to lapse', async () => !(await store.isRevoked(lapsed)));
  assert.ok((await store.prune()) >= 1);
  const rows = await pg.db.many<{ jti: string }>(sql`select jti from kit_session_revocations where jti in (${live}, ${lapsed})`);
  assert.deepEqual(rows, [{ jti: live }]);
});
