// Each balancing method end to end, over three real servers that name
// themselves in every answer: the property that defines the method, through
// a real gateway (issue #3, section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';
import { countBy, fleetConfig, get, sequence, startFleet, upstreamStatus, type Instance } from '../helpers/fleet.ts';

async function fleet(t: { after(fn: () => Promise<void>): void }, n = 3): Promise<Instance[]> {
  const servers = await startFleet(n);
  t.after(() => Promise.all(servers.map((s) => s.close())).then(() => {}));
  return servers;
}

test('round-robin: exact rotation in config order, from wherever it starts', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'round-robin' }));
  t.after(() => gw.close());
  const names = await sequence(`${gw.url}/`, 12);
  const start = Number(names[0]!.slice(1));
  assert.deepEqual(names, names.map((_, i) => `s${(start + i) % 3}`));
});

test('weighted-round-robin: weights {3,1,1} give exactly 3,1,1 in every cycle of 5, interleaved', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s, i) => ({ url: s.url, weight: i === 0 ? 3 : 1 })),
      { balance: 'weighted-round-robin' },
    ),
  );
  t.after(() => gw.close());
  const names = await sequence(`${gw.url}/`, 20);
  for (let c = 0; c < 4; c++) {
    const cycle = names.slice(c * 5, c * 5 + 5);
    assert.deepEqual(countBy(cycle), { s0: 3, s1: 1, s2: 1 }, `cycle ${c}: ${cycle.join(' ')}`);
    // nginx's smooth WRR interleaves the heavy server's turns: s0 s1 s0 s2 s0.
    assert.deepEqual(cycle, ['s0', 's1', 's0', 's2', 's0']);
  }
  const status = await upstreamStatus(gw.adminUrl);
  assert.deepEqual(status.servers.map((s) => s.weight), [3, 1, 1]);
});

test('least-connections: new requests go to the idle servers while another holds slow ones', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'least-connections' }));
  t.after(() => gw.close());
  // Two slow requests: each lands somewhere and stays in flight.
  const slow = [fetch(`${gw.url}/hold/1`), fetch(`${gw.url}/hold/2`)];
  await waitFor(() => servers.reduce((n, s) => n + s.held.length, 0) === 2, { what: 'both slow requests held' });
  const busy = servers.filter((s) => s.held.length > 0);
  assert.equal(busy.length, 2, 'the second slow request went to an idle server, not the busy one');
  const idle = servers.find((s) => s.held.length === 0)!;
  const names = await sequence(`${gw.url}/`, 12);
  assert.deepEqual(countBy(names), { [idle.name]: 12 }, 'every new request goes to the one idle server');
  for (const s of servers) s.release();
  for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
  // Once idle again, all three share the load.
  assert.equal(Object.keys(countBy(await sequence(`${gw.url}/`, 6))).length, 3);
});

test('hash on header:x-user: each user stays on one server; draining one moves only its users', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'hash', hashKey: 'header:x-user' }));
  t.after(() => gw.close());
  const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
  const home = new Map<string, string>();
  for (const u of users) {
    const seen = new Set(await sequence(`${gw.url}/`, 3, { 'x-user': u }));
    assert.equal(seen.size, 1, `${u} stayed on one server`);
    home.set(u, [...seen][0]!);
  }
  const spread = countBy([...home.values()]);
  assert.equal(Object.keys(spread).length, 3, `30 users spread over all three servers: ${JSON.stringify(spread)}`);

  const drained = servers[1]!;
  const res = await fetch(`${gw.adminUrl}/upstreams/app/servers/1/drain`, { method: 'POST' });
  assert.equal(res.status, 200);
  await res.text();
  for (const u of users) {
    const now = (await get(`${gw.url}/`, { 'x-user': u })).instance!;
    if (home.get(u) === drained.name) assert.notEqual(now, drained.name, `${u} moved off the drained server`);
    else assert.equal(now, home.get(u), `${u}, not on the drained server, did not move`);
  }
  // Undrained, every user is back home: the ring is a function of the set.
  await (await fetch(`${gw.adminUrl}/upstreams/app/servers/1/undrain`, { method: 'POST' })).text();
  for (const u of users) assert.equal((await get(`${gw.url}/`, { 'x-user': u })).instance, home.get(u));
});

/** Runs `total` GETs with `concurrency` loops; returns the instance of each. */
async function load(url: string, total: number, concurrency: number): Promise<string[]> {
  const names: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const r = await get(url);
      assert.equal(r.status, 200, r.body);
      names.push(r.instance!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return names;
}

for (const balance of ['p2c', 'ewma'] as const) {
  test(`${balance}: a slow server gets clearly fewer requests`, async (t) => {
    const servers = await fleet(t);
    servers[2]!.delayMs = 40;
    const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance }));
    t.after(() => gw.close());
    const names = await load(`${gw.url}/`, 240, 6);
    const counts = countBy(names);
    t.diagnostic(`${balance} shares over 240 requests, s2 slow: ${JSON.stringify(counts)}`);
    // An even share would be 80; round-robin would give it exactly that.
    assert.ok((counts.s2 ?? 0) < 240 / 3 / 2, `the slow server got ${counts.s2} of 240`);
    assert.ok((counts.s0 ?? 0) > 60 && (counts.s1 ?? 0) > 60, 'the fast servers share the rest');
  });
}

test('random: every server gets a share; weights bias it', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s, i) => ({ url: s.url, weight: i === 0 ? 8 : 1 })),
      { balance: 'random' },
    ),
  );
  t.after(() => gw.close());
  const counts = countBy(await load(`${gw.url}/`, 200, 4));
  // Expected 160 / 20 / 20; the bounds are > 6 σ wide.
  assert.ok(counts.s0! > 120, JSON.stringify(counts));
  assert.ok((counts.s1 ?? 0) > 3 && (counts.s2 ?? 0) > 3, JSON.stringify(counts));
});

test('a reload that reorders and reweighs servers takes effect and keeps every server', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig([servers[0]!.url, servers[1]!.url], { balance: 'weighted-round-robin' }));
  t.after(() => gw.close());
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 4)), { s0: 2, s1: 2 });
  const { parseConfig } = await import('../../packages/gateway/src/index.ts');
  // s2 joins in front (taking id 0), s0 moves to id 1 with weight 2, s1 leaves.
  gw.gateway.reload(
    parseConfig(
      fleetConfig(
        [
          { url: servers[2]!.url, weight: 1 },
          { url: servers[0]!.url, weight: 2 },
        ],
        { balance: 'weighted-round-robin' },
      ),
      'test.yaml',
    ),
  );
  const status = await upstreamStatus(gw.adminUrl);
  assert.deepEqual(
    status.servers.map((s) => [s.id, s.url, s.weight]),
    [
      ['0', servers[2]!.url, 1],
      ['1', servers[0]!.url, 2],
    ],
  );
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 6)), { s0: 4, s2: 2 });
});

test('ewma: a server that refuses connections is scored by its failures, not left looking fast', async (t) => {
  const servers = await fleet(t);
  servers[0]!.kill();
  // No ejection: the balancer alone must steer away; retries hide the failures.
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'ewma', outlier: false }));
  t.after(() => gw.close());
  const names = await sequence(`${gw.url}/`, 90);
  assert.deepEqual(Object.keys(countBy(names)).sort(), ['s1', 's2']);
  const failed = (await upstreamStatus(gw.adminUrl)).servers[0]!.failed;
  // Each failure costs the dead server the failure penalty (1 s): after one
  // or two it loses every comparison. Unscored, it would be drawn in about
  // two thirds of the pairs and, never sampled, decay to look the fastest.
  assert.ok(failed <= 5, `the dead server took ${failed} of 90 attempts`);
});

test('hash: a reload that removes the first server moves only its users, though every id shifts', async (t) => {
  const servers = await fleet(t, 4);
  const upstream = { balance: 'hash', hashKey: 'header:x-user' };
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), upstream));
  t.after(() => gw.close());
  const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
  const before = new Map<string, string>();
  for (const u of users) before.set(u, (await get(`${gw.url}/`, { 'x-user': u })).instance!);
  assert.ok([...before.values()].includes('s0'), 'some users were on s0');
  const { parseConfig } = await import('../../packages/gateway/src/index.ts');
  gw.gateway.reload(parseConfig(fleetConfig(servers.slice(1).map((s) => s.url), upstream), 'test.yaml'));
  let moved = 0;
  for (const u of users) {
    const now = (await get(`${gw.url}/`, { 'x-user': u })).instance!;
    if (before.get(u) === 's0') moved++;
    else assert.equal(now, before.get(u), `${u} stayed on ${before.get(u)}`);
  }
  assert.ok(moved > 0);
});

test('hash on path and on a cookie: the same key, the same server; no key, round-robin', async (t) => {
  const servers = await fleet(t);
  const byPath = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'hash', hashKey: 'path' }));
  t.after(() => byPath.close());
  const paths = Array.from({ length: 12 }, (_, i) => `/item/${i}`);
  const homes = new Set<string>();
  for (const p of paths) {
    // The query is not part of the key.
    const seen = new Set([(await get(`${byPath.url}${p}`)).instance, (await get(`${byPath.url}${p}?v=2`)).instance]);
    assert.equal(seen.size, 1, p);
    homes.add([...seen][0]!);
  }
  assert.ok(homes.size >= 2, 'paths spread over servers');

  const byCookie = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'hash', hashKey: 'cookie:session' }));
  t.after(() => byCookie.close());
  for (const id of ['a', 'b', 'c', 'd']) {
    const seen = new Set(await sequence(`${byCookie.url}/`, 3, { cookie: `x=1; session=${id}` }));
    assert.equal(seen.size, 1, `session ${id}`);
  }
  assert.equal(new Set(await sequence(`${byCookie.url}/`, 3)).size, 3, 'no cookie: round-robin');
});
