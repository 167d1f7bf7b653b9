// Purge through the admin listener: by URL, prefix, tag (Cache-Tag or
// Surrogate-Key, never shown to clients) or everything; GET /cache; /status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable, admin } from './harness.ts';

const host = { host: 'shop.example' };

async function stock() {
  const c = await setup((req, res, n) => {
    const tags: Record<string, Record<string, string>> = {
      '/p/1': { 'cache-tag': 'product-1, catalog' },
      '/p/2': { 'surrogate-key': 'product-2 catalog' },
    };
    cacheable(res, `n${n}`, { vary: 'accept-language', ...tags[req.url!.split('?')[0]!] });
  });
  for (const path of ['/p/1', '/p/2', '/p/3?b=2&a=1', '/q']) {
    await c.get(path, host);
    await c.get(path, { ...host, 'accept-language': 'de' });
  }
  return c;
}

const hit = async (c: Awaited<ReturnType<typeof stock>>, path: string) => /hit/.test((await c.get(path, host)).cacheStatus);

test('purge by URL removes every variant of exactly that URL (query normalised like the key)', async (t) => {
  const c = await stock();
  t.after(() => c.close());
  const res = await admin(c.gw, `/cache/purge?url=${encodeURIComponent('http://shop.example/p/3?a=1&b=2')}`);
  assert.deepEqual([res.status, res.json], [200, { purged: 2 }]);
  assert.equal(await hit(c, '/p/3?b=2&a=1'), false);
  assert.equal(await hit(c, '/p/1'), true);
  assert.deepEqual((await admin(c.gw, `/cache/purge?url=${encodeURIComponent('http://shop.example/nothing')}`)).json, { purged: 0 });
});

test('purge by prefix, by tag (either header) and everything', async (t) => {
  const c = await stock();
  t.after(() => c.close());
  assert.deepEqual((await admin(c.gw, '/cache/purge?tag=product-2')).json, { purged: 2 });
  assert.equal(await hit(c, '/p/2'), false);
  assert.equal(await hit(c, '/p/1'), true);
  assert.deepEqual((await admin(c.gw, '/cache/purge?tag=catalog')).json, { purged: 3 }, '/p/1 twice, and /p/2 fetched again just now');
  assert.deepEqual((await admin(c.gw, `/cache/purge?prefix=${encodeURIComponent('http://shop.example/p/')}`)).json, { purged: 2 });
  assert.equal(await hit(c, '/q'), true);
  const all = await admin(c.gw, '/cache/purge?all=1');
  assert.equal(all.status, 200);
  assert.ok((all.json!.purged as number) >= 2);
  assert.equal(await hit(c, '/q'), false);
});

test('Cache-Tag and Surrogate-Key are not sent on to clients', async (t) => {
  const c = await stock();
  t.after(() => c.close());
  for (const r of [await c.get('/p/1', host), await c.get('/p/2', host), await c.get('/p/new', host)]) {
    assert.equal(r.headers['cache-tag'], undefined);
    assert.equal(r.headers['surrogate-key'], undefined);
  }
});

test('bad or missing parameters get 400 with a message; GET gets 405', async (t) => {
  const c = await stock();
  t.after(() => c.close());
  for (const query of ['', '?url=', '?all=2', '?tag=a&url=/x', '?url=%2Fp%2F1', '?url=gopher%3A%2F%2Fx', '?prefix=nope']) {
    const res = await admin(c.gw, `/cache/purge${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(typeof res.json!.error, 'string', query);
  }
  const get = await admin(c.gw, '/cache/purge?all=1', 'GET');
  assert.equal(get.status, 405);
  assert.equal(await hit(c, '/q'), true, 'nothing was purged');
});

test('GET /cache shows the store and per-route counters; /status has a cache object; the help lists the routes', async (t) => {
  const c = await stock();
  t.after(() => c.close());
  const stats = (await admin(c.gw, '/cache', 'GET')).json!;
  const store = stats.store as Record<string, unknown>;
  assert.equal(store.kind, 'memory');
  assert.equal(store.entries, 8);
  assert.ok((store.bytes as number) > 0);
  assert.equal(store.maxBytes, 256 * 1024 * 1024);
  const route = (stats.routes as Record<string, Record<string, number>>)['/']!;
  assert.equal(route.miss, 8);
  assert.equal(route.stored, 8);
  const status = (await admin(c.gw, '/status', 'GET')).json!;
  assert.equal(((status.cache as Record<string, unknown>).store as Record<string, unknown>).entries, 8);
  assert.equal((status.routes as Record<string, unknown>[])[0]!.cache, true);
  assert.match((await admin(c.gw, '/', 'GET')).text, /POST \/cache\/purge\?tag=<name>/);
});
