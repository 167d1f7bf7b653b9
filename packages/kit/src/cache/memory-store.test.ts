import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCacheStore } from './memory-store.ts';
import { createCache } from './cache.ts';
import { KitError } from '../errors.ts';

const entry = (value: string) => ({ value: JSON.stringify(value), tags: [] });

test('bounded by entries: the least recently used goes first, and a read counts as a use', async () => {
  const store = memoryCacheStore({ maxEntries: 3 });
  for (const k of ['a', 'b', 'c']) await store.set(k, entry(k), 60_000);
  assert.ok(await store.get('a'));
  await store.set('d', entry('d'), 60_000);
  assert.equal(store.size, 3);
  assert.equal(await store.get('b'), null, 'b was the least recently used');
  for (const k of ['a', 'c', 'd']) assert.ok(await store.get(k), k);
});

test('bounded by bytes; a value bigger than the whole budget is not kept; replacing a key frees its old bytes', async () => {
  const store = memoryCacheStore({ maxBytes: 10_000 });
  const big = 'x'.repeat(2000);
  for (let i = 0; i < 10; i++) await store.set(`k${i}`, entry(big), 60_000);
  assert.ok(store.bytes <= 10_000, `${store.bytes} bytes held`);
  assert.ok(store.size < 10 && store.size >= 1);
  assert.ok(await store.get('k9'), 'the newest stays');
  assert.equal(await store.get('k0'), null, 'the oldest went');
  await store.set('huge', entry('y'.repeat(20_000)), 60_000);
  assert.equal(await store.get('huge'), null);
  const before = store.bytes;
  await store.set('k9', entry('small'), 60_000);
  assert.ok(store.bytes < before);
  await store.delete('k9');
  await store.clear();
  assert.equal(store.bytes, 0);
  assert.equal(store.size, 0);
});

test('expiry follows the injected clock', async () => {
  let now = 1000;
  const store = memoryCacheStore({ clock: () => now });
  await store.set('k', entry('v'), 100);
  now += 99;
  assert.ok(await store.get('k'));
  now += 1;
  assert.equal(await store.get('k'), null);
  assert.equal(store.bytes, 0, 'an expired entry frees its bytes when it is found');
});

test('forgetting tag versions (maxTags) can make entries misses, never a stale entry current again', async () => {
  const store = memoryCacheStore({ maxTags: 2 });
  const cache = createCache({ store });
  // Recorded while "board" was never invalidated.
  await cache.set('board', 'old board', { ttl: 60_000, tags: ['board'] });
  await cache.invalidateTags(['board']);
  assert.equal(await cache.get('board'), undefined);
  // Two other tags push "board" out of the remembered versions.
  await cache.invalidateTags(['a']);
  await cache.invalidateTags(['b']);
  assert.equal(await cache.get('board'), undefined, 'still stale after its tag was forgotten');
  await cache.set('current', 'c', { ttl: 60_000, tags: ['c'] });
  assert.equal(await cache.get('current'), 'c');
});

test('bad options are refused with RAMPART_ERR_CACHE_OPTIONS', () => {
  for (const options of [{ maxEntries: 0 }, { maxBytes: -1 }, { maxTags: 1.5 }, { clock: 5 as unknown as () => number }]) {
    assert.throws(() => memoryCacheStore(options), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_CACHE_OPTIONS', JSON.stringify(options));
  }
});
