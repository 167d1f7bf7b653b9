import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EwmaBalancer } from './ewma.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
type Server = ReturnType<typeof server>;

test('a slow server (100 ms) gets clearly fewer requests than fast ones (5 ms)', () => {
  let now = 0;
  const b = new EwmaBalancer<Server>({ random: seededRandom(5), now: () => now });
  const latency = new Map([['slow', 100], ['fast1', 5], ['fast2', 5]]);
  const servers = [...latency.keys()].map((id) => server(id));
  b.update(servers);
  // One request per millisecond for 20 s; each answers after its server's latency.
  // (p2c on in-flight alone gives the slow server about 4% here; ewma under 1%.)
  const pending: { s: Server; done: number }[] = [];
  const counts = new Map<string, number>();
  for (now = 0; now < 20_000; now++) {
    for (let k = pending.length - 1; k >= 0; k--) {
      const p = pending[k]!;
      if (p.done > now) continue;
      p.s.inflight--;
      b.observe(p.s, latency.get(p.s.id)!, false);
      pending.splice(k, 1);
    }
    const s = b.pick()!;
    s.inflight++;
    pending.push({ s, done: now + latency.get(s.id)! });
    counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
  }
  const share = (id: string) => counts.get(id)! / 20_000;
  assert.ok(share('slow') < 0.01, `slow share ${share('slow')}`);
  assert.ok(share('fast1') > 0.4 && share('fast2') > 0.4, `fast shares ${share('fast1')} ${share('fast2')}`);
});

test('a server with no sample starts at the default latency (configurable)', () => {
  const a = server('a');
  const linkerd = new EwmaBalancer<Server>({ now: () => 0 });
  linkerd.update([a]);
  assert.equal(linkerd.estimate(a), 30);
  const custom = new EwmaBalancer<Server>({ now: () => 0, ewmaDefaultLatencyMs: 250 });
  custom.update([a]);
  assert.equal(custom.estimate(a), 250);
});

test('peak: a sample above the estimate is taken at once', () => {
  const a = server('a');
  const b = new EwmaBalancer<Server>({ now: () => 0 });
  b.update([a]);
  b.observe(a, 100, false);
  assert.equal(b.estimate(a), 100);
});

test('a sample below the estimate is blended by the time since the last one (τ = 10 s)', () => {
  let now = 0;
  const a = server('a');
  const b = new EwmaBalancer<Server>({ now: () => now });
  b.update([a]);
  b.observe(a, 100, false);
  now = 10_000;
  b.observe(a, 10, false);
  assert.ok(Math.abs(b.estimate(a)! - (100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)))) < 1e-9);
});

test('with no new samples the estimate decays toward zero, so a slow server is tried again', () => {
  let now = 0;
  const a = server('a');
  const b = new EwmaBalancer<Server>({ now: () => now, ewmaDecayMs: 1000 });
  b.update([a]);
  b.observe(a, 100, false);
  now = 1000;
  assert.ok(Math.abs(b.estimate(a)! - 100 * Math.exp(-1)) < 1e-9);
  now = 3000;
  assert.ok(Math.abs(b.estimate(a)! - 100 * Math.exp(-3)) < 1e-9);
});

test('a failure counts as at least the failure penalty, so failing fast does not look fast', () => {
  const a = server('a');
  const b = new EwmaBalancer<Server>({ now: () => 0, ewmaFailurePenaltyMs: 500 });
  b.update([a]);
  b.observe(a, 2, true);
  assert.equal(b.estimate(a), 500);
});

test('the cost counts requests in flight: same latency, the less busy wins', () => {
  const b = new EwmaBalancer<Server>({ random: seededRandom(6), now: () => 0 });
  const busy = { ...server('busy'), inflight: 3 };
  b.update([busy, server('idle')]);
  for (let i = 0; i < 100; i++) assert.equal(b.pick()!.id, 'idle');
});

test('estimates survive an update for servers that stay', () => {
  const a = server('a');
  const b = new EwmaBalancer<Server>({ now: () => 0 });
  b.update([a, server('b')]);
  b.observe(a, 70, false);
  b.update([{ ...a }, server('c')]);
  assert.equal(b.estimate(a), 70);
  assert.equal(b.estimate(server('b')), undefined);
});

test('invalid options are refused when the balancer is built', () => {
  assert.throws(() => new EwmaBalancer({ ewmaDecayMs: 0 }), RangeError);
  assert.throws(() => new EwmaBalancer({ ewmaDefaultLatencyMs: -1 }), RangeError);
  assert.throws(() => new EwmaBalancer({ ewmaFailurePenaltyMs: Number.NaN }), RangeError);
});
