// Serving stale on purpose: stale-while-revalidate and stale-if-error
// (RFC 5861), and the route's staleIfDown when no server of the upstream is
// healthy; never against must-revalidate, proxy-revalidate or s-maxage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { setup, cacheable, admin } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

test('stale-while-revalidate: stale at once, one background refresh per key, then the fresh copy', async (t) => {
  const held: http.ServerResponse[] = [];
  const c = await setup((_req, res, n) => {
    if (n === 1) return cacheable(res, 'v1', { 'cache-control': 'max-age=1, stale-while-revalidate=60', age: '5' });
    held.push(res);
  });
  t.after(() => c.close());
  await c.get('/s');
  // Five requests while the refresh hangs: all answered stale, one refresh went upstream.
  for (let i = 0; i < 5; i++) {
    const r = await c.get('/s');
    assert.equal(r.body, 'v1');
    assert.match(r.cacheStatus, /^rampart; hit; ttl=-\d+; detail=stale-while-revalidate$/);
  }
  await waitFor(() => held.length === 1, { what: 'the background refresh' });
  assert.equal(c.count('/s'), 2, 'one refresh at a time');
  held[0]!.writeHead(200, { 'cache-control': 'max-age=600' }).end('v2');
  await waitFor(async () => (await c.get('/s')).body === 'v2', { what: 'the refreshed response' });
  assert.match((await c.get('/s')).cacheStatus, /^rampart; hit; ttl=\d+$/);
  assert.equal(c.count('/s'), 2);
});

test('stale-if-error: a 500/503 or a lost connection within the window serves the stale response', async (t) => {
  let mode = 'ok';
  const c = await setup((req, res) => {
    if (mode === 'ok') return cacheable(res, 'good', { 'cache-control': 'max-age=1, stale-if-error=60', age: '5', etag: '"g"' });
    if (mode === 'reset') req.socket.destroy();
    else res.writeHead(Number(mode), { 'content-type': 'text/plain' }).end('broken');
  });
  t.after(() => c.close());
  await c.get('/e');
  for (const m of ['500', '503', 'reset']) {
    mode = m;
    const r = await c.get('/e');
    assert.equal(r.status, 200, m);
    assert.equal(r.body, 'good', m);
    // It went forward, so it is no `hit` (RFC 9211 §2.1): fwd=stale, with the status that came back, if any.
    const fwdStatus = m === 'reset' ? '' : `; fwd-status=${m}`;
    assert.match(r.cacheStatus, new RegExp(`^rampart; fwd=stale${fwdStatus}; ttl=-\\d+; detail=stale-if-error$`), m);
  }
  mode = '404';
  assert.equal((await c.get('/e')).status, 404, 'other statuses are not errors in RFC 5861\'s sense');
});

test('stale-if-error from the client counts too; a 500 with must-revalidate is passed through', async (t) => {
  let fail = false;
  const c = await setup((req, res) => {
    if (!fail) return cacheable(res, 'good', { 'cache-control': req.url === '/mr' ? 'max-age=1, must-revalidate, stale-if-error=60' : 'max-age=1', age: '5', etag: '"g"' });
    res.writeHead(500).end('broken');
  });
  t.after(() => c.close());
  await c.get('/client');
  await c.get('/mr');
  fail = true;
  assert.equal((await c.get('/client')).status, 500, 'no window anywhere: the error');
  assert.equal((await c.get('/client', { 'cache-control': 'stale-if-error=60' })).body, 'good');
  assert.equal((await c.get('/mr')).status, 500);
});

test('staleIfDown: with every server drained, stale responses are served; must-revalidate and s-maxage get 504', async (t) => {
  const c = await setup((req, res) => {
    const cc = { '/plain': 'max-age=1', '/mr': 'max-age=1, must-revalidate', '/smax': 's-maxage=1', '/fresh': 'max-age=600' }[req.url!]!;
    cacheable(res, `body ${req.url!}`, { 'cache-control': cc, age: '5', etag: '"x"' });
  });
  t.after(() => c.close());
  for (const path of ['/plain', '/mr', '/smax', '/fresh']) await c.get(path);
  assert.equal((await admin(c.gw, '/upstreams/app/servers/0/drain')).status, 200);
  const stale = await c.get('/plain');
  assert.equal(stale.status, 200);
  assert.equal(stale.body, 'body /plain');
  assert.match(stale.cacheStatus, /^rampart; hit; ttl=-\d+; detail=stale-if-down$/);
  for (const path of ['/mr', '/smax']) {
    const refused = await c.get(path);
    assert.equal(refused.status, 504, path);
    assert.match(refused.body, /must be revalidated/);
  }
  assert.equal((await c.get('/fresh')).status, 200, 'fresh responses are hits regardless');
  assert.equal((await c.get('/never-stored')).status, 503, 'nothing stored: the upstream\'s error');
  assert.equal(c.count(), 4);
});

test('staleIfDown has a limit, and 0 turns it off', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'old', { 'cache-control': 'max-age=1', age: '120', etag: '"x"' }), { cache: { staleIfDown: '1m' } });
  t.after(() => c.close());
  await c.get('/a');
  await admin(c.gw, '/upstreams/app/servers/0/drain');
  assert.equal((await c.get('/a')).status, 503, 'stale by two minutes, past the one-minute limit');
  const off = await setup((_req, res) => cacheable(res, 'old', { 'cache-control': 'max-age=1', age: '5', etag: '"x"' }), { cache: { staleIfDown: 0 } });
  t.after(() => off.close());
  await off.get('/a');
  await admin(off.gw, '/upstreams/app/servers/0/drain');
  assert.equal((await off.get('/a')).status, 503);
});
