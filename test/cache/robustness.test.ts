// Bad input from either side never crashes the gateway: garbage
// Cache-Control, huge or negative numbers, bad dates, broken Vary and Age,
// odd request directives. Each case is answered, and the gateway answers on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setup, cacheable } from './harness.ts';

const BAD_RESPONSES: Record<string, string>[] = [
  { 'cache-control': 'max-age=99999999999999999999999999' },
  { 'cache-control': 'max-age=-5, s-maxage=abc' },
  { 'cache-control': ',,,=,"unterminated' },
  { 'cache-control': 'max-age="60' },
  { 'cache-control': 'no-cache="' },
  { 'cache-control': 'stale-while-revalidate=1e9, stale-if-error=NaN' },
  { expires: 'Thu, 01 Jan 1970 00:00:00 GMT', date: 'garbage' },
  { expires: 'Sun, 31 Feb 2026 25:61:61 GMT' },
  { 'last-modified': 'tomorrow', etag: 'unquoted' },
  { age: '-1' },
  { age: '99999999999999999999' },
  { age: 'abc, 5' },
  { vary: '*, accept' },
  { vary: ', , ,' },
  { vary: 'bad header name' },
  { 'cache-tag': ','.repeat(10_000) },
  { 'surrogate-key': ' '.repeat(1000) + 'x'.repeat(5000) },
];

test('garbage response fields are answered and never crash the gateway', async (t) => {
  const c = await setup((req, res) => cacheable(res, 'ok', { ...BAD_RESPONSES[Number(req.url!.slice(1).split('?')[0])]! }));
  t.after(() => c.close());
  for (let i = 0; i < BAD_RESPONSES.length; i++) {
    for (let j = 0; j < 2; j++) {
      const r = await c.get(`/${i}`);
      assert.equal(r.status, 200, JSON.stringify(BAD_RESPONSES[i]));
      assert.equal(r.body, 'ok');
    }
  }
  // A huge max-age is clamped, not an overflow into the past.
  assert.match((await c.get('/0')).cacheStatus, /^rampart; hit; ttl=214748\d{4}$/);
  // Unusable freshness is stale, not fresh.
  assert.doesNotMatch((await c.get('/1')).cacheStatus, /hit/);
});

test('garbage request fields are answered', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'ok', { etag: '"e"', 'last-modified': new Date(Date.now() - 1000).toUTCString() }));
  t.after(() => c.close());
  await c.get('/g');
  const requests: Record<string, string>[] = [
    { 'cache-control': 'max-age=abc, max-stale=-1, min-fresh=x, only-if-cached=1' },
    { 'cache-control': '"""' },
    { pragma: 'garbage' },
    { 'if-none-match': '"unterminated' },
    { 'if-none-match': ',,,' },
    { 'if-modified-since': 'not a date' },
    { range: 'bytes=99999999999999999999-' },
    { range: 'bytes=--1' },
    { range: 'bytes=1-2', 'if-range': 'garbage' },
    { cookie: ';;;==;' },
    { cookie: '=PHPSESSID' },
  ];
  for (const headers of requests) {
    const r = await c.get('/g', headers);
    assert.ok([200, 206, 304, 416, 504].includes(r.status), `${JSON.stringify(headers)}: ${r.status}`);
  }
  assert.equal((await c.get('/g')).status, 200);
});

test('an upstream that breaks its framing mid-body leaves nothing stored', async (t) => {
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.end('HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 100\r\n\r\nonly a part');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { startGateway } = await import('../helpers/gateway.ts');
  const { gatewayYaml, request } = await import('./harness.ts');
  const gw = await startGateway(gatewayYaml([`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`]));
  t.after(() => gw.close());
  await request(gw.port, '/cut').catch(() => null);
  const again = await request(gw.port, '/cut').catch((err: Error) => err);
  // Either the client sees the cut again or an error: never a stored partial body as a hit.
  if (!(again instanceof Error)) assert.doesNotMatch(again.cacheStatus, /hit/);
});
