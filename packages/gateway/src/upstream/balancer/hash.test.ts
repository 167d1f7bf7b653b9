import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashBalancer, MAX_RING_POINTS, hash32 } from './hash.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
type Server = ReturnType<typeof server>;

/** Client-IP-like keys from a seeded generator. */
function keys(n: number, seed = 1): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.'));
}

function mapping(servers: Server[], ks: string[]): string[] {
  const b = new HashBalancer<Server>();
  b.update(servers);
  return ks.map((key) => b.pick({ key })!.id);
}

const five = ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080', '10.0.0.5:8080'].map((id) => server(id));

test('a key keeps its server, whatever order the servers are listed in', () => {
  const ks = keys(2000);
  assert.deepEqual(mapping(five, ks), mapping([...five].reverse(), ks));
  assert.deepEqual(mapping(five, ks), mapping(five, ks));
});

test('adding a server to 4 remaps about 1/5 of 10,000 keys, all of them to the newcomer', () => {
  const ks = keys(10_000);
  const before = mapping(five.slice(0, 4), ks);
  const after = mapping(five, ks);
  let moved = 0;
  for (let i = 0; i < ks.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    assert.equal(after[i], five[4]!.id);
  }
  assert.ok(moved / ks.length >= 0.12 && moved / ks.length <= 0.28, `moved ${moved / ks.length}`);
});

test('removing a server remaps exactly the keys that were on it', () => {
  const ks = keys(10_000);
  const before = mapping(five, ks);
  const removed = five[2]!.id;
  const after = mapping(five.filter((s) => s.id !== removed), ks);
  for (let i = 0; i < ks.length; i++) {
    if (before[i] === removed) assert.notEqual(after[i], removed);
    else assert.equal(after[i], before[i], `key ${ks[i]} moved from ${before[i]} to ${after[i]}`);
  }
});

test('servers sit on the ring by ringKey when given: renumbering the ids moves no key', () => {
  const ks = keys(2000);
  const at = (ids: string[]) => five.map((s, i) => ({ ...s, id: ids[i]!, ringKey: s.id }));
  const b = new HashBalancer<Server & { ringKey: string }>();
  b.update(at(['0', '1', '2', '3', '4']));
  const before = ks.map((key) => b.pick({ key })!.ringKey);
  b.update(at(['4', '3', '2', '1', '0']));
  assert.deepEqual(ks.map((key) => b.pick({ key })!.ringKey), before);
  assert.deepEqual(before, mapping(five, ks), 'the same ring as servers whose id is that key');
});

test("raising one server's weight only moves keys to that server", () => {
  const ks = keys(10_000);
  const before = mapping(five, ks);
  const after = mapping(five.map((s, i) => (i === 1 ? { ...s, weight: 2 } : s)), ks);
  for (let i = 0; i < ks.length; i++) if (before[i] !== after[i]) assert.equal(after[i], five[1]!.id);
});

test('weights are respected within ±10% over 100k keys', () => {
  const servers = [server('10.0.1.1:80', 1), server('10.0.1.2:80', 2), server('10.0.1.3:80', 3)];
  const counts = new Map<string, number>();
  for (const id of mapping(servers, keys(100_000, 2))) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const s of servers) {
    const expected = (100_000 * s.weight) / 6;
    assert.ok(Math.abs(counts.get(s.id)! / expected - 1) <= 0.1, `${s.id}: ${counts.get(s.id)} vs ${expected}`);
  }
});

test('large weights shrink the points per unit and stay balanced', () => {
  const servers = Array.from({ length: 20 }, (_, i) => server(`s${i}`, 100));
  assert.ok(20 * 100 * 1024 > MAX_RING_POINTS);
  const counts = new Map<string, number>();
  for (const id of mapping(servers, keys(100_000, 3))) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const s of servers) assert.ok(Math.abs(counts.get(s.id)! / 5000 - 1) <= 0.1, `${s.id}: ${counts.get(s.id)}`);
});

test('without a key it falls back to round-robin', () => {
  const b = new HashBalancer({ random: () => 0 });
  b.update(['a', 'b', 'c'].map((id) => server(id)));
  assert.equal(Array.from({ length: 6 }, () => b.pick()!.id).join(' '), 'a b c a b c');
});

test('hash32 is deterministic, unsigned, and spreads similar keys', () => {
  assert.equal(hash32('10.0.0.1'), hash32('10.0.0.1'));
  const hs = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(hash32);
  for (const h of hs) assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  // Keys differing in the last character land far apart (the finaliser's job).
  assert.ok(Math.abs(hs[0]! - hs[1]!) > 2 ** 20 && Math.abs(hs[1]! - hs[2]!) > 2 ** 20);
});

test('pointsPerWeight must be a positive integer', () => {
  assert.throws(() => new HashBalancer({ hashPointsPerWeight: 0 }), RangeError);
  assert.throws(() => new HashBalancer({ hashPointsPerWeight: 1.5 }), RangeError);
});
