import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Autoscaler, type AutoscalerOptions, type LoadSample } from './autoscaler.ts';
import type { ScalableSet } from '../instance-set.ts';
import type { ScaleDecision } from './hpa.ts';
import { SupervisorError } from '../errors.ts';

/** Resizes instantly, all instances ready. */
class FakeSet implements ScalableSet {
  replicas: number;
  readonly calls: number[] = [];
  fail = false;
  constructor(replicas: number) {
    this.replicas = replicas;
  }
  readyCount(): number {
    return this.replicas;
  }
  scaleTo(n: number): Promise<void> {
    this.calls.push(n);
    if (this.fail) return Promise.reject(new Error('set is stopped'));
    this.replicas = n;
    return Promise.resolve();
  }
}

function setup(t: TestContext, replicas: number, options: Partial<AutoscalerOptions> & { load: () => LoadSample }) {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  const set = new FakeSet(replicas);
  const decisions: ScaleDecision[] = [];
  const autoscaler = new Autoscaler(set, { min: 1, max: 8, target: 10, intervalMs: 1_000, stabilizationWindowMs: 5_000, ...options, observe: options.load, onDecision: (d) => decisions.push(d) });
  t.after(() => autoscaler.stop());
  return { set, autoscaler, decisions };
}

test('one decision per interval, applied to the set; state() is what /status shows', (t) => {
  let load = 10;
  const { set, autoscaler, decisions } = setup(t, 2, { load: () => ({ inflightPerInstance: load }) });
  assert.equal(autoscaler.state().enabled, false);
  assert.deepEqual(autoscaler.state(), { enabled: false, min: 1, max: 8, current: 2, ready: 2, desired: 2, target: 10, lastDecision: null, lastScale: null, lastError: null });
  autoscaler.start();
  t.mock.timers.tick(999);
  assert.equal(decisions.length, 0);
  t.mock.timers.tick(1);
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0]!.reason, 'within-tolerance');
  load = 30;
  t.mock.timers.tick(1_000);
  assert.deepEqual(set.calls, [6], 'ceil(2 × 30 / 10)');
  const state = autoscaler.state();
  assert.equal(state.enabled, true);
  assert.equal(state.current, 6);
  assert.equal(state.desired, 6);
  assert.deepEqual(state.lastDecision, state.lastScale);
  assert.deepEqual(
    { at: state.lastDecision?.at, from: state.lastDecision?.from, to: state.lastDecision?.to, reason: state.lastDecision?.reason, observed: state.lastDecision?.inputs.observed },
    { at: 2_000, from: 2, to: 6, reason: 'scale-up', observed: 30 },
  );
  assert.doesNotThrow(() => JSON.stringify(state), 'plain data for /status');
  autoscaler.stop();
  t.mock.timers.tick(10_000);
  assert.equal(decisions.length, 2, 'no decisions after stop()');
  assert.equal(autoscaler.state().enabled, false);
});

test('after the load drops, the set shrinks once the stabilisation window has passed', (t) => {
  let load = 40;
  const { set, autoscaler } = setup(t, 2, { load: () => ({ inflightPerInstance: load }) });
  autoscaler.start();
  t.mock.timers.tick(1_000);
  assert.equal(set.replicas, 6, 'step bound: 2 + 4');
  load = 1;
  const droppedAt = Date.now();
  for (let i = 0; i < 10 && set.replicas === 6; i++) t.mock.timers.tick(1_000);
  assert.equal(set.replicas, 1);
  const down = autoscaler.state().lastScale!;
  assert.equal(down.reason, 'scale-down');
  assert.equal(down.at - droppedAt, 5_000, 'the first decision after the 5 s window');
});

test('a failing observe() or scaleTo() is recorded in the state, never thrown from the timer', async (t) => {
  let fail = true;
  const { set, autoscaler } = setup(t, 2, {
    load: () => {
      if (fail) throw new Error('gateway not ready');
      return { inflightPerInstance: 50 };
    },
  });
  autoscaler.start();
  t.mock.timers.tick(1_000);
  assert.equal(autoscaler.state().lastDecision?.reason, 'no-metrics');
  assert.match(autoscaler.state().lastError ?? '', /observe\(\) failed: Error: gateway not ready/);
  fail = false;
  set.fail = true;
  t.mock.timers.tick(1_000);
  await new Promise(setImmediate); // setImmediate is not mocked: lets the rejection land
  assert.match(autoscaler.state().lastError ?? '', /scaling to 6 failed: Error: set is stopped/);
});

test('bad options are refused with the key and the reason', () => {
  const set = new FakeSet(1);
  const observe = () => ({ inflightPerInstance: 0 });
  const refused = (options: Partial<AutoscalerOptions>, key: string) =>
    assert.throws(
      () => new Autoscaler(set, { min: 1, max: 4, observe, ...options }),
      (err: unknown) => err instanceof SupervisorError && err.code === 'RAMPART_ERR_SUPERVISOR_OPTION' && err.message.startsWith(key + ':'),
      key,
    );
  refused({ min: 0 }, 'autoscale.min');
  refused({ min: 3, max: 2 }, 'autoscale.max');
  refused({ target: 0 }, 'autoscale.target');
  refused({ tolerance: 1 }, 'autoscale.tolerance');
  refused({ stabilizationWindowMs: -1 }, 'autoscale.stabilizationWindowMs');
  refused({ scaleUp: { pods: 0, percent: 0 } }, 'autoscale.scaleUp');
  refused({ scaleUp: { pods: 1.5 } }, 'autoscale.scaleUp.pods');
  refused({ intervalMs: 0 }, 'autoscale.intervalMs');
});
