import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
const ids = (b: WeightedRoundRobinBalancer<ReturnType<typeof server>>, n: number) => Array.from({ length: n }, () => b.pick()!.id).join(' ');

test("{a:5, b:1, c:1} gives nginx's documented sequence a a b a c a a, cycle after cycle", () => {
  const b = new WeightedRoundRobinBalancer();
  b.update([server('a', 5), server('b', 1), server('c', 1)]);
  assert.equal(ids(b, 14), 'a a b a c a a a a b a c a a');
});

test('over each cycle of Σweight picks every server is chosen exactly weight times', () => {
  const random = seededRandom(42);
  for (let trial = 0; trial < 20; trial++) {
    const servers = Array.from({ length: 2 + Math.floor(random() * 8) }, (_, i) => server(`s${i}`, 1 + Math.floor(random() * 10)));
    const total = servers.reduce((a, s) => a + s.weight, 0);
    const b = new WeightedRoundRobinBalancer();
    b.update(servers);
    for (let cycle = 0; cycle < 3; cycle++) {
      const counts = new Map<string, number>();
      for (let i = 0; i < total; i++) {
        const id = b.pick()!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const s of servers) assert.equal(counts.get(s.id), s.weight, `trial ${trial} cycle ${cycle} ${s.id}`);
    }
  }
});

test('an update keeps the current weights: the sequence continues where it was', () => {
  const b = new WeightedRoundRobinBalancer();
  const set = [server('a', 5), server('b', 1), server('c', 1)];
  b.update(set);
  assert.equal(ids(b, 3), 'a a b');
  b.update(set.map((s) => ({ ...s })));
  assert.equal(ids(b, 4), 'a c a a');
});

test('a weight change (slow start) takes effect at once, without a burst to the heaviest server', () => {
  const b = new WeightedRoundRobinBalancer();
  const a = server('a', 1);
  const c = server('c', 1);
  b.update([a, c]);
  assert.equal(ids(b, 3), 'a c a');
  b.update([{ ...a, weight: 3 }, c]);
  const next = ids(b, 4000).split(' ');
  // Never more than three of a in a row, and the shares are 3:1.
  assert.ok(!next.join('').includes('aaaa'));
  assert.ok(Math.abs(next.filter((id) => id === 'a').length - 3000) <= 3);
});

test('fractional weights (a slow-start ramp) keep their proportions', () => {
  const b = new WeightedRoundRobinBalancer();
  b.update([server('a', 0.25), server('b', 1)]);
  const picks = ids(b, 5000).split(' ');
  assert.ok(Math.abs(picks.filter((id) => id === 'a').length - 1000) <= 2);
});
