// RFC 9211: Cache-Status on every response of a cached route, this cache's
// member (`rampart`) after any the upstream sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable, gatewayYaml, request } from './harness.ts';
import { startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/cli.ts';

test('miss, hit, method and bypass each say what happened', async (t) => {
  const c = await setup((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('made');
      return;
    }
    cacheable(res, 'x');
  });
  t.after(() => c.close());
  assert.equal((await c.get('/s')).cacheStatus, 'rampart; fwd=uri-miss; fwd-status=200; stored');
  assert.match((await c.get('/s')).cacheStatus, /^rampart; hit; ttl=(3600|3599)$/);
  assert.equal((await c.get('/s', {}, 'POST')).cacheStatus, 'rampart; fwd=method; fwd-status=201');
  assert.equal((await c.get('/s', {}, 'OPTIONS')).cacheStatus, 'rampart; fwd=method; fwd-status=200');
  assert.equal((await c.get('/s', { cookie: 'PHPSESSID=1' })).cacheStatus, 'rampart; fwd=bypass; fwd-status=200; detail=cookie');
});

test('appended after the upstream\'s own Cache-Status, on misses and hits', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x', { 'cache-status': 'origin-cache; hit' }));
  t.after(() => c.close());
  const miss = await c.get('/u');
  assert.match(String(miss.headers['cache-status']), /^origin-cache; hit, rampart; fwd=uri-miss/);
  const hit = await c.get('/u');
  assert.match(String(hit.headers['cache-status']), /^origin-cache; hit, rampart; hit; ttl=\d+$/);
});

test('why a response was not stored is in detail=', async (t) => {
  const c = await setup((req, res) => {
    const headers: Record<string, Record<string, string>> = {
      '/cookie': { 'set-cookie': 'a=1' },
      '/private': { 'cache-control': 'private' },
      '/status': { 'cache-control': '' },
    };
    res.writeHead(req.url === '/status' ? 307 : 200, headers[req.url!] ?? {});
    res.end('x');
  });
  t.after(() => c.close());
  assert.match((await c.get('/cookie')).cacheStatus, /detail=set-cookie$/);
  assert.match((await c.get('/private')).cacheStatus, /detail=private$/);
  assert.match((await c.get('/status')).cacheStatus, /fwd-status=307; detail=status$/);
});

test('routes without cache get no Cache-Status', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x'), { cache: false });
  t.after(() => c.close());
  assert.equal((await c.get('/')).headers['cache-status'], undefined);
});

test('the gateway\'s own error responses on a cached route carry Cache-Status too: a miss, coalesced misses, a bypass, a method', async (t) => {
  // Nothing listens on the server's port: every forward fails (502, or 503
  // once passive health takes the server out).
  const gw = await startGateway(gatewayYaml([`http://127.0.0.1:${await freePort()}`]));
  t.after(() => gw.close());
  const failed = (r: { status: number }) => r.status === 502 || r.status === 503;
  const miss = await request(gw.port, '/gone');
  assert.ok(failed(miss), String(miss.status));
  assert.equal(miss.cacheStatus, 'rampart; fwd=uri-miss');
  const both = await Promise.all([request(gw.port, '/both'), request(gw.port, '/both')]);
  for (const r of both) {
    assert.ok(failed(r), String(r.status));
    assert.match(r.cacheStatus, /^rampart; fwd=uri-miss(; collapsed)?$/);
  }
  const bypass = await request(gw.port, '/x', { cookie: 'sid=1' });
  assert.ok(failed(bypass));
  assert.equal(bypass.cacheStatus, 'rampart; fwd=bypass; detail=cookie');
  const post = await request(gw.port, '/x', {}, 'POST');
  assert.ok(failed(post));
  assert.equal(post.cacheStatus, 'rampart; fwd=method');
});
