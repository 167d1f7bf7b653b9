// Draining through the admin API end to end: no new requests to a drained
// server, the ones in flight finish, undrain brings it back; the endpoint's
// errors (issue #3, section 1).
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

async function admin(url: string, method = 'POST'): Promise<{ status: number; body: string; allow: string | null }> {
  const res = await fetch(url, { method });
  return { status: res.status, body: await res.text(), allow: res.headers.get('allow') };
}

test('drain: no new requests, in-flight ones finish with 200; undrain: back in rotation', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'round-robin' }));
  t.after(() => gw.close());
  // Two slow requests in flight on each server.
  const slow = Array.from({ length: 6 }, (_, i) => fetch(`${gw.url}/hold/${i}`));
  await waitFor(() => servers.every((s) => s.held.length === 2), { what: 'two held requests per server' });

  const drained = await admin(`${gw.adminUrl}/upstreams/app/servers/1/drain`);
  assert.equal(drained.status, 200);
  const body = JSON.parse(drained.body) as { id: string; state: string; inflight: number };
  assert.equal(body.id, '1');
  assert.equal(body.state, 'draining');
  assert.equal(body.inflight, 2);
  const status = await upstreamStatus(gw.adminUrl);
  assert.deepEqual(status.servers.map((s) => s.state), ['ready', 'draining', 'ready']);
  assert.ok(gw.logs.some((l) => l.msg === 'server draining' && l.id === '1'));

  const hits = servers[1]!.hits;
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 10)), { s0: 5, s2: 5 });
  assert.equal(servers[1]!.hits, hits, 'the drained server got no new request');

  // The requests in flight on it finish normally.
  for (const s of servers) s.release();
  const done = await Promise.all(slow.map(async (p) => {
    const r = await p;
    return `${r.status} ${await r.text()}`;
  }));
  assert.deepEqual(countBy(done), { '200 s0': 2, '200 s1': 2, '200 s2': 2 });
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[1]!.inflight === 0, { what: 'the drained server idle' });

  const undrained = await admin(`${gw.adminUrl}/upstreams/app/servers/1/undrain`);
  assert.equal(undrained.status, 200);
  assert.equal((JSON.parse(undrained.body) as { state: string }).state, 'ready');
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 9)), { s0: 3, s1: 3, s2: 3 });
});

test('draining every server leaves nothing to send to: 503, not a drained server', async (t) => {
  const servers = await fleet(t, 2);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url)));
  t.after(() => gw.close());
  for (const id of ['0', '1']) assert.equal((await admin(`${gw.adminUrl}/upstreams/app/servers/${id}/drain`)).status, 200);
  const res = await fetch(`${gw.url}/`);
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(servers[0]!.hits + servers[1]!.hits, 0);
  assert.equal((await upstreamStatus(gw.adminUrl)).panic, false, 'drained servers are not counted for panic');
});

test('a drain survives a reload that keeps the server', async (t) => {
  const servers = await fleet(t, 2);
  const config = fleetConfig(servers.map((s) => s.url));
  const gw = await startGateway(config);
  t.after(() => gw.close());
  assert.equal((await admin(`${gw.adminUrl}/upstreams/app/servers/0/drain`)).status, 200);
  const { parseConfig } = await import('../../packages/gateway/src/index.ts');
  gw.gateway.reload(parseConfig(config, 'test.yaml'));
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'draining');
  assert.deepEqual(countBy(await sequence(`${gw.url}/`, 4)), { s1: 4 });
});

test('drain endpoint: 404 for an unknown server or upstream, 405 for GET', async (t) => {
  const servers = await fleet(t, 1);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url)));
  t.after(() => gw.close());
  const unknownServer = await admin(`${gw.adminUrl}/upstreams/app/servers/7/drain`);
  assert.equal(unknownServer.status, 404);
  assert.match(unknownServer.body, /no server 7 in upstream app/);
  assert.equal((await admin(`${gw.adminUrl}/upstreams/nope/servers/0/drain`)).status, 404);
  assert.equal((await admin(`${gw.adminUrl}/upstreams/app/servers/7/undrain`)).status, 404);
  const get = await admin(`${gw.adminUrl}/upstreams/app/servers/0/drain`, 'GET');
  assert.equal(get.status, 405);
  assert.equal(get.allow, 'POST');
  assert.equal((await upstreamStatus(gw.adminUrl)).servers[0]!.state, 'ready', 'a refused call changes nothing');
});
