// One behaviour suite for the CacheStore contract (packages/gateway/src/cache
// /store.ts), run on every store (undici's habit: one test body, several
// implementations): the memory store, and the Redis store against a real
// redis-server of this file's own.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestRedis } from '@rampart/data/testing';
import type { CacheStore, StoredResponse } from '../../packages/gateway/src/cache/store.ts';
import { RedisCacheStore } from '../../packages/gateway/src/cache/redis-store.ts';
import { MemoryCacheStore } from '../../packages/gateway/src/cache/memory-store.ts';
import { HOUR, seeded, storedResponse } from './store-fixtures.ts';

const redis = await startTestRedis();
after(async () => {
  await redis?.stop();
});

const MAX_OBJECT_BYTES = 256 * 1024;
let prefixes = 0;

interface Implementation {
  readonly name: string;
  readonly skip: string | false;
  /** A fresh, empty store, closed after the test; `now` replaces its clock. */
  make(t: TestContext, now?: () => number): Promise<CacheStore>;
}

const implementations: Implementation[] = [
  {
    name: 'memory',
    skip: false,
    make: (t, now) => {
      const store = new MemoryCacheStore({ maxBytes: 64 * 1024 * 1024, maxObjectBytes: MAX_OBJECT_BYTES, ...(now ? { now } : {}) });
      t.after(() => store.close());
      return Promise.resolve(store);
    },
  },
  {
    name: 'redis',
    skip: redis ? false : 'redis-server is not installed',
    make: async (t, now) => {
      // A prefix per test: tests share one redis-server, never keys.
      const store = await RedisCacheStore.connect({ url: redis!.url, keyPrefix: `conf${++prefixes}:`, maxObjectBytes: MAX_OBJECT_BYTES, ...(now ? { now } : {}) });
      t.after(() => store.close());
      return store;
    },
  },
];

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));


/** What a lookup says, in a form assert.deepEqual compares well. */
async function variantsOf(store: CacheStore, uri: string): Promise<string[]> {
  return (await store.lookup(uri)).map((r) => `${r.variant}=${r.body.toString('latin1')}`);
}

for (const impl of implementations) {
  describe(`${impl.name} cache store`, { skip: impl.skip }, () => {
    test('put then lookup returns the response as stored: every byte value of the body, latin1 header values, times, vary, tags', async (t) => {
      const store = await impl.make(t);
      const body = Buffer.concat([ALL_BYTES, Buffer.alloc(100_000, 0xff), ALL_BYTES.toReversed()]);
      const stored = storedResponse('accept-encoding=gzip', {
        status: 203,
        reason: 'Non-Authoritative Information',
        headers: ['x-latin1', 'caf\u00e9 \u00a0\u00ff\u0080', 'cache-control', 'max-age=60', 'x-empty', ''],
        body,
        requestTime: 1_700_000_000_001,
        responseTime: 1_700_000_000_123,
        vary: ['accept-encoding', 'accept-language'],
        tags: ['product-1', 'caf\u00e9'],
      });
      await store.put('example.com/path?a=1', stored);
      const [found, ...rest] = await store.lookup('example.com/path?a=1');
      assert.equal(rest.length, 0);
      assert.ok(found);
      assert.ok(found.body.equals(body), 'the body comes back byte for byte');
      assert.deepEqual({ ...found, body: null }, { ...stored, body: null });
      assert.deepEqual(await store.lookup('example.com/path?a=2'), [], 'another uri is a miss');
      assert.deepEqual(await store.lookup('example.com/path'), []);
    });

    test('an empty body, an empty variant string and odd characters in uris round-trip', async (t) => {
      const store = await impl.make(t);
      const uris = ['*/', 'example.com/sp ace?q=\u00e9&z', 'example.com/\u65e5\u672c', 'example.com/nul\u0000byte\r\n'];
      for (const uri of uris) await store.put(uri, storedResponse('', { body: Buffer.alloc(0) }));
      for (const uri of uris) {
        const found = await store.lookup(uri);
        assert.equal(found.length, 1, uri);
        assert.equal(found[0]!.variant, '');
        assert.equal(found[0]!.body.length, 0);
      }
      assert.deepEqual(await store.purgeUri('example.com/nul\u0000byte\r\n'), { purged: 1 });
      assert.deepEqual(await store.lookup('example.com/nul'), []);
    });

    test('variants of one uri coexist; a put with the same variant string replaces only that one', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/v', storedResponse('lang=en', { body: Buffer.from('en-1') }));
      await store.put('a.com/v', storedResponse('lang=fr', { body: Buffer.from('fr-1') }));
      assert.deepEqual(await variantsOf(store, 'a.com/v'), ['lang=fr=fr-1', 'lang=en=en-1']);
      await store.put('a.com/v', storedResponse('lang=en', { body: Buffer.from('en-2'), status: 201 }));
      const found = await store.lookup('a.com/v');
      assert.deepEqual(found.map((r) => `${r.variant}=${r.body.toString()}`), ['lang=en=en-2', 'lang=fr=fr-1']);
      assert.equal(found[0]!.status, 201);
    });

    test('lookup lists variants most recently stored first', async (t) => {
      const store = await impl.make(t);
      for (const v of ['a', 'b', 'c']) await store.put('a.com/order', storedResponse(v, { body: Buffer.from(v) }));
      assert.deepEqual(await variantsOf(store, 'a.com/order'), ['c=c', 'b=b', 'a=a']);
      await store.put('a.com/order', storedResponse('a', { body: Buffer.from('a2') }));
      assert.deepEqual(await variantsOf(store, 'a.com/order'), ['a=a2', 'c=c', 'b=b']);
    });

    test('a variant whose removeAt has passed is never returned', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/exp', storedResponse('gone', { removeAt: Date.now() - 1 }));
      assert.deepEqual(await store.lookup('a.com/exp'), []);
      await store.put('a.com/exp', storedResponse('live'));
      await store.put('a.com/exp', storedResponse('old', { removeAt: Date.now() - HOUR }));
      assert.deepEqual((await store.lookup('a.com/exp')).map((r) => r.variant), ['live']);
      // A put replaces its variant even when the new response is already expired.
      await store.put('a.com/exp', storedResponse('live', { removeAt: Date.now() - 1 }));
      assert.deepEqual(await store.lookup('a.com/exp'), []);
      assert.deepEqual(await store.purgeUri('a.com/exp'), { purged: 0 }, 'nothing living was left to purge');
    });

    test("variants expire by the store's clock: nothing is returned from removeAt on", async (t) => {
      let now = 1_900_000_000_000;
      const store = await impl.make(t, () => now);
      await store.put('a.com/clock', storedResponse('short', { removeAt: now + 1000 }));
      await store.put('a.com/clock', storedResponse('long', { removeAt: now + 5000 }));
      assert.deepEqual((await store.lookup('a.com/clock')).map((r) => r.variant), ['long', 'short']);
      now += 999;
      assert.equal((await store.lookup('a.com/clock')).length, 2);
      now += 1;
      assert.deepEqual((await store.lookup('a.com/clock')).map((r) => r.variant), ['long']);
      now += 4000;
      assert.deepEqual(await store.lookup('a.com/clock'), []);
      await store.put('a.com/clock', storedResponse('again', { removeAt: now + 1 }));
      assert.deepEqual((await store.lookup('a.com/clock')).map((r) => r.variant), ['again'], 'the uri is usable again');
    });

    test('a body larger than maxObjectBytes is not stored, and the older copy of its variant goes', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/big', storedResponse('v', { body: Buffer.alloc(MAX_OBJECT_BYTES + 1) }));
      assert.deepEqual(await store.lookup('a.com/big'), []);
      await store.put('a.com/big', storedResponse('v', { body: Buffer.alloc(MAX_OBJECT_BYTES) }));
      await store.put('a.com/big', storedResponse('w'));
      assert.equal((await store.lookup('a.com/big')).find((r) => r.variant === 'v')?.body.length, MAX_OBJECT_BYTES);
      await store.put('a.com/big', storedResponse('v', { body: Buffer.alloc(MAX_OBJECT_BYTES + 1) }));
      assert.deepEqual((await store.lookup('a.com/big')).map((r) => r.variant), ['w'], 'a lookup never finds what a newer response superseded');
    });

    test('update replaces headers, times, removeAt and tags of one variant and keeps its body', async (t) => {
      const store = await impl.make(t);
      const body = Buffer.concat([ALL_BYTES, ALL_BYTES]);
      const before = storedResponse('v1', { body, tags: ['old'], vary: ['accept'], status: 200, reason: 'Fine' });
      await store.put('a.com/u', before);
      await store.put('a.com/u', storedResponse('v2', { tags: ['old'] }));
      const changes = { headers: ['etag', '"v1"', 'x-revalidated', 'yes'], requestTime: 1_800_000_000_000, responseTime: 1_800_000_000_050, removeAt: Date.now() + 2 * HOUR, tags: ['new'] };
      await store.update('a.com/u', 'v1', changes);
      const found = (await store.lookup('a.com/u')).find((r) => r.variant === 'v1');
      assert.ok(found);
      assert.ok(found.body.equals(body));
      assert.deepEqual({ ...found, body: null }, { ...before, ...changes, body: null });
      assert.equal((await store.lookup('a.com/u')).length, 2, 'the other variant is untouched');
      assert.deepEqual(await store.purgeTag('old'), { purged: 1 }, 'the updated variant no longer carries the old tag');
      assert.deepEqual(await store.purgeTag('new'), { purged: 1 });
      assert.deepEqual(await store.lookup('a.com/u'), []);
    });

    test('update of a variant or uri that is not stored changes nothing; an update into the past removes the variant', async (t) => {
      const store = await impl.make(t);
      const changes = { headers: ['etag', '"x"'], requestTime: 1, responseTime: 2, removeAt: Date.now() + HOUR, tags: [] };
      await store.update('a.com/none', 'v1', changes);
      assert.deepEqual(await store.lookup('a.com/none'), []);
      await store.put('a.com/some', storedResponse('v1'));
      await store.update('a.com/some', 'v2', changes);
      assert.deepEqual((await store.lookup('a.com/some')).map((r) => r.variant), ['v1']);
      await store.update('a.com/some', 'v1', { ...changes, removeAt: Date.now() - 1 });
      assert.deepEqual(await store.lookup('a.com/some'), []);
      await store.update('a.com/some', 'v1', changes);
      assert.deepEqual(await store.lookup('a.com/some'), [], 'an update does not bring a removed variant back');
    });

    test('purgeUri removes every variant of exactly that uri: not the uri with or without a query, not longer uris', async (t) => {
      const store = await impl.make(t);
      const uris = ['a.com/x', 'a.com/x?y', 'a.com/x?y=1', 'a.com/xy', 'a.com/x/z', 'b.com/x'];
      for (const uri of uris) {
        await store.put(uri, storedResponse('v1'));
        await store.put(uri, storedResponse('v2'));
      }
      assert.deepEqual(await store.purgeUri('a.com/x?y'), { purged: 2 });
      assert.deepEqual(await store.lookup('a.com/x?y'), []);
      for (const uri of uris.filter((u) => u !== 'a.com/x?y')) assert.equal((await store.lookup(uri)).length, 2, uri);
      assert.deepEqual(await store.purgeUri('a.com/x'), { purged: 2 });
      for (const uri of ['a.com/x?y=1', 'a.com/xy', 'a.com/x/z', 'b.com/x']) assert.equal((await store.lookup(uri)).length, 2, uri);
      assert.deepEqual(await store.purgeUri('a.com/x'), { purged: 0 }, 'purging again finds nothing');
      assert.deepEqual(await store.purgeUri('nowhere.com/'), { purged: 0 });
    });

    test('purgePrefix matches the prefix literally, glob metacharacters (* ? [ ] \\) included', async (t) => {
      const store = await impl.make(t);
      const uris = ['a.com/p*q', 'a.com/p?q', 'a.com/p[ab]', 'a.com/p\\x', 'a.com/pzq', 'a.com/pa', 'a.com/pb', 'a.com/q', 'b.com/p*q'];
      for (const uri of uris) await store.put(uri, storedResponse('v'));
      const alive = async () => {
        const out: string[] = [];
        for (const uri of uris) if ((await store.lookup(uri)).length > 0) out.push(uri);
        return out;
      };
      assert.deepEqual(await store.purgePrefix('a.com/p*'), { purged: 1 });
      assert.deepEqual(await store.purgePrefix('a.com/p?'), { purged: 1 });
      assert.deepEqual(await store.purgePrefix('a.com/p['), { purged: 1 });
      assert.deepEqual(await store.purgePrefix('a.com/p\\'), { purged: 1 });
      assert.deepEqual(await alive(), ['a.com/pzq', 'a.com/pa', 'a.com/pb', 'a.com/q', 'b.com/p*q']);
      assert.deepEqual(await store.purgePrefix('a.com/p'), { purged: 3 });
      assert.deepEqual(await store.purgePrefix('a.com/p'), { purged: 0 });
      assert.deepEqual(await alive(), ['a.com/q', 'b.com/p*q']);
    });

    test('purgePrefix counts every variant and takes the query string as part of the uri', async (t) => {
      const store = await impl.make(t);
      for (const v of ['1', '2', '3']) await store.put('shop.com/cart?id=7', storedResponse(v));
      await store.put('shop.com/cart', storedResponse('1'));
      await store.put('shop.com/cart?id=70', storedResponse('1'));
      assert.deepEqual(await store.purgePrefix('shop.com/cart?id=7'), { purged: 4 });
      assert.equal((await store.lookup('shop.com/cart')).length, 1);
      assert.deepEqual(await store.purgePrefix(''), { purged: 1 }, 'the empty prefix matches everything');
    });

    test('purgeTag removes the variants carrying the tag across uris and leaves the others', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/1', storedResponse('en', { tags: ['product-9', 'list'] }));
      await store.put('a.com/1', storedResponse('fr', { tags: ['list'] }));
      await store.put('b.com/2', storedResponse('v', { tags: ['product-9'] }));
      await store.put('b.com/3', storedResponse('v', { tags: ['product-*'] }));
      await store.put('b.com/4', storedResponse('v', { tags: [] }));
      assert.deepEqual(await store.purgeTag('product-9'), { purged: 2 });
      assert.deepEqual((await store.lookup('a.com/1')).map((r) => r.variant), ['fr']);
      assert.deepEqual(await store.lookup('b.com/2'), []);
      assert.equal((await store.lookup('b.com/3')).length, 1, 'a tag is matched literally, never as a pattern');
      assert.deepEqual(await store.purgeTag('product-9'), { purged: 0 });
      assert.deepEqual(await store.purgeTag('product'), { purged: 0 });
      assert.deepEqual(await store.purgeTag('list'), { purged: 1 });
      assert.deepEqual(await store.purgeTag('product-*'), { purged: 1 });
      assert.equal((await store.lookup('b.com/4')).length, 1);
    });

    test('a tag stays with the variant that carries it: replacing the variant without the tag takes it out of the purge', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/r', storedResponse('v', { tags: ['t'] }));
      await store.put('a.com/r', storedResponse('v', { tags: [] }));
      assert.deepEqual(await store.purgeTag('t'), { purged: 0 });
      assert.equal((await store.lookup('a.com/r')).length, 1);
    });

    test('purgeAll removes everything and counts the variants', async (t) => {
      const store = await impl.make(t);
      await store.put('a.com/1', storedResponse('x', { tags: ['t'] }));
      await store.put('a.com/1', storedResponse('y'));
      await store.put('b.com/2', storedResponse('x'));
      await store.put('b.com/3', storedResponse('x', { removeAt: Date.now() - 1 }));
      assert.deepEqual(await store.purgeAll(), { purged: 3 });
      for (const uri of ['a.com/1', 'b.com/2', 'b.com/3']) assert.deepEqual(await store.lookup(uri), []);
      assert.deepEqual(await store.purgeTag('t'), { purged: 0 });
      assert.deepEqual(await store.purgeAll(), { purged: 0 });
      await store.put('a.com/1', storedResponse('z'));
      assert.deepEqual(await variantsOf(store, 'a.com/1'), ['z=body of z'], 'the store works after purgeAll');
    });

    test('stats name the store kind', async (t) => {
      const store = await impl.make(t);
      const stats = store.stats();
      assert.equal(stats.kind, impl.name);
      assert.equal(store.kind, impl.name);
      assert.equal(typeof stats.evictions, 'number');
    });

    test('many puts, updates and purges in flight at once end in the state of running them one by one', async (t) => {
      const store = await impl.make(t);
      const model = new Model();
      const random = seeded(0x5eed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const uris = Array.from({ length: 12 }, (_, i) => `s.com/${i % 3}/${i}`);
      const variants = ['a', 'b', 'c'];
      const tags = ['t0', 't1', 't2', 't3'];
      const ops: { run: () => unknown; expected: unknown }[] = [];
      for (let i = 0; i < 600; i++) {
        const roll = random();
        const uri = pick(uris);
        if (roll < 0.6) {
          const r = storedResponse(pick(variants), { body: Buffer.from(`op${i}`), tags: tags.filter(() => random() < 0.3) });
          ops.push({ run: () => store.put(uri, r), expected: model.put(uri, r) });
        } else if (roll < 0.7) {
          const variant = pick(variants);
          const changes = { headers: ['x-op', String(i)], requestTime: i, responseTime: i, removeAt: Date.now() + HOUR, tags: tags.filter(() => random() < 0.3) };
          ops.push({ run: () => store.update(uri, variant, changes), expected: model.update(uri, variant, changes) });
        } else if (roll < 0.8) {
          ops.push({ run: () => store.purgeUri(uri), expected: model.purge((u) => u === uri) });
        } else if (roll < 0.9) {
          const prefix = pick(['s.com/0/', 's.com/1/', 's.com/2/', `${uri.slice(0, -1)}`]);
          ops.push({ run: () => store.purgePrefix(prefix), expected: model.purge((u) => u.startsWith(prefix)) });
        } else {
          const tag = pick(tags);
          ops.push({ run: () => store.purgeTag(tag), expected: model.purgeTag(tag) });
        }
      }
      // Every operation starts before any has finished.
      const results = await Promise.all(ops.map((op) => op.run()));
      results.forEach((result, i) => assert.deepEqual(result ?? undefined, ops[i]!.expected, `operation ${i}`));
      for (const uri of uris) {
        const found = await store.lookup(uri);
        assert.deepEqual(found.map((r) => [r.variant, r.body.toString(), r.headers, r.tags]), model.lookup(uri), uri);
      }
      for (const tag of tags) assert.deepEqual(await store.purgeTag(tag), model.purgeTag(tag), tag);
      assert.deepEqual(await store.purgeAll(), model.purge(() => true));
      for (const uri of uris) assert.deepEqual(await store.lookup(uri), [], uri);
    });
  });
}

describe('redis cache store: purgeAll and the key prefix', { skip: redis ? false : 'redis-server is not installed' }, () => {
  test('purgeAll removes only keys under its own prefix, even one full of glob metacharacters', async (t) => {
    const raw = new Redis(redis!.url);
    t.after(() => raw.quit());
    // Unescaped, the pattern `g[1]*?\:*` would also match the neighbours below.
    const store = await RedisCacheStore.connect({ url: redis!.url, keyPrefix: 'g[1]*?\\:', maxObjectBytes: MAX_OBJECT_BYTES });
    t.after(() => store.close());
    const neighbour = await RedisCacheStore.connect({ url: redis!.url, keyPrefix: 'g1x\\:', maxObjectBytes: MAX_OBJECT_BYTES });
    t.after(() => neighbour.close());
    await raw.set('g1xx:', 'unrelated');
    await raw.set('g[1]*?', 'almost the prefix');
    await store.put('a.com/1', storedResponse('v', { tags: ['t'] }));
    await store.put('a.com/2', storedResponse('v'));
    await neighbour.put('a.com/1', storedResponse('v', { tags: ['t'] }));
    await raw.set('g[1]*?\\:foreign', 'a key under the prefix that the store did not write');
    assert.deepEqual(await store.purgeAll(), { purged: 2 });
    assert.deepEqual(await store.lookup('a.com/1'), []);
    assert.deepEqual(await raw.keys('g\\[1\\]\\*\\?\\\\:*'), [], 'nothing is left under the prefix');
    assert.equal(await raw.get('g1xx:'), 'unrelated');
    assert.equal(await raw.get('g[1]*?'), 'almost the prefix');
    assert.equal((await neighbour.lookup('a.com/1')).length, 1, "the other store's entries are untouched");
    assert.deepEqual(await neighbour.purgeTag('t'), { purged: 1 });
  });
});

/** The contract, run one operation at a time: what every store must end up agreeing with. */
class Model {
  readonly #uris = new Map<string, StoredResponse[]>();

  put(uri: string, r: StoredResponse): undefined {
    const list = (this.#uris.get(uri) ?? []).filter((x) => x.variant !== r.variant);
    list.unshift(r);
    this.#uris.set(uri, list);
    return undefined;
  }

  update(uri: string, variant: string, changes: Pick<StoredResponse, 'headers' | 'requestTime' | 'responseTime' | 'removeAt' | 'tags'>): undefined {
    const list = this.#uris.get(uri) ?? [];
    const i = list.findIndex((x) => x.variant === variant);
    if (i !== -1) list[i] = { ...list[i]!, ...changes };
    return undefined;
  }

  purge(match: (uri: string) => boolean): { purged: number } {
    let purged = 0;
    for (const [uri, list] of this.#uris) {
      if (!match(uri)) continue;
      purged += list.length;
      this.#uris.delete(uri);
    }
    return { purged };
  }

  purgeTag(tag: string): { purged: number } {
    let purged = 0;
    for (const [uri, list] of this.#uris) {
      const keep = list.filter((x) => !x.tags.includes(tag));
      purged += list.length - keep.length;
      this.#uris.set(uri, keep);
    }
    return { purged };
  }

  lookup(uri: string): unknown[] {
    return (this.#uris.get(uri) ?? []).map((r) => [r.variant, r.body.toString(), r.headers, r.tags]);
  }
}
