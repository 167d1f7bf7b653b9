// Request coalescing: 200 clients ask a cache for one
// key it has never seen, all at once, while the origin takes 200 ms to answer
// and counts what reaches it. A cache that coalesces sends one request
// upstream and answers the other 199 from it; one that does not sends 200.
// One round per tool, every step under a deadline.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { stopProcess } from './process.ts';
import { tool, type Running, type ToolContext, type ToolName } from './tools/index.ts';

export const COALESCING = { clients: 200, originDelayMs: 200, bytes: 1024 } as const;

export interface CoalescingEntry {
  tool: string;
  clients: number;
  /** Requests for the key that reached the origin (target 1). */
  upstreamRequests: number;
  /** From the burst's first write to the last complete response. */
  ms: number;
  /** Responses that were 200 with the whole body. */
  ok: number;
  /** How long writing the burst took (every socket was connected first): far below originDelayMs, or the round proves nothing. */
  sendMs: number;
  originDelayMs: number;
}

/**
 * One round per tool, each a fresh instance of its `cache` setup in front of
 * a slow origin, asked for a key of its own. `direct` (the origin itself) is
 * the control: it must count all 200.
 */
export async function measureCoalescing(ctx: ToolContext, names: readonly ToolName[], log: (line: string) => void): Promise<CoalescingEntry[]> {
  const { clients, originDelayMs, bytes } = COALESCING;
  const origin = await startSlowOrigin(originDelayMs, bytes);
  const entries: CoalescingEntry[] = [];
  try {
    const originCtx: ToolContext = { ...ctx, backendPort: origin.port, backendPorts: [origin.port] };
    for (const name of names) {
      let instance: Running | undefined;
      try {
        instance = await tool(name).start(originCtx, 'cache');
        const path = `/coalesce/${name}-${Date.now()}`;
        const result = await burst(instance.port, path, clients, bytes);
        const entry = { tool: name, clients, upstreamRequests: origin.count(path), ms: Math.round(result.ms), ok: result.ok, sendMs: round1(result.sendMs), originDelayMs };
        entries.push(entry);
        const warn = result.sendMs > originDelayMs / 4 ? `  (the burst took ${entry.sendMs} ms to send: not all at once)` : '';
        log(`coalescing ${name.padEnd(8)} ${clients} clients → ${entry.upstreamRequests} upstream request(s), ${entry.ok}/${clients} ok, ${entry.ms} ms${warn}`);
      } catch (error) {
        log(`coalescing ${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        if (instance?.child !== undefined) await stopProcess(instance.child);
      }
    }
  } finally {
    await origin.close();
  }
  return entries;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export interface SlowOrigin {
  port: number;
  /** Requests received for `path` so far. */
  count(path: string): number;
  close(): Promise<void>;
}

/** A node:http origin that answers every GET after `delayMs` with a cacheable `bytes`-long body. */
export async function startSlowOrigin(delayMs: number, bytes: number): Promise<SlowOrigin> {
  const counts = new Map<string, number>();
  const body = Buffer.alloc(bytes, 'x');
  const server = createServer(function slowOrigin(req, res) {
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const timer = setTimeout(() => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'public, max-age=3600',
        etag: `"${createHash('sha256').update(path).digest('hex').slice(0, 16)}"`,
      });
      res.end(body);
    }, delayMs);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('slow origin: no port');
  return {
    port: address.port,
    count: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface BurstResult {
  ok: number;
  ms: number;
  sendMs: number;
}

/**
 * Connects `clients` sockets first, then writes one GET on each in the same
 * tick, so that every request is at the cache before the origin can answer
 * the first. `Connection: close` makes each answer end with the socket.
 */
export async function burst(port: number, path: string, clients: number, bytes: number, deadlineMs = 15_000): Promise<BurstResult> {
  const deadline = Date.now() + deadlineMs;
  const sockets: Socket[] = [];
  try {
    await withDeadline(
      Promise.all(
        Array.from({ length: clients }, () => {
          const socket = connect({ host: '127.0.0.1', port });
          sockets.push(socket);
          return new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('error', reject);
          });
        }),
      ),
      deadline,
      `${clients} connections to ${port}`,
    );
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    const answers = sockets.map((socket) => readAnswer(socket));
    const start = performance.now();
    for (const socket of sockets) socket.write(request);
    const sendMs = performance.now() - start;
    const results = await withDeadline(Promise.all(answers), deadline, `${clients} answers for ${path}`);
    const ok = results.filter((r) => r.status === 200 && r.bodyBytes === bytes).length;
    return { ok, ms: Math.max(...results.map((r) => r.at)) - start, sendMs };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

interface Answer {
  status: number;
  bodyBytes: number;
  /** performance.now() when the answer was complete. */
  at: number;
}

/** Everything the socket receives until the server closes it, read as one HTTP/1.1 response. */
function readAnswer(socket: Socket): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => resolve({ ...parseAnswer(Buffer.concat(chunks)), at: performance.now() }));
    // A reset is an answer too (a failed one): 'close' follows it.
    socket.on('error', () => {});
  });
}

/** Status and body length of a response read to the end; a chunked body is counted without its framing. */
export function parseAnswer(raw: Buffer): { status: number; bodyBytes: number } {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, bodyBytes: 0 };
  const head = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  let body = raw.subarray(end + 4);
  if (/^transfer-encoding:\s*chunked\s*$/im.test(head)) body = dechunk(body);
  return { status, bodyBytes: body.length };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

async function withDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within the deadline`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
