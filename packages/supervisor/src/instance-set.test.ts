import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { InstanceSet, type InstanceSetOptions } from './instance-set.ts';
import type { Instance } from './instance.ts';
import { SupervisorError } from './errors.ts';
import { FIXTURE, isAlive, waitFor } from './testing/load.ts';

interface Line {
  id: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A set running the fixture app; every process it ever started is checked gone after the test. */
function fixtureSet(t: TestContext, options: Partial<InstanceSetOptions> = {}) {
  const lines: Line[] = [];
  const pids = new Set<number>();
  const set = new InstanceSet({
    name: 'web',
    command: [process.execPath, FIXTURE],
    healthPath: '/healthz',
    pollIntervalMs: 20,
    stopGraceMs: 2_000,
    onOutput: (id, stream, line) => lines.push({ id, stream, line }),
    ...options,
  });
  set.on('starting', (i) => {
    if (i.pid !== undefined) pids.add(i.pid);
  });
  t.after(async () => {
    await set.stop();
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} outlived the test`);
  });
  return { set, lines, pids };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('N instances on their own ports, each ready only once its health path answers; output collected with the id', async (t) => {
  const { set, lines } = fixtureSet(t, { instances: 2, env: { READY_AFTER_MS: '300', EXTRA: 'from-env' } });
  const startedAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  set.on('starting', (i) => startedAt.set(i.id, Date.now()));
  set.on('ready', (i) => readyAt.set(i.id, Date.now()));
  await set.start();

  const instances = set.instances();
  assert.deepEqual(instances.map((i) => [i.id, i.state]), [['web-1', 'ready'], ['web-2', 'ready']]);
  assert.notEqual(instances[0]!.port, instances[1]!.port);
  for (const i of instances) {
    // The app answers 503 on /healthz for its first 300 ms (timed from its own start, after our spawn).
    assert.ok(readyAt.get(i.id)! - startedAt.get(i.id)! >= 300, `${i.id} was ready after ${readyAt.get(i.id)! - startedAt.get(i.id)!} ms`);
    assert.equal(i.url, `http://127.0.0.1:${i.port}`);
    const { status, body } = await get(i.url);
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), { pid: i.pid, id: i.id, greeting: null, extra: 'from-env' });
    assert.ok(lines.some((l) => l.id === i.id && l.stream === 'stdout' && l.line === `listening on ${i.port}`));
    assert.ok(lines.some((l) => l.id === i.id && l.stream === 'stderr' && l.line === `stderr line from ${i.id}`));
  }
  assert.equal(set.replicas, 2);
  assert.equal(set.readyCount(), 2);
  const [info] = set.list();
  assert.deepEqual(Object.keys(info!).sort(), ['generation', 'id', 'lastExit', 'pid', 'port', 'readyAt', 'restarts', 'startedAt', 'state', 'url']);
  assert.doesNotThrow(() => JSON.stringify(set.list()));
});

test('a string command runs through sh with exec: SIGTERM reaches the server, which closes gracefully and exits 0', async (t) => {
  const { set, lines } = fixtureSet(t, { command: '"$NODE_BIN" "$APP" --unused-arg', env: { NODE_BIN: process.execPath, APP: FIXTURE } });
  const exits: [string, number | null, string | null][] = [];
  set.on('exited', (i, code, signal) => exits.push([i.id, code, signal]));
  await set.start();
  const [instance] = set.instances();
  assert.equal(instance?.state, 'ready');
  // The PID we signal is node itself, not a shell waiting for it.
  assert.deepEqual(readFileSync(`/proc/${instance.pid}/cmdline`, 'utf8').split('\0').slice(0, 3), [process.execPath, FIXTURE, '--unused-arg']);
  await set.stop();
  assert.deepEqual(exits, [['web-1', 0, null]], 'the app handled SIGTERM and exited 0; a shell in between would have died by the signal');
  assert.ok(lines.some((l) => l.line === 'SIGTERM received'));
  assert.equal(instance.state, 'stopped');
  assert.equal(instance.lastExit?.reason, 'exited with code 0');
});

test('a server that ignores SIGTERM is killed with SIGKILL after the grace period', async (t) => {
  const { set } = fixtureSet(t, { env: { IGNORE_SIGTERM: '1' }, stopGraceMs: 300 });
  await set.start();
  const [instance] = set.instances();
  const began = performance.now();
  await set.stop();
  const took = performance.now() - began;
  assert.ok(took >= 290, `stopped after ${took} ms, before the grace period`);
  assert.equal(instance?.lastExit?.signal, 'SIGKILL');
  assert.equal(instance.lastExit.reason, 'killed by SIGKILL');
});

test('a crashed instance is reported at once and restarted with backoff that resets after a stable run', async (t) => {
  const { set } = fixtureSet(t, { restartBackoff: { baseMs: 40, maxMs: 1_000, stableAfterMs: 400 }, random: () => 1 });
  const events: string[] = [];
  const delays: number[] = [];
  set.on('ready', (i) => events.push(`ready ${i.id} ${i.pid}`));
  set.on('exited', (i, code, signal) => events.push(`exited ${i.id} ${code} ${signal} ${i.state}`));
  set.on('restarting', (_, delay) => delays.push(delay));
  await set.start();
  const [instance] = set.instances();
  assert.ok(instance);

  const crash = async (expectedRestarts: number) => {
    const pid = instance.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to be reported', () => events.includes(`exited web-1 null SIGKILL crashed`));
    events.length = 0;
    await waitFor('the restart to be ready', () => instance.state === 'ready' && instance.restarts === expectedRestarts, { timeoutMs: 5_000 });
    assert.notEqual(instance.pid, pid, 'a new process');
    assert.equal(instance.id, 'web-1', 'the same id');
  };
  await crash(1);
  await crash(2); // ran well under 400 ms: the delay doubles
  const readySince = Date.now();
  await waitFor('a stable run', () => Date.now() - readySince >= 400 && instance.state === 'ready', { timeoutMs: 2_000 });
  await crash(3); // ran ≥ 400 ms: back to the base
  assert.deepEqual(delays, [40, 80, 40]);
  assert.equal(instance.lastExit?.reason, 'killed by SIGKILL');
});

test('a crash loop backs off exponentially up to the cap', async (t) => {
  const { set } = fixtureSet(t, { env: { EXIT_AT_START: '3' }, restartBackoff: { baseMs: 20, maxMs: 160 }, random: () => 1 });
  const delays: number[] = [];
  const codes: (number | null)[] = [];
  set.on('restarting', (_, delay) => delays.push(delay));
  set.on('exited', (_, code) => codes.push(code));
  let ready = false;
  set.on('ready', () => (ready = true));
  await set.start(); // resolves after the first failure; the restarts go on
  await waitFor('six restarts', () => delays.length >= 6, { timeoutMs: 5_000 });
  assert.deepEqual(delays.slice(0, 6), [20, 40, 80, 160, 160, 160]);
  assert.ok(codes.every((c) => c === 3));
  assert.equal(ready, false);
  assert.equal(set.instances()[0]?.lastExit?.reason, 'exited with code 3');
});

test('an instance that never answers its health check is ended after startTimeout, reported and retried', async (t) => {
  const { set } = fixtureSet(t, { env: { NEVER_READY: '1' }, startTimeoutMs: 400, restartBackoff: { baseMs: 5_000 } });
  const restarting: number[] = [];
  set.on('restarting', (_, delay) => restarting.push(delay));
  let readyEvents = 0;
  set.on('ready', () => readyEvents++);
  const began = performance.now();
  await set.start();
  assert.ok(performance.now() - began >= 400);
  const [instance] = set.instances();
  assert.equal(instance?.state, 'crashed');
  assert.equal(instance.lastExit?.reason, 'not ready within 400 ms');
  assert.equal(restarting.length, 1);
  assert.equal(readyEvents, 0);
});

test('a command that cannot be spawned is a crash to retry, not an exception', async (t) => {
  const { set } = fixtureSet(t, { command: ['/nonexistent/server'], restartBackoff: { baseMs: 5_000 } });
  const exits: [number | null, string | null][] = [];
  set.on('exited', (_, code, signal) => exits.push([code, signal]));
  await set.start();
  const [instance] = set.instances();
  assert.equal(instance?.state, 'crashed');
  assert.deepEqual(exits, [[null, null]]);
  assert.match(instance.lastExit?.reason ?? '', /^could not start: spawn \/nonexistent\/server ENOENT/);
});

test('scaleTo: up starts instances; down removes the newest first — removing, then drain, then stop', async (t) => {
  const log: string[] = [];
  const { set } = fixtureSet(t, {
    instances: 1,
    drain: async (i: Instance) => {
      log.push(`drain ${i.id} ${i.state}`);
      await Promise.resolve();
    },
  });
  set.on('removing', (i, reason) => log.push(`removing ${i.id} ${reason}`));
  set.on('exited', (i, code) => log.push(`exited ${i.id} ${code} ${i.state}`));
  await set.start();
  await set.scaleTo(3);
  assert.deepEqual(set.instances().map((i) => [i.id, i.state]), [['web-1', 'ready'], ['web-2', 'ready'], ['web-3', 'ready']]);
  const stopping = set.scaleTo(1);
  assert.equal(set.replicas, 1, 'the new count is visible at once');
  await stopping;
  assert.deepEqual(set.instances().map((i) => i.id), ['web-1']);
  for (const id of ['web-3', 'web-2']) {
    const steps = log.filter((l) => l.includes(` ${id} `));
    assert.deepEqual(steps, [`removing ${id} scale-down`, `drain ${id} draining`, `exited ${id} 0 stopped`]);
  }
  assert.ok(log.indexOf('removing web-3 scale-down') < log.indexOf('removing web-2 scale-down'), 'newest first');
});

test('stop() removes every instance and refuses more work; killAllSync() leaves no process', async (t) => {
  const { set, pids } = fixtureSet(t, { instances: 2 });
  await set.start();
  set.killAllSync();
  await waitFor('the processes to be gone', () => [...pids].every((pid) => !isAlive(pid)));
  await set.stop();
  await set.stop(); // idempotent
  assert.deepEqual(set.instances(), []);
  await assert.rejects(set.scaleTo(2), { code: 'RAMPART_ERR_SUPERVISOR_STOPPED' });
  await assert.rejects(set.rollingRestart(), { code: 'RAMPART_ERR_SUPERVISOR_STOPPED' });
});

test('bad options are refused with a stable code and the key', async () => {
  const refused = (options: Partial<InstanceSetOptions>, code: string, text: RegExp) =>
    assert.throws(
      () => new InstanceSet({ name: 'web', command: 'node server.js', ...options }),
      (err: unknown) => err instanceof SupervisorError && err.code === code && text.test(err.message),
    );
  refused({ instances: -1 }, 'RAMPART_ERR_SUPERVISOR_OPTION', /^instances: /);
  refused({ healthPath: 'healthz' }, 'RAMPART_ERR_SUPERVISOR_OPTION', /^healthPath: must start with \//);
  refused({ name: 'a b' }, 'RAMPART_ERR_SUPERVISOR_OPTION', /^name: /);
  refused({ stopGraceMs: 0 }, 'RAMPART_ERR_SUPERVISOR_OPTION', /^stopGraceMs: /);
  refused({ restartBackoff: { baseMs: 500, maxMs: 100 } }, 'RAMPART_ERR_SUPERVISOR_OPTION', /^restartBackoff: /);
  refused({ command: 'cd app && node server.js' }, 'RAMPART_ERR_SUPERVISOR_COMMAND', /contains "&"/);
  const set = new InstanceSet({ name: 'web', command: 'node server.js' });
  await assert.rejects(set.scaleTo(1.5), { code: 'RAMPART_ERR_SUPERVISOR_OPTION' });
  await set.stop();
});
