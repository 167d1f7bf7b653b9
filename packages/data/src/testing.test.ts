import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from './sql.ts';
import { startTestPostgres, startTestRedis } from './testing.ts';

type Reply = string | number | null | Reply[] | Error;

/** Parses one RESP reply at `at`; null when `text` does not hold all of it yet. */
function parse(text: string, at = 0): { value: Reply; end: number } | null {
  const eol = text.indexOf('\r\n', at);
  if (eol === -1) return null;
  const head = text.slice(at + 1, eol);
  switch (text[at]) {
    case '+': return { value: head, end: eol + 2 };
    case '-': return { value: new Error(head), end: eol + 2 };
    case ':': return { value: Number(head), end: eol + 2 };
    case '$': {
      const length = Number(head);
      if (length < 0) return { value: null, end: eol + 2 };
      if (text.length < eol + 2 + length + 2) return null;
      return { value: text.slice(eol + 2, eol + 2 + length), end: eol + 2 + length + 2 };
    }
    case '*': {
      const items: Reply[] = [];
      let end = eol + 2;
      for (let i = 0; i < Number(head); i++) {
        const item = parse(text, end);
        if (item === null) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default: throw new Error(`not RESP: ${JSON.stringify(text.slice(at))}`);
  }
}

/** Sends one command on a fresh connection and returns the reply. */
function command(port: number, ...args: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no reply to ${args.join(' ')} within 5 s`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      const reply = parse(text);
      if (reply !== null) {
        socket.destroy();
        resolve(reply.value);
      }
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('startTestRedis: a redis-server of its own on loopback, without persistence, gone after stop()', async (t) => {
  const redis = await startTestRedis();
  if (redis === null) {
    t.skip('redis-server not found');
    return;
  }
  let stopped = false;
  t.after(async () => {
    if (!stopped) await redis.stop();
  });
  assert.notEqual(redis.port, 6379);
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
  assert.ok(alive(redis.pid));

  assert.equal(await command(redis.port, 'PING'), 'PONG');
  assert.equal(await command(redis.port, 'SET', 'k', 'v'), 'OK');
  assert.equal(await command(redis.port, 'GET', 'k'), 'v');
  assert.deepEqual(await command(redis.port, 'CONFIG', 'GET', 'bind'), ['bind', '127.0.0.1']);
  assert.deepEqual(await command(redis.port, 'CONFIG', 'GET', 'save'), ['save', '']);
  assert.deepEqual(await command(redis.port, 'CONFIG', 'GET', 'appendonly'), ['appendonly', 'no']);
  const dirReply = await command(redis.port, 'CONFIG', 'GET', 'dir');
  assert.ok(Array.isArray(dirReply));
  const dir = String(dirReply[1]);
  assert.ok(dir.startsWith(path.join(os.tmpdir(), 'rampart-redis-')), dir);
  assert.ok(existsSync(dir));

  await redis.stop();
  stopped = true;
  assert.equal(alive(redis.pid), false, 'stop() returns after the process exited');
  assert.equal(existsSync(dir), false, 'its folder is removed');
  await assert.rejects(command(redis.port, 'PING'), { code: 'ECONNREFUSED' });
});

test('startTestRedis without redis-server on PATH: null, and one line on stderr', async (t) => {
  const empty = await mkdtemp(path.join(os.tmpdir(), 'rampart-nopath-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const script = `const { startTestRedis } = await import(${JSON.stringify(new URL('./testing.ts', import.meta.url).href)});\nprocess.stdout.write(JSON.stringify(await startTestRedis()));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, PATH: empty }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'null');
  assert.equal(stderr, 'redis-server not found: tests that need Redis are skipped (apt-get install redis-server)\n');
});

test('startTestPostgres: a cluster of its own, removed by stop()', async () => {
  const pg = await startTestPostgres();
  let dir: string;
  try {
    dir = pg.server.dir;
    assert.ok(existsSync(path.join(dir, 'data', 'PG_VERSION')));
    assert.deepEqual(await pg.db.one(sql`SELECT current_database() AS db`), { db: 'rampart' });
  } finally {
    await pg.stop();
  }
  assert.equal(alive(pg.server.pid), false);
  assert.equal(existsSync(dir), false);
});
