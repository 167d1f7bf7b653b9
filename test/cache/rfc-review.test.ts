// A review of the cache against RFC 9111, RFC 9110 §13/§15.4.5 and RFC 9211:
// end-to-end checks of the rules the other files do not cover, each written
// against the RFC's text. Responses are made old with Age rather than by waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setup, cacheable, request, gatewayYaml } from './harness.ts';
import { startGateway } from '../helpers/gateway.ts';

const httpDate = (ms: number) => new Date(ms).toUTCString();

test('Cache-Control over several field lines, with quoted commas and unknown directives, is one list (§5.2, RFC 9110 §5.3)', async (t) => {
  const table: Record<string, Record<string, string | string[]>> = {
    '/lines': { 'cache-control': ['public', 'MAX-AGE=3600'] },
    '/quoted-comma': { 'cache-control': 'x-ext="no-store, private", max-age="3600"' },
    '/private-fields': { 'cache-control': 'max-age=3600, private="set-cookie, x-user"' },
    '/no-store-line': { 'cache-control': ['max-age=3600', 'No-Store'] },
  };
  const c = await setup((req, res, n) => cacheable(res, `n${n}`, table[req.url!]));
  t.after(() => c.close());
  for (const path of ['/lines', '/quoted-comma']) {
    await c.get(path);
    assert.match((await c.get(path)).cacheStatus, /^rampart; hit; ttl=(3600|3599)$/, path);
  }
  assert.match((await c.get('/private-fields')).cacheStatus, /detail=private/, 'a quoted list of fields stays one directive');
  assert.match((await c.get('/no-store-line')).cacheStatus, /detail=no-store/, 'a directive on a second line counts');
});

test('request max-age, min-fresh and max-stale are compared in whole seconds with the Age and ttl the client sees (§5.2.1.1-3)', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { 'cache-control': 'max-age=100', age: '50', etag: '"a"' }));
  t.after(() => c.close());
  await c.get('/b');
  const maxAge = await c.get('/b', { 'cache-control': 'max-age=50' });
  assert.match(maxAge.cacheStatus, /hit/, '"less than or equal to": Age 50 is acceptable to max-age=50');
  assert.equal(maxAge.headers.age, '50');
  assert.match((await c.get('/b', { 'cache-control': 'min-fresh=50' })).cacheStatus, /^rampart; hit; ttl=50$/, 'fresh for 50 more seconds satisfies min-fresh=50');
  assert.match((await c.get('/b', { 'cache-control': 'max-age=49' })).cacheStatus, /fwd=request/);
  assert.match((await c.get('/b', { 'cache-control': 'min-fresh=51' })).cacheStatus, /fwd=request/);

  const s = await setup((_req, res, n) => cacheable(res, `n${n}`, { 'cache-control': 'max-age=10', age: '30', etag: '"a"' }));
  t.after(() => s.close());
  await s.get('/s');
  assert.match((await s.get('/s', { 'cache-control': 'max-stale=20' })).cacheStatus, /^rampart; hit; ttl=-20; detail=max-stale$/, '20 s stale is within max-stale=20');
  assert.match((await s.get('/s', { 'cache-control': 'max-stale=19' })).cacheStatus, /fwd=stale/);
});

test('a 304 whose ETag matches nothing stored updates nothing; the client gets the full response, fetched without validators (§4.3.4)', async (t) => {
  const c = await setup((req, res, n) => {
    if (req.headers['if-none-match'] !== undefined) {
      res.writeHead(304, { etag: '"v2"', 'cache-control': 'max-age=600', 'x-from': '304' });
      res.end();
      return;
    }
    cacheable(res, `full ${n}`, { etag: n === 1 ? '"v1"' : '"v2"', 'cache-control': n === 1 ? 'max-age=0' : 'max-age=600' });
  });
  t.after(() => c.close());
  await c.get('/e');
  const second = await c.get('/e');
  assert.equal(c.seen[1]!.headers['if-none-match'], '"v1"', 'revalidated with the stored ETag');
  assert.equal(c.seen[2]?.headers['if-none-match'], undefined, 'then asked again without validators');
  assert.equal(second.status, 200);
  assert.equal(second.body, 'full 3', 'not the stored body under the 304\'s ETag');
  assert.equal(second.headers.etag, '"v2"');
  assert.equal(second.headers['x-from'], undefined);
  assert.match(second.cacheStatus, /^rampart; fwd=stale; fwd-status=200; stored$/);
  const hit = await c.get('/e');
  assert.equal(hit.body, 'full 3');
  assert.match(hit.cacheStatus, /hit/);
  // A weak 304 ETag that matches weakly, and a 304 without ETag, do update.
  const w = await setup((req, res, n) => {
    if (req.headers['if-none-match'] !== undefined) {
      res.writeHead(304, req.url === '/weak' ? { etag: 'W/"s"', 'cache-control': 'max-age=600' } : { 'cache-control': 'max-age=600' });
      res.end();
      return;
    }
    cacheable(res, `full ${n}`, { etag: '"s"', 'cache-control': 'max-age=0' });
  });
  t.after(() => w.close());
  for (const path of ['/weak', '/none']) {
    await w.get(path);
    assert.equal((await w.get(path)).cacheStatus, 'rampart; fwd=stale; fwd-status=304', path);
    assert.match((await w.get(path)).cacheStatus, /hit/, path);
  }
  assert.equal(w.count(), 4);
});

test('a 304 made by the cache carries Cache-Control, Content-Location, Date, ETag, Expires and Vary, and nothing of the content (RFC 9110 §15.4.5)', async (t) => {
  const expires = httpDate(Date.now() + 3_600_000);
  const c = await setup((_req, res) =>
    cacheable(res, 'body', { etag: '"x"', 'content-location': '/x.en', vary: 'accept-language', expires, 'content-language': 'en', 'x-app': '1' }),
  );
  t.after(() => c.close());
  await c.get('/c');
  const r = await c.get('/c', { 'if-none-match': 'W/"x"' });
  assert.equal(r.status, 304);
  assert.equal(r.headers.etag, '"x"');
  assert.equal(r.headers['cache-control'], 'max-age=3600');
  assert.equal(r.headers['content-location'], '/x.en');
  assert.equal(r.headers.vary, 'accept-language');
  assert.equal(r.headers.expires, expires);
  assert.ok(r.headers.date !== undefined);
  assert.equal(r.headers.age, '0');
  assert.equal(r.headers['content-length'], undefined);
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.headers['content-language'], undefined);
  assert.equal(r.headers['x-app'], undefined);
  assert.equal(c.count(), 1);
});

test('a body cut short by the upstream (Content-Length unmet, or chunked without its last chunk) is never stored (§3.3)', async (t) => {
  let requests = 0;
  const server = net.createServer((socket) => {
    socket.once('data', (d: Buffer) => {
      requests++;
      const chunked = d.toString('latin1').startsWith('GET /chunked');
      socket.end(
        chunked
          ? 'HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'
          : 'HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 100\r\n\r\nonly a part',
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const gw = await startGateway(gatewayYaml([`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`], { upstream: { retries: { attempts: 0 } } }));
  t.after(() => gw.close());
  for (const path of ['/length', '/chunked']) {
    const before = requests;
    for (let i = 0; i < 2; i++) {
      const r = await request(gw.port, path).catch((err: Error) => err);
      // The client sees the cut (the connection ends early), never a complete-looking response.
      assert.ok(r instanceof Error || r.status !== 200 || r.body.length < 100, path);
    }
    assert.equal(requests - before, 2, `${path}: the second request went upstream again`);
  }
  const ok = await request(gw.port, '/length', { 'cache-control': 'only-if-cached' });
  assert.equal(ok.status, 504, 'nothing stored');
});

test('fields named by Connection and the proxy-* fields are never stored; a Date is kept as the origin sent it (§3.1)', async (t) => {
  const date = httpDate(Date.now() - 5_000);
  const c = await setup((_req, res) => cacheable(res, 'x', { connection: 'x-hop, keep-alive', 'x-hop': '1', 'keep-alive': 'timeout=5', 'proxy-authentication-info': 'a', 'x-end': '2', date }));
  t.after(() => c.close());
  await c.get('/h');
  const hit = await c.get('/h');
  assert.match(hit.cacheStatus, /hit/);
  assert.equal(hit.headers['x-hop'], undefined);
  assert.equal(hit.headers['keep-alive'], undefined);
  assert.equal(hit.headers['proxy-authentication-info'], undefined);
  assert.equal(hit.headers['x-end'], '2');
  assert.equal(hit.headers.date, date);
  assert.ok(Number(hit.headers.age) >= 5, 'the Date in the past counts in Age');
});

test('302, 303 and 307 are stored only with explicit freshness; 308 and 410 without it only to be revalidated (§3, RFC 9110 §15.1)', async (t) => {
  const c = await setup((req, res) => {
    const [code, mode] = req.url!.slice(1).split('/');
    const headers: Record<string, string> = { etag: '"r"', location: '/elsewhere' };
    if (mode === 'fresh') headers['cache-control'] = 'max-age=600';
    res.writeHead(Number(code), headers);
    res.end('x');
  });
  t.after(() => c.close());
  for (const code of [302, 303, 307]) {
    await c.get(`/${code}/fresh`);
    assert.match((await c.get(`/${code}/fresh`)).cacheStatus, /hit/, `${code} with max-age`);
    assert.match((await c.get(`/${code}/none`)).cacheStatus, /detail=status/, `${code} without freshness`);
  }
  for (const code of [308, 410]) {
    await c.get(`/${code}/none`);
    const again = await c.get(`/${code}/none`);
    assert.equal(again.status, code);
    assert.match(again.cacheStatus, /fwd=stale/, `${code}: stored, never fresh without heuristics`);
    assert.equal(c.seen.at(-1)!.headers['if-none-match'], '"r"');
  }
});

test('a Vary that changes between responses: the newest matching variant is used; fields absent from both requests match (§4.1)', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { vary: n === 1 ? 'X-A, x-b' : 'x-c' }));
  t.after(() => c.close());
  await c.get('/v', { 'x-a': '1' });
  assert.equal((await c.get('/v', { 'x-a': '1' })).body, 'n1', 'x-b absent from both');
  const empty = await c.get('/v', { 'x-a': '1', 'x-b': '' });
  assert.match(empty.cacheStatus, /vary-miss/, 'an empty value is not an absent field');
  assert.equal(empty.body, 'n2');
  assert.equal((await c.get('/v', { 'x-a': '1' })).body, 'n2', 'n1 still matches, but the newer response (Vary: x-c) matches too, and wins');
  assert.equal((await c.get('/v', { 'x-a': '2', 'x-c': 'z' })).body, 'n3', 'neither matches: fetched');
  assert.equal(c.count(), 3);
});

test('invalidation: a Location on another port of the same host is another origin; Content-Location and the target go (§4.4)', async (t) => {
  const c = await setup((req, res, n) => {
    if (req.method === 'PUT') {
      res.writeHead(204, { location: 'http://127.0.0.1:81/t1', 'content-location': '/t2' });
      res.end();
      return;
    }
    cacheable(res, `n${n}`);
  });
  t.after(() => c.close());
  const host = { host: '127.0.0.1' };
  for (const path of ['/p', '/t1', '/t2']) await c.get(path, host);
  await c.get('/p', host, 'PUT');
  assert.match((await c.get('/t1', host)).cacheStatus, /hit/);
  assert.doesNotMatch((await c.get('/t2', host)).cacheStatus, /hit/);
  assert.doesNotMatch((await c.get('/p', host)).cacheStatus, /hit/);
});

/** One RFC 9211 list member as RFC 8941 writes it: a token, then `; key[=integer|token|string]` parameters. */
const MEMBER = /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]*(;[ ]*[a-z*][a-z0-9_.*-]*(=(-?\d{1,15}|[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]*|"(?:[^"\\]|\\["\\])*"))?)*$/;
const KNOWN = new Set(['hit', 'fwd', 'fwd-status', 'ttl', 'stored', 'collapsed', 'key', 'detail']);
const FWD = new Set(['bypass', 'method', 'uri-miss', 'vary-miss', 'miss', 'request', 'stale', 'partial']);

function checkCacheStatus(value: string, what: string): void {
  assert.match(value, MEMBER, what);
  const params = new Map(value.split(';').slice(1).map((p) => p.trim().split('=') as [string, string | undefined]));
  for (const key of params.keys()) assert.ok(KNOWN.has(key), `${what}: parameter ${key}`);
  assert.ok(!(params.has('hit') && params.has('fwd')), `${what}: hit means not forwarded (RFC 9211 §2.1)`);
  if (params.has('fwd')) assert.ok(FWD.has(params.get('fwd')!), `${what}: fwd=${params.get('fwd')}`);
  if (params.has('fwd-status') || params.has('stored') || params.has('collapsed')) assert.ok(params.has('fwd'), `${what}: only with fwd`);
}

test('every Cache-Status member the cache writes is RFC 9211 syntax: registered fwd values, hit never with fwd', async (t) => {
  let failing = false;
  const c = await setup((req, res, n) => {
    if (failing && req.url === '/sie') return void res.writeHead(503).end('down');
    if (req.method === 'POST') return void res.writeHead(201).end();
    const cc = { '/sie': 'max-age=1, stale-if-error=600', '/swr': 'max-age=1, stale-while-revalidate=600', '/private': 'private' }[req.url!.split('?')[0]!] ?? 'max-age=600';
    cacheable(res, `n${n}`, { 'cache-control': cc, age: req.url === '/sie' || req.url === '/swr' ? '5' : '0', etag: '"e"', vary: 'x-v' });
  });
  t.after(() => c.close());
  const seen: [string, string][] = [];
  const get = async (what: string, path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const r = await c.get(path, headers, method);
    seen.push([what, r.cacheStatus]);
    return r;
  };
  await get('miss', '/a');
  await get('hit', '/a');
  await get('vary-miss', '/a', { 'x-v': '1' });
  await get('request', '/a', { 'cache-control': 'no-cache' });
  await get('304 from the cache', '/a', { 'if-none-match': '"e"' });
  await get('range', '/a', { range: 'bytes=0-0' });
  await get('not stored', '/private');
  await get('bypass', '/a', { cookie: 'sid=1' });
  await get('method', '/other', {}, 'POST');
  await get('only-if-cached', '/none', { 'cache-control': 'only-if-cached' });
  await get('swr', '/swr');
  await get('swr stale', '/swr');
  await get('sie', '/sie');
  failing = true;
  const sie = await get('stale-if-error', '/sie');
  assert.equal(sie.body, 'n' + String(c.seen.findIndex((s) => s.url === '/sie') + 1));
  assert.match(sie.cacheStatus, /^rampart; fwd=stale; fwd-status=503; ttl=-\d+; detail=stale-if-error$/);
  for (const [what, value] of seen) checkCacheStatus(value, what);
});

test('If-Modified-Since on a stored response without Last-Modified is compared with its Date (§4.3.2)', async (t) => {
  const date = httpDate(Date.now() - 60_000);
  const c = await setup((_req, res) => cacheable(res, 'body', { date }));
  t.after(() => c.close());
  await c.get('/d');
  assert.equal((await c.get('/d', { 'if-modified-since': date })).status, 304);
  assert.equal((await c.get('/d', { 'if-modified-since': httpDate(Date.now() - 120_000) })).status, 200);
  assert.equal(c.count(), 1);
});
