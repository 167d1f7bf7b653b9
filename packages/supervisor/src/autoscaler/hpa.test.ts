import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpaRecommender, type HpaPolicy, type ScaleDecision } from './hpa.ts';

// Time is passed in: these tests never wait.
const POLICY: HpaPolicy = { min: 1, max: 10, target: 10, tolerance: 0.1, stabilizationWindowMs: 60_000, scaleUp: { pods: 4, percent: 100, periodMs: 15_000 } };
const S = 1_000;

function hpa(overrides: Partial<HpaPolicy> = {}): (now: number, current: number, observed: number | undefined, ready?: number) => ScaleDecision {
  const r = new HpaRecommender({ ...POLICY, ...overrides });
  return (now, current, observed, ready = current) => r.decide({ now, current, ready, observed });
}

test('desired = ceil(current × observed / target), with every input recorded', () => {
  const decide = hpa();
  const d = decide(0, 2, 25);
  assert.deepEqual(
    { from: d.from, to: d.to, reason: d.reason },
    { from: 2, to: 5, reason: 'scale-up' },
  );
  assert.deepEqual(d.inputs, { current: 2, ready: 2, observed: 25, target: 10, ratio: 2.5, rawDesired: 5, stabilisedDesired: 5, scaleUpLimit: 6 });
  assert.equal(d.at, 0);
  assert.match(d.message, /25 in flight per ready instance, target 10 \(ratio 2\.5\): scaling 2 → 5/);
  assert.equal(hpa()(0, 3, 14).to, 5, '3 × 14 / 10 = 4.2 → 5');
  assert.equal(hpa({ target: 0.1, max: 100 })(0, 1, 1.1).inputs.rawDesired, 11, '1.1 / 0.1 = 11.000000000000002 is 11, not 12');
});

test('no change within the 10% tolerance band, either side, boundary included', () => {
  for (const observed of [9, 9.5, 10, 10.9, 11]) {
    const d = hpa()(0, 4, observed);
    assert.equal(d.to, 4, `observed ${observed}`);
    assert.equal(d.reason, 'within-tolerance', `observed ${observed}`);
  }
  const up = hpa()(0, 4, 11.2);
  assert.deepEqual([up.to, up.reason], [5, 'scale-up'], 'just outside the band: ceil(4 × 1.12) = 5');
  const down = hpa({ stabilizationWindowMs: 0 })(0, 10, 8.8);
  assert.deepEqual([down.to, down.reason], [9, 'scale-down'], 'ceil(10 × 0.88) = 9');
});

test('scale-up is immediate but bounded: max(4 instances, 100%) per 15 s period', () => {
  const decide = hpa({ max: 100 });
  const first = decide(0, 1, 100);
  assert.deepEqual([first.to, first.reason, first.inputs.rawDesired, first.inputs.scaleUpLimit], [5, 'scale-up-limited', 10, 5], '1 + 4 pods beats 1 × 200%');
  const held = decide(1 * S, 5, 40);
  assert.deepEqual([held.to, held.reason, held.inputs.scaleUpLimit], [5, 'scale-up-limited', 5], 'the period that started at 1 has used its step');
  const next = decide(16 * S, 5, 40);
  assert.deepEqual([next.to, next.reason, next.inputs.scaleUpLimit], [10, 'scale-up-limited', 10], 'a new period: 5 × 200% beats 5 + 4');
  const percent = hpa({ max: 100 })(0, 8, 40);
  assert.deepEqual([percent.to, percent.inputs.scaleUpLimit], [16, 16], '8 × 200% beats 8 + 4');
  const custom = hpa({ max: 100, scaleUp: { pods: 1, percent: 0, periodMs: 0 } });
  assert.equal(custom(0, 3, 100).to, 4, 'one at a time');
  assert.equal(custom(1, 4, 100).to, 5, 'period 0: the bound applies per decision');
});

test('the count stays within min and max', () => {
  assert.deepEqual(pick(hpa()(0, 8, 100)), [10, 'at-max'], 'raw 80, step allows 16, max 10');
  assert.deepEqual(pick(hpa()(0, 10, 100)), [10, 'at-max']);
  assert.deepEqual(pick(hpa({ min: 2 })(0, 0, undefined)), [2, 'below-min'], 'brought up to min without a measurement');
  assert.deepEqual(pick(hpa({ max: 4 })(0, 6, 1)), [4, 'above-max'], 'brought down to max at once');
  assert.deepEqual(pick(hpa({ min: 3, stabilizationWindowMs: 0 })(0, 6, 0)), [3, 'at-min'], 'no load: down to min, not to 0');
  assert.deepEqual(pick(hpa({ min: 3, stabilizationWindowMs: 0 })(0, 3, 0)), [3, 'at-min']);
});

test('scale-down waits for the stabilisation window: the highest recommendation in it wins', () => {
  const decide = hpa();
  // The window starts seeded with the current count (HPA's recordInitialRecommendation).
  assert.deepEqual(pick(decide(0, 4, 10)), [4, 'within-tolerance']);
  assert.deepEqual(pick(decide(10 * S, 4, 2)), [4, 'scale-down-stabilised'], 'raw 1, but 4 was recommended 10 s ago');
  assert.deepEqual(pick(decide(30 * S, 4, 5)), [4, 'scale-down-stabilised'], 'raw 2');
  const d = decide(61 * S, 4, 2);
  assert.deepEqual(pick(d), [2, 'scale-down'], 'the 4s are out of the window; the highest left is the 2 from 30 s');
  assert.deepEqual([d.inputs.rawDesired, d.inputs.stabilisedDesired], [1, 2]);
  assert.deepEqual(pick(decide(80 * S, 2, 5)), [2, 'scale-down-stabilised'], 'raw 1 while 2 (30 s) is still in the window');
  assert.deepEqual(pick(decide(91 * S, 2, 5)), [1, 'scale-down'], 'the window now holds only 1s');
});

test('a spike inside the window scales up at once, and holds the count for the window after it', () => {
  const decide = hpa();
  decide(0, 2, 10);
  assert.deepEqual(pick(decide(5 * S, 2, 30)), [6, 'scale-up'], 'immediate, whatever the window holds');
  assert.deepEqual(pick(decide(6 * S, 6, 1)), [6, 'scale-down-stabilised']);
  assert.deepEqual(pick(decide(64 * S, 6, 1)), [6, 'scale-down-stabilised'], '59 s after the spike');
  assert.deepEqual(pick(decide(66 * S, 6, 1)), [1, 'scale-down'], 'window over: raw ceil(6 × 0.1) = 1');
});

test('a window of 0 scales down on the first low sample', () => {
  assert.deepEqual(pick(hpa({ stabilizationWindowMs: 0 })(0, 6, 2)), [2, 'scale-down']);
});

test('instances still starting count as zero load when scaling up, so a scale-up is not repeated while they boot', () => {
  const decide = hpa();
  // 4 instances, 1 ready carrying 12: the total (12) is what 4 instances at target 10 can take.
  const booting = decide(0, 4, 12, 1);
  assert.deepEqual(pick(booting), [4, 'within-tolerance']);
  // 1 ready carrying 60: the 4 together are still short, so scale to ceil(60 / 10) = 6.
  assert.deepEqual(pick(decide(1 * S, 4, 60, 1)), [6, 'scale-up']);
});

test('without a measurement nothing changes', () => {
  for (const [observed, ready] of [[undefined, 2], [Number.NaN, 2], [-1, 2], [50, 0]] as const) {
    const d = hpa()(0, 2, observed, ready);
    assert.deepEqual(pick(d), [2, 'no-metrics'], `observed ${observed}, ready ${ready}`);
    assert.equal(d.inputs.observed, ready === 0 ? 50 : null);
  }
});

function pick(d: ScaleDecision): [number, string] {
  return [d.to, d.reason];
}
