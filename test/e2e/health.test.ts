// Active health (heartbeats) end to end: HAProxy's rise/fall hysteresis,
// slow start after a return, /status, and panic mode when most servers fail
// their checks (issue #3, section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';
import { countBy, fleetConfig, sequence, startFleet, upstreamStatus, type Instance } from '../helpers/fleet.ts';

async function fleet(t: { after(fn: () => Promise<void>): void }, n = 3): Promise<Instance[]> {
  const servers = await startFleet(n);
  t.after(() => Promise.all(servers.map((s) => s.close())).then(() => {}));
  return servers;
}

const FAST = { interval: '40ms', timeout: '500ms', jitter: 0 };

test('a failing heartbeat takes a server out after `fall` checks, not before; it returns after `rise` passes, not before', async (t) => {
  const servers = await fleet(t);
  const sick = servers[1]!;
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { balance: 'round-robin', health: { path: '/healthz', ...FAST, fall: 3, rise: 3 }, outlier: false },
    ),
  );
  t.after(() => gw.close());
  const stateOf = async () => (await upstreamStatus(gw.adminUrl)).servers[1]!;
  // The first check of an `up` server that fails takes it out at once
  // (HAProxy's init-state up); start the script after one passing check.
  await waitFor(async () => (await stateOf()).lastHealthLatencyMs !== null, { what: 'a first heartbeat' });

  // fall − 1 failures, then passes: the server never leaves.
  sick.healthScript.push(500, 500);
  const before = sick.checks;
  await waitFor(() => sick.checks >= before + 4, { what: 'two failed and two passing checks' });
  assert.equal((await stateOf()).state, 'ready', 'two failures in a row are fewer than fall = 3');
  assert.ok(!gw.logs.some((l) => l.event === 'unhealthy'), 'no unhealthy transition was logged');

  // Now it fails for good: out after exactly three failures in a row.
  sick.healthStatus = 503;
  const failingFrom = sick.checks;
  await waitFor(async () => (await stateOf()).state === 'unhealthy', { what: 'state unhealthy' });
  assert.ok(sick.checks - failingFrom >= 3, `marked unhealthy after ${sick.checks - failingFrom} failed checks`);
  const line = gw.logs.find((l) => l.event === 'unhealthy')!;
  assert.equal(line.msg, 'server state changed');
  assert.equal(line.status, 503);
  const hits = sick.hits;
  const names = await sequence(`${gw.url}/`, 12);
  assert.ok(!names.includes('s1'), `no request reached the unhealthy server: ${names.join(' ')}`);
  assert.equal(sick.hits, hits);

  // rise − 1 passes then a failure: still out. Then three passes: back.
  sick.healthScript.push(200, 200, 500);
  const scripted = sick.checks;
  await waitFor(() => sick.checks >= scripted + 4, { what: 'the scripted checks' });
  assert.equal((await stateOf()).state, 'unhealthy', 'two passes in a row are fewer than rise = 3');
  sick.healthStatus = 200;
  await waitFor(async () => (await stateOf()).state === 'ready', { what: 'state ready again' });
  assert.equal(countBy(await sequence(`${gw.url}/`, 9)).s1, 3, 'back in the rotation');
  const server = (await stateOf());
  assert.ok(server.lastHealthLatencyMs !== null && server.lastHealthLatencyMs >= 0 && server.lastHealthLatencyMs < 500);
});

test('slow start: a server back from unhealthy ramps its weight instead of taking its full share at once', async (t) => {
  const servers = await fleet(t);
  const sick = servers[0]!;
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => ({ url: s.url, weight: 4 })),
      { balance: 'weighted-round-robin', health: { path: '/healthz', ...FAST, fall: 1, rise: 1, slowStart: '3s' }, outlier: false },
    ),
  );
  t.after(() => gw.close());
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.lastHealthLatencyMs !== null, { what: 'a first heartbeat' });
  sick.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.state === 'unhealthy', { what: 'unhealthy' });
  sick.healthStatus = 200;
  const back = await waitFor(
    async () => {
      const s = (await upstreamStatus(gw.adminUrl)).servers[0]!;
      return s.state === 'ready' ? s : null;
    },
    { what: 'ready again' },
  );
  assert.ok(back.weight < 4 * 0.5, `weight ${back.weight} right after the return is well under the configured 4`);
  assert.ok(back.weight >= 0.4 - 1e-9, `weight ${back.weight} starts at no less than 10%`);
  // Its share of the next requests is well under a third.
  const hits = sick.hits;
  await sequence(`${gw.url}/`, 30);
  assert.ok(sick.hits - hits < 8, `the returning server got ${sick.hits - hits} of 30 (a full share is 10)`);
  // The ramp goes on: the weight grows while the window lasts.
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.weight > back.weight + 0.5, { what: 'the weight to grow', timeoutMs: 3000 });
  const others = (await upstreamStatus(gw.adminUrl)).servers.slice(1).map((s) => s.weight);
  assert.deepEqual(others, [4, 4], 'servers that never left keep their full weight');
});

test('panic: when most servers fail their checks, requests spread over all of them', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { balance: 'round-robin', health: { path: '/healthz', ...FAST, fall: 1, rise: 1 }, outlier: false },
    ),
  );
  t.after(() => gw.close());
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers.every((s) => s.lastHealthLatencyMs !== null), { what: 'first heartbeats' });
  // One of three unhealthy: 67% healthy, above the 50% threshold; no panic.
  servers[0]!.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.state === 'unhealthy', { what: 's0 unhealthy' });
  let status = await upstreamStatus(gw.adminUrl);
  assert.equal(status.panic, false);
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 6)), { s1: 3, s2: 3 });
  // Two of three: 33% healthy, under 50%: balance over all three.
  servers[1]!.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[1]!.state === 'unhealthy', { what: 's1 unhealthy' });
  status = await upstreamStatus(gw.adminUrl);
  assert.equal(status.panic, true, 'panic flag in /status');
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 9)), { s0: 3, s1: 3, s2: 3 }, 'all servers take requests in panic');
  // Healthy again: panic ends.
  servers[0]!.healthStatus = 200;
  servers[1]!.healthStatus = 200;
  await waitFor(async () => !(await upstreamStatus(gw.adminUrl)).panic, { what: 'panic to end' });
});

test('panicThreshold 0: with every server unhealthy the client gets 503, not a dead server', async (t) => {
  const servers = await fleet(t, 2);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { health: { path: '/healthz', ...FAST, fall: 1, rise: 1 }, outlier: false, panicThreshold: 0 },
    ),
  );
  t.after(() => gw.close());
  for (const s of servers) s.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers.every((s) => s.state === 'unhealthy'), { what: 'all unhealthy' });
  const res = await fetch(`${gw.url}/`);
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(servers[0]!.hits + servers[1]!.hits, 0);
});

test('a reload keeps an unhealthy server out, and it still returns once its heartbeat passes', async (t) => {
  const servers = await fleet(t, 2);
  const config = fleetConfig(
    servers.map((s) => s.url),
    // rise 2 × 400 ms: the reloaded checker needs ≥ 400 ms to bring it back.
    { balance: 'round-robin', health: { path: '/healthz', interval: '400ms', timeout: '300ms', jitter: 0, fall: 1, rise: 2 }, outlier: false },
  );
  const gw = await startGateway(config);
  t.after(() => gw.close());
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.lastHealthLatencyMs !== null, { what: 'a first heartbeat' });
  servers[0]!.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.state === 'unhealthy', { what: 'unhealthy' });
  const { parseConfig } = await import('../../packages/gateway/src/index.ts');
  // It recovers just as the reload comes: the new checker's first checks pass.
  servers[0]!.healthStatus = 200;
  gw.gateway.reload(parseConfig(config, 'test.yaml'));
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'unhealthy', 'the reload did not bring it back untested');
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 2)), { s1: 2 });
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.state === 'ready', { what: 'ready after the reload' });
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 4)), { s0: 2, s1: 2 });
});
