// The memory store through the gateway: bounded in bytes (LRU), large bodies
// streamed and not stored, a body being stored streamed to the first client
// as it arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setup, cacheable, admin } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

test('maxBytes bounds the store: the least recently used responses are evicted and counted', async (t) => {
  const body = 'x'.repeat(10_000);
  const c = await setup((_req, res) => cacheable(res, body), { store: { maxBytes: 35_000, maxObjectBytes: 20_000 } });
  t.after(() => c.close());
  for (const path of ['/0', '/1', '/2']) await c.get(path);
  await c.get('/0'); // /1 is now the least recently used
  await c.get('/3');
  assert.match((await c.get('/0')).cacheStatus, /hit/);
  assert.match((await c.get('/1')).cacheStatus, /uri-miss/, 'evicted');
  const store = (await admin(c.gw, '/cache', 'GET')).json!.store as Record<string, number>;
  assert.ok(store.bytes! <= 35_000, `bytes ${store.bytes}`);
  assert.ok(store.evictions! >= 1);
});

test('bodies over maxObjectBytes are streamed to the client and not stored, whether Content-Length says so or a chunked body grows past it', async (t) => {
  const big = 'y'.repeat(5000);
  const c = await setup(
    (req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        for (let i = 0; i < 5; i++) res.write(big.slice(i * 1000, (i + 1) * 1000));
        res.end();
        return;
      }
      cacheable(res, big, { 'content-length': big.length });
    },
    { store: { maxBytes: '1MiB', maxObjectBytes: 4096 } },
  );
  t.after(() => c.close());
  const sized = await c.get('/sized');
  assert.equal(sized.body, big);
  assert.match(sized.cacheStatus, /detail=too-large$/);
  const chunked = await c.get('/chunked');
  assert.equal(chunked.body, big);
  for (const path of ['/sized', '/chunked']) {
    assert.equal((await c.get(path)).body, big);
    assert.equal(c.count(path), 2, path);
  }
});

test('the first client gets a body being stored as it arrives, not after it is complete', async (t) => {
  let upstream: http.ServerResponse | null = null;
  const c = await setup((_req, res) => {
    upstream = res;
    res.writeHead(200, { 'cache-control': 'max-age=60' });
    res.write('part one;');
  });
  t.after(() => c.close());
  let got = '';
  const done = new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: c.gw.port, path: '/s', agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (got += d));
      res.on('end', resolve);
    }).on('error', reject);
  });
  await waitFor(() => got === 'part one;', { what: 'the first part before the end' });
  upstream!.end('part two');
  await done;
  assert.equal(got, 'part one;part two');
  const hit = await c.get('/s');
  assert.equal(hit.body, 'part one;part two');
  assert.match(hit.cacheStatus, /hit/);
});
