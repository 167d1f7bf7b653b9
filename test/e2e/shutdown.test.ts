// Graceful shutdown of `rampart gateway` as a child process: SIGTERM stops
// the listener, lets the request in flight finish, closes idle keep-alive
// connections and exits 0; past shutdownGrace what is left is cut.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startUpstream } from '../helpers/upstream.ts';
import { startGatewayProcess, freePort, type GatewayProcess } from '../helpers/cli.ts';
import { KeepAliveClient, type KeepAliveResponse } from '../helpers/keepalive.ts';
import { waitFor } from '../helpers/wait.ts';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function setup(t: TestContext, grace: string) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let slowArrived = false;
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/slow') {
      slowArrived = true;
      void held.then(() => res.end('slow done'));
      return;
    }
    res.end('ok');
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-shutdown-'));
  t.after(async () => {
    release();
    await Promise.all([upstream.close(), rm(dir, { recursive: true, force: true })]);
  });
  const port = await freePort();
  const file = path.join(dir, 'rampart.yaml');
  await writeFile(file, `listen: "127.0.0.1:${port}"\nadmin: false\nshutdownGrace: ${grace}\nupstreams:\n  app:\n    servers: ["${upstream.url}"]\nroutes:\n  - path: /\n    upstream: app\n`);
  const gw = startGatewayProcess(file);
  t.after(() => gw.kill());
  await waitFor(() => gw.logs.some((l) => l.msg === 'gateway listening') || gw.child.exitCode !== null, { timeoutMs: 15_000, what: 'gateway listening' });
  assert.equal(gw.child.exitCode, null, gw.stderr());
  return { port, gw, release, slowArrived: () => slowArrived };
}

/** Opens a connection, serves one request on it, and leaves it idle. */
async function idleConnection(t: TestContext, port: number): Promise<KeepAliveClient> {
  const client = await KeepAliveClient.connect(port);
  t.after(() => client.close());
  const res = await client.get('/');
  assert.equal(res.status, 200);
  assert.notEqual(res.headers.connection, 'close');
  return client;
}

/** Sends /slow on its own connection and waits until the upstream holds it. */
async function slowRequest(t: TestContext, port: number, arrived: () => boolean) {
  const client = await KeepAliveClient.connect(port);
  t.after(() => client.close());
  let done = false;
  const response: Promise<KeepAliveResponse> = client.get('/slow').finally(() => (done = true));
  response.catch(() => {});
  await waitFor(arrived, { what: 'the slow request at the upstream' });
  return { client, response, done: () => done };
}

async function exitCode(gw: GatewayProcess): Promise<number | null> {
  const timeout = new Promise<'timeout'>((r) => setTimeout(r, 10_000, 'timeout').unref());
  const code = await Promise.race([gw.exited, timeout]);
  assert.notEqual(code, 'timeout', 'the gateway exits');
  return code as number | null;
}

test('SIGTERM: new connections are refused, the request in flight completes, idle connections close, exit 0', async (t) => {
  const { port, gw, release, slowArrived } = await setup(t, '10s');
  const idle = await idleConnection(t, port);
  const slow = await slowRequest(t, port, slowArrived);

  gw.child.kill('SIGTERM');
  await waitFor(() => refused(port), { what: 'the listener to stop accepting' });
  await waitFor(() => idle.closed, { what: 'the idle keep-alive connection to be closed' });
  assert.equal(slow.done(), false, 'the request in flight is still being served');
  assert.equal(gw.child.exitCode, null, 'the gateway waits for it');

  release();
  const res = await slow.response;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'slow done');
  await waitFor(() => slow.client.closed, { what: 'the connection of the finished request to be closed' });
  assert.equal(await exitCode(gw), 0);
  assert.ok(gw.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  assert.equal(gw.logs.find((l) => l.msg === 'gateway stopped')?.forced, 0);
});

test('SIGINT past shutdownGrace: the request still in flight is cut and the gateway exits 0', async (t) => {
  const { port, gw, slowArrived } = await setup(t, '300ms');
  const slow = await slowRequest(t, port, slowArrived);
  gw.child.kill('SIGINT');
  assert.equal(await exitCode(gw), 0);
  await assert.rejects(slow.response, /connection closed before a whole response/);
  assert.equal(gw.logs.find((l) => l.msg === 'gateway stopped')?.forced, 1);
  assert.ok(gw.logs.some((l) => l.msg === 'connections cut at the end of the grace period'));
});

test('a second signal exits at once with code 1, without waiting for the grace period', async (t) => {
  const { port, gw, slowArrived } = await setup(t, '1m');
  await slowRequest(t, port, slowArrived);
  gw.child.kill('SIGTERM');
  await waitFor(() => gw.logs.some((l) => l.msg === 'shutting down'), { what: 'the first signal to be handled' });
  gw.child.kill('SIGTERM');
  assert.equal(await exitCode(gw), 1);
});
