// RFC 9111 §4.3: validation. Stale responses are revalidated with the stored
// validators; a 304 refreshes the stored header fields and the stored body is
// served; client conditionals are answered from the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

const httpDate = (ms: number) => new Date(ms).toUTCString();

test('a stale response with an ETag is revalidated with If-None-Match; a 304 refreshes headers and freshness, the body stays', async (t) => {
  const c = await setup((req, res, n) => {
    if (req.headers['if-none-match'] === '"v1"') {
      // Fresh now, with a changed field: §3.2 replaces it in the stored response.
      res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=600', 'x-version': `304-${n}`, 'content-length': '999' });
      res.end();
      return;
    }
    cacheable(res, `full ${n}`, { etag: '"v1"', 'cache-control': 'max-age=10', age: '20', 'x-version': `200-${n}` });
  });
  t.after(() => c.close());
  await c.get('/e');
  const revalidated = await c.get('/e');
  assert.equal(c.seen[1]!.headers['if-none-match'], '"v1"');
  assert.equal(revalidated.status, 200);
  assert.equal(revalidated.body, 'full 1', 'the stored body');
  assert.equal(revalidated.headers['x-version'], '304-2', 'the 304\'s fields');
  assert.equal(revalidated.headers['content-length'], '6', 'Content-Length is not taken from a 304');
  assert.equal(revalidated.cacheStatus, 'rampart; fwd=stale; fwd-status=304');
  const hit = await c.get('/e');
  assert.match(hit.cacheStatus, /^rampart; hit; ttl=(600|599)$/, 'fresh again with the 304\'s max-age');
  assert.equal(hit.headers['x-version'], '304-2');
  assert.equal(c.count('/e'), 2);
});

test('Last-Modified alone revalidates with If-Modified-Since; a 200 replaces the stored response', async (t) => {
  const lm = httpDate(Date.now() - 3_600_000);
  const c = await setup((req, res, n) => {
    cacheable(res, `v${n}`, { 'last-modified': lm, 'cache-control': n === 1 ? 'max-age=0' : 'max-age=600' });
  });
  t.after(() => c.close());
  await c.get('/lm');
  const second = await c.get('/lm');
  assert.equal(c.seen[1]!.headers['if-modified-since'], lm);
  assert.equal(second.body, 'v2');
  assert.equal(second.cacheStatus, 'rampart; fwd=stale; fwd-status=200; stored');
  const third = await c.get('/lm');
  assert.equal(third.body, 'v2');
  assert.match(third.cacheStatus, /hit/);
});

test('no-cache responses are stored and revalidated on every use', async (t) => {
  const c = await setup((req, res) => {
    if (req.headers['if-none-match'] === '"n"') {
      res.writeHead(304, { etag: '"n"' });
      res.end();
      return;
    }
    cacheable(res, 'body', { 'cache-control': 'no-cache', etag: '"n"' });
  });
  t.after(() => c.close());
  await c.get('/nc');
  for (let i = 0; i < 3; i++) {
    const r = await c.get('/nc');
    assert.equal(r.body, 'body');
    assert.equal(r.cacheStatus, 'rampart; fwd=stale; fwd-status=304');
  }
  assert.equal(c.count('/nc'), 4);
});

test('client If-None-Match (weak comparison) and If-Modified-Since are answered 304 from the cache', async (t) => {
  const lm = httpDate(Date.now() - 3_600_000);
  const c = await setup((_req, res) => cacheable(res, 'body', { etag: 'W/"w1"', 'last-modified': lm, 'x-extra': 'not in a 304' }));
  t.after(() => c.close());
  await c.get('/c');
  const inm = await c.get('/c', { 'if-none-match': '"other", "w1"' });
  assert.equal(inm.status, 304);
  assert.equal(inm.body, '');
  assert.equal(inm.headers.etag, 'W/"w1"');
  assert.equal(inm.headers['x-extra'], undefined);
  assert.match(inm.cacheStatus, /hit/);
  assert.equal((await c.get('/c', { 'if-none-match': '"nope"' })).status, 200);
  assert.equal((await c.get('/c', { 'if-modified-since': lm })).status, 304);
  assert.equal((await c.get('/c', { 'if-modified-since': httpDate(Date.now() - 7_200_000) })).status, 200);
  assert.equal((await c.get('/c', { 'if-none-match': '"nope"', 'if-modified-since': lm })).status, 200, 'If-None-Match decides alone');
  assert.equal(c.count('/c'), 1);
});

test('a client\'s conditional on a miss goes upstream as sent; its 304 is passed through and not stored', async (t) => {
  const c = await setup((req, res) => {
    if (req.headers['if-none-match'] === '"x"') {
      res.writeHead(304, { etag: '"x"', 'cache-control': 'max-age=60' });
      res.end();
      return;
    }
    cacheable(res, 'full', { etag: '"x"' });
  });
  t.after(() => c.close());
  const first = await c.get('/m', { 'if-none-match': '"x"' });
  assert.equal(first.status, 304);
  assert.equal(c.seen[0]!.headers['if-none-match'], '"x"');
  const full = await c.get('/m');
  assert.equal(full.status, 200);
  assert.equal(full.body, 'full', 'the 304 was not stored as the response');
  assert.equal(c.count('/m'), 2);
});

test('when the cache revalidates, the client\'s own validators are answered against the result', async (t) => {
  const c = await setup((req, res) => {
    if (req.headers['if-none-match'] === '"a"') {
      res.writeHead(304, { etag: '"a"', 'cache-control': 'max-age=0' });
      res.end();
      return;
    }
    cacheable(res, 'body', { etag: '"a"', 'cache-control': 'max-age=0' });
  });
  t.after(() => c.close());
  await c.get('/x');
  const conditional = await c.get('/x', { 'if-none-match': '"a"' });
  assert.equal(conditional.status, 304);
  assert.equal(c.seen[1]!.headers['if-none-match'], '"a"', 'the stored validator went upstream');
  const other = await c.get('/x', { 'if-none-match': '"zzz"' });
  assert.equal(other.status, 200);
  assert.equal(other.body, 'body');
  assert.equal(c.seen[2]!.headers['if-none-match'], '"a"', 'not the client\'s');
});

test('a 304 that says no-store withdraws the stored response after answering this client', async (t) => {
  const c = await setup((req, res, n) => {
    if (req.headers['if-none-match'] === '"w"') {
      res.writeHead(304, { etag: '"w"', 'cache-control': 'no-store' });
      res.end();
      return;
    }
    cacheable(res, `full ${n}`, { etag: '"w"', 'cache-control': 'max-age=0' });
  });
  t.after(() => c.close());
  await c.get('/w');
  const answered = await c.get('/w');
  assert.equal(answered.body, 'full 1');
  assert.equal(answered.cacheStatus, 'rampart; fwd=stale; fwd-status=304');
  const after = await c.get('/w');
  assert.equal(after.body, 'full 3');
  assert.match(after.cacheStatus, /uri-miss/);
  assert.equal(c.seen[2]!.headers['if-none-match'], undefined, 'nothing left to revalidate');
});
