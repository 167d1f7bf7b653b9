// The origin every tool sits in front of: nginx serving static files from
// memory-cached disk, one worker, no access log, connections never recycled.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { freePort } from './process.ts';
import type { Scenario } from './scenarios.ts';
import type { Running, ToolContext } from './tools/index.ts';
import { startNginx } from './tools/nginx.ts';

/** Where the backend's request counter answers (nginx stub_status). */
export const COUNTER_PATH = '/__bench/requests';

export async function startBackend(
  ctx: Pick<ToolContext, 'dir' | 'core'>,
  nginxBin: string,
  selected: readonly Scenario[],
): Promise<Running> {
  const root = join(ctx.dir, 'www');
  for (const scenario of selected) {
    mkdirSync(dirname(join(root, scenario.file)), { recursive: true });
    writeFileSync(join(root, scenario.file), 'x'.repeat(scenario.bytes));
  }
  // The worker drops to `nobody` when started as root; mkdtemp made the run
  // dir 0700, so open the way to the files.
  chmodSync(ctx.dir, 0o755);
  const port = await freePort();
  // Two more ports on the same server, so balancer scenarios have three
  // servers to spread over without a second backend competing for the core.
  const extra = [await freePort(), await freePort()];
  const server = backendServer(root, extra);
  const running = await startNginx(ctx, nginxBin, 'backend', port, server);
  return { ...running, extraPorts: extra };
}

/**
 * The backend's server block. Under /cache/ every file is cacheable for an
 * hour (nginx adds a strong ETag and Last-Modified to static files itself).
 * stub_status counts every request the backend has served, so the cache
 * scenario can tell a cache that answers from one that forwards.
 */
export function backendServer(root: string, extraPorts: readonly number[]): string {
  return `${extraPorts.map((p) => `listen 127.0.0.1:${p};`).join('\n    ')}
    root ${root};
    sendfile on;
    tcp_nopush on;
    open_file_cache max=64;
    location / { }
    location /cache/ { add_header Cache-Control "public, max-age=3600" always; }
    location = ${COUNTER_PATH} { stub_status; }`;
}

/** stub_status's third counter: requests served so far, this one included. */
export function parseStubStatus(text: string): number {
  const match = /server accepts handled requests\s+\d+\s+\d+\s+(\d+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`backend: unreadable stub_status ${JSON.stringify(text.slice(0, 120))}`);
  return Number(match[1]);
}

/** stub_status's request counter: every request served so far, the reading itself included. */
export function readCounter(port: number, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: COUNTER_PATH, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(parseStubStatus(text));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`backend counter timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Runs `work` and counts the requests that reached the backend meanwhile (the closing reading is not one of them). */
export async function countBackendRequests<T>(port: number, work: () => Promise<T>): Promise<{ result: T; backendRequests: number }> {
  const before = await readCounter(port);
  const result = await work();
  const after = await readCounter(port);
  return { result, backendRequests: after - before - 1 };
}
