// Memory stores in two "processes" (two caches with their own PostgreSQL
// connections) kept consistent through postgresBroadcast, on a real PostgreSQL.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb, notify, sql } from '@rampart/data';
import { startTestPostgres } from '@rampart/data/testing';
import { createCache, type CacheOptions } from './cache.ts';
import { memoryCacheStore } from './memory-store.ts';
import { postgresBroadcast } from './broadcast.ts';
import { KitError } from '../errors.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One app instance: its own pool, memory store and broadcast. */
let instances = 0;
async function instance(t: { after(fn: () => Promise<void>): void }, options: Partial<CacheOptions> & { channel?: string; errors?: Error[]; reconnectDelay?: number } = {}) {
  const name = `instance${++instances}`;
  const db = createDb({ url: pg.url, max: 2, applicationName: name });
  const { channel, errors, reconnectDelay, ...cacheOptions } = options;
  const broadcast = postgresBroadcast(db, { channel, reconnectDelay, onError: (err) => errors?.push(err) });
  const cache = createCache({ store: memoryCacheStore(), broadcast, prefix: 'app:', ...cacheOptions });
  t.after(async () => {
    await cache.close();
    await db.close();
  });
  await broadcast.ready();
  return { cache, broadcast, db, name };
}

test('an invalidation in one process reaches the memory store of the others', async (t) => {
  const [a, b, c] = await Promise.all([instance(t), instance(t), instance(t)]);
  for (const { cache } of [a, b, c]) await cache.set('board', 'seats: 3', { ttl: 60_000, tags: ['board'] });
  await b.cache.set('other', 'x', { ttl: 60_000, tags: ['other'] });
  const started = performance.now();
  await a.cache.invalidateTags(['board']);
  // It resolves when its own message came back through its listener, not after the 1 s it would wait at most.
  assert.ok(performance.now() - started < 900, `invalidateTags took ${Math.round(performance.now() - started)} ms`);
  assert.equal(await a.cache.get('board'), undefined, 'at once where it happened');
  await waitFor('the other instances to drop the board', async () => (await b.cache.get('board')) === undefined && (await c.cache.get('board')) === undefined);
  assert.equal(await b.cache.get('other'), 'x', 'other tags are untouched');
});

test('a cache with another prefix on the same channel ignores the message', async (t) => {
  const a = await instance(t);
  const other = await instance(t, { prefix: 'other:' });
  const b = await instance(t);
  await other.cache.set('board', 'kept', { ttl: 60_000, tags: ['board'] });
  await b.cache.set('board', 'dropped', { ttl: 60_000, tags: ['board'] });
  await a.cache.invalidateTags(['board']);
  await waitFor('b to drop it', async () => (await b.cache.get('board')) === undefined);
  assert.equal(await other.cache.get('board'), 'kept');
});

test('many long tags go out in several notifications, all applied', async (t) => {
  const [a, b] = await Promise.all([instance(t), instance(t)]);
  const tags = Array.from({ length: 64 }, (_, i) => `${String(i).padStart(3, '0')}-${'t'.repeat(250)}`);
  for (const tag of tags) await b.cache.set(tag.slice(0, 3), 'v', { ttl: 60_000, tags: [tag] });
  await a.cache.invalidateTags(tags);
  await waitFor('every tag', async () => {
    for (const tag of tags) if ((await b.cache.get(tag.slice(0, 3))) !== undefined) return false;
    return true;
  });
});

test('while its listener is down an instance reads nothing from its store; when it is back everything cached before is gone', async (t) => {
  const a = await instance(t);
  // Reconnects after 1 s: time enough to look at it while it is down.
  const b = await instance(t, { reconnectDelay: 1000 });
  await b.cache.set('board', 'old', { ttl: 60_000, tags: ['board'] });
  await pg.db.query(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${`${b.name}-listener`}`);
  await waitFor('b to notice', () => !b.broadcast.connected);
  const [down, up] = [b, a];
  let calls = 0;
  assert.equal(await down.cache.get('board'), undefined, 'bypassed while it cannot hear invalidations');
  assert.equal(await down.cache.wrap('w', 60_000, () => (calls++, 'computed')), 'computed');
  // Missed while down: nothing will tell it about this one.
  await up.cache.invalidateTags(['board']);
  await waitFor('the listener to reconnect', () => down.broadcast.connected, 10_000);
  assert.equal(await down.cache.get('board'), undefined, 'dropped at reconnection');
  assert.equal(await down.cache.wrap('w', 60_000, () => (calls++, 'again')), 'again', 'nothing computed while down was stored');
  assert.equal(calls, 2);
  await down.cache.set('board', 'new', { ttl: 60_000, tags: ['board'] });
  assert.equal(await down.cache.get('board'), 'new', 'caching again once connected');
});

test('a malformed message on the channel is reported and ignored', async (t) => {
  const errors: Error[] = [];
  const b = await instance(t, { errors });
  await b.cache.set('board', 'v', { ttl: 60_000, tags: ['board'] });
  for (const payload of ['not json', '{"o":1,"t":[]}', '{"o":"x","t":"app:t:board"}', '{"o":"x","t":[1]}']) await notify(pg.db, 'rampart_cache', payload);
  await waitFor('four errors', () => errors.length === 4);
  assert.equal(await b.cache.get('board'), 'v');
});

test('bad options are refused with RAMPART_ERR_CACHE_OPTIONS', async () => {
  for (const options of [{ channel: 'bad channel' }, { channel: '' }, { reconnectDelay: 0 }, { reconnectDelay: 1.5 }]) {
    assert.throws(() => postgresBroadcast(pg.db, options), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_CACHE_OPTIONS', JSON.stringify(options));
  }
  const broadcast = postgresBroadcast(pg.db);
  createCache({ store: memoryCacheStore(), broadcast });
  assert.throws(() => createCache({ store: memoryCacheStore(), broadcast }), (err: unknown) => err instanceof KitError && /one broadcast serves one cache/.test(err.message));
  await broadcast.close();
});
