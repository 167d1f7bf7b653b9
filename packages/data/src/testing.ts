// Servers of their own for one test file: a fresh PostgreSQL cluster (the
// binaries come with npm) or a redis-server (from PATH) in a temporary folder
// on a free port, removed again by stop(). Nothing is shared between files.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from './db.ts';
import { DataError } from './errors.ts';
import { freePort } from './free-port.ts';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded.ts';

export interface TestPostgres {
  readonly url: string;
  readonly server: RunningPostgres;
  /** A pool on the test database; closed by stop(). */
  readonly db: Db;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-pg-'));
  let server: RunningPostgres;
  try {
    server = await startEmbeddedPostgres({ dir });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const db = createDb({ url: server.url, max: 5 });
  return {
    url: server.url,
    server,
    db,
    async stop() {
      await db.close().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the server by its PID, waits for it to exit and removes its folder. */
  stop(): Promise<void>;
}

const NO_REDIS = 'redis-server not found: tests that need Redis are skipped (apt-get install redis-server)\n';

/**
 * A redis-server of its own for one test file, on a free port on 127.0.0.1,
 * with persistence off and its folder in a temporary directory; never the
 * machine's own Redis on 6379. Null, with one line on stderr, when no
 * redis-server is on PATH: the caller skips its Redis tests.
 */
export async function startTestRedis(): Promise<TestRedis | null> {
  const binary = await findOnPath('redis-server');
  if (binary === null) {
    process.stderr.write(NO_REDIS);
    return null;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-redis-'));
  let lastError: unknown;
  // The free port is free when we look, not necessarily when redis binds it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await spawnRedis(binary, port, dir);
    } catch (err) {
      lastError = err;
      if (!(err instanceof DataError && err.message.includes('in use'))) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function spawnRedis(binary: string, port: number, dir: string): Promise<TestRedis> {
  const child = spawn(binary, [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await spawned;
  const pid = child.pid ?? 0;

  const deadline = Date.now() + 10_000;
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const inUse = /address already in use/i.test(output);
      throw new DataError('RAMPART_ERR_REDIS_START', `redis-server exited before answering PING on 127.0.0.1:${port}${inUse ? ' (port in use)' : ''}:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new DataError('RAMPART_ERR_REDIS_START', `redis-server (pid ${pid}) did not answer PING on 127.0.0.1:${port} within 10 s:\n${output}`);
    }
    ready = await ping(port);
    if (!ready) await new Promise((r) => setTimeout(r, 20));
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        // SIGTERM makes redis shut down cleanly (no save: `--save ""`); a
        // server that hangs is killed after a deadline rather than leaked.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True when a RESP PING on 127.0.0.1:port gets `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function findOnPath(name: string): Promise<string | null> {
  for (const folder of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (folder === '') continue;
    const candidate = path.join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}
