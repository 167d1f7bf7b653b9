// Rolling restart under load. PM2's most reported reload complaint
// (Unitech/pm2#2573, "Reload causes downtime / failed requests") is requests
// failing while workers are swapped. Here a balancer that follows the
// supervisor's events, with no retries, must see zero failed requests.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { InstanceSet, type InstanceSetOptions } from './instance-set.ts';
import { FIXTURE, LoadLoop, TestBalancer, isAlive, waitFor } from './testing/load.ts';

function setUnderLoad(t: TestContext, options: Partial<InstanceSetOptions>) {
  const balancer = new TestBalancer();
  const pids = new Set<number>();
  const set = new InstanceSet({
    name: 'web',
    command: [process.execPath, FIXTURE],
    healthPath: '/healthz',
    pollIntervalMs: 20,
    stopGraceMs: 2_000,
    drain: (i) => balancer.drain(i),
    onOutput: () => {},
    ...options,
  });
  balancer.attach(set);
  set.on('starting', (i) => {
    if (i.pid !== undefined) pids.add(i.pid);
  });
  const load = new LoadLoop(balancer, { maxRequests: 50_000, maxMs: 20_000 });
  t.after(async () => {
    await load.stop();
    await set.stop();
    balancer.close();
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} outlived the test`);
  });
  return { set, balancer, load };
}

test('a rolling restart under load fails no request: new ready → added → old removed → drained → stopped, one at a time', async (t) => {
  const { set, balancer, load } = setUnderLoad(t, { instances: 3, env: { DELAY_MS: '20', GREETING: 'v1' } });
  const log: string[] = [];
  const readyAtRemoval: number[] = [];
  set.on('ready', (i) => log.push(`ready ${i.id}`));
  // Registered after the balancer's own listener: sees the balancer after the removal.
  set.on('removing', (i) => {
    log.push(`removing ${i.id}`);
    readyAtRemoval.push(balancer.readyIds.length);
  });
  set.on('exited', (i) => log.push(`exited ${i.id}`));
  await set.start();
  const oldPids = set.instances().map((i) => i.pid);
  log.length = 0;

  load.setConcurrency(8);
  await waitFor('load to flow', () => load.ok >= 100);
  const before = load.total;
  await set.rollingRestart({ env: { DELAY_MS: '20', GREETING: 'v2' } });
  const during = load.total - before;
  await waitFor('the new instances to serve', () => ['web-4', 'web-5', 'web-6'].every((id) => (load.servedBy.get(id) ?? 0) >= 20));
  await load.stop();

  assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
  assert.equal(load.exhausted, false, 'the loop ran until the test stopped it');
  assert.ok(during >= 50, `only ${during} requests ran during the restart`);
  assert.deepEqual(log, ['ready web-4', 'removing web-1', 'exited web-1', 'ready web-5', 'removing web-2', 'exited web-2', 'ready web-6', 'removing web-3', 'exited web-3']);
  assert.deepEqual(readyAtRemoval, [3, 3, 3], 'capacity never dropped below 3 ready instances');
  assert.deepEqual(set.instances().map((i) => [i.id, i.state, i.spec.generation]), [['web-4', 'ready', 2], ['web-5', 'ready', 2], ['web-6', 'ready', 2]]);
  for (const pid of oldPids) assert.equal(isAlive(pid), false);
  const answer = await balancer.request();
  assert.equal((JSON.parse(answer.detail.slice(4)) as { greeting: string }).greeting, 'v2', 'the new env is in force');
});

test('a rolling restart whose new instance never becomes ready stops there; the old instances and command stay', async (t) => {
  // startTimeoutMs bounds the failed step; it also applies to the first instances, so it leaves room for a busy machine.
  const { set, balancer, load } = setUnderLoad(t, { instances: 2, startTimeoutMs: 1_500, env: { DELAY_MS: '10', GREETING: 'v1' } });
  await set.start();
  load.setConcurrency(4);
  await waitFor('load to flow', () => load.ok >= 50);
  await assert.rejects(set.rollingRestart({ env: { NEVER_READY: '1' } }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'RAMPART_ERR_SUPERVISOR_ROLLOUT');
    assert.match(err.message, /new instance web-3 did not become ready \(not ready within 1500 ms\)/);
    return true;
  });
  assert.deepEqual(set.instances().map((i) => [i.id, i.state]), [['web-1', 'ready'], ['web-2', 'ready']]);
  assert.deepEqual(balancer.readyIds.sort(), ['web-1', 'web-2'], 'the old instances were never taken out');
  // A scale-up after the failed rollout runs the previous, working command.
  await set.scaleTo(3);
  assert.equal(set.instances()[2]?.state, 'ready');
  await waitFor('web-4 to serve', () => (load.servedBy.get('web-4') ?? 0) >= 5);
  await load.stop();
  assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
});
