import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomBalancer } from './random.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });

function shares(weights: number[], seed: number): { expected: number; got: number }[] {
  const b = new RandomBalancer({ random: seededRandom(seed) });
  const servers = weights.map((w, i) => server(`s${i}`, w));
  b.update(servers);
  const counts = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const id = b.pick()!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const total = weights.reduce((a, w) => a + w, 0);
  return servers.map((s) => ({ expected: (100_000 * s.weight) / total, got: counts.get(s.id) ?? 0 }));
}

test('weights are respected within ±10% over 100k picks (seeded)', () => {
  for (const { expected, got } of shares([1, 2, 3, 4], 11)) assert.ok(Math.abs(got / expected - 1) <= 0.1, `${got} vs ${expected}`);
});

test('equal weights: uniform within ±10% over 100k picks (seeded)', () => {
  for (const { expected, got } of shares([1, 1, 1, 1, 1], 12)) assert.ok(Math.abs(got / expected - 1) <= 0.1, `${got} vs ${expected}`);
});

test('a server with a tiny weight still gets its share, and the largest never starves the rest', () => {
  for (const { expected, got } of shares([0.05, 10, 10], 13)) assert.ok(Math.abs(got / expected - 1) <= 0.1, `${got} vs ${expected}`);
});
