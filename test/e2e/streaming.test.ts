// Streaming with back-pressure: 1 GiB up and 1 GiB down through a gateway
// running as a child process (so its memory is its own), while its RSS is
// sampled from /proc. A gateway that buffered instead of pausing the faster
// side would grow by the size of the transfer. Both ends live in this process
// and stream from one reused block, so this process stays flat too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { gatewayConfig } from '../helpers/config.ts';
import { waitFor } from '../helpers/wait.ts';

const GiB = 1024 * 1024 * 1024;
const TOTAL = GiB;
// V8 lets dead off-heap Buffers (one per socket read) pile up to about
// 64 MiB before it collects them, so a gateway that streams properly peaks
// 70-90 MiB above its baseline here; one that ignores back-pressure grew by
// about 300 MiB in this same test (measured with the pause calls removed).
const MAX_RSS_GROWTH = 128 * 1024 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'packages/cli/bin/rampart.js');

// One block, sent again and again; its pattern does not repeat at a power of
// two smaller than itself, so a dropped or duplicated segment shows.
const BLOCK_SIZE = 256 * 1024 + 13;
const BLOCK = Buffer.alloc(BLOCK_SIZE);
for (let i = 0; i < BLOCK_SIZE; i++) BLOCK[i] = (i * 31 + (i >> 8)) & 0xff;

/** Checks received bytes against the endless repetition of BLOCK, at memcmp speed. */
class PatternCheck {
  offset = 0;
  mismatch: number | null = null;
  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && this.mismatch === null) {
      const at = this.offset % BLOCK_SIZE;
      const n = Math.min(chunk.length - i, BLOCK_SIZE - at);
      if (BLOCK.compare(chunk, i, i + n, at, at + n) !== 0) this.mismatch = this.offset;
      i += n;
      this.offset += n;
    }
  }
}

/** Writes `total` bytes of the pattern to `write`, waiting for 'drain' whenever it says so. */
async function sendPattern(stream: NodeJS.WritableStream & { write(b: Buffer): boolean }, total: number): Promise<void> {
  let sent = 0;
  while (sent < total) {
    const n = Math.min(BLOCK_SIZE, total - sent);
    const ok = stream.write(n === BLOCK_SIZE ? BLOCK : BLOCK.subarray(0, n));
    sent += n;
    if (!ok) await once(stream, 'drain');
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS until stopped; reports the peak. */
function sampleRss(pid: number) {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // The process is gone; the test fails elsewhere.
    }
  }, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends a request head (and optionally a body) on a raw socket; resolves with the status and the counted body. */
async function exchange(port: number, head: string, body: ((socket: net.Socket) => Promise<void>) | null, check: PatternCheck | null) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let headBuf = Buffer.alloc(0);
  let status = 0;
  let length = -1;
  let received = 0;
  let text = '';
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      if (status === 0) {
        headBuf = Buffer.concat([headBuf, chunk]);
        const end = headBuf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const headText = headBuf.toString('latin1', 0, end);
        status = Number(headText.slice(9, 12));
        length = Number(/\r\ncontent-length: (\d+)/i.exec(headText)?.[1] ?? -1);
        chunk = headBuf.subarray(end + 4);
      }
      received += chunk.length;
      if (check) check.push(chunk);
      else text += chunk.toString('latin1');
      if (length >= 0 && received >= length) resolve();
    });
    socket.on('error', reject);
    socket.on('close', () => (length >= 0 && received >= length ? resolve() : reject(new Error(`closed after ${received} of ${length} body bytes (status ${status})`))));
  });
  socket.write(head);
  if (body) await body(socket);
  await done;
  socket.destroy();
  return { status, length, received, text };
}

test('1 GiB up and 1 GiB down through a gateway process: exact bytes, flat memory', { timeout: 120_000 }, async (t) => {
  const upstream = http.createServer((req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
      sendPattern(res, TOTAL).then(
        () => res.end(),
        () => res.destroy(),
      );
      return;
    }
    const check = new PatternCheck();
    req.on('data', (c: Buffer) => check.push(c));
    req.on('end', () => res.end(JSON.stringify({ received: check.offset, mismatch: check.mismatch })));
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });

  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-stream-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'rampart.yaml');
  await writeFile(
    file,
    gatewayConfig([`http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`], {
      listen: `127.0.0.1:${port}`,
      access: false,
      route: { maxBodyBytes: 2 * GiB },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [CLI, 'gateway', '-c', file, '--no-watch'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const pid = child.pid!;
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}: ${stderr}`);
        const probe = net.connect(port, '127.0.0.1');
        probe.on('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.on('error', () => resolve(false));
      }),
    { timeoutMs: 15_000, what: 'the gateway process to listen' },
  );

  // Warm up both paths so the baseline holds the code and buffers any
  // request needs, not only an idle process.
  const warmUp = await exchange(port, `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${4 * BLOCK_SIZE}\r\n\r\n`, (s) => sendPattern(s, 4 * BLOCK_SIZE), null);
  assert.equal(warmUp.status, 200);
  const baseline = rssOf(pid);
  const thisBaseline = process.memoryUsage().rss;

  await t.test('upload', async () => {
    const rss = sampleRss(pid);
    const res = await exchange(port, `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`, (s) => sendPattern(s, TOTAL), null);
    const peak = rss.stop();
    assert.equal(res.status, 200, `${res.text} ${stderr}`);
    assert.deepEqual(JSON.parse(res.text), { received: TOTAL, mismatch: null }, 'every byte arrived, in order');
    t.diagnostic(`upload: gateway RSS ${mib(baseline)} -> peak ${mib(peak)}`);
    assert.ok(peak - baseline < MAX_RSS_GROWTH, `gateway RSS grew by ${mib(peak - baseline)} while 1 GiB went up`);
  });

  await t.test('download', async () => {
    const rss = sampleRss(pid);
    const check = new PatternCheck();
    const res = await exchange(port, 'GET /download HTTP/1.1\r\nHost: a\r\n\r\n', null, check);
    const peak = rss.stop();
    assert.equal(res.status, 200);
    assert.equal(res.length, TOTAL);
    assert.equal(res.received, TOTAL);
    assert.equal(check.mismatch, null, 'every byte arrived, in order');
    t.diagnostic(`download: gateway RSS ${mib(baseline)} -> peak ${mib(peak)}`);
    assert.ok(peak - baseline < MAX_RSS_GROWTH, `gateway RSS grew by ${mib(peak - baseline)} while 1 GiB came down`);
  });

  const growth = process.memoryUsage().rss - thisBaseline;
  assert.ok(growth < MAX_RSS_GROWTH, `the test process itself grew by ${mib(growth)}`);
  assert.equal(child.exitCode, null, `the gateway is still running: ${stderr}`);
});

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
