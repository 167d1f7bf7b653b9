// RFC 9111 §3: what a shared cache may store. Each case asks twice and counts
// the upstream's requests: 1 means the second was answered from the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

test('a GET 200 with max-age is stored; the second request is a hit that the upstream never sees', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `body ${n}`));
  t.after(() => c.close());
  const first = await c.get('/a');
  assert.equal(first.body, 'body 1');
  assert.match(first.cacheStatus, /^rampart; fwd=uri-miss; fwd-status=200; stored$/);
  const second = await c.get('/a');
  assert.equal(second.body, 'body 1');
  assert.match(second.cacheStatus, /^rampart; hit; ttl=\d+$/);
  assert.equal(second.headers['content-length'], '6');
  assert.equal(c.count('/a'), 1);
});

test('a HEAD is answered from a stored GET response; a HEAD miss is sent upstream as GET and stored', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `body ${n}`));
  t.after(() => c.close());
  await c.get('/g');
  const head = await c.get('/g', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], '6');
  assert.match(head.cacheStatus, /hit/);
  assert.equal(c.count('/g'), 1);
  const headMiss = await c.get('/h', {}, 'HEAD');
  assert.equal(headMiss.body, '');
  assert.equal(c.seen.at(-1)!.method, 'GET', 'converted so that the response can be stored');
  const get = await c.get('/h');
  assert.equal(get.body, 'body 2');
  assert.match(get.cacheStatus, /hit/);
});

test('no-store (response or request), private and qualified private are not stored', async (t) => {
  const c = await setup((req, res) => {
    const cc = { '/ns': 'no-store, max-age=60', '/p': 'private, max-age=60', '/pq': 'private="set-cookie", max-age=60', '/rq': 'max-age=60' }[req.url!]!;
    cacheable(res, 'x', { 'cache-control': cc });
  });
  t.after(() => c.close());
  for (const path of ['/ns', '/p', '/pq']) {
    const first = await c.get(path);
    await c.get(path);
    assert.equal(c.count(path), 2, path);
    assert.match(first.cacheStatus, /fwd=uri-miss; fwd-status=200; detail=(no-store|private)$/, path);
  }
  await c.get('/rq', { 'cache-control': 'no-store' });
  const after = await c.get('/rq');
  assert.equal(c.count('/rq'), 2, 'a request with no-store stores nothing');
  assert.match(after.cacheStatus, /stored/);
});

test('Authorization: stored and reused only with public, must-revalidate or s-maxage (§3.5)', async (t) => {
  const c = await setup((req, res, n) => {
    const cc = { '/plain': 'max-age=60', '/public': 'public, max-age=60', '/smax': 's-maxage=60', '/mr': 'max-age=60, must-revalidate' }[req.url!]!;
    cacheable(res, `n${n}`, { 'cache-control': cc });
  });
  t.after(() => c.close());
  const auth = { authorization: 'Bearer abc' };
  await c.get('/plain', auth);
  await c.get('/plain', auth);
  assert.equal(c.count('/plain'), 2);
  for (const path of ['/public', '/smax', '/mr']) {
    await c.get(path, auth);
    const again = await c.get(path, auth);
    assert.equal(c.count(path), 1, path);
    assert.match(again.cacheStatus, /hit/, path);
  }
  // A response stored without Authorization is not given to a request with it, unless shareable.
  await c.get('/plain');
  assert.equal(c.count('/plain'), 3);
  const withAuth = await c.get('/plain', auth);
  assert.equal(c.count('/plain'), 4, 'a plain max-age response is not reused for an authorized request');
  assert.doesNotMatch(withAuth.cacheStatus, /hit/);
});

test('status codes: heuristically cacheable ones with explicit freshness, any final code with max-age; never 206', async (t) => {
  const c = await setup((req, res) => {
    const status = Number(req.url!.slice(1, 4));
    const cc = req.url!.endsWith('-none') ? {} : { 'cache-control': 'max-age=60' };
    res.writeHead(status, { 'content-type': 'text/plain', ...cc });
    res.end(status === 204 ? undefined : 'x');
  });
  t.after(() => c.close());
  for (const status of [200, 203, 204, 301, 404, 410, 500, 599, 302]) {
    await c.get(`/${status}`);
    const again = await c.get(`/${status}`);
    assert.equal(again.status, status);
    assert.equal(c.count(`/${status}`), 1, `${status} with max-age is stored`);
  }
  // Without freshness or validators: nothing to gain from storing.
  await c.get('/500-none');
  await c.get('/500-none');
  assert.equal(c.count('/500-none'), 2);
});

test('a 206 from the upstream is passed on and never stored', async (t) => {
  const c = await setup((_req, res) => {
    res.writeHead(206, { 'content-range': 'bytes 0-1/10', 'cache-control': 'max-age=60' });
    res.end('ab');
  });
  t.after(() => c.close());
  const first = await c.get('/r', { range: 'bytes=0-1' });
  assert.equal(first.status, 206);
  await c.get('/r', { range: 'bytes=0-1' });
  assert.equal(c.count('/r'), 2);
});

test('must-understand: stored for an understood code even with no-store, not stored for an unknown code', async (t) => {
  const c = await setup((req, res) => {
    const status = req.url === '/known' ? 200 : 299;
    res.writeHead(status, { 'cache-control': 'must-understand, no-store, max-age=60' });
    res.end('x');
  });
  t.after(() => c.close());
  await c.get('/known');
  assert.match((await c.get('/known')).cacheStatus, /hit/);
  const unknown = await c.get('/unknown');
  await c.get('/unknown');
  assert.equal(c.count('/unknown'), 2);
  assert.match(unknown.cacheStatus, /detail=must-understand/);
});

test('a response stale on arrival without validators is not stored; with an ETag it is, for revalidation', async (t) => {
  const c = await setup((req, res) => {
    const headers: Record<string, string> = { 'cache-control': 'max-age=10', age: '20' };
    if (req.url === '/etag') headers.etag = '"v"';
    cacheable(res, 'x', headers);
  });
  t.after(() => c.close());
  const bare = await c.get('/bare');
  assert.match(bare.cacheStatus, /detail=stale$/);
  const tagged = await c.get('/etag');
  assert.match(tagged.cacheStatus, /stored/);
  await c.get('/etag');
  assert.equal(c.seen.at(-1)!.headers['if-none-match'], '"v"', 'the stored response is revalidated');
});

test('Vary: * and an unreadable Vary are not stored', async (t) => {
  const c = await setup((req, res) => cacheable(res, 'x', { vary: req.url === '/star' ? 'accept, *' : 'a b' }));
  t.after(() => c.close());
  for (const path of ['/star', '/broken']) {
    await c.get(path);
    await c.get(path);
    assert.equal(c.count(path), 2, path);
  }
});

test('no-cache without a validator is not stored (every use would fetch it whole); with an ETag it is', async (t) => {
  const c = await setup((req, res) => cacheable(res, 'x', { 'cache-control': 'no-cache, max-age=600', ...(req.url === '/tagged' ? { etag: '"t"' } : {}) }));
  t.after(() => c.close());
  assert.match((await c.get('/bare')).cacheStatus, /detail=no-cache$/);
  assert.match((await c.get('/tagged')).cacheStatus, /stored$/);
});
