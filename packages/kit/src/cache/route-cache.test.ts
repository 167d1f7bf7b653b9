// kitCache against a listening Fastify, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { kitCache, type KitCacheOptions } from './route-cache.ts';
import { createCache } from './cache.ts';
import { memoryCacheStore } from './memory-store.ts';
import type { CacheStore } from './store.ts';
import { kitEtag } from '../validators/index.ts';
import { kitViews, html } from '../views/index.ts';
import { kitSecurityHeaders } from '../security-headers/index.ts';
import { KitError } from '../errors.ts';

async function start(options: Partial<KitCacheOptions> & { store?: CacheStore } = {}, routes?: (app: FastifyInstance, count: Map<string, number>) => void) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const cache = createCache({ store: options.store ?? memoryCacheStore({ clock }), clock, prefix: 'r:' });
  const app = Fastify();
  await app.register(kitSecurityHeaders);
  await app.register(kitViews);
  await app.register(kitEtag);
  await app.register(kitCache, { cache, ...options });
  const count = new Map<string, number>();
  const counted = (name: string) => count.set(name, (count.get(name) ?? 0) + 1).get(name) ?? 0;
  app.get('/board', { config: { cache: { ttl: 60_000, tags: ['board'] } } }, (_request, reply) => {
    const n = counted('board');
    return reply.header('cache-control', 'public, max-age=0, s-maxage=30').html(html`<p>board ${n}</p>`);
  });
  app.get('/short', { config: { cache: { ttl: 60_000 } } }, (_request, reply) => reply.header('cache-control', 'public, s-maxage=5').html(html`<p>short ${counted('short')}</p>`));
  app.get('/plain', { config: { cache: {} } }, (_request, reply) => reply.html(html`<p>plain ${counted('plain')}</p>`));
  app.get('/keyed', { config: { cache: { key: (request) => ((request.query as { skip?: string }).skip === '1' ? null : 'keyed') } } }, (_request, reply) => reply.html(html`<p>keyed ${counted('keyed')}</p>`));
  app.get('/cookie', { config: { cache: {} } }, (_request, reply) => reply.header('set-cookie', 'a=b').html(html`<p>${counted('cookie')}</p>`));
  app.get('/private', { config: { cache: {} } }, (_request, reply) => reply.header('cache-control', 'private, no-cache').html(html`<p>${counted('private')}</p>`));
  app.get('/nostore', { config: { cache: {} } }, (_request, reply) => reply.header('cache-control', 'no-store').html(html`<p>${counted('nostore')}</p>`));
  app.get('/notfound', { config: { cache: {} } }, (_request, reply) => reply.html(html`<p>${counted('notfound')}</p>`, 404));
  app.get('/stream', { config: { cache: {} } }, (_request, reply) => (counted('stream'), reply.type('text/html').send(Readable.from(['<p>s</p>']))));
  app.get('/vary', { config: { cache: {} } }, (_request, reply) => reply.header('vary', 'Accept-Language').html(html`<p>${counted('vary')}</p>`));
  app.get('/nonce', { config: { cache: {} } }, (request, reply) => reply.html(html`<script nonce="${request.cspNonce}" src="/x.js"></script>${counted('nonce')}`));
  app.get('/binary', { config: { cache: {} } }, (_request, reply) => reply.type('application/octet-stream').send(Buffer.from([0, 255, counted('binary')])));
  routes?.(app, count);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, cache, count, base: `http://127.0.0.1:${port}`, pass: (ms: number) => void (now += ms) };
}

test('an anonymous GET is stored; the next one is served from the cache without running the handler (Cache-Status, Age)', async (t) => {
  const { app, base, count, pass } = await start();
  t.after(() => app.close());
  const first = await fetch(`${base}/board`);
  assert.equal(await first.text(), '<p>board 1</p>');
  assert.equal(first.headers.get('cache-status'), 'app; fwd=uri-miss; stored');
  pass(3000);
  const second = await fetch(`${base}/board`);
  assert.equal(await second.text(), '<p>board 1</p>');
  assert.equal(second.headers.get('cache-status'), 'app; hit');
  assert.equal(second.headers.get('age'), '3');
  assert.equal(second.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(second.headers.get('cache-control'), 'public, max-age=0, s-maxage=30');
  assert.equal(second.headers.get('etag'), first.headers.get('etag'));
  assert.equal(count.get('board'), 1);
  // Set for every request by their own hooks, not replayed from the store.
  assert.ok(second.headers.get('x-content-type-options'));
  assert.doesNotMatch(second.headers.get('content-security-policy') ?? '', /nonce/, 'a public page carries no nonce');
});

test('requests with a cookie or an Authorization header bypass it: the handler runs', async (t) => {
  const { app, base, count } = await start();
  t.after(() => app.close());
  await fetch(`${base}/board`);
  for (const headers of [{ cookie: 'rampart.sid=x' }, { authorization: 'Bearer k' }]) {
    const res = await fetch(`${base}/board`, { headers });
    assert.equal(res.headers.get('cache-status'), 'app; fwd=bypass');
  }
  assert.equal(count.get('board'), 3);
  const custom = await start({ anonymous: (request) => request.headers['x-user'] === undefined });
  t.after(() => custom.app.close());
  await fetch(`${custom.base}/board`, { headers: { cookie: 'a=b' } });
  assert.equal((await fetch(`${custom.base}/board`, { headers: { cookie: 'a=b' } })).headers.get('cache-status'), 'app; hit');
  assert.equal((await fetch(`${custom.base}/board`, { headers: { 'x-user': '1' } })).headers.get('cache-status'), 'app; fwd=bypass');
});

test('invalidating a tag drops the stored response', async (t) => {
  const { app, base, cache, count } = await start();
  t.after(() => app.close());
  await fetch(`${base}/board`);
  await fetch(`${base}/board`);
  await cache.invalidateTags(['board']);
  assert.equal(await (await fetch(`${base}/board`)).text(), '<p>board 2</p>');
  assert.equal(count.get('board'), 2);
});

test('kept for the route\'s ttl, or less when the response says s-maxage', async (t) => {
  const { app, base, count, pass } = await start();
  t.after(() => app.close());
  await fetch(`${base}/short`);
  await fetch(`${base}/plain`);
  pass(5000);
  assert.equal(await (await fetch(`${base}/short`)).text(), '<p>short 2</p>', 's-maxage=5 ended it after 5 s');
  assert.equal(await (await fetch(`${base}/plain`)).text(), '<p>plain 1</p>', 'the cache\'s default ttl (5 minutes) still holds');
  pass(295_000);
  assert.equal(await (await fetch(`${base}/plain`)).text(), '<p>plain 2</p>');
  assert.equal(count.get('short'), 2);
});

test('not stored: Set-Cookie, private, no-store, other statuses, streams, Vary without a key, a page with the CSP nonce', async (t) => {
  const { app, base, count } = await start();
  t.after(() => app.close());
  for (const path of ['/cookie', '/private', '/nostore', '/notfound', '/stream', '/vary', '/nonce']) {
    await fetch(base + path);
    const again = await fetch(base + path);
    assert.notEqual(again.headers.get('cache-status'), 'app; hit', path);
    assert.equal(count.get(path.slice(1)), 2, path);
  }
});

test('a matching If-None-Match on a hit is a 304; a 304 on a miss still stores the page for the next visitor', async (t) => {
  const { app, base, count } = await start();
  t.after(() => app.close());
  const etag = (await fetch(`${base}/plain`)).headers.get('etag') ?? '';
  const hit = await fetch(`${base}/plain`, { headers: { 'if-none-match': etag } });
  assert.equal(hit.status, 304);
  assert.equal(hit.headers.get('cache-status'), 'app; hit');
  assert.equal(hit.headers.get('etag'), etag);

  const other = await start();
  t.after(() => other.app.close());
  const miss = await fetch(`${other.base}/plain`, { headers: { 'if-none-match': etag } });
  assert.equal(miss.status, 304, 'same content, same strong ETag on another instance');
  assert.equal(miss.headers.get('cache-status'), 'app; fwd=uri-miss; stored');
  const next = await fetch(`${other.base}/plain`);
  assert.equal(next.headers.get('cache-status'), 'app; hit');
  assert.equal(await next.text(), '<p>plain 1</p>');
  assert.equal(count.get('plain'), 1);
});

test('HEAD: served from a stored GET, and a HEAD miss stores the full response', async (t) => {
  const { app, base, count } = await start();
  t.after(() => app.close());
  const head = await fetch(`${base}/plain`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  const get = await fetch(`${base}/plain`);
  assert.equal(get.headers.get('cache-status'), 'app; hit');
  assert.equal(await get.text(), '<p>plain 1</p>');
  const headHit = await fetch(`${base}/plain`, { method: 'HEAD' });
  assert.equal(headHit.headers.get('cache-status'), 'app; hit');
  assert.equal(headHit.headers.get('content-length'), String('<p>plain 1</p>'.length));
  assert.equal(count.get('plain'), 1);
});

test('key: one entry for every query the function maps to it; null bypasses; Buffers come back byte for byte', async (t) => {
  const { app, base, count } = await start();
  t.after(() => app.close());
  await fetch(`${base}/keyed?a=1`);
  assert.equal((await fetch(`${base}/keyed?b=2`)).headers.get('cache-status'), 'app; hit');
  assert.equal((await fetch(`${base}/keyed?skip=1`)).headers.get('cache-status'), 'app; fwd=bypass');
  assert.equal(count.get('keyed'), 2);
  await fetch(`${base}/plain?x=1`);
  assert.equal((await fetch(`${base}/plain?x=2`)).headers.get('cache-status'), 'app; fwd=uri-miss; stored', 'by default the query is part of the key');
  const bytes = Buffer.from(await (await fetch(`${base}/binary`)).arrayBuffer());
  const again = await fetch(`${base}/binary`);
  assert.equal(again.headers.get('cache-status'), 'app; hit');
  assert.deepEqual(Buffer.from(await again.arrayBuffer()), bytes);
});

test('a failing store: the page is served by the handler and onError hears of it', async (t) => {
  const errors: string[] = [];
  const broken: CacheStore = {
    kind: 'broken',
    get: () => Promise.reject(new Error('store down')),
    set: () => Promise.reject(new Error('store down')),
    delete: () => Promise.resolve(),
    tagVersions: (tags) => Promise.resolve(tags.map(() => 0)),
    invalidateTags: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const { app, base } = await start({ store: broken, onError: (err) => errors.push(err.message) });
  t.after(() => app.close());
  const res = await fetch(`${base}/board`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '<p>board 1</p>');
  assert.deepEqual(errors, ['store down']);
});

test('cacheStatus: another name, or none', async (t) => {
  const named = await start({ cacheStatus: 'flights-1' });
  t.after(() => named.app.close());
  assert.equal((await fetch(`${named.base}/plain`)).headers.get('cache-status'), 'flights-1; fwd=uri-miss; stored');
  const off = await start({ cacheStatus: false });
  t.after(() => off.app.close());
  await fetch(`${off.base}/plain`);
  assert.equal((await fetch(`${off.base}/plain`)).headers.get('cache-status'), null);
});

test('bad configuration is refused when the route or the plugin is registered', async () => {
  const cache = createCache({ store: memoryCacheStore() });
  const app = Fastify();
  await app.register(kitCache, { cache });
  const refused = (fn: () => void, message: RegExp) => assert.throws(fn, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_CACHE_OPTIONS' && message.test(err.message));
  refused(() => app.get('/a', { config: { cache: { ttl: 0 } } }, () => 'x'), /GET \/a: config\.cache: ttl must be milliseconds/);
  refused(() => app.get('/b', { config: { cache: { tags: 'board' as unknown as string[] } } }, () => 'x'), /tags/);
  refused(() => app.get('/c', { config: { cache: { key: 'x' as unknown as () => string } } }, () => 'x'), /key must be a function/);
  refused(() => app.post('/d', { config: { cache: {} } }, () => 'x'), /POST \/d: config\.cache is for GET routes/);
  await app.close();
  for (const options of [{ cache: {} as never }, { cache, anonymous: 'yes' as never }, { cache, cacheStatus: 'has space' }]) {
    const other = Fastify();
    await assert.rejects(
      async () => {
        await other.register(kitCache, options);
      },
      (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_CACHE_OPTIONS',
    );
    await other.close();
  }
});

test('a key function returning something else than a string or null is a 500 naming the route, not a crash', async (t) => {
  const { app, base } = await start({}, (a) => {
    a.get('/badkey', { config: { cache: { key: () => 42 as unknown as string } } }, () => 'x');
  });
  t.after(() => app.close());
  const res = await fetch(`${base}/badkey`);
  assert.equal(res.status, 500);
  assert.equal((await fetch(`${base}/plain`)).status, 200);
});
