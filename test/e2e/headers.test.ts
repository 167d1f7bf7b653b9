// What crosses the gateway (RFC 9110 §7.6): hop-by-hop fields stay on their
// hop both ways, the forwarding fields say who the client was, Via marks the
// gateway in both directions, Host is passed through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { openRaw, finalResponses, hasResponses, parseResponses } from '../helpers/http-text.ts';
import { waitFor } from '../helpers/wait.ts';

interface SeenRequest {
  requestLine: string;
  headers: [string, string][];
}

/** A raw upstream: records each request head exactly and answers with `response`. */
async function startHeadRecorder(response: string) {
  const seen: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        buf = buf.subarray(end + 4);
        seen.push({
          requestLine: lines[0]!,
          headers: lines.slice(1).map((l) => {
            const colon = l.indexOf(':');
            return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()] as [string, string];
          }),
        });
        socket.write(response);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function values(req: SeenRequest, name: string): string[] {
  return req.headers.filter(([n]) => n === name).map(([, v]) => v);
}

const HOP_REQUEST =
  'GET /h HTTP/1.1\r\n' +
  'Host: Example.test:8080\r\n' +
  'Connection: keep-alive, X-Secret, x-other\r\n' +
  'X-Secret: s\r\n' +
  'X-Other: o\r\n' +
  'Keep-Alive: timeout=5\r\n' +
  'TE: trailers\r\n' +
  'Trailer: x-sum\r\n' +
  'Upgrade: h2c\r\n' +
  'Proxy-Connection: keep-alive\r\n' +
  'Proxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
  'Proxy: http://evil.test\r\n' +
  'X-Forwarded-For: 6.6.6.6\r\n' +
  'X-Forwarded-For: 7.7.7.7\r\n' +
  'X-Forwarded-Proto: https\r\n' +
  'X-Forwarded-Host: evil.test\r\n' +
  'X-Forwarded-Port: 443\r\n' +
  'X-Real-IP: 6.6.6.6\r\n' +
  'Forwarded: for=6.6.6.6;proto=https\r\n' +
  'Via: 1.0 edge\r\n' +
  'X-Keep: yes\r\n' +
  '\r\n';

const HOP_RESPONSE =
  'HTTP/1.1 200 OK\r\n' +
  'Connection: keep-alive, X-Hop\r\n' +
  'X-Hop: h\r\n' +
  'Keep-Alive: timeout=5, max=100\r\n' +
  'Proxy-Authenticate: Basic realm="x"\r\n' +
  'Proxy-Connection: keep-alive\r\n' +
  'Proxy: x\r\n' +
  'Trailer: x-sum\r\n' +
  'Upgrade: h2c\r\n' +
  'TE: trailers\r\n' +
  'Via: 1.1 app\r\n' +
  'X-App: a\r\n' +
  'Transfer-Encoding: chunked\r\n' +
  '\r\n' +
  '5\r\nhello\r\n0\r\nx-sum: 1\r\n\r\n';

const NOT_FORWARDED = ['connection', 'x-secret', 'x-other', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authorization', 'proxy', 'expect'];

test('hop-by-hop request fields are dropped, forwarding fields replace the client’s, Via is added, Host passes through', async (t) => {
  const upstream = await startHeadRecorder(HOP_RESPONSE);
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());

  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write(HOP_REQUEST);
  const data = await conn.until(hasResponses(1), 'the response');

  assert.equal(upstream.seen.length, 1);
  const req = upstream.seen[0]!;
  assert.equal(req.requestLine, 'GET /h HTTP/1.1');
  for (const name of NOT_FORWARDED) assert.deepEqual(values(req, name), [], `${name} is not forwarded upstream`);
  assert.deepEqual(values(req, 'host'), ['Example.test:8080'], 'Host passes through as sent');
  assert.deepEqual(values(req, 'x-keep'), ['yes']);
  assert.deepEqual(values(req, 'x-forwarded-for'), ['127.0.0.1'], 'a client-supplied X-Forwarded-For is replaced');
  assert.deepEqual(values(req, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(values(req, 'x-forwarded-host'), ['example.test:8080']);
  assert.deepEqual(values(req, 'forwarded'), ['for=127.0.0.1;proto=http;host="example.test:8080"']);
  assert.deepEqual(values(req, 'x-forwarded-port'), [], 'unverifiable forwarding fields from an untrusted peer are dropped');
  assert.deepEqual(values(req, 'x-real-ip'), []);
  assert.deepEqual(values(req, 'via'), ['1.0 edge, 1.1 rampart']);

  const [res] = finalResponses(data);
  assert.equal(res!.status, 200);
  for (const name of ['x-hop', 'keep-alive', 'proxy-authenticate', 'proxy-connection', 'proxy', 'trailer', 'upgrade', 'te']) {
    assert.equal(res!.headers.has(name), false, `${name} is not forwarded to the client`);
  }
  assert.equal(res!.headers.has('connection'), false, 'the upstream’s Connection is not relayed; keep-alive is the 1.1 default');
  assert.deepEqual(res!.headers.get('x-app'), ['a']);
  assert.deepEqual(res!.headers.get('via'), ['1.1 app, 1.1 rampart']);
  assert.deepEqual(res!.headers.get('transfer-encoding'), ['chunked'], 'the gateway frames the body itself, once');
  assert.equal(res!.body.toString(), 'hello');
  assert.doesNotMatch(data.toString('latin1'), /x-sum/i, 'trailer fields are dropped with the Trailer field');
});

test('from a trusted proxy the forwarding fields are extended, not replaced', async (t) => {
  const upstream = await startHeadRecorder('HTTP/1.1 204 No Content\r\n\r\n');
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { top: { trustedProxies: ['127.0.0.1'] } }));
  t.after(() => gw.close());

  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write(HOP_REQUEST);
  await conn.until(hasResponses(1), 'the response');

  const req = upstream.seen[0]!;
  for (const name of NOT_FORWARDED) assert.deepEqual(values(req, name), [], `${name} is not forwarded upstream, even from a trusted proxy`);
  assert.deepEqual(values(req, 'x-forwarded-for'), ['6.6.6.6, 7.7.7.7, 127.0.0.1'], 'the peer is appended to the chain');
  assert.deepEqual(values(req, 'forwarded'), ['for=6.6.6.6;proto=https, for=127.0.0.1;proto=http;host="example.test:8080"']);
  assert.deepEqual(values(req, 'x-forwarded-proto'), ['https'], 'the first proxy saw the client’s scheme');
  assert.deepEqual(values(req, 'x-forwarded-host'), ['evil.test']);
  assert.deepEqual(values(req, 'x-forwarded-port'), ['443']);
  assert.deepEqual(values(req, 'x-real-ip'), ['6.6.6.6']);
  assert.deepEqual(values(req, 'via'), ['1.0 edge, 1.1 rampart']);
});

test('a Connection token cannot strip the framing of a request body (no smuggling through Connection: content-length)', async (t) => {
  const urls: string[] = [];
  const bodies: string[] = [];
  const upstream = await startUpstream(async (req, res) => {
    urls.push(req.url!);
    let body = '';
    for await (const c of req) body += String(c);
    bodies.push(body);
    res.end('ok');
  });
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());

  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write(`POST /post HTTP/1.1\r\nHost: a.test\r\nConnection: content-length\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
  const data = await conn.until(hasResponses(1), 'the response');
  assert.equal(finalResponses(data)[0]!.status, 200);
  // A follow-up request on the same upstream connection shows whether the
  // body was read as a request of its own.
  const res = await fetch(`${gw.url}/after`);
  assert.equal(res.status, 200);
  await res.text();
  assert.deepEqual(urls, ['/post', '/after']);
  assert.deepEqual(bodies, [smuggled, '']);
});

test('Via is added to responses the gateway relays, and 1.0 upstream framing is re-done for the client', async (t) => {
  const upstream = await startHeadRecorder('HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi');
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const data = await conn.until(hasResponses(1), 'the response');
  const res = parseResponses(data).responses[0]!;
  assert.match(res.head, /^HTTP\/1\.1 200 OK\r\n/, 'the client always gets the gateway’s version');
  assert.deepEqual(res.headers.get('via'), ['1.1 rampart']);
  assert.deepEqual(res.headers.get('content-length'), ['2']);
  assert.equal(res.body.toString(), 'hi');
  await waitFor(() => upstream.seen.length === 1, { what: 'the upstream request' });
});

test('an upstream Content-Length sent as a list of equal values reaches the client as one number', async (t) => {
  const upstream = await startHeadRecorder('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi');
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\nGET /again HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const data = await conn.until(hasResponses(2), 'two responses');
  const [a, b] = finalResponses(data);
  assert.deepEqual(a!.headers.get('content-length'), ['2']);
  assert.equal(a!.body.toString(), 'hi');
  assert.equal(b!.body.toString(), 'hi');
});
