import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinBalancer } from './round-robin.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
const ids = (b: RoundRobinBalancer<ReturnType<typeof server>>, n: number) => Array.from({ length: n }, () => b.pick()!.id).join(' ');

test('rotates through the servers in order, exactly, ignoring weights', () => {
  const b = new RoundRobinBalancer({ random: () => 0 });
  b.update([server('a'), server('b', 5), server('c')]);
  assert.equal(ids(b, 9), 'a b c a b c a b c');
});

test('the first pick starts at a random server, then rotates in order', () => {
  const b = new RoundRobinBalancer({ random: () => 0.5 });
  b.update(['a', 'b', 'c', 'd'].map((id) => server(id)));
  assert.equal(ids(b, 6), 'c d a b c d');
});

test('an update with the same set continues the rotation instead of restarting it', () => {
  const b = new RoundRobinBalancer({ random: () => 0 });
  const set = ['a', 'b', 'c'].map((id) => server(id));
  b.update(set);
  const seen: string[] = [];
  for (let i = 0; i < 7; i++) {
    seen.push(b.pick()!.id);
    b.update(set.map((s) => ({ ...s }))); // new objects, same ids: a reload
  }
  assert.equal(seen.join(' '), 'a b c a b c a');
});

test('when the server due next leaves, the rotation continues with the one after it', () => {
  const b = new RoundRobinBalancer({ random: () => 0 });
  const [a, , c, d] = ['a', 'b', 'c', 'd'].map((id) => server(id));
  b.update([a!, server('b'), c!, d!]);
  assert.equal(ids(b, 1), 'a');
  b.update([a!, c!, d!]);
  assert.equal(ids(b, 6), 'c d a c d a');
});

test('a server that joins takes its turn in the next cycle', () => {
  const b = new RoundRobinBalancer({ random: () => 0 });
  const set = ['a', 'b', 'c'].map((id) => server(id));
  b.update(set);
  assert.equal(ids(b, 1), 'a');
  b.update([...set, server('d')]);
  assert.equal(ids(b, 8), 'b c d a b c d a');
});

test('frequent set changes do not favour the first server', () => {
  // A fourth server flaps in and out after every pick; restarting the
  // rotation at index 0 on each update would give `a` half of all requests.
  const b = new RoundRobinBalancer({ random: () => 0 });
  const base = ['a', 'b', 'c'].map((id) => server(id));
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    b.update(i % 2 ? [...base, server('d')] : base);
    const id = b.pick()!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const [a, bb, c] = ['a', 'b', 'c'].map((id) => counts.get(id)!);
  assert.ok(Math.max(a!, bb!, c!) - Math.min(a!, bb!, c!) <= 1, JSON.stringify([...counts]));
});
