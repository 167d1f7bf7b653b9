// RFC 9111 §4.2 and §5.2.1: freshness from the response, Age on every
// response from the cache, and the request directives that bend reuse.
// Responses are made stale on arrival with Age or Date rather than by waiting.
import { test } from 'node:test';
import type http from 'node:http';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

const httpDate = (ms: number) => new Date(ms).toUTCString();

test('s-maxage wins over max-age, which wins over Expires', async (t) => {
  const c = await setup((req, res) => {
    const headers = {
      '/s': { 'cache-control': 'max-age=0, s-maxage=60' },
      '/m': { 'cache-control': 'max-age=60', expires: httpDate(Date.now() - 60_000) },
      '/e': { expires: httpDate(Date.now() + 60_000) },
      '/e0': { expires: '0' },
      '/ms0': { 'cache-control': 's-maxage=0, max-age=60' },
    }[req.url!]!;
    res.writeHead(200, headers);
    res.end('x');
  });
  t.after(() => c.close());
  for (const path of ['/s', '/m', '/e']) {
    await c.get(path);
    assert.match((await c.get(path)).cacheStatus, /hit/, path);
  }
  for (const path of ['/e0', '/ms0']) {
    await c.get(path);
    await c.get(path);
    assert.equal(c.count(path), 2, `${path} is never fresh`);
  }
});

test('Age on every response from the cache, counting the Age the upstream sent (§4.2.3)', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x', { 'cache-control': 'max-age=600', age: '100' }));
  t.after(() => c.close());
  await c.get('/a');
  const hit = await c.get('/a');
  const age = Number(hit.headers.age);
  assert.ok(age >= 100 && age < 110, `Age ${hit.headers.age}`);
  assert.match(hit.cacheStatus, /ttl=(49\d|50\d)/, 'ttl is what is left of the freshness');
  assert.equal([hit.headers.age].flat().length, 1, 'one Age field, the upstream\'s replaced');
});

test('a Date in the past makes the response older (apparent age)', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x', { 'cache-control': 'max-age=60', date: httpDate(Date.now() - 100_000) }));
  t.after(() => c.close());
  const first = await c.get('/d');
  assert.match(first.cacheStatus, /detail=stale/, 'already stale, and nothing to revalidate with');
});

test('request max-age, min-fresh and no-cache send the request upstream (fwd=request)', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { 'cache-control': 'max-age=600', age: '100' }));
  t.after(() => c.close());
  await c.get('/r');
  const young = await c.get('/r', { 'cache-control': 'max-age=50' });
  assert.match(young.cacheStatus, /fwd=request/);
  const fresh = await c.get('/r', { 'cache-control': 'min-fresh=550' });
  assert.match(fresh.cacheStatus, /fwd=request/);
  const noCache = await c.get('/r', { 'cache-control': 'no-cache' });
  assert.match(noCache.cacheStatus, /fwd=request/);
  const ok = await c.get('/r', { 'cache-control': 'max-age=300, min-fresh=10' });
  assert.match(ok.cacheStatus, /hit/);
  assert.equal(c.count('/r'), 4);
});

test('Pragma: no-cache counts only without Cache-Control (§5.4)', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`));
  t.after(() => c.close());
  await c.get('/p');
  assert.match((await c.get('/p', { pragma: 'no-cache' })).cacheStatus, /fwd=request/);
  assert.match((await c.get('/p', { pragma: 'no-cache', 'cache-control': 'max-age=3600' })).cacheStatus, /hit/);
});

test('max-stale lets the client take a stale response, unless the origin said must-revalidate', async (t) => {
  const c = await setup((req, res) => cacheable(res, 'x', { 'cache-control': req.url === '/mr' ? 'max-age=10, must-revalidate' : 'max-age=10', age: '30', etag: '"e"' }));
  t.after(() => c.close());
  await c.get('/s');
  const stale = await c.get('/s', { 'cache-control': 'max-stale=60' });
  assert.match(stale.cacheStatus, /^rampart; hit; ttl=-2\d; detail=max-stale$/);
  assert.match((await c.get('/s', { 'cache-control': 'max-stale=5' })).cacheStatus, /fwd=stale/);
  assert.match((await c.get('/s', { 'cache-control': 'max-stale' })).cacheStatus, /hit/, 'max-stale without a value takes any staleness');
  await c.get('/mr');
  assert.match((await c.get('/mr', { 'cache-control': 'max-stale' })).cacheStatus, /fwd=stale/);
});

test('only-if-cached: the stored response when usable, else 504 without going upstream', async (t) => {
  const c = await setup((req, res) => cacheable(res, 'x', req.url === '/stale' ? { 'cache-control': 'max-age=1', age: '5', etag: '"e"' } : {}));
  t.after(() => c.close());
  const none = await c.get('/none', { 'cache-control': 'only-if-cached' });
  assert.equal(none.status, 504);
  assert.match(none.cacheStatus, /detail=only-if-cached/);
  assert.equal(c.count('/none'), 0);
  await c.get('/fresh');
  assert.equal((await c.get('/fresh', { 'cache-control': 'only-if-cached' })).status, 200);
  await c.get('/stale');
  assert.equal((await c.get('/stale', { 'cache-control': 'only-if-cached' })).status, 504);
  assert.equal((await c.get('/stale', { 'cache-control': 'only-if-cached, max-stale' })).status, 200);
  assert.equal(c.count('/stale'), 1);
});

test('heuristic freshness only when the route asks for it', async (t) => {
  const answer = (_req: unknown, res: http.ServerResponse) => {
    res.writeHead(200, { 'last-modified': httpDate(Date.now() - 10 * 86_400_000), date: httpDate(Date.now()) });
    res.end('x');
  };
  const off = await setup(answer);
  t.after(() => off.close());
  await off.get('/h');
  const revalidated = await off.get('/h');
  assert.match(revalidated.cacheStatus, /fwd=stale/, 'stored (it has a validator) but never fresh');
  assert.ok(off.seen[1]!.headers['if-modified-since'], 'revalidated with If-Modified-Since');
  const on = await setup(answer, { cache: { heuristic: true } });
  t.after(() => on.close());
  await on.get('/h');
  const hit = await on.get('/h');
  assert.match(hit.cacheStatus, /^rampart; hit; ttl=864\d\d$/, 'a day at most (10% of 10 days)');
});
