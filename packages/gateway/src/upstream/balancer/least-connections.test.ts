import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastConnectionsBalancer, loadOf } from './least-connections.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
type Server = ReturnType<typeof server>;

test('the idle server gets the requests while another is stuck on slow ones', () => {
  const b = new LeastConnectionsBalancer<Server>();
  const [stuck, x, y] = [server('stuck'), server('x'), server('y')];
  b.update([stuck, x, y]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const s = b.pick()!;
    counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
    // stuck never answers; x and y answer before the next request arrives.
    if (s === stuck) s.inflight++;
  }
  assert.equal(counts.get('stuck'), 1);
  assert.equal(counts.get('x'), 150);
  assert.equal(counts.get('y'), 149);
});

test('equal servers share the load in exact rotation', () => {
  const b = new LeastConnectionsBalancer<Server>();
  b.update(['a', 'b', 'c'].map((id) => server(id)));
  assert.equal(Array.from({ length: 7 }, () => b.pick()!.id).join(' '), 'a b c a b c a');
});

test('the fewest in flight wins', () => {
  const b = new LeastConnectionsBalancer<Server>();
  const servers = [3, 1, 2].map((inflight, i) => ({ id: `s${i}`, weight: 1, inflight }));
  b.update(servers);
  assert.equal(b.pick()!.id, 's1');
});

test('weights: in flight settles in proportion to weight (HAProxy leastconn)', () => {
  const b = new LeastConnectionsBalancer<Server>();
  const servers = [server('a', 3), server('b', 2), server('c', 1)];
  b.update(servers);
  // Requests that never finish: each pick raises the chosen server's in flight.
  for (let i = 0; i < 600; i++) b.pick()!.inflight++;
  const [a, bb, c] = servers.map((s) => s.inflight);
  assert.ok(Math.abs(a! - 300) <= 2 && Math.abs(bb! - 200) <= 2 && Math.abs(c! - 100) <= 2, `${a} ${bb} ${c}`);
});

test('idle servers are equal whatever their weight, so light traffic is spread', () => {
  // Requests finish before the next arrives: in flight stays 0.
  const b = new LeastConnectionsBalancer<Server>();
  b.update([server('heavy', 10), server('light', 1)]);
  assert.equal(Array.from({ length: 4 }, () => b.pick()!.id).join(' '), 'heavy light heavy light');
});

test('the load key is 0 when idle, else (in flight + 1) / weight', () => {
  assert.equal(loadOf({ id: 'a', weight: 4, inflight: 0 }), 0);
  assert.equal(loadOf({ id: 'a', weight: 4, inflight: 3 }), 1);
});

test('the tie-break rotation survives an update', () => {
  const b = new LeastConnectionsBalancer<Server>();
  const set = ['a', 'b', 'c'].map((id) => server(id));
  b.update(set);
  assert.equal(b.pick()!.id, 'a');
  b.update(set.map((s) => ({ ...s })));
  assert.equal(Array.from({ length: 3 }, () => b.pick()!.id).join(' '), 'b c a');
});
