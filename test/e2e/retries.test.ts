// Retries end to end: idempotent requests that fail before any response byte
// go again to a different server; POST only where the route allows it; never
// once the body was streamed; and a budget caps concurrent retries
// (issue #3, section 1; Envoy's retry budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';
import { countBy, fleetConfig, refusedPort, startInstance, startResetter, upstreamStatus, type Instance } from '../helpers/fleet.ts';

async function live(t: { after(fn: () => Promise<void>): void }, name = 'live'): Promise<Instance> {
  const s = await startInstance(name);
  t.after(() => s.close());
  return s;
}

async function send(url: string, method: string, body?: string): Promise<{ status: number; instance: string | null; text: string }> {
  const res = await fetch(url, { method, body });
  return { status: res.status, instance: res.headers.get('x-instance'), text: await res.text() };
}

test('a GET that cannot connect is retried on the other server; the client never sees the failure', async (t) => {
  const ok = await live(t);
  const dead = `http://127.0.0.1:${await refusedPort()}`;
  const gw = await startGateway(fleetConfig([dead, ok.url], { balance: 'round-robin', outlier: false }));
  t.after(() => gw.close());
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await send(`${gw.url}/x`, 'GET'));
  assert.deepEqual(countBy(results.map((r) => `${r.status} ${r.instance}`)), { '200 live': 6 });
  const status = await upstreamStatus(gw.adminUrl);
  // A retry takes the next turn of the rotation, so with two servers nearly
  // every first attempt meets the dead one (nginx's proxy_next_upstream and
  // Envoy's retries advance the rotation the same way).
  assert.ok(status.servers[0]!.failed >= 3, `the dead server failed ${status.servers[0]!.failed} attempts`);
  assert.equal(status.servers[1]!.served, 6);
  assert.equal(status.retriesRefused, 0);
});

test('the access log names the server that answered a retried request', async (t) => {
  const ok = await live(t);
  const dead = `http://127.0.0.1:${await refusedPort()}`;
  const gw = await startGateway(fleetConfig([dead, ok.url], { balance: 'round-robin', outlier: false }));
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) assert.equal((await send(`${gw.url}/x`, 'GET')).status, 200);
  const access = gw.logs.filter((l) => l.msg === 'request');
  assert.deepEqual(access.map((l) => l.server), [ok.url, ok.url, ok.url, ok.url]);
});

test('a GET reset before any response byte is retried; a PUT whose body was streamed is not', async (t) => {
  const ok = await live(t);
  const resetter = await startResetter();
  t.after(() => resetter.close());
  const gw = await startGateway(fleetConfig([resetter.url, ok.url], { balance: 'round-robin', outlier: false }));
  t.after(() => gw.close());
  const gets = [await send(`${gw.url}/`, 'GET'), await send(`${gw.url}/`, 'GET')];
  assert.deepEqual(gets.map((r) => `${r.status} ${r.instance}`), ['200 live', '200 live']);
  assert.ok(resetter.requests >= 1, 'a GET met the reset and was retried');
  // Two PUTs: one meets the reset after its body went out and gets 502.
  const before = resetter.requests;
  const puts = [await send(`${gw.url}/`, 'PUT', 'payload'), await send(`${gw.url}/`, 'PUT', 'payload')];
  assert.deepEqual(puts.map((r) => r.status).sort(), [200, 502], 'a PUT with a streamed body is not replayed');
  assert.equal(resetter.requests, before + 1);
});

test('POST is not retried unless the route allows it; even then not once its body was streamed', async (t) => {
  const ok = await live(t);
  const dead = `http://127.0.0.1:${await refusedPort()}`;
  const resetter = await startResetter();
  t.after(() => resetter.close());
  const gw = await startGateway(
    JSON.stringify({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      upstreams: {
        refused: { servers: [dead, ok.url], outlier: false },
        reset: { servers: [resetter.url, ok.url], outlier: false },
      },
      routes: [
        { path: '/strict', upstream: 'refused' },
        { path: '/lenient', upstream: 'refused', retryNonIdempotent: true },
        { path: '/reset', upstream: 'reset', retryNonIdempotent: true },
      ],
    }),
  );
  t.after(() => gw.close());
  // Two POSTs each: round-robin sends one of the two to the refusing server.
  const strict = [await send(`${gw.url}/strict`, 'POST', 'a'), await send(`${gw.url}/strict`, 'POST', 'a')];
  assert.deepEqual(strict.map((r) => r.status).sort(), [200, 502], 'POST on a connect failure fails without retryNonIdempotent');
  const lenient = [await send(`${gw.url}/lenient`, 'POST', 'a'), await send(`${gw.url}/lenient`, 'POST', 'a')];
  assert.deepEqual(lenient.map((r) => r.status), [200, 200], 'with retryNonIdempotent a POST that never connected is retried');
  const reset = [await send(`${gw.url}/reset`, 'POST', 'a'), await send(`${gw.url}/reset`, 'POST', 'a')];
  assert.deepEqual(reset.map((r) => r.status).sort(), [200, 502], 'a POST whose body was streamed is never replayed');
  assert.equal(resetter.requests, 1);
});

test('the retry budget caps concurrent retries: under many failing requests some are refused and counted', async (t) => {
  const slow = await live(t, 'slow');
  const resetter = await startResetter();
  t.after(() => resetter.close());
  const gw = await startGateway(
    fleetConfig([resetter.url, slow.url], {
      balance: 'round-robin',
      outlier: false,
      retries: { attempts: 1, budgetPercent: 20, minConcurrency: 1 },
    }),
  );
  t.after(() => gw.close());
  // 20 concurrent GETs: about half meet a reset; their retries go to a
  // server that holds them, so they stay in flight. 20% of ≤ 20 active is 4.
  const requests = Array.from({ length: 20 }, () => send(`${gw.url}/hold`, 'GET'));
  // Every request ends up held at `slow` or answered 502.
  await waitFor(() => slow.held.length + gw.logs.filter((l) => l.msg === 'request').length === 20, { what: 'all requests placed' });
  slow.release();
  const results = await Promise.all(requests);
  const statuses = countBy(results.map((r) => String(r.status)));
  const status = await upstreamStatus(gw.adminUrl);
  const resets = resetter.requests;
  const retried = resets - status.retriesRefused;
  t.diagnostic(`20 concurrent GETs, ${resets} reset: ${JSON.stringify(statuses)}, retriesRefused ${status.retriesRefused}`);
  assert.ok(resets >= 6, `round-robin sent ${resets} first attempts to the resetting server`);
  assert.equal(statuses['502'], status.retriesRefused, 'each refused retry is one 502');
  assert.ok(status.retriesRefused >= 1, 'the budget refused some retries');
  assert.ok(retried >= 1 && retried <= 4, `between minConcurrency (1) and 20% of 20 (4) retries allowed at once; got ${retried}`);
});

test('a retry budget slot is given back when the client leaves during the retried request', async (t) => {
  const slow = await live(t, 'slow');
  const resetter = await startResetter();
  t.after(() => resetter.close());
  const gw = await startGateway(
    fleetConfig([resetter.url, slow.url], { balance: 'round-robin', outlier: false, retries: { attempts: 1, budgetPercent: 0, minConcurrency: 1 } }),
  );
  t.after(() => gw.close());
  // Three times: a request is reset, retried onto `slow`, and the client gives up.
  for (let i = 0; i < 3; i++) {
    const controller = new AbortController();
    // Alternate so that the first attempt of the next request meets the reset.
    const held = slow.held.length;
    const pending = fetch(`${gw.url}/hold`, { signal: controller.signal }).catch(() => null);
    const before = resetter.requests;
    await waitFor(() => slow.held.length > held || resetter.requests > before, { what: 'the request placed' });
    if (resetter.requests === before) {
      // It went to `slow` first: let it finish and try again.
      slow.release();
      await pending;
      continue;
    }
    await waitFor(() => slow.held.length > held, { what: 'the retry held' });
    controller.abort();
    await pending;
    await waitFor(async () => (await upstreamStatus(gw.adminUrl)).inflight === 0, { what: 'the aborted retry to end' });
  }
  slow.release();
  // The budget (one retry at a time) must be free again: a reset GET is retried.
  const results = [await send(`${gw.url}/`, 'GET'), await send(`${gw.url}/`, 'GET')];
  assert.deepEqual(results.map((r) => r.status), [200, 200]);
  assert.equal((await upstreamStatus(gw.adminUrl)).retriesRefused, 0);
});

test('with attempts: 2, no retry goes back to a server that already failed the request', async (t) => {
  const ok = await live(t);
  const dead = [`http://127.0.0.1:${await refusedPort()}`, `http://127.0.0.1:${await refusedPort()}`];
  const gw = await startGateway(fleetConfig([...dead, ok.url], { balance: 'random', outlier: false, retries: { attempts: 2 } }));
  t.after(() => gw.close());
  const statuses = [];
  for (let i = 0; i < 30; i++) statuses.push((await send(`${gw.url}/`, 'GET')).status);
  // Two dead servers and two retries: the third attempt, if needed, can only be the live one.
  assert.deepEqual(countBy(statuses.map(String)), { '200': 30 });
});
