// server.ts as a child process, the way `rampart up` and the browser tests
// start it: env in, one "listening on" line out, SIGTERM to stop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from '@rampart/data';
import { startTestPostgres, startTestRedis, type TestPostgres } from '@rampart/data/testing';
import { Browser, waitFor } from './harness.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/seed.ts';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
let pg: TestPostgres;
let cwd: string;

before(async () => {
  pg = await startTestPostgres();
  cwd = await mkdtemp(path.join(os.tmpdir(), 'flights-server-'));
});
after(async () => {
  await pg.stop();
  await rm(cwd, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [SERVER], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

test('three instances start together on one empty database: migrated and seeded once, each names itself, SIGTERM stops them cleanly', async (t) => {
  const instances = ['a', 'b', 'c'].map((id) => run({ DATABASE_URL: pg.url, PORT: '0', RAMPART_INSTANCE_ID: `flights-${id}`, SEED_FLIGHTS: '500', LOG_LEVEL: 'warn' }));
  t.after(() => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
  });
  const urls = await Promise.all(
    instances.map((i) => waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(i.stdout())?.[1] ?? (i.child.exitCode !== null ? Promise.reject(new Error(i.stderr())) : null), 'the listening line', 60_000)),
  );
  for (const [n, url] of urls.entries()) {
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-served-by'), `flights-${'abc'[n]}`);
    assert.equal((await fetch(url)).status, 200);
  }
  const counts = await pg.db.one<{ flights: number; users: number; migrations: number }>(sql`
    select (select count(*)::int from flights) as flights, (select count(*)::int from users) as users, (select count(*)::int from rampart_migrations) as migrations`);
  assert.equal(counts.flights, 500);
  assert.equal(counts.users, 1);
  const secrets = JSON.parse(await readFile(path.join(cwd, '.rampart', 'secrets.json'), 'utf8')) as Record<string, string>;
  assert.ok((secrets['RESET_SECRET'] ?? '').length >= 32, 'development secrets are generated once, under .rampart/');
  for (const i of instances) i.child.kill('SIGTERM');
  const codes = await Promise.all(instances.map((i) => exitOf(i.child)));
  assert.deepEqual(codes, [0, 0, 0]);
});

test('without DATABASE_URL: one clear line on stderr and exit 1', async () => {
  const r = run({ PORT: '0' });
  assert.equal(await exitOf(r.child), 1);
  assert.match(r.stderr(), /^flights: DATABASE_URL is not set; .*\n$/);
});

test('in production, missing secrets stop the start with what to set', async () => {
  const r = run({ DATABASE_URL: pg.url, PORT: '0', NODE_ENV: 'production' });
  assert.equal(await exitOf(r.child), 1);
  assert.match(r.stderr(), /RESET_SECRET is not set/);
  assert.equal(r.stdout(), '');
});

test('with REDIS_URL the sessions and the app cache live in Redis: a login on one instance is known to the other, nothing is stored in PostgreSQL, the board one stored the other serves', async (t) => {
  const redis = await startTestRedis();
  if (redis === null) return t.skip('redis-server not found');
  t.after(() => redis.stop());
  const env = { DATABASE_URL: pg.url, PORT: '0', REDIS_URL: redis.url, SEED_FLIGHTS: '500', LOG_LEVEL: 'warn' };
  const instances = ['r1', 'r2'].map((id) => run({ ...env, RAMPART_INSTANCE_ID: `flights-${id}` }));
  t.after(() => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
  });
  const [first, second] = await Promise.all(
    instances.map((i) => waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(i.stdout())?.[1] ?? (i.child.exitCode !== null ? Promise.reject(new Error(i.stderr())) : null), 'the listening line', 60_000)),
  );
  const sessionsBefore = (await pg.db.one<{ n: number }>(sql`select count(*)::int as n from kit_sessions`)).n;
  const browser = new Browser(first!);
  const login = await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  assert.equal(login.status, 303);
  const onSecond = await fetch(`${second!}/bookings`, { headers: { cookie: browser.cookieHeader() }, redirect: 'manual' });
  assert.equal(onSecond.status, 200, 'the other instance knows the session');
  assert.equal(onSecond.headers.get('x-served-by'), 'flights-r2');
  assert.match(await onSecond.text(), new RegExp(DEMO_EMAIL.replace('.', '\\.')));
  assert.equal((await pg.db.one<{ n: number }>(sql`select count(*)::int as n from kit_sessions`)).n, sessionsBefore, 'no session row in PostgreSQL');
  // The app cache is in Redis too: the board one instance stored, the other
  // serves. (No departure in the next minutes: the board is kept only until its first.)
  await pg.db.query(sql`update flights set departure = departure + interval '20 minutes' where departure >= now() and departure < now() + interval '20 minutes'`);
  assert.match((await fetch(first!)).headers.get('cache-status') ?? '', /^flights; (fwd=uri-miss; stored|hit)$/);
  assert.equal((await fetch(second!)).headers.get('cache-status'), 'flights; hit');
  for (const i of instances) i.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(instances.map((i) => exitOf(i.child))), [0, 0]);
});
