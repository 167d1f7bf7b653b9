// Passive health end to end: a server killed under load is ejected from the
// results of real requests within a few failures, retries hide the failures
// from clients, maxEjectionPercent caps how many go, and ejection ends by
// itself (issue #3, section 1; Envoy's outlier detection).
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

interface LoadResult {
  ok: number;
  failed: { status: number; body: string }[];
}

/**
 * GETs from `concurrency` loops until `stop()` resolves, at most `max` in
 * all and never past `deadlineMs`.
 */
function loadUntil(url: string, concurrency: number, max: number, deadlineMs: number): { stop(): Promise<LoadResult>; count(): number } {
  const result: LoadResult = { ok: 0, failed: [] };
  const deadline = Date.now() + deadlineMs;
  let sent = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && sent < max && Date.now() < deadline) {
      sent++;
      try {
        const r = await get(url);
        if (r.status === 200) result.ok++;
        else result.failed.push({ status: r.status, body: r.body });
      } catch (err) {
        result.failed.push({ status: 0, body: String(err) });
      }
    }
  };
  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    count: () => sent,
    stop: async () => {
      stopped = true;
      await workers;
      return result;
    },
  };
}

for (const balance of ['round-robin', 'least-connections'] as const) {
  test(`${balance}: a server killed under load: 0 failed GETs, ejected within a second`, async (t) => {
    const servers = await fleet(t);
    const victim = servers[1]!;
    const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance }));
    t.after(() => gw.close());
    const loadGen = loadUntil(`${gw.url}/`, 8, 4000, 15_000);
    // Warm: every server has served and holds pooled connections.
    await waitFor(() => servers.every((s) => s.hits >= 20), { what: 'load on every server' });

    const killedAt = performance.now();
    const killedAtWall = Date.now();
    victim.kill();
    const ejected = await waitFor(
      async () => {
        const s = (await upstreamStatus(gw.adminUrl)).servers[1]!;
        return s.state === 'ejected' ? s : null;
      },
      { timeoutMs: 5000, intervalMs: 5, what: 'the killed server ejected' },
    );
    const seenEjectedMs = performance.now() - killedAt;
    // The ejection log line is written when the detector acts; its time is the gateway's.
    const line = gw.logs.find((l) => l.event === 'ejected' && l.id === '1')!;
    const ejectMs = Date.parse(line.time as string) - killedAtWall;
    // Attempts sent before the ejection may still be under way (a connect
    // about to be refused); one /status snapshot counts them as in flight.
    const attemptsByEjection = ejected.failed + ejected.inflight;
    // Keep the load on a while: no further attempt may reach the ejected server.
    const sentAtEjection = loadGen.count();
    await waitFor(() => loadGen.count() >= sentAtEjection + 200, { timeoutMs: 10_000, what: '200 more requests' });
    const result = await loadGen.stop();
    const after = (await upstreamStatus(gw.adminUrl)).servers[1]!;
    t.diagnostic(
      `${balance}: killed → ejected in ${ejectMs} ms (log), seen in /status after ${seenEjectedMs.toFixed(0)} ms; ` +
        `${after.failed} failed attempts on it, all retried; ${result.ok} GETs ok, ${result.failed.length} failed`,
    );
    assert.deepEqual(result.failed, [], 'no GET failed: retries covered every attempt on the dead server');
    assert.ok(ejectMs <= 1000, `ejected ${ejectMs} ms after the kill (target ≤ 1 s)`);
    assert.ok(after.failed <= attemptsByEjection, `no attempt was sent to the server once ejected (${after.failed} > ${attemptsByEjection})`);
    assert.equal(after.inflight, 0);
    assert.equal(after.served, ejected.served);
    assert.equal(after.state, 'ejected');
    assert.equal(line.kind === 'reset' || line.kind === 'connect', true, `ejected for ${String(line.kind)}`);
    assert.equal(line.consecutive, 5, 'after consecutiveFailures (default 5) in a row');
    assert.ok((await upstreamStatus(gw.adminUrl)).servers.filter((s) => s.state === 'ready').length === 2);
  });
}

test('maxEjectionPercent: of two dead servers out of three only one is ejected at 34%; the other still fails over', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { balance: 'round-robin', outlier: { consecutiveFailures: 2, maxEjectionPercent: 34 }, retries: { attempts: 2 } },
    ),
  );
  t.after(() => gw.close());
  await sequence(`${gw.url}/`, 6);
  servers[0]!.kill();
  servers[1]!.kill();
  // Sequential GETs: each is retried up to twice, so one always reaches s2.
  const names = await sequence(`${gw.url}/`, 30);
  assert.deepEqual(countBy(names), { s2: 30 });
  const status = await upstreamStatus(gw.adminUrl);
  const states = status.servers.map((s) => s.state);
  assert.equal(states.filter((s) => s === 'ejected').length, 1, `one ejected: ${states.join(', ')}`);
  assert.equal(states[2], 'ready');
  assert.equal(status.panic, false, '2 of 3 counted healthy: no panic');
  // The dead server that was not ejected kept taking (failed, retried) attempts.
  const notEjected = status.servers.find((s) => s.state === 'ready' && s.id !== '2')!;
  assert.ok(notEjected.failed > 2, `the dead server left in service failed ${notEjected.failed} attempts`);
});

test('an ejection ends after baseEjectionTime and the server takes requests again', async (t) => {
  const servers = await fleet(t, 2);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { balance: 'round-robin', outlier: { consecutiveFailures: 1, baseEjectionTime: '300ms' } },
    ),
  );
  t.after(() => gw.close());
  // A server that resets connections for a moment: stop its listener, then start it again on the same port.
  const victim = servers[0]!;
  const port = victim.port;
  victim.kill();
  await sequence(`${gw.url}/`, 4);
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'ejected');
  victim.server.listen(port, '127.0.0.1');
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[0]!.state === 'ready', { timeoutMs: 3000, what: 'the ejection to end' });
  assert.ok(gw.logs.some((l) => l.event === 'returned' && l.id === '0'));
  await waitFor(async () => (await get(`${gw.url}/`)).instance === 's0', { what: 'a request served by the returned server' });
});

test('consecutive5xx: 5xx answers eject a server only when configured', async (t) => {
  const servers = await fleet(t, 3);
  // s0 answers every request with 500.
  servers[0]!.server.removeAllListeners('request');
  servers[0]!.server.on('request', (_req, res) => {
    servers[0]!.hits++;
    res.writeHead(500, { 'x-instance': 's0' }).end('boom');
  });
  for (const count5xx of [false, true]) {
    const gw = await startGateway(
      fleetConfig(
        servers.map((s) => s.url),
        { balance: 'round-robin', outlier: { consecutiveFailures: 3, consecutive5xx: count5xx } },
      ),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await get(`${gw.url}/`)).status);
    const state = (await upstreamStatus(gw.adminUrl)).servers[0]!.state;
    await gw.close();
    if (count5xx) {
      assert.equal(state, 'ejected');
      assert.equal(statuses.filter((s) => s === 500).length, 3, '5xx are not retried; three of them eject');
    } else {
      assert.equal(state, 'ready', 'without consecutive5xx a 5xx proves the server reachable');
      assert.equal(statuses.filter((s) => s === 500).length, 5);
    }
  }
});

test('a reload does not leave an ejected server ejected for good', async (t) => {
  const servers = await fleet(t, 2);
  const config = fleetConfig(servers.map((s) => s.url), { balance: 'round-robin', outlier: { consecutiveFailures: 1, baseEjectionTime: '60s' } });
  const gw = await startGateway(config);
  t.after(() => gw.close());
  const victim = servers[0]!;
  const port = victim.port;
  victim.kill();
  await sequence(`${gw.url}/`, 3);
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'ejected');
  victim.server.listen(port, '127.0.0.1');
  await waitFor(() => victim.server.listening, { what: 'the server listening again' });
  // The new detector starts with a clean record: the server is tried again
  // (and would be ejected again within consecutiveFailures if still dead),
  // rather than stay out with nothing left to end its ejection.
  const { parseConfig } = await import('../../packages/gateway/src/index.ts');
  gw.gateway.reload(parseConfig(config, 'test.yaml'));
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'ready');
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 4)), { s0: 2, s1: 2 });
});
