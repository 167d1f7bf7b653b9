// WebSocket through the gateway (RFC 6455 over an HTTP/1.1 Upgrade): the
// handshake is forwarded, then the two sockets are joined; a close on either
// side closes the other, and nothing is left open afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/wait.ts';

interface EchoServer {
  url: string;
  wss: WebSocketServer;
  /** Server-side sockets, in order of connection. */
  sockets: WebSocket[];
  /** Upgrade requests' headers, as the server saw them. */
  handshakes: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startEchoServer(): Promise<EchoServer> {
  const server = http.createServer((_req, res) => res.end('plain http'));
  const wss = new WebSocketServer({ server });
  const sockets: WebSocket[] = [];
  const handshakes: http.IncomingHttpHeaders[] = [];
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    handshakes.push(req.headers);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    wss,
    sockets,
    handshakes,
    close: () =>
      new Promise((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary }));
    ws.once('close', () => reject(new Error('closed before a message')));
  });
}

function serverStatus(gw: { gateway: { status(): Record<string, unknown> } }) {
  return (gw.gateway.status() as { connections: number; upstreams: { app: { servers: { connections: { open: number } }[] } } });
}

test('messages echo both ways through the gateway; the client closing closes the upstream side', async (t) => {
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const gw = await startGateway(gatewayConfig([echo.url]));
  t.after(() => gw.close());

  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket?room=1`);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  assert.equal(echo.handshakes[0]!['x-forwarded-for'], '127.0.0.1', 'the handshake is forwarded like any request');
  assert.equal(echo.handshakes[0]!['via'], '1.1 rampart');

  for (const text of ['hello', 'é'.repeat(1000), 'x'.repeat(200_000)]) {
    const reply = nextMessage(ws);
    ws.send(text);
    const { data, binary } = await reply;
    assert.equal(binary, false);
    assert.equal(data.toString(), text);
  }
  const bin = Buffer.from([0, 1, 2, 255]);
  const reply = nextMessage(ws);
  ws.send(bin);
  assert.deepEqual(await reply, { data: bin, binary: true });

  // Server pushes unprompted.
  const pushed = nextMessage(ws);
  echo.sockets[0]!.send('from the server');
  assert.equal((await pushed).data.toString(), 'from the server');

  const serverClosed = once(echo.sockets[0]!, 'close');
  ws.close(1000, 'bye');
  const [code, reason] = (await serverClosed) as [number, Buffer];
  assert.equal(code, 1000);
  assert.equal(reason.toString(), 'bye');
  await once(ws, 'close');
  await waitFor(() => serverStatus(gw).connections === 0 && serverStatus(gw).upstreams.app.servers[0]!.connections.open === 0, {
    what: 'the tunnel’s two sockets to be closed',
  });
});

test('the upstream closing (cleanly or abruptly) closes the client side', async (t) => {
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const gw = await startGateway(gatewayConfig([echo.url]));
  t.after(() => gw.close());

  const clean = new WebSocket(`ws://127.0.0.1:${gw.port}/a`);
  t.after(() => clean.terminate());
  await once(clean, 'open');
  const cleanClosed = once(clean, 'close');
  echo.sockets[0]!.close(4000, 'server says bye');
  const [code, reason] = (await cleanClosed) as [number, Buffer];
  assert.equal(code, 4000);
  assert.equal(reason.toString(), 'server says bye');

  const abrupt = new WebSocket(`ws://127.0.0.1:${gw.port}/b`);
  t.after(() => abrupt.terminate());
  await once(abrupt, 'open');
  const abruptClosed = once(abrupt, 'close');
  echo.sockets[1]!.terminate();
  const [abruptCode] = (await abruptClosed) as [number];
  assert.equal(abruptCode, 1006, 'closed without a close frame');
  await waitFor(() => serverStatus(gw).connections === 0 && serverStatus(gw).upstreams.app.servers[0]!.connections.open === 0, {
    what: 'every socket of both tunnels to be closed',
  });
});

test('the client vanishing (no close frame) closes the upstream side', async (t) => {
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const gw = await startGateway(gatewayConfig([echo.url]));
  t.after(() => gw.close());
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/c`);
  await once(ws, 'open');
  const serverClosed = once(echo.sockets[0]!, 'close');
  ws.terminate();
  const [code] = (await serverClosed) as [number];
  assert.equal(code, 1006);
});

test('an upstream that refuses the upgrade answers like a normal response', async (t) => {
  const upstream = http.createServer((req, res) => res.end(`no upgrade for ${req.url}`));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const gw = await startGateway(gatewayConfig([`http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`]));
  t.after(() => gw.close());
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/nope`);
  const [err] = (await once(ws, 'error')) as [Error];
  assert.match(err.message, /Unexpected server response: 200/);
});
