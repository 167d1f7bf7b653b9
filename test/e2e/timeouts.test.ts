// Upstream failures and timeouts: each ends the client's request with the
// right status and a short body that names the cause without internals, and
// the upstream connection is closed, not left to linger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { openRaw, parseResponses } from '../helpers/http-text.ts';
import { waitFor } from '../helpers/wait.ts';
import { startBlackhole } from '../helpers/blackhole.ts';

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw upstream that runs `onSocket` for each connection and records when they close. */
async function rawUpstream(onSocket: (socket: net.Socket) => void) {
  const sockets: net.Socket[] = [];
  let closed = 0;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.length,
    closed: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function assertNoInternals(body: string, port: number): void {
  assert.ok(body.length < 200, 'short');
  assert.doesNotMatch(body, /127\.0\.0\.1|localhost/, 'no internal address');
  assert.ok(!body.includes(String(port)), 'no internal port');
  assert.doesNotMatch(body, /\n\s+at |Error:|ECONN/, 'no stack trace or errno');
}

test('connection refused: 502 with a short body naming the cause', async (t) => {
  const port = await deadPort();
  const gw = await startGateway(gatewayConfig([`http://127.0.0.1:${port}`]));
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/x`);
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  const body = await res.text();
  assert.equal(body, '502 Bad Gateway: could not connect to the upstream server\n');
  assertNoInternals(body, port);
  // The log, not the client, gets the detail.
  const access = await waitFor(() => gw.logs.find((l) => l['path'] === '/x'), { what: 'the access log line' });
  assert.equal(access['error'], 'RAMPART_ERR_UPSTREAM_CONNECT');
  assert.equal(access['status'], 502);
  await waitFor(() => gw.gateway.inflight === 0, { what: 'no request in flight' });
});

test('connect timeout: a server that never completes the handshake gets 502 after connectTimeout', async (t) => {
  const blackhole = await startBlackhole();
  t.after(() => blackhole.close());
  const port = blackhole.port;
  const gw = await startGateway(gatewayConfig([`http://127.0.0.1:${port}`], { upstream: { connectTimeout: '300ms', headersTimeout: '3s' } }));
  t.after(() => gw.close());
  const started = Date.now();
  const res = await fetch(`${gw.url}/slow-connect`);
  const elapsed = Date.now() - started;
  assert.equal(res.status, 502);
  const body = await res.text();
  assert.equal(body, '502 Bad Gateway: timed out connecting to the upstream server\n');
  assertNoInternals(body, port);
  assert.ok(elapsed >= 250 && elapsed < 3000, `answered after the timeout (${elapsed} ms)`);
  const status = gw.gateway.status() as { upstreams: { app: { servers: { connections: { open: number } }[] } } };
  assert.equal(status.upstreams.app.servers[0]!.connections.open, 0, 'the pending connection was abandoned');
});

test('headers timeout: an upstream that accepts and never answers gets 504, and its connection is closed', async (t) => {
  const upstream = await rawUpstream((socket) => socket.resume());
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { upstream: { headersTimeout: '300ms' } }));
  t.after(() => gw.close());
  const started = Date.now();
  const res = await fetch(`${gw.url}/never`);
  const elapsed = Date.now() - started;
  assert.equal(res.status, 504);
  const body = await res.text();
  assert.equal(body, '504 Gateway Timeout: the upstream server did not answer in time\n');
  assertNoInternals(body, upstream.port);
  assert.ok(elapsed >= 250 && elapsed < 3000, `answered after the timeout (${elapsed} ms)`);
  await waitFor(() => upstream.closed() === 1, { what: 'the upstream connection to be closed' });
});

test('idle timeout: an upstream that sends headers and then stalls has the client connection cut', async (t) => {
  const upstream = await rawUpstream((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'));
  });
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { upstream: { idleTimeout: '300ms', headersTimeout: '5s' } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  const started = Date.now();
  conn.socket.write('GET /stall HTTP/1.1\r\nHost: a\r\n\r\n');
  await conn.untilClosed();
  const elapsed = Date.now() - started;
  const parsed = parseResponses(conn.received(), { eof: true });
  assert.equal(parsed.responses[0]!.status, 200, 'the head had already gone to the client');
  assert.equal(parsed.complete, false, 'the body is cut short, so the client can tell');
  assert.ok(conn.received().toString('latin1').endsWith('0123456789'));
  assert.ok(elapsed >= 250 && elapsed < 3000, `cut after the idle timeout (${elapsed} ms)`);
  await waitFor(() => upstream.closed() === 1, { what: 'the upstream connection to be closed' });
  const access = await waitFor(() => gw.logs.find((l) => l['path'] === '/stall'), { what: 'the access log line' });
  assert.equal(access['error'], 'RAMPART_ERR_UPSTREAM_IDLE_TIMEOUT');
  await waitFor(() => gw.gateway.inflight === 0, { what: 'no request in flight' });
});

test('an upstream that closes mid-response has the client connection cut, and the next request is served', async (t) => {
  let n = 0;
  const upstream = await rawUpstream((socket) => {
    socket.on('data', () => {
      if (++n === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET /cut HTTP/1.1\r\nHost: a\r\n\r\n');
  await conn.untilClosed();
  assert.equal(parseResponses(conn.received(), { eof: true }).complete, false);
  const res = await fetch(`${gw.url}/next`);
  assert.equal(await res.text(), 'ok');
});
