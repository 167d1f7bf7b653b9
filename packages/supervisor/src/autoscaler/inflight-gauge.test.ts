import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightGauge } from './inflight-gauge.ts';

test('the average is weighted by how long each level lasted', () => {
  let now = 0;
  const gauge = new InflightGauge(() => now);
  gauge.inc(); // 1 in flight for 100 ms
  now = 100;
  gauge.inc(); // 2 for 300 ms
  gauge.inc();
  now = 250;
  gauge.dec();
  now = 400;
  gauge.dec(); // 0 for 600 ms
  gauge.dec();
  now = 1000;
  assert.equal(gauge.takeAverage(), (1 * 100 + 3 * 150 + 2 * 150) / 1000);
  assert.equal(gauge.value, 0);
  assert.equal(gauge.dec(), undefined, 'never below zero');
  assert.equal(gauge.value, 0);
});

test('each window starts where the previous one ended', () => {
  let now = 0;
  const gauge = new InflightGauge(() => now);
  gauge.inc();
  gauge.inc();
  now = 500;
  assert.equal(gauge.takeAverage(), 2);
  now = 1000;
  gauge.dec();
  now = 1500;
  assert.equal(gauge.takeAverage(), 1.5);
  assert.equal(gauge.takeAverage(), 1, 'an empty window reads the current value');
});
