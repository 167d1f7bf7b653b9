// Connection management and message framing (RFC 9112 §6, §9): pipelining,
// HTTP/1.0 persistence, Expect: 100-continue, body-less responses, re-framing
// of chunked responses per client version, and upstream connection reuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { openRaw, finalResponses, hasResponses, parseResponses } from '../helpers/http-text.ts';

async function echoUpstream() {
  let connections = 0;
  const upstream = await startUpstream(async (req, res) => {
    let body = '';
    for await (const c of req) body += String(c);
    if (req.url === '/chunked') {
      res.write('chunk-1;');
      res.end('chunk-2');
      return;
    }
    if (req.url === '/204') {
      res.statusCode = 204;
      res.end();
      return;
    }
    if (req.url === '/304') {
      res.statusCode = 304;
      res.setHeader('etag', '"v1"');
      res.end();
      return;
    }
    const text = `${req.method} ${req.url} ${body}`;
    res.setHeader('content-type', 'text/plain');
    // Node leaves Content-Length out of HEAD responses; set it to see it kept.
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  upstream.server.on('connection', () => connections++);
  return { upstream, connections: () => connections };
}

test('two pipelined GETs in one write get two responses, in order, on one connection', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET /first HTTP/1.1\r\nHost: a.test\r\n\r\nGET /second HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const data = await conn.until(hasResponses(2), 'two responses');
  const [a, b] = finalResponses(data);
  assert.equal(a!.body.toString(), 'GET /first ');
  assert.equal(b!.body.toString(), 'GET /second ');
  assert.equal(conn.closed(), false, 'the connection stays open');
});

test('a request pipelined after one the gateway answers itself (404) is still served', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { routes: [{ path: '/api', upstream: 'app' }] }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET /nowhere HTTP/1.1\r\nHost: a.test\r\n\r\nGET /api/x HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const data = await conn.until(hasResponses(2), 'two responses', 3000);
  const [a, b] = finalResponses(data);
  assert.equal(a!.status, 404);
  assert.equal(b!.status, 200);
  assert.equal(b!.body.toString(), 'GET /api/x ');
});

test('HTTP/1.0: the connection closes after the response unless keep-alive is asked for', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());

  const plain = await openRaw(gw.port);
  t.after(() => plain.socket.destroy());
  plain.socket.write('GET /old HTTP/1.0\r\n\r\n');
  await plain.untilClosed();
  const [res] = finalResponses(plain.received(), { eof: true });
  assert.equal(res!.status, 200);
  assert.match(res!.head, /^HTTP\/1\.1 200 /);
  assert.deepEqual(res!.headers.get('connection'), ['close']);
  assert.equal(res!.body.toString(), 'GET /old ');

  const kept = await openRaw(gw.port);
  t.after(() => kept.socket.destroy());
  kept.socket.write('GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await kept.until(hasResponses(1), 'the first response');
  kept.socket.write('GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const data = await kept.until(hasResponses(2), 'the second response on the same connection');
  const [one, two] = finalResponses(data);
  assert.deepEqual(one!.headers.get('connection'), ['keep-alive']);
  assert.equal(one!.framing, 'length', 'a kept-alive 1.0 response must be length-delimited');
  assert.equal(two!.body.toString(), 'GET /two ');
  assert.equal(kept.closed(), false);
});

test('Expect: 100-continue gets 100 Continue, then the body goes up, then the response', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /up HTTP/1.1\r\nHost: a.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  await conn.until((d) => d.toString('latin1').includes('\r\n\r\n'), '100 Continue');
  const interim = conn.received().toString('latin1');
  assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n', 'only the interim response before the body is sent');
  conn.socket.write('hello');
  const data = await conn.until(hasResponses(1), 'the final response');
  const parsed = parseResponses(data).responses;
  assert.deepEqual(parsed.map((r) => r.status), [100, 200]);
  assert.equal(parsed[1]!.body.toString(), 'POST /up hello');
});

test('HEAD, 204 and 304 responses carry no body; the next pipelined response proves it', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write(
    'HEAD /h HTTP/1.1\r\nHost: a.test\r\n\r\n' +
      'GET /204 HTTP/1.1\r\nHost: a.test\r\n\r\n' +
      'GET /304 HTTP/1.1\r\nHost: a.test\r\n\r\n' +
      'HEAD /chunked HTTP/1.1\r\nHost: a.test\r\n\r\n' +
      'GET /last HTTP/1.1\r\nHost: a.test\r\n\r\n',
  );
  const noBody = [true, false, false, true, false];
  const data = await conn.until(hasResponses(5, { noBody }), 'five responses');
  const responses = finalResponses(data, { noBody });
  assert.deepEqual(responses.map((r) => r.status), [200, 204, 304, 200, 200]);
  assert.equal(responses[0]!.headers.get('content-length')?.[0], String('HEAD /h '.length), 'HEAD keeps the length a GET would have');
  assert.equal(responses[1]!.headers.has('content-length'), false);
  assert.equal(responses[1]!.headers.has('transfer-encoding'), false);
  assert.equal(responses[2]!.headers.has('transfer-encoding'), false);
  assert.deepEqual(responses[2]!.headers.get('etag'), ['"v1"']);
  assert.equal(responses[3]!.headers.has('transfer-encoding'), false, 'a HEAD response is not re-chunked');
  assert.equal(responses[4]!.body.toString(), 'GET /last ');
  // Nothing after the last response: every body-less response really was.
  const all = parseResponses(data, { noBody });
  assert.equal(all.complete, true);
});

test('a chunked upstream response reaches a 1.1 client chunked and a 1.0 client close-delimited', async (t) => {
  const { upstream } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());

  const v11 = await openRaw(gw.port);
  t.after(() => v11.socket.destroy());
  v11.socket.write('GET /chunked HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const [r11] = finalResponses(await v11.until(hasResponses(1), 'the 1.1 response'));
  assert.equal(r11!.framing, 'chunked');
  assert.equal(r11!.headers.has('content-length'), false);
  assert.equal(r11!.body.toString(), 'chunk-1;chunk-2');
  assert.equal(v11.closed(), false);

  const v10 = await openRaw(gw.port);
  t.after(() => v10.socket.destroy());
  v10.socket.write('GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await v10.untilClosed();
  const [r10] = finalResponses(v10.received(), { eof: true });
  assert.equal(r10!.framing, 'close');
  assert.deepEqual(r10!.headers.get('connection'), ['close'], 'keep-alive is refused when the body is close-delimited');
  assert.equal(r10!.body.toString(), 'chunk-1;chunk-2');
});

test('upstream connections are kept alive: 50 sequential requests use one', async (t) => {
  const { upstream, connections } = await echoUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${gw.url}/n/${i}`, { method: i % 2 ? 'GET' : 'POST', body: i % 2 ? undefined : `b${i}` });
    assert.equal(await res.text(), i % 2 ? `GET /n/${i} ` : `POST /n/${i} b${i}`);
  }
  assert.equal(connections(), 1);
  const status = gw.gateway.status() as { upstreams: { app: { servers: { connections: { open: number; idle: number } }[] } } };
  assert.deepEqual(status.upstreams.app.servers[0]!.connections, { open: 1, idle: 1 });
});

test('bytes an upstream sends after a body-less response do not reach the next request', async (t) => {
  // A broken server: a 204 with a body, then whatever it sends next.
  let requests = 0;
  const connections: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    socket.on('data', () => {
      requests++;
      socket.write(requests === 1 ? 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nspoofed!' : 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of connections) s.destroy();
    server.close();
  });
  const gw = await startGateway(gatewayConfig([`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`]));
  t.after(() => gw.close());
  const first = await fetch(`${gw.url}/a`);
  assert.equal(first.status, 204);
  const second = await fetch(`${gw.url}/b`);
  assert.equal(await second.text(), 'real');
  assert.equal(connections.length, 2, 'the out-of-step connection was not reused');
});
