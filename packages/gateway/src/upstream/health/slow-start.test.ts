import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlowStart, effectiveWeight, slowStartFactor } from './slow-start.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≈ ${expected}`);

test('the weight ramps linearly from the floor to full over the window', () => {
  const o = { windowMs: 10_000 };
  close(effectiveWeight(100, 0, 0, o), 10); // the 10% floor, not 0
  close(effectiveWeight(100, 0, 500, o), 10); // still under the floor
  close(effectiveWeight(100, 0, 1000, o), 10);
  close(effectiveWeight(100, 0, 2500, o), 25);
  close(effectiveWeight(100, 0, 5000, o), 50);
  close(effectiveWeight(100, 0, 9999, o), 99.99);
  close(effectiveWeight(100, 0, 10_000, o), 100);
  close(effectiveWeight(100, 0, 1e9, o), 100);
  close(effectiveWeight(100, 5000, 10_000, o), 50); // measured from `since`
});

test('the ramp is monotonic and never leaves [minFactor, 1]', () => {
  const o = { windowMs: 30_000, minFactor: 0.05, aggression: 2 };
  let last = 0;
  for (let t = -1000; t <= 31_000; t += 250) {
    const f = slowStartFactor(t, o);
    assert.ok(f >= 0.05 && f <= 1, `${f} at ${t}`);
    assert.ok(f >= last, `not monotonic at ${t}`);
    last = f;
  }
  assert.equal(last, 1);
});

test('minFactor and aggression shape the ramp as in Envoy', () => {
  close(slowStartFactor(0, { windowMs: 1000, minFactor: 0.3 }), 0.3);
  close(slowStartFactor(500, { windowMs: 1000, minFactor: 0.3 }), 0.5);
  // aggression 2: time_factor^(1/2), faster at first
  close(slowStartFactor(250, { windowMs: 1000, aggression: 2 }), 0.5);
  // aggression 0.5: time_factor^2, slower at first
  close(slowStartFactor(500, { windowMs: 1000, aggression: 0.5, minFactor: 0.01 }), 0.25);
});

test('a zero window turns slow start off', () => {
  assert.equal(slowStartFactor(0, { windowMs: 0 }), 1);
  const s = new SlowStart({ windowMs: 0, now: () => 0 });
  s.begin('a');
  assert.equal(s.factor('a'), 1);
  assert.deepEqual(s.ramping(), []);
});

test('SlowStart: begin() starts a ramp on the injected clock; it ends by itself after the window', () => {
  let now = 1_000_000;
  const s = new SlowStart({ windowMs: 60_000, now: () => now });
  assert.equal(s.factor('a'), 1, 'a server that never began takes full weight');
  s.begin('a');
  close(s.factor('a'), 0.1);
  close(s.weight('a', 5), 0.5);
  assert.equal(s.isRamping('a'), true);
  now += 30_000;
  close(s.factor('a'), 0.5);
  assert.deepEqual(s.ramping(), ['a']);
  now += 30_000;
  assert.equal(s.factor('a'), 1);
  assert.equal(s.isRamping('a'), false);
  assert.deepEqual(s.ramping(), []);
});

test('SlowStart: a second begin() restarts the ramp; end() stops it; explicit times override the clock', () => {
  let now = 0;
  const s = new SlowStart({ windowMs: 10_000, now: () => now });
  s.begin('a');
  now = 8000;
  close(s.factor('a'), 0.8);
  s.begin('a'); // it failed and came back again
  close(s.factor('a'), 0.1);
  s.end('a');
  assert.equal(s.factor('a'), 1);
  s.begin('b', 2000);
  close(s.factor('b', 7000), 0.5);
  close(s.weight('b', 10, 4000), 2);
});

test('SlowStart reads Date.now by default', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 50_000 });
  const s = new SlowStart({ windowMs: 1000 });
  s.begin('a');
  t.mock.timers.tick(500);
  close(s.factor('a'), 0.5);
  t.mock.timers.tick(500);
  assert.equal(s.factor('a'), 1);
});

test('SlowStart checks its options', () => {
  assert.throws(() => new SlowStart({ windowMs: -1 }), /window/);
  assert.throws(() => new SlowStart({ windowMs: 1, minFactor: 0 }), /minFactor/);
  assert.throws(() => new SlowStart({ windowMs: 1, minFactor: 1.5 }), /minFactor/);
  assert.throws(() => new SlowStart({ windowMs: 1, aggression: 0 }), /aggression/);
});
