// One behaviour suite over every CacheStore (the undici way: one test body,
// several implementations): this process's memory, and a real redis-server.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startTestRedis } from '@rampart/data/testing';
import { createCache, type Cache, type CacheOptions } from './cache.ts';
import { memoryCacheStore } from './memory-store.ts';
import { redisCacheStore } from './redis-store.ts';
import type { CacheStore } from './store.ts';
import { html, SafeHtml } from '../views/html.ts';
import { KitError } from '../errors.ts';

const redis = await startTestRedis();
after(() => redis?.stop());

interface Implementation {
  name: string;
  skip: string | false;
  /** A store, and a way to make `ms` pass for its expiries. */
  make(): { store: CacheStore; pass: (ms: number, check: () => Promise<boolean>) => Promise<void> };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const implementations: Implementation[] = [
  {
    name: 'memory',
    skip: false,
    make() {
      let now = 1_700_000_000_000;
      const store = memoryCacheStore({ clock: () => now });
      // The injected clock: time passes at once, no waiting.
      return {
        store,
        pass: (ms) => {
          now += ms;
          return Promise.resolve();
        },
      };
    },
  },
  {
    name: 'redis',
    skip: redis ? false : 'redis-server is not installed',
    make() {
      const store = redisCacheStore(redis!.url);
      // Redis expires keys by its own clock (PX): wait for it, with a deadline.
      return { store, pass: (ms, check) => waitFor(`${ms} ms of Redis time`, check, ms + 5000) };
    },
  },
];

const isCode = (code: string) => (err: unknown) => err instanceof KitError && err.code === code;

for (const impl of implementations) {
  describe(`cache on the ${impl.name} store`, { skip: impl.skip }, () => {
    /** A cache with a prefix of its own: tests share one redis-server. */
    const use = (t: { after(fn: () => Promise<void>): void }, options: Partial<CacheOptions> = {}) => {
      const made = impl.make();
      const cache = createCache({ store: made.store, prefix: `t${randomUUID().slice(0, 8)}:`, ...options });
      t.after(() => cache.close());
      return { cache, pass: made.pass, store: made.store };
    };

    test('set then get returns an equal, independent copy; unknown keys are undefined; delete removes', async (t) => {
      const { cache } = use(t);
      const value = { board: [{ id: 1, seats: 3, note: 'a "quoted" <b>', nested: { list: [1, null, true] } }], empty: Object.create(null) as object };
      await cache.set('k', value, { ttl: 60_000 });
      const got = await cache.get<typeof value>('k');
      assert.deepEqual(got, JSON.parse(JSON.stringify(value)));
      got!.board[0]!.seats = 0;
      assert.equal((await cache.get<typeof value>('k'))!.board[0]!.seats, 3, 'the cache keeps its own copy');
      assert.equal(await cache.get('nothing'), undefined);
      await cache.set('null', null, 60_000);
      assert.equal(await cache.get('null'), null, 'null is a value, undefined is a miss');
      await cache.delete('k');
      assert.equal(await cache.get('k'), undefined);
      await cache.delete('never-there');
    });

    test('only JSON goes in: anything JSON would change is refused, naming where it is', async (t) => {
      const { cache } = use(t);
      class Point {
        x = 1;
      }
      const circular: Record<string, unknown> = {};
      circular['self'] = circular;
      const refused: [unknown, RegExp][] = [
        [undefined, /value is undefined/],
        [{ a: undefined }, /value\.a is undefined/],
        [() => 1, /a function/],
        [{ when: new Date() }, /value\.when is a Date; .*toISOString/],
        [[1, Number.NaN], /value\[1\] is NaN/],
        [Infinity, /Infinity/],
        [10n, /a bigint/],
        [new Map(), /a Map/],
        [new Point(), /a Point/],
        [circular, /circular/],
        [{ s: Symbol('x') }, /a symbol/],
      ];
      for (const [value, message] of refused) {
        await assert.rejects(cache.set('bad', value), (err: unknown) => isCode('RAMPART_ERR_CACHE_VALUE')(err) && message.test((err as Error).message), String(message));
        await assert.rejects(cache.wrap('bad', 1000, () => value), isCode('RAMPART_ERR_CACHE_VALUE'));
      }
      assert.equal(await cache.get('bad'), undefined);
    });

    test('bad keys, ttls and tags are refused with what to give', async (t) => {
      const { cache } = use(t);
      for (const key of ['', 'x'.repeat(1025), 42 as unknown as string]) {
        await assert.rejects(cache.get(key), isCode('RAMPART_ERR_CACHE_KEY'));
        await assert.rejects(cache.set(key, 1), isCode('RAMPART_ERR_CACHE_KEY'));
      }
      for (const ttl of [0, -1, Number.NaN, Infinity, 31 * 24 * 3_600_000, '5s' as unknown as number]) {
        await assert.rejects(cache.set('k', 1, { ttl }), isCode('RAMPART_ERR_CACHE_OPTIONS'), String(ttl));
        await assert.rejects(cache.wrap('k', ttl, () => 1), isCode('RAMPART_ERR_CACHE_OPTIONS'), String(ttl));
      }
      for (const tags of ['board' as unknown as string[], [''], ['x'.repeat(257)], [1 as unknown as string], Array.from({ length: 65 }, (_, i) => `t${i}`)]) {
        await assert.rejects(cache.set('k', 1, { tags }), isCode('RAMPART_ERR_CACHE_OPTIONS'));
        await assert.rejects(cache.invalidateTags(tags), isCode('RAMPART_ERR_CACHE_OPTIONS'));
      }
      assert.throws(() => createCache({ store: {} as CacheStore }), isCode('RAMPART_ERR_CACHE_OPTIONS'));
      assert.throws(() => createCache({ store: memoryCacheStore(), prefix: 'has space' }), isCode('RAMPART_ERR_CACHE_OPTIONS'));
    });

    test('an entry expires after its ttl', async (t) => {
      const { cache, pass } = use(t);
      await cache.set('short', 'v', { ttl: 50 });
      await cache.set('long', 'v', { ttl: 60_000 });
      assert.equal(await cache.get('short'), 'v');
      await pass(60, async () => (await cache.get('short')) === undefined);
      assert.equal(await cache.get('short'), undefined);
      assert.equal(await cache.get('long'), 'v');
    });

    test('wrap computes on a miss, stores, and serves the next call without fn; wrap(key, ttl, fn) and wrap(key, { ttl, tags }, fn)', async (t) => {
      const { cache } = use(t);
      let calls = 0;
      const fn = () => ({ n: ++calls });
      assert.deepEqual(await cache.wrap('a', 60_000, fn), { n: 1 });
      assert.deepEqual(await cache.wrap('a', 60_000, fn), { n: 1 });
      assert.deepEqual(await cache.wrap('b', { ttl: 60_000, tags: ['x'] }, () => Promise.resolve(fn())), { n: 2 });
      assert.deepEqual(await cache.wrap('b', { tags: ['x'] }, fn), { n: 2 });
      assert.equal(calls, 2);
      assert.deepEqual(await cache.get('a'), { n: 1 }, 'wrap and get share the entry');
    });

    test('single-flight: 25 concurrent wraps of one key run fn once; each caller gets its own copy', async (t) => {
      const { cache } = use(t);
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const results = Array.from({ length: 25 }, () =>
        cache.wrap('board', 60_000, async () => {
          calls++;
          await gate;
          return { rows: [1, 2, 3] };
        }),
      );
      release();
      const values = await Promise.all(results);
      assert.equal(calls, 1);
      for (const v of values) assert.deepEqual(v, { rows: [1, 2, 3] });
      assert.notEqual(values[0], values[1]);
    });

    test('an fn that throws rejects every waiter with its error and caches nothing', async (t) => {
      const { cache } = use(t);
      let calls = 0;
      const failing = Array.from({ length: 5 }, () =>
        cache.wrap('boom', 60_000, async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('database down');
        }),
      );
      const outcomes = await Promise.allSettled(failing);
      assert.equal(calls, 1);
      for (const o of outcomes) assert.equal(o.status === 'rejected' && (o.reason as Error).message, 'database down');
      assert.equal(await cache.get('boom'), undefined);
      assert.equal(await cache.wrap('boom', 60_000, () => 'recovered'), 'recovered');
      assert.equal(calls, 1, 'the next call ran its own fn');
    });

    test('fn can shorten its entry\'s ttl, or keep it out of the cache with ttl 0', async (t) => {
      const { cache, pass } = use(t);
      assert.equal(await cache.wrap('never', 60_000, (entry) => ((entry.ttl = 0), 'once')), 'once');
      assert.equal(await cache.get('never'), undefined);
      assert.equal(await cache.wrap('soon', 60_000, (entry) => ((entry.ttl = 50), 'soon')), 'soon');
      assert.equal(await cache.get('soon'), 'soon');
      await pass(60, async () => (await cache.get('soon')) === undefined);
      assert.equal(await cache.get('soon'), undefined);
      await assert.rejects(cache.wrap('bad', 1000, (entry) => ((entry.ttl = -5), 1)), isCode('RAMPART_ERR_CACHE_OPTIONS'));
    });

    test('invalidateTags makes every entry with one of the tags a miss, and no other', async (t) => {
      const { cache } = use(t);
      await cache.set('board', 'b', { ttl: 60_000, tags: ['board'] });
      await cache.set('flight:1', 'f1', { ttl: 60_000, tags: ['flight:1', 'board'] });
      await cache.set('flight:2', 'f2', { ttl: 60_000, tags: ['flight:2'] });
      await cache.set('plain', 'p', 60_000);
      await cache.invalidateTags(['board']);
      assert.equal(await cache.get('board'), undefined);
      assert.equal(await cache.get('flight:1'), undefined);
      assert.equal(await cache.get('flight:2'), 'f2');
      assert.equal(await cache.get('plain'), 'p');
      await cache.set('board', 'b2', { ttl: 60_000, tags: ['board'] });
      assert.equal(await cache.get('board'), 'b2', 'stored after the invalidation: current');
      await cache.invalidateTags([]);
      await cache.invalidateTags(['never-used']);
      assert.equal(await cache.get('board'), 'b2');
    });

    test('wrap records the tag versions from before fn: an invalidation during fn leaves the stored value stale', async (t) => {
      const { cache } = use(t);
      const value = await cache.wrap('board', { ttl: 60_000, tags: ['board'] }, async () => {
        // The booking commits and invalidates while the board query runs.
        await cache.invalidateTags(['board']);
        return 'read before the booking';
      });
      assert.equal(value, 'read before the booking');
      assert.equal(await cache.get('board'), undefined);
      assert.equal(await cache.wrap('board', { ttl: 60_000, tags: ['board'] }, () => 'fresh'), 'fresh');
      assert.equal(await cache.get('board'), 'fresh');
    });

    test('fragment: html`…` in, SafeHtml out, inserted by html`…` as it is; user data escaped exactly once', async (t) => {
      const { cache } = use(t);
      let calls = 0;
      const render = () => {
        calls++;
        return html`<li>${'<script>alert(1)</script>'}</li>`;
      };
      const first = await cache.fragment('list', { ttl: 60_000, tags: ['board'] }, render);
      const second = await cache.fragment('list', { ttl: 60_000, tags: ['board'] }, render);
      assert.equal(calls, 1);
      assert.ok(SafeHtml.is(second));
      assert.equal(second.toString(), first.toString());
      assert.equal(html`<ul>${second}</ul>`.toString(), '<ul><li>&lt;script&gt;alert(1)&lt;/script&gt;</li></ul>');
      await cache.invalidateTags(['board']);
      await cache.fragment('list', { ttl: 60_000, tags: ['board'] }, render);
      assert.equal(calls, 2);
    });

    test('fragment refuses anything but SafeHtml, and never reads what set() stored', async (t) => {
      const { cache } = use(t);
      await assert.rejects(cache.fragment('x', 60_000, () => '<b>plain string</b>' as unknown as SafeHtml), isCode('RAMPART_ERR_CACHE_FRAGMENT'));
      assert.equal(await cache.get('x'), undefined);
      await cache.set('evil', '<img src=x onerror=alert(1)>', 60_000);
      const out = await cache.fragment('evil', 60_000, () => html`<p>${'safe'}</p>`);
      assert.equal(out.toString(), '<p>safe</p>', 'values and fragments live in separate namespaces');
    });

    test('prefixes keep caches apart on one store: keys and tags', async (t) => {
      const made = impl.make();
      const a = createCache({ store: made.store, prefix: `a${randomUUID().slice(0, 6)}:` });
      const b = createCache({ store: made.store, prefix: `b${randomUUID().slice(0, 6)}:` });
      t.after(() => a.close());
      await a.set('k', 'from a', { ttl: 60_000, tags: ['t'] });
      await b.set('k', 'from b', { ttl: 60_000, tags: ['t'] });
      assert.equal(await a.get('k'), 'from a');
      await b.invalidateTags(['t']);
      assert.equal(await a.get('k'), 'from a');
      assert.equal(await b.get('k'), undefined);
    });

    test('wrap serves fn\'s value when the store fails, and tells onError; explicit get rejects', async (t) => {
      const errors: string[] = [];
      const made = impl.make();
      const broken: CacheStore = {
        kind: made.store.kind,
        get: () => Promise.reject(new Error('store down')),
        set: () => Promise.reject(new Error('store down')),
        delete: () => Promise.reject(new Error('store down')),
        tagVersions: (tags) => made.store.tagVersions(tags),
        invalidateTags: () => Promise.reject(new Error('store down')),
        close: () => made.store.close(),
      };
      const cache = createCache({ store: broken, onError: (err, { op }) => errors.push(`${op}: ${err.message}`) });
      t.after(() => cache.close());
      assert.equal(await cache.wrap('k', 60_000, () => 'computed'), 'computed');
      assert.deepEqual(errors, ['get: store down', 'set: store down']);
      await assert.rejects(cache.get('k'), /store down/);
      await assert.rejects(cache.invalidateTags(['t']), /store down/);
    });
  });
}

describe('single-flight across processes (redis)', { skip: redis ? false : 'redis-server is not installed' }, () => {
  // Each Cache has its own Redis connection, as three app instances would.
  const instances = (t: { after(fn: () => Promise<void>): void }, n: number, options: Partial<CacheOptions> = {}) => {
    const prefix = `x${randomUUID().slice(0, 8)}:`;
    const caches = Array.from({ length: n }, () => createCache({ store: redisCacheStore(redis!.url), prefix, ...options }));
    const raw = new Redis(redis!.url);
    t.after(async () => {
      await Promise.all(caches.map((c) => c.close()));
      await raw.quit();
    });
    return { caches, raw, lockKey: (key: string) => `${prefix}l:${prefix}v:${key}` };
  };

  test('three instances missing at once compute once; the others get the holder\'s value', async (t) => {
    const { caches } = instances(t, 3);
    let calls = 0;
    const values = await Promise.all(
      caches.flatMap((cache) =>
        [1, 2].map(() =>
          cache.wrap('board', { ttl: 60_000, tags: ['board'] }, async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 100));
            return { computedBy: calls };
          }),
        ),
      ),
    );
    assert.equal(calls, 1);
    for (const v of values) assert.deepEqual(v, { computedBy: 1 });
  });

  test('a lock whose holder died: the waiter computes once the lock expires', async (t) => {
    const { caches, raw, lockKey } = instances(t, 1);
    // What a process that crashed while computing leaves behind.
    await raw.set(lockKey('board'), 'dead-holder', 'PX', 300);
    let calls = 0;
    const started = performance.now();
    assert.equal(await caches[0]!.wrap('board', 60_000, () => (calls++, 'computed')), 'computed');
    const waited = performance.now() - started;
    assert.equal(calls, 1);
    assert.ok(waited >= 250 && waited < 3000, `waited ${Math.round(waited)} ms for a lock of 300 ms`);
    assert.equal(await caches[0]!.get('board'), 'computed');
  });

  test('past lock.wait a waiter stops waiting and computes by itself', async (t) => {
    const { caches, raw, lockKey } = instances(t, 1, { lock: { ttl: 5000, wait: 100 } });
    await raw.set(lockKey('board'), 'slow-holder', 'PX', 10_000);
    const started = performance.now();
    assert.equal(await caches[0]!.wrap('board', 60_000, () => 'mine'), 'mine');
    const waited = performance.now() - started;
    assert.ok(waited >= 90 && waited < 3000, `waited ${Math.round(waited)} ms with lock.wait 100`);
  });

  test('when the holder\'s fn throws it releases the lock: the others compute without waiting for it to expire', async (t) => {
    const { caches } = instances(t, 2, { lock: { ttl: 5000, wait: 5000 } });
    const [a, b] = caches as [Cache, Cache];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = a.wrap('board', 60_000, async () => {
      await gate;
      throw new Error('holder failed');
    });
    // b starts once a holds the lock.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const waiting = b.wrap('board', 60_000, () => 'from b');
    release();
    await assert.rejects(failing, /holder failed/);
    assert.equal(await waiting, 'from b');
    assert.ok(performance.now() - started < 3000, 'b did not wait for the 5 s lock to expire');
  });
});
