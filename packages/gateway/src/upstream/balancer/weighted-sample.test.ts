import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightedSample } from './weighted-sample.ts';
import { seededRandom } from './seeded-random.ts';

test('one(): the edges of [0, 1) map to the first and last index', () => {
  for (const weights of [[1, 1, 1], [1, 2, 3]]) {
    const s = new WeightedSample();
    s.reset(weights);
    assert.equal(s.one(0), 0);
    assert.equal(s.one(1 - Number.EPSILON), 2);
  }
});

test('other(): never the excluded index, and weighted among the rest', () => {
  const s = new WeightedSample();
  s.reset([5, 1, 2, 2]);
  const random = seededRandom(21);
  const counts = [0, 0, 0, 0];
  for (let k = 0; k < 50_000; k++) counts[s.other(0, random())]!++;
  assert.equal(counts[0], 0);
  // Without index 0 the weights are 1:2:2.
  assert.ok(Math.abs(counts[1]! / 10_000 - 1) <= 0.05 && Math.abs(counts[2]! / 20_000 - 1) <= 0.05, String(counts));
  for (const r of [0, 0.5, 1 - Number.EPSILON]) for (let i = 0; i < 4; i++) assert.notEqual(s.other(i, r), i);
});

test('other() with equal weights: uniform over the rest', () => {
  const s = new WeightedSample();
  s.reset([1, 1, 1]);
  assert.deepEqual([0, 0.49, 0.5, 0.99].map((r) => s.other(1, r)), [0, 0, 2, 2]);
});
