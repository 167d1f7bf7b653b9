// The autoscaler against real processes: a load step through a balancer that
// follows the supervisor's events. Scale-up must start within 5 s of sustained
// overload, scale-down only after the stabilisation window, and no request may
// fail on the way up or down.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InstanceSet } from '../instance-set.ts';
import { Autoscaler } from './autoscaler.ts';
import type { ScaleDecision } from './hpa.ts';
import { FIXTURE, LoadLoop, TestBalancer, isAlive, waitFor } from '../testing/load.ts';

const WINDOW_MS = 2_000;
const INTERVAL_MS = 200;

test('a load step scales up within 5 s, scales down after the window, and fails no request', async (t) => {
  const balancer = new TestBalancer();
  const pids = new Set<number>();
  const set = new InstanceSet({
    name: 'app',
    command: [process.execPath, FIXTURE],
    // Each request takes 50 ms, so concurrent clients become in-flight requests.
    env: { DELAY_MS: '50' },
    healthPath: '/healthz',
    instances: 1,
    pollIntervalMs: 20,
    drain: (i) => balancer.drain(i),
    onOutput: () => {},
  });
  balancer.attach(set);
  set.on('starting', (i) => {
    if (i.pid !== undefined) pids.add(i.pid);
  });
  const decisions: ScaleDecision[] = [];
  const autoscaler = new Autoscaler(set, {
    min: 1,
    max: 4,
    target: 2,
    intervalMs: INTERVAL_MS,
    stabilizationWindowMs: WINDOW_MS,
    observe: () => balancer.sample(),
    onDecision: (d) => decisions.push(d),
  });
  const load = new LoadLoop(balancer, { maxRequests: 100_000, maxMs: 30_000 });
  t.after(async () => {
    autoscaler.stop();
    await load.stop();
    await set.stop();
    balancer.close();
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} outlived the test`);
  });

  await set.start();
  autoscaler.start();

  // Light load: one client, ~1 in flight against a target of 2 — no change.
  load.setConcurrency(1);
  await waitFor('three decisions under light load', () => decisions.length >= 3);
  assert.ok(decisions.every((d) => d.to === 1), JSON.stringify(decisions.map((d) => d.reason)));

  // The step: 16 clients, 16 in flight on one instance, 8× the target.
  const stepAt = Date.now();
  load.setConcurrency(16);
  const up = await waitFor('a scale-up decision', () => decisions.find((d) => d.to > d.from), { timeoutMs: 5_000 });
  assert.ok(up.at - stepAt <= 5_000, `scale-up began ${up.at - stepAt} ms after the step`);
  assert.equal(up.to, 4, `${up.reason}: ${up.message}`);
  await waitFor('4 ready instances', () => balancer.readyIds.length === 4, { timeoutMs: 5_000 });
  await waitFor('every instance to serve', () => ['app-2', 'app-3', 'app-4'].every((id) => (load.servedBy.get(id) ?? 0) >= 20));
  assert.equal(set.replicas, 4, 'held at the maximum while the load lasts');

  // The load drops back to one client.
  const dropAt = Date.now();
  load.setConcurrency(1);
  const down = await waitFor('a scale-down decision', () => decisions.find((d) => d.at >= dropAt && d.to < d.from), { timeoutMs: WINDOW_MS + 3_000 });
  const lastHigh = decisions.filter((d) => d.at < down.at && d.inputs.rawDesired > down.to).at(-1);
  assert.ok(lastHigh, 'some recommendation was higher before the drop');
  assert.ok(down.at - lastHigh.at >= WINDOW_MS, `scaled down ${down.at - lastHigh.at} ms after the last higher recommendation`);
  assert.ok(down.at - dropAt >= WINDOW_MS - INTERVAL_MS, `scaled down ${down.at - dropAt} ms after the drop`);
  await waitFor('one instance left', () => set.replicas === 1 && set.instances().length === 1, { timeoutMs: WINDOW_MS + 5_000 });
  const served = load.ok;
  await waitFor('requests after the scale-down', () => load.ok >= served + 20);
  await load.stop();

  assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
  assert.equal(load.exhausted, false);
  const state = autoscaler.state();
  assert.equal(state.current, 1);
  assert.equal(state.lastScale?.reason, 'scale-down');
  t.diagnostic(`scale-up ${up.at - stepAt} ms after the step; scale-down ${down.at - dropAt} ms after the drop; ${load.total} requests, 0 failed`);
});
