import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P2cBalancer } from './p2c.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
type Server = ReturnType<typeof server>;

test('the idle server gets the requests while another is stuck on slow ones', () => {
  const b = new P2cBalancer<Server>({ random: seededRandom(1) });
  const [stuck, x, y] = [server('stuck'), server('x'), server('y')];
  b.update([stuck, x, y]);
  let toStuck = 0;
  for (let i = 0; i < 1000; i++) {
    const s = b.pick()!;
    // stuck never answers; x and y answer before the next request arrives.
    if (s === stuck) {
      toStuck++;
      s.inflight++;
    }
  }
  // Its first request may land before it is known to be stuck; no more after.
  assert.ok(toStuck <= 1, `stuck got ${toStuck}`);
});

test('the two candidates are distinct: of two servers the less loaded always wins', () => {
  const b = new P2cBalancer<Server>({ random: seededRandom(2) });
  const busy = { id: 'busy', weight: 1, inflight: 1 };
  b.update([busy, server('idle')]);
  for (let i = 0; i < 1000; i++) assert.equal(b.pick()!.id, 'idle');
});

test('weights are respected within ±10% over 100k picks (seeded)', () => {
  const b = new P2cBalancer<Server>({ random: seededRandom(3) });
  const servers = [server('a', 1), server('b', 2), server('c', 3), server('d', 4)];
  b.update(servers);
  const counts = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const id = b.pick()!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  for (const s of servers) {
    const expected = (100_000 * s.weight) / 10;
    assert.ok(Math.abs(counts.get(s.id)! / expected - 1) <= 0.1, `${s.id}: ${counts.get(s.id)} vs ${expected}`);
  }
});

test('under load, in flight settles in proportion to weight', () => {
  const b = new P2cBalancer<Server>({ random: seededRandom(4) });
  const servers = [server('a', 1), server('b', 2), server('c', 3)];
  b.update(servers);
  for (let i = 0; i < 6000; i++) b.pick()!.inflight++; // requests that never finish
  for (const s of servers) assert.ok(Math.abs(s.inflight / (1000 * s.weight) - 1) <= 0.1, `${s.id}: ${s.inflight}`);
});
