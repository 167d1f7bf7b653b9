// How the cache sits in the gateway: innermost in the route's chain, its
// store kept across reloads while its settings stay, its counters in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable, gatewayYaml } from './harness.ts';
import { parseConfig } from '../../packages/gateway/src/index.ts';

test('the route\'s middleware runs before the cache: request rules feed the key, response rules apply to hits too', async (t) => {
  const c = await setup((req, res, n) => cacheable(res, `${String(req.headers['x-tier'])} ${n}`), {
    cache: { key: { headers: ['x-tier'] } },
    route: { middleware: [{ headers: { request: { set: { 'x-tier': 'gold' } }, response: { set: { 'x-frame-options': 'DENY' }, remove: ['x-powered-by'] } } }] },
  });
  t.after(() => c.close());
  const miss = await c.get('/m', { 'x-tier': 'ignored by the rule' });
  assert.equal(miss.body, 'gold 1');
  const hit = await c.get('/m', { 'x-tier': 'something else' });
  assert.match(hit.cacheStatus, /hit/, 'the key saw the value the middleware set');
  assert.equal(hit.headers['x-frame-options'], 'DENY');
});

test('a reload keeps the store (and what it holds) when the cache settings did not change, and replaces it when they did', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`));
  t.after(() => c.close());
  await c.get('/r');
  const servers = [c.upstream.url];
  c.gw.gateway.reload(parseConfig(gatewayYaml(servers, { route: { maxBodyBytes: 1000 } }), 'test.yaml'));
  assert.match((await c.get('/r')).cacheStatus, /hit/, 'same store after an unrelated change');
  c.gw.gateway.reload(parseConfig(gatewayYaml(servers, { store: { maxBytes: '64MiB' } }), 'test.yaml'));
  assert.match((await c.get('/r')).cacheStatus, /uri-miss/, 'a new store for a new size');
  assert.equal(c.gw.gateway.cacheStatus().store!.maxBytes, 64 * 1024 * 1024);
  c.gw.gateway.reload(parseConfig(gatewayYaml(servers, { cache: false }), 'test.yaml'));
  assert.equal(c.gw.gateway.cacheStatus().store, null, 'no cached route, no store');
  assert.equal((await c.get('/r')).headers['cache-status'], undefined);
});

test('/metrics has the cache counters per route and result, and the store gauges', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x'));
  t.after(() => c.close());
  await c.get('/a');
  await c.get('/a');
  await c.get('/a');
  await c.get('/a', { cookie: 'sessionid=1' });
  const text = await (await fetch(`${c.gw.adminUrl}/metrics`)).text();
  assert.match(text, /rampart_cache_requests_total\{route="\/",result="hit"\} 2/);
  assert.match(text, /rampart_cache_requests_total\{route="\/",result="miss"\} 1/);
  assert.match(text, /rampart_cache_requests_total\{route="\/",result="bypass"\} 1/);
  assert.match(text, /rampart_cache_stored_total\{route="\/"\} 1/);
  assert.match(text, /rampart_cache_store_entries 1/);
  assert.match(text, /rampart_cache_store_bytes \d+/);
  assert.match(text, /rampart_cache_store_max_bytes 268435456/);
  assert.match(text, /rampart_cache_evictions_total 0/);
});

test('a cached route among uncached ones: only it gets the cache', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`), { routes: [{ path: '/', cache: false }, { path: '/static', cache: true }] });
  t.after(() => c.close());
  await c.get('/static/a');
  assert.match((await c.get('/static/a')).cacheStatus, /hit/);
  await c.get('/page');
  assert.equal((await c.get('/page')).body, 'n3');
});
