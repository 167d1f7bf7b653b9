// Responses the gateway writes itself: short text/plain bodies that name the
// cause, never a stack trace or an internal address, framed like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { openRaw, finalResponses, hasResponses } from '../helpers/http-text.ts';

test('no route: 404 with a short text/plain body', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('app'));
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { routes: [{ path: '/api', upstream: 'app' }] }));
  t.after(() => gw.close());

  const res = await fetch(`${gw.url}/apix/secret?q=1`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const body = await res.text();
  assert.equal(body, '404 Not Found: no route matches this request\n');
  assert.ok(body.length < 200);
  assert.equal(res.headers.get('content-length'), String(body.length));
  assert.equal(res.headers.get('via'), '1.1 rampart');
  const access = gw.logs.find((l) => l['path'] === '/apix/secret?q=1');
  assert.equal(access?.['status'], 404);
  assert.equal(access?.['error'], 'RAMPART_ERR_NO_ROUTE');
});

test('a HEAD request the gateway answers itself gets no body, so the next response stays in step', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('app'));
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { routes: [{ path: '/api', upstream: 'app' }] }));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  // Once after a GET (the previous request's state must not leak), once first.
  conn.socket.write('HEAD /nowhere HTTP/1.1\r\nHost: a\r\n\r\nGET /api HTTP/1.1\r\nHost: a\r\n\r\nHEAD /nowhere HTTP/1.1\r\nHost: a\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n');
  const noBody = [true, false, true, false];
  const data = await conn.until(hasResponses(4, { noBody }), 'four responses');
  const responses = finalResponses(data, { noBody });
  assert.deepEqual(responses.map((r) => r.status), [404, 200, 404, 404]);
  assert.equal(responses[1]!.body.toString(), 'app');
  assert.equal(responses[3]!.body.toString(), '404 Not Found: no route matches this request\n');
});

test('a malformed request gets 400 with a short reason and the connection is closed', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('app'));
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url]));
  t.after(() => gw.close());
  const conn = await openRaw(gw.port);
  t.after(() => conn.socket.destroy());
  conn.socket.write('GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n');
  await conn.untilClosed();
  const [res] = finalResponses(conn.received());
  assert.equal(res!.status, 400);
  assert.deepEqual(res!.headers.get('content-type'), ['text/plain; charset=utf-8']);
  assert.deepEqual(res!.headers.get('connection'), ['close']);
  assert.equal(res!.body.toString(), '400 Bad Request: invalid header name\n');
});
