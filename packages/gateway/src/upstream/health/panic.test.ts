import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eligible, inPanic } from './panic.ts';

const servers = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, healthy: true }));
const isHealthy = (s: { healthy: boolean }) => s.healthy;
const ids = (list: readonly { id: string }[]) => list.map((s) => s.id);

test('at or above the threshold only the healthy servers are eligible', () => {
  const list = servers(4);
  list[0]!.healthy = false;
  assert.deepEqual(eligible(list, isHealthy), { servers: list.slice(1), panic: false });
  list[1]!.healthy = false; // 2 of 4 = 50%: not below 50%
  const e = eligible(list, isHealthy);
  assert.equal(e.panic, false);
  assert.deepEqual(ids(e.servers), ['s2', 's3']);
});

test('under the threshold every server is eligible: panic', () => {
  const list = servers(4);
  for (const s of list.slice(0, 3)) s.healthy = false; // 25%
  const e = eligible(list, isHealthy);
  assert.equal(e.panic, true);
  assert.equal(e.servers, list);
  for (const s of list) s.healthy = false; // none healthy
  assert.deepEqual(eligible(list, isHealthy), { servers: list, panic: true });
});

test('the threshold is configurable; 0 turns panic off, 100 panics unless all are healthy', () => {
  const list = servers(10);
  for (const s of list.slice(0, 7)) s.healthy = false; // 30% healthy
  assert.equal(eligible(list, isHealthy, 50).panic, true);
  assert.equal(eligible(list, isHealthy, 30).panic, false);
  assert.equal(eligible(list, isHealthy, 31).panic, true);
  for (const s of list) s.healthy = false;
  assert.deepEqual(eligible(list, isHealthy, 0), { servers: [], panic: false }, 'no healthy server and no panic: nothing to pick (503)');
  list[0]!.healthy = true;
  assert.equal(eligible(list, isHealthy, 100).panic, true);
  for (const s of list) s.healthy = true;
  assert.equal(eligible(list, isHealthy, 100).panic, false);
});

test('no servers: nothing eligible, no panic', () => {
  assert.deepEqual(eligible([], isHealthy), { servers: [], panic: false });
  assert.equal(inPanic(0, 0), false);
});

test('small upstreams: 1 of 2 healthy is not a panic, 1 of 3 is', () => {
  assert.equal(inPanic(1, 2), false);
  assert.equal(inPanic(1, 3), true);
  assert.equal(inPanic(2, 3), false);
  assert.equal(inPanic(0, 1), true);
});

test('a threshold outside 0-100 is refused', () => {
  assert.throws(() => eligible(servers(1), isHealthy, 101), /panic threshold/);
  assert.throws(() => eligible(servers(1), isHealthy, -1), /panic threshold/);
  assert.throws(() => eligible(servers(1), isHealthy, Number.NaN), /panic threshold/);
});
