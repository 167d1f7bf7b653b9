// The main job, end to end: `rampart up` with an embedded PostgreSQL, the
// migrations and seed, three flights instances behind the gateway. A user
// logs in once and twenty requests land on different instances, each of
// which knows the session (it lives in PostgreSQL); a booking made through one
// instance is seen through the others, and it and the login survive a full
// stop and start of everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { startUp, isAlive, upstreamStatus, type UpProcess } from '../helpers/up.ts';
import { freePort, rampart } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';
import { Browser } from '../../apps/flights/test/harness.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FLIGHTS = path.join(REPO, 'apps', 'flights');

async function writeConfig(dir: string): Promise<{ file: string; gateway: string; admin: string }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const file = path.join(dir, 'rampart.yaml');
  const secret = (n: number) => Buffer.alloc(32, n).toString('base64url') + 'A1b2C3';
  await writeFile(
    file,
    `listen: 127.0.0.1:${port}
admin: 127.0.0.1:${adminPort}
database:
  embedded: { dir: ${JSON.stringify(path.join(dir, 'postgres'))} }
  migrations: [ ${JSON.stringify(path.join(REPO, 'packages', 'kit', 'migrations'))}, ${JSON.stringify(path.join(FLIGHTS, 'migrations'))} ]
  setup: [ ${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(FLIGHTS, 'src', 'seed.ts'))}, "2000" ]
upstreams:
  flights:
    run:
      command: [ ${JSON.stringify(process.execPath)}, src/server.ts ]
      cwd: ${JSON.stringify(FLIGHTS)}
      instances: 3
      env: { NODE_ENV: production, RESET_SECRET: ${JSON.stringify(secret(7))}, SEED_FLIGHTS: "2000", LOG_LEVEL: warn }
    health: { path: /healthz, interval: 500ms }
routes:
  - path: /
    upstream: flights
`,
  );
  return { file, gateway: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` };
}

async function startFlights(file: string, admin: string): Promise<UpProcess> {
  const up = startUp(file);
  await waitFor(
    async () => {
      if (up.child.exitCode !== null) throw new Error(`rampart up exited (${up.child.exitCode}): ${up.stderr()}`);
      const status = await upstreamStatus(admin, 'flights').catch(() => null);
      return (status?.servers.filter((s) => s.state === 'ready').length ?? 0) === 3;
    },
    { timeoutMs: 90_000, what: 'three ready flights instances' },
  );
  return up;
}

const postgresPid = (up: UpProcess) => up.logs.find((l) => l.msg === 'database: embedded PostgreSQL started')?.pid as number | undefined;

test('rampart up runs the diagram: embedded PostgreSQL, migrations, seed, three instances sharing sessions', { timeout: 240_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-flights-up-'));
  // PostgreSQL runs as the `postgres` user when the tests run as root: it must be able to enter the folder.
  await chmod(dir, 0o755);
  let up: UpProcess | null = null;
  t.after(async () => {
    await up?.stop();
    const pid = up === null ? undefined : postgresPid(up);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const { file, gateway, admin } = await writeConfig(dir);
  up = await startFlights(file, admin);
  assert.ok(up.logs.some((l) => typeof l.msg === 'string' && /migration\(s\) applied/.test(l.msg)), 'the migrations ran at up');
  assert.ok(up.logs.some((l) => typeof l.msg === 'string' && /setup .* done/.test(l.msg)), 'the setup command ran');
  const password = (await readFile(path.join(dir, 'postgres', 'password'), 'utf8')).trim();
  assert.ok(password.length >= 32);
  assert.ok(!JSON.stringify(up.logs).includes(password) && !up.stderr().includes(password), 'the database password is never logged');

  // Log in once.
  const browser = new Browser(gateway);
  const login = await browser.submit('/login', '/login', { email: 'demo@example.com', password: 'correct horse battery staple' });
  assert.equal(login.status, 303, 'login redirects');

  // Twenty requests, round-robin over three instances: all of them know the user.
  const servedBy = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const res = await browser.get('/bookings');
    assert.equal(res.status, 200, `request ${i} is served logged in (got ${res.status})`);
    assert.match(await res.text(), /demo@example\.com/);
    const who = res.headers.get('x-served-by') ?? 'unknown';
    servedBy.set(who, (servedBy.get(who) ?? 0) + 1);
  }
  assert.equal(servedBy.size, 3, `the 20 requests reached every instance: ${JSON.stringify([...servedBy])}`);

  // Book a seat through one instance; every instance lists it.
  const front = await (await browser.get('/')).text();
  const flightId = /href="\/flights\/(\d+)"/.exec(front)?.[1] ?? assert.fail('no flight on the front page');
  const booked = await browser.submit(`/flights/${flightId}`, `/flights/${flightId}/book`, { passenger_name: 'Ada Lovelace' });
  assert.equal(booked.status, 303, 'the booking redirects to /bookings');
  for (let i = 0; i < 3; i++) assert.match(await (await browser.get('/bookings')).text(), /Ada Lovelace/);

  // SIGHUP is a reload (a rolling restart of the instances), not an exit:
  // PostgreSQL stays, and the session still works on the new instances.
  const current = up;
  current.child.kill('SIGHUP');
  await waitFor(() => current.logs.some((l) => l.msg === 'rolling restart done'), { timeoutMs: 60_000, what: 'the rolling restart after SIGHUP' });
  assert.equal(current.child.exitCode, null, 'rampart up is still running');
  const afterReload = await browser.get('/bookings');
  assert.equal(afterReload.status, 200);
  assert.match(await afterReload.text(), /Ada Lovelace/);

  // Stop everything: exit 0, PostgreSQL gone with it.
  const pid = postgresPid(up);
  assert.ok(pid !== undefined && pid > 0, 'the log names the PostgreSQL pid');
  assert.equal(await up.stop(30_000), 0);
  await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, what: 'PostgreSQL to stop with rampart up' });

  // Start again on the same folder: nothing to migrate, the data and the login are still there.
  up = await startFlights(file, admin);
  assert.ok(up.logs.some((l) => l.msg === 'database: schema up to date'));
  const again = await browser.get('/bookings');
  assert.equal(again.status, 200);
  assert.match(await again.text(), /Ada Lovelace/);
});

test('the shipped apps/flights/rampart.yaml (npm start) is a valid rampart up config', async () => {
  const check = await rampart(['check', '-c', path.join(FLIGHTS, 'rampart.yaml')]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /valid/);
});
