// Limits on what clients may send: body size (by Content-Length and while
// streaming chunked), slow heads and bodies, head size, connection count.
// Whatever breaks a limit must not reach, or must stop reaching, the upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { openRaw, finalResponses, parseResponses } from '../helpers/http-text.ts';
import { waitFor } from '../helpers/wait.ts';

interface Seen {
  url: string;
  bytes: number;
  aborted: boolean;
  closed: boolean;
}

/** An upstream that reads each body to its end (or abort) and records what it saw. */
async function recordingUpstream(respondEarly = false) {
  const seen: Seen[] = [];
  let connections = 0;
  const upstream = await startUpstream((req: http.IncomingMessage, res: http.ServerResponse) => {
    const entry: Seen = { url: req.url!, bytes: 0, aborted: false, closed: false };
    seen.push(entry);
    if (respondEarly) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started;');
    }
    req.on('data', (c: Buffer) => (entry.bytes += c.length));
    req.on('aborted', () => (entry.aborted = true));
    res.on('close', () => {
      entry.closed = true;
      if (!res.writableFinished) entry.aborted = true;
    });
    req.on('end', () => res.end(`got ${entry.bytes}`));
  });
  upstream.server.on('connection', () => connections++);
  return { upstream, seen, connections: () => connections };
}

function chunk(size: number): string {
  return `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n`;
}

test('a Content-Length over limits.maxBodyBytes gets 413 before the upstream sees anything', async (t) => {
  const { upstream, connections } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxBodyBytes: 1000 } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n' + 'x'.repeat(200));
  await conn.untilClosed();
  const [res] = finalResponses(conn.received());
  assert.equal(res!.status, 413);
  assert.match(res!.body.toString(), /^413 [A-Za-z ]+: request body larger than 1000 bytes\n$/);
  assert.deepEqual(res!.headers.get('connection'), ['close']);
  assert.equal(connections(), 0, 'the upstream was never contacted');

  // Exactly at the limit is fine.
  const ok = await fetch(`${gw.url}/ok`, { method: 'POST', body: 'y'.repeat(1000) });
  assert.equal(await ok.text(), 'got 1000');
});

test('routes[].maxBodyBytes overrides the global limit', async (t) => {
  const { upstream } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(
    gatewayConfig([upstream.url], {
      limits: { maxBodyBytes: 1000 },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/upload', upstream: 'app', maxBodyBytes: 5000 },
      ],
    }),
  );
  t.after(() => gw.close());
  assert.equal((await fetch(`${gw.url}/upload`, { method: 'POST', body: 'y'.repeat(5000) })).status, 200);
  assert.equal((await fetch(`${gw.url}/other`, { method: 'POST', body: 'y'.repeat(1001) })).status, 413);
});

test('a chunked body over the limit in the first packet gets 413 and never goes upstream', async (t) => {
  const { upstream, connections } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxBodyBytes: 1000 } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /chunky HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk(600) + chunk(600) + '0\r\n\r\n');
  await conn.untilClosed();
  assert.equal(finalResponses(conn.received())[0]!.status, 413);
  await waitFor(() => gw.gateway.inflight === 0, { what: 'no request in flight' });
  const status = gw.gateway.status() as { upstreams: { app: { servers: { inflight: number }[] } } };
  assert.equal(status.upstreams.app.servers[0]!.inflight, 0, 'no exchange was started');
  assert.equal(connections(), 0, 'the upstream was never contacted');
});

test('a chunked body that grows over the limit mid-stream gets 413 and the upstream request is aborted', async (t) => {
  const { upstream, seen } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxBodyBytes: 100_000 } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk(60_000));
  await waitFor(() => seen[0]?.bytes === 60_000, { what: 'the first chunk to reach the upstream' });
  conn.socket.write(chunk(60_000));
  await conn.untilClosed();
  const [res] = finalResponses(conn.received());
  assert.equal(res!.status, 413);
  await waitFor(() => seen[0]!.closed, { what: 'the upstream request to be aborted' });
  assert.equal(seen[0]!.aborted, true);
  assert.ok(seen[0]!.bytes <= 100_000, 'no more than the limit went upstream');
  await waitFor(() => gw.gateway.inflight === 0, { what: 'no request in flight' });
});

test('over the limit after the response started: the connection is cut and the upstream request aborted', async (t) => {
  const { upstream, seen } = await recordingUpstream(true);
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxBodyBytes: 100_000 } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk(60_000));
  await conn.until((d) => d.toString('latin1').includes('started;'), 'the response to start');
  conn.socket.write(chunk(60_000));
  await conn.untilClosed();
  const parsed = parseResponses(conn.received(), { eof: true });
  assert.equal(parsed.responses[0]!.status, 200);
  assert.equal(parsed.complete, false, 'the response is cut, not ended as if whole');
  await waitFor(() => seen[0]!.closed, { what: 'the upstream request to be aborted' });
  assert.equal(seen[0]!.aborted, true);
});

test('slowloris: a head trickling in slower than headersTimeout gets 408 and the connection is closed', async (t) => {
  const { upstream, connections } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { headersTimeout: '300ms' } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  const head = 'GET /slow HTTP/1.1\r\nHost: a\r\nX-Padding: ' + 'p'.repeat(100) + '\r\n\r\n';
  const started = Date.now();
  let sent = 0;
  // One byte every 20 ms: the whole head would take over 2.5 s.
  const timer = setInterval(() => {
    if (conn.closed() || sent >= head.length) return clearInterval(timer);
    conn.socket.write(head[sent++]!);
  }, 20);
  t.after(() => clearInterval(timer));
  await conn.untilClosed(3000);
  const elapsed = Date.now() - started;
  assert.ok(sent < head.length, 'closed before the head was complete');
  assert.ok(elapsed >= 250 && elapsed < 2000, `closed after headersTimeout (${elapsed} ms)`);
  const [res] = finalResponses(conn.received());
  assert.equal(res!.status, 408);
  assert.deepEqual(res!.headers.get('connection'), ['close']);
  assert.equal(connections(), 0);
});

test('a body that stalls longer than bodyTimeout gets 408 and the upstream request is aborted', async (t) => {
  const { upstream, seen } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { bodyTimeout: '300ms' } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('POST /stall HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc');
  await conn.untilClosed();
  assert.equal(finalResponses(conn.received())[0]!.status, 408);
  await waitFor(() => seen[0]?.closed, { what: 'the upstream request to be aborted' });
  assert.equal(seen[0]!.aborted, true);
});

test('a head over limits.maxHeaderBytes gets 431', async (t) => {
  const { upstream, connections } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxHeaderBytes: 2048 } }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`);
  await conn.untilClosed();
  assert.equal(finalResponses(conn.received())[0]!.status, 431);
  assert.equal(connections(), 0);
});

test('limits.maxConnections: 5 open, the 6th is closed at accept; a slot frees when one closes', async (t) => {
  const { upstream } = await recordingUpstream();
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { limits: { maxConnections: 5 } }));
  t.after(() => gw.close());
  const open = await Promise.all(Array.from({ length: 5 }, () => openRaw(gw.port)));
  t.after(() => open.forEach((c) => c.socket.destroy()));
  await waitFor(() => (gw.gateway.status() as { connections: number }).connections === 5, { what: 'five accepted connections' });

  const sixth = await openRaw(gw.port);
  t.after(() => sixth.socket.destroy());
  sixth.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await sixth.untilClosed();
  assert.equal(sixth.received().length, 0, 'closed without a response');

  // The five are still served.
  open[0]!.socket.write('GET /still HTTP/1.1\r\nHost: a\r\n\r\n');
  await open[0]!.until((d) => d.toString('latin1').includes('got 0'), 'a response on an accepted connection');

  open[4]!.socket.destroy();
  await waitFor(() => (gw.gateway.status() as { connections: number }).connections === 4, { what: 'the slot to free' });
  const next = await openRaw(gw.port);
  t.after(() => next.socket.destroy());
  next.socket.write('GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
  await next.until((d) => d.toString('latin1').includes('got 0'), 'a response once a slot is free');
});
