// A client that goes away mid-request: the abort must reach the upstream
// (its request's socket is closed), and nothing may be left behind in the
// gateway — no in-flight count, no upstream connection, no socket or timer
// handle, no heap growth. The gateway runs in this process so its handles
// and heap are this process's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/wait.ts';
import { startBlackhole } from '../helpers/blackhole.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const TOTAL = 1000;
const CONCURRENCY = 50;

interface Held {
  arrived: PromiseWithResolvers<void>;
  closed: PromiseWithResolvers<void>;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function countResources(): { sockets: number; timeouts: number } {
  let sockets = 0;
  let timeouts = 0;
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'TCPSocketWrap') sockets++;
    else if (r === 'Timeout') timeouts++;
  }
  return { sockets, timeouts };
}

interface Status {
  connections: number;
  inflight: number;
  upstreams: { app: { servers: { inflight: number; connections: { open: number; idle: number } }[] } };
}

test(`${TOTAL} requests aborted by the client while the upstream holds them: each abort reaches the upstream, nothing leaks`, async (t) => {
  const held = new Map<string, Held>();
  const upstream = await startUpstream((req, res) => {
    const entry = held.get(req.url!);
    if (!entry) {
      res.end('unexpected');
      return;
    }
    // Held until the client goes away: the response never comes.
    res.on('close', () => entry.closed.resolve());
    entry.arrived.resolve();
  });
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { access: false }));
  t.after(() => gw.close());

  const one = async (i: number) => {
    const id = `/hold/${i}`;
    const entry: Held = { arrived: Promise.withResolvers(), closed: Promise.withResolvers() };
    held.set(id, entry);
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`GET ${id} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
    await within(entry.arrived.promise, 5000, `request ${i} to reach the upstream`);
    // Both ways a client goes: a reset-like destroy, and a polite FIN.
    if (i % 2 === 0) socket.destroy();
    else socket.end();
    await within(entry.closed.promise, 5000, `the abort of request ${i} to reach the upstream`);
    held.delete(id);
    socket.destroy();
  };

  // One round first, so lazily created state (metrics children, pools) is in the baseline.
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => one(-1 - i)));
  await waitFor(() => gw.gateway.inflight === 0, { what: 'the warm-up to settle' });
  await waitFor(() => countResources().sockets === 0, { what: 'warm-up sockets to close' });
  gc();
  const baseline = { ...countResources(), heap: process.memoryUsage().heapUsed };

  let next = 0;
  const worker = async () => {
    while (next < TOTAL) await one(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.equal(held.size, 0, 'every upstream request saw its socket closed');

  await waitFor(
    () => {
      const s = gw.gateway.status() as unknown as Status;
      const server = s.upstreams.app.servers[0]!;
      return gw.gateway.inflight === 0 && s.inflight === 0 && s.connections === 0 && server.inflight === 0 && server.connections.open === 0;
    },
    { what: 'in-flight counts and open connections to return to 0' },
  );
  await waitFor(
    () => {
      const now = countResources();
      return now.sockets <= baseline.sockets && now.timeouts <= baseline.timeouts + 2;
    },
    { what: `socket and timer handles to return to baseline ${JSON.stringify(baseline)}` },
  );
  gc();
  const growth = process.memoryUsage().heapUsed - baseline.heap;
  t.diagnostic(`heap growth ${(growth / 1024).toFixed(0)} KiB; handles ${JSON.stringify(countResources())} vs baseline ${JSON.stringify(baseline)}`);
  assert.ok(growth < 4 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB over ${TOTAL} aborted requests`);
});

test('a request aborted while its upstream connection is being opened cancels the connect', async (t) => {
  const blackhole = await startBlackhole();
  t.after(() => blackhole.close());
  // A connect timeout far beyond the test: only the cancel can close it.
  const gw = await startGateway(gatewayConfig([blackhole.url], { upstream: { connectTimeout: '60s' } }));
  t.after(() => gw.close());
  const server = () => (gw.gateway.status() as unknown as Status).upstreams.app.servers[0]!;
  const sockets: net.Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < 10; i++) {
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`GET /connecting/${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
    sockets.push(socket);
  }
  await waitFor(() => server().connections.open === 10 && server().inflight === 10, { what: 'ten connects under way' });
  for (const s of sockets) s.destroy();
  await waitFor(() => gw.gateway.inflight === 0 && server().inflight === 0 && server().connections.open === 0, {
    what: 'the pending connects to be abandoned',
  });
  const logged = await waitFor(() => {
    const lines = gw.logs.filter((l) => String(l['path']).startsWith('/connecting/'));
    return lines.length === 10 ? lines : null;
  }, { what: 'ten access log lines' });
  assert.deepEqual(new Set(logged.map((l) => l['status'])), new Set([499]));
  assert.deepEqual(new Set(logged.map((l) => l['error'])), new Set(['RAMPART_ERR_CLIENT_ABORTED']));
});
