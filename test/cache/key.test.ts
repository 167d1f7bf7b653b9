// The route's cache key: host, normalised query, ignored parameters, chosen
// request headers and cookies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

test('by default the Host is part of the key and the query is sorted', async (t) => {
  const c = await setup((req, res, n) => cacheable(res, `${req.headers.host} ${n}`));
  t.after(() => c.close());
  await c.get('/p?b=2&a=1', { host: 'a.example' });
  assert.match((await c.get('/p?a=1&b=2', { host: 'A.EXAMPLE' })).cacheStatus, /hit/);
  assert.match((await c.get('/p?a=1&b=2', { host: 'a.example:80' })).cacheStatus, /hit/, 'the default port is the same origin');
  const other = await c.get('/p?a=1&b=2', { host: 'b.example' });
  assert.equal(other.body, 'b.example 2');
  assert.match((await c.get('/p?a=1&b=3', { host: 'a.example' })).cacheStatus, /uri-miss/);
});

test('key.host: false shares one entry across hosts; query: ignore and as-sent', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`), {
    routes: [
      { path: '/shared', cache: { key: { host: false } } },
      { path: '/noquery', cache: { key: { query: 'ignore' } } },
      { path: '/exact', cache: { key: { query: 'as-sent' } } },
    ],
  });
  t.after(() => c.close());
  await c.get('/shared/x', { host: 'a.example' });
  assert.match((await c.get('/shared/x', { host: 'b.example' })).cacheStatus, /hit/);
  await c.get('/noquery?x=1');
  assert.match((await c.get('/noquery?y=2')).cacheStatus, /hit/);
  await c.get('/exact?b=1&a=2');
  assert.match((await c.get('/exact?a=2&b=1')).cacheStatus, /uri-miss/);
  assert.match((await c.get('/exact?b=1&a=2')).cacheStatus, /hit/);
});

test('ignoreParams leaves tracking parameters out of the key (they still reach the upstream)', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`), { cache: { key: { ignoreParams: ['utm_*', 'fbclid'] } } });
  t.after(() => c.close());
  await c.get('/l?id=1&utm_source=mail');
  assert.equal(c.seen[0]!.url, '/l?id=1&utm_source=mail');
  assert.match((await c.get('/l?fbclid=zz&id=1&utm_campaign=x')).cacheStatus, /hit/);
  assert.match((await c.get('/l?id=2&utm_source=mail')).cacheStatus, /uri-miss/);
});

test('key.headers and key.cookies select variants, like Vary decided by the operator', async (t) => {
  const c = await setup((req, res) => cacheable(res, `${String(req.headers['x-device'])} ${String(req.headers.cookie)}`), {
    cache: { key: { headers: ['X-Device'], cookies: ['lang'] }, bypassCookies: [] },
  });
  t.after(() => c.close());
  await c.get('/k', { 'x-device': 'mobile', cookie: 'lang=de; other=1' });
  assert.match((await c.get('/k', { 'x-device': 'mobile', cookie: 'other=2; lang=de' })).cacheStatus, /hit/);
  const desktop = await c.get('/k', { 'x-device': 'desktop', cookie: 'lang=de' });
  assert.match(desktop.cacheStatus, /vary-miss|uri-miss/);
  assert.match(desktop.body, /^desktop/);
  const fr = await c.get('/k', { 'x-device': 'mobile', cookie: 'lang=fr' });
  assert.match(fr.body, /lang=fr/);
  assert.equal(c.count('/k'), 3);
});
