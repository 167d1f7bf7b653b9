// Range requests on a hit: 206 for one satisfiable range of a stored 200,
// 416 when unsatisfiable, the whole 200 for several ranges; on a miss the
// request goes upstream as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

const BODY = '0123456789abcdefghij';

test('one range of a stored response: 206 with Content-Range; suffix and open ranges', async (t) => {
  const c = await setup((_req, res) => cacheable(res, BODY, { etag: '"r"' }));
  t.after(() => c.close());
  await c.get('/r');
  const part = await c.get('/r', { range: 'bytes=2-5' });
  assert.equal(part.status, 206);
  assert.equal(part.body, '2345');
  assert.equal(part.headers['content-range'], 'bytes 2-5/20');
  assert.equal(part.headers['content-length'], '4');
  assert.match(part.cacheStatus, /hit/);
  assert.equal((await c.get('/r', { range: 'bytes=-3' })).body, 'hij');
  assert.equal((await c.get('/r', { range: 'bytes=15-' })).body, 'fghij');
  assert.equal(c.count('/r'), 1);
});

test('an unsatisfiable range is 416; several ranges or If-Range mismatch get the whole 200', async (t) => {
  const c = await setup((_req, res) => cacheable(res, BODY, { etag: '"r"' }));
  t.after(() => c.close());
  await c.get('/r');
  const none = await c.get('/r', { range: 'bytes=50-60' });
  assert.equal(none.status, 416);
  assert.equal(none.headers['content-range'], 'bytes */20');
  const multi = await c.get('/r', { range: 'bytes=0-1,4-5' });
  assert.equal(multi.status, 200);
  assert.equal(multi.body, BODY);
  assert.equal((await c.get('/r', { range: 'bytes=0-1', 'if-range': '"old"' })).status, 200);
  assert.equal((await c.get('/r', { range: 'bytes=0-1', 'if-range': '"r"' })).status, 206);
  assert.equal(c.count('/r'), 1);
});

test('a range request on a miss is forwarded as sent and its 206 is not stored', async (t) => {
  const c = await setup((req, res) => {
    if (req.headers.range === 'bytes=0-3') {
      res.writeHead(206, { 'content-range': 'bytes 0-3/20', 'cache-control': 'max-age=60' });
      res.end(BODY.slice(0, 4));
      return;
    }
    cacheable(res, BODY);
  });
  t.after(() => c.close());
  const part = await c.get('/m', { range: 'bytes=0-3' });
  assert.equal(part.status, 206);
  assert.equal(c.seen[0]!.headers.range, 'bytes=0-3');
  const full = await c.get('/m');
  assert.equal(full.body, BODY);
  assert.match(full.cacheStatus, /uri-miss/);
});
