import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { ActiveHealthCheck, nextDelay, parseStatusRanges, statusMatches, type ActiveHealthOptions, type CheckDetail } from './active.ts';
import { startUpstream, type TestUpstream } from '../../../../../test/helpers/upstream.ts';
import { waitFor } from '../../../../../test/helpers/wait.ts';

type Mode = 'ok' | 'fail' | 'redirect' | 'hang' | 'alternate' | 'cut-body';

interface HeartbeatServer extends TestUpstream {
  mode: Mode;
  /** One record per heartbeat received, with the answer it got. */
  readonly requests: { method: string; url: string; host: string | undefined; answer: Mode }[];
  /** Connections accepted, and those still open. */
  readonly connections: { accepted: number; open: number };
  /** Heartbeats answered with `answer` so far. */
  served(answer: Mode): number;
}

/** A real server on port 0 whose heartbeat answer can be switched: 200, 500, 302, never, alternating, or a body cut short. */
async function heartbeatServer(t: TestContext, mode: Mode = 'ok'): Promise<HeartbeatServer> {
  const requests: HeartbeatServer['requests'] = [];
  const connections = { accepted: 0, open: 0 };
  let flip = false;
  const self = {} as HeartbeatServer;
  const up = await startUpstream((req, res) => {
    let answer = self.mode;
    if (answer === 'alternate') answer = (flip = !flip) ? 'fail' : 'ok';
    requests.push({ method: req.method!, url: req.url!, host: req.headers.host, answer });
    switch (answer) {
      case 'ok':
        return void res.end('ok');
      case 'fail':
        res.statusCode = 500;
        return void res.end('down');
      case 'redirect':
        res.writeHead(302, { location: '/elsewhere' });
        return void res.end();
      case 'cut-body':
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        return void setImmediate(() => res.socket?.destroy());
      case 'hang':
        return;
    }
  });
  up.server.on('connection', (socket: net.Socket) => {
    connections.accepted++;
    connections.open++;
    socket.on('close', () => connections.open--);
  });
  Object.assign(self, up, { mode, requests, connections, served: (a: Mode) => requests.filter((r) => r.answer === a).length });
  t.after(() => self.close());
  return self;
}

interface Recorder {
  /**
   * State changes, each with the number of checks of that server and what
   * `observe` returned when it was reported (later checks may already have
   * run by the time a test looks).
   */
  readonly changes: { id: string; healthy: boolean; detail: CheckDetail; afterChecks: number; observed: unknown }[];
  readonly checks: { id: string; ok: boolean; detail: CheckDetail }[];
}

/** A checker with test-sized timings whose callbacks are recorded; stopped when the test ends. */
function checker(t: TestContext, options: Partial<ActiveHealthOptions> = {}, observe?: () => unknown): ActiveHealthCheck & Recorder {
  const changes: Recorder['changes'] = [];
  const checks: Recorder['checks'] = [];
  const hc = new ActiveHealthCheck({
    path: '/healthz',
    intervalMs: 20,
    // Generous: a loaded test machine must not turn a passing check into a
    // failing one; the tests of timeouts set their own.
    timeoutMs: 5000,
    onChange: (id, healthy, detail) => changes.push({ id, healthy, detail, afterChecks: checks.filter((c) => c.id === id).length, observed: observe?.() }),
    onCheck: (id, ok, detail) => checks.push({ id, ok, detail }),
    ...options,
  });
  t.after(() => hc.stop());
  return Object.assign(hc, { changes, checks });
}

test('a healthy server is sent GET <path> every interval and stays healthy without a state change', async (t) => {
  const server = await heartbeatServer(t);
  const hc = checker(t, { path: '/healthz?deep=1' });
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.get('a')!.checks >= 3, { what: '3 checks' });
  assert.deepEqual(hc.changes, []);
  const h = hc.get('a')!;
  assert.equal(h.healthy, true);
  assert.ok(h.consecutiveOk >= 3);
  assert.equal(h.consecutiveFail, 0);
  assert.equal(h.lastStatus, 200);
  assert.equal(h.lastError, null);
  assert.ok(typeof h.lastLatencyMs === 'number' && h.lastLatencyMs >= 0 && h.lastLatencyMs < 5000);
  assert.ok(h.lastCheckAt !== null && Math.abs(Date.now() - h.lastCheckAt) < 1000);
  for (const r of server.requests) assert.deepEqual([r.method, r.url, r.host], ['GET', '/healthz?deep=1', `127.0.0.1:${server.port}`]);
  assert.equal(hc.isHealthy('a'), true);
  assert.deepEqual(hc.list().map((s) => s.id), ['a']);
});

test('`fall` failures in a row mark a server unhealthy; `rise` passes in a row bring it back', async (t) => {
  const server = await heartbeatServer(t);
  const hc = checker(t, { initial: 'fully-up', rise: 2, fall: 3 }, () => [server.served('fail'), server.served('ok')]);
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.get('a')!.checks >= 1);
  server.mode = 'fail';
  await waitFor(() => hc.changes.length === 1, { what: 'the server to go down' });
  // The change is reported with the result that caused it, before any further check is sent.
  assert.equal((hc.changes[0]!.observed as number[])[0], 3);
  assert.deepEqual(hc.changes[0]!.detail, { status: 500, error: 'unexpected status 500', latencyMs: hc.changes[0]!.detail.latencyMs });
  assert.equal(hc.changes[0]!.healthy, false);
  assert.ok(hc.get('a')!.consecutiveFail >= 3);
  assert.equal(hc.isHealthy('a'), false);

  const okBefore = server.served('ok');
  server.mode = 'ok';
  await waitFor(() => hc.changes.length === 2, { what: 'the server to come back' });
  assert.equal((hc.changes[1]!.observed as number[])[1]! - okBefore, 2);
  assert.equal(hc.changes[1]!.healthy, true);
  assert.equal(hc.changes[1]!.detail.status, 200);
  assert.equal(hc.changes[1]!.detail.error, undefined);
});

test('failures that are not in a row never mark a server down (nor passes that are not in a row up)', async (t) => {
  const forUp = await heartbeatServer(t, 'alternate');
  const forDown = await heartbeatServer(t, 'alternate');
  const hc = checker(t, { initial: 'fully-up', fall: 2 });
  const down = checker(t, { initial: 'fully-down', rise: 2 });
  hc.add({ id: 'a', url: forUp.url });
  down.add({ id: 'b', url: forDown.url });
  await waitFor(() => hc.get('a')!.checks >= 10 && down.get('b')!.checks >= 10, { what: '10 alternating checks each' });
  assert.deepEqual(hc.changes, []);
  assert.deepEqual(down.changes, []);
  assert.ok(hc.checks.some((c) => !c.ok) && hc.checks.some((c) => c.ok));
});

test('a heartbeat that takes longer than `timeout` fails, and its connection is closed', async (t) => {
  const server = await heartbeatServer(t, 'hang');
  // One check only: the next is far away.
  const hc = checker(t, { timeoutMs: 100, intervalMs: 60_000, initial: 'up' });
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.changes.length === 1, { what: 'the timeout' });
  const { healthy, detail } = hc.changes[0]!;
  assert.equal(healthy, false);
  assert.equal(detail.error, 'timed out after 100 ms');
  assert.equal(detail.status, undefined);
  assert.ok(detail.latencyMs >= 90, `latency ${detail.latencyMs} ms covers the wait`);
  await waitFor(() => server.connections.accepted === 1 && server.connections.open === 0, { what: 'the hung connection to close' });
});

test('a refused connection fails the check with the reason', async (t) => {
  const gone = await heartbeatServer(t);
  await gone.close();
  const hc = checker(t);
  hc.add({ id: 'a', url: gone.url });
  await waitFor(() => hc.changes.length === 1);
  assert.equal(hc.changes[0]!.healthy, false);
  assert.match(hc.changes[0]!.detail.error!, /ECONNREFUSED/);
  assert.equal(hc.get('a')!.lastStatus, null);
});

test('a response whose body is cut short fails the check', async (t) => {
  const server = await heartbeatServer(t, 'cut-body');
  const hc = checker(t);
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.changes.length === 1);
  assert.equal(hc.changes[0]!.healthy, false);
  assert.equal(hc.changes[0]!.detail.status, 200);
  assert.ok(hc.changes[0]!.detail.error);
});

test('expected status: 2xx and 3xx pass by default; a configured list is honoured', async (t) => {
  const redirect = await heartbeatServer(t, 'redirect');
  const ok = await heartbeatServer(t, 'ok');
  const hc = checker(t);
  hc.add({ id: 'r', url: redirect.url });
  const strict = checker(t, { expectedStatus: [[204, 204], [302, 302]] });
  strict.add({ id: 'ok', url: ok.url });
  strict.add({ id: 'r', url: redirect.url });
  await waitFor(() => hc.get('r')!.checks >= 2 && strict.changes.length === 1);
  assert.deepEqual(hc.changes, []);
  assert.equal(strict.changes[0]!.id, 'ok');
  assert.equal(strict.changes[0]!.detail.error, 'unexpected status 200');
  assert.equal(strict.isHealthy('r'), true);
});

test('initial state: up falls on the first failure, fully-up after `fall`; down rises on the first pass, fully-down after `rise`', async (t) => {
  const failing = await heartbeatServer(t, 'fail');
  const ok = await heartbeatServer(t, 'ok');
  const hc = checker(t, { rise: 3, fall: 3 });
  hc.add({ id: 'up', url: failing.url }); // the checker's default, as HAProxy's
  hc.add({ id: 'fully-up', url: failing.url }, { initial: 'fully-up' });
  hc.add({ id: 'down', url: ok.url }, { initial: 'down' });
  hc.add({ id: 'fully-down', url: ok.url }, { initial: 'fully-down' });
  assert.equal(hc.isHealthy('up'), true);
  assert.equal(hc.isHealthy('down'), false);
  await waitFor(() => hc.changes.length === 4, { what: 'four state changes' });
  const checksAtChange = Object.fromEntries(hc.changes.map((c) => [c.id, [c.healthy, c.afterChecks]]));
  assert.deepEqual(checksAtChange, { up: [false, 1], 'fully-up': [false, 3], down: [true, 1], 'fully-down': [true, 3] });
});

test('an `up` server whose first check passed needs `fall` failures like any other', async (t) => {
  const server = await heartbeatServer(t);
  const hc = checker(t, { initial: 'up', fall: 3 }, () => server.served('fail'));
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.get('a')!.checks >= 1);
  server.mode = 'fail';
  await waitFor(() => hc.changes.length === 1);
  assert.equal(hc.changes[0]!.observed, 3);
});

test('a `down` server whose first check failed needs `rise` passes like any other', async (t) => {
  const server = await heartbeatServer(t, 'fail');
  const hc = checker(t, { initial: 'down', rise: 2 }, () => server.served('ok'));
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.get('a')!.checks >= 1);
  server.mode = 'ok';
  await waitFor(() => hc.changes.length === 1);
  assert.equal(hc.changes[0]!.observed, 2);
});

test('fastIntervalMs paces checks in transition and downIntervalMs checks of a down server', async (t) => {
  const server = await heartbeatServer(t, 'fail');
  // With only the 60 s interval, going down would take two minutes and coming back four.
  const hc = checker(t, { initial: 'fully-up', intervalMs: 60_000, fastIntervalMs: 10, downIntervalMs: 10, fall: 3, rise: 2 });
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.changes.length === 1, { what: 'fall within fastinter' });
  server.mode = 'ok';
  await waitFor(() => hc.changes.length === 2, { what: 'rise within downinter and fastinter' });
  assert.equal(hc.isHealthy('a'), true);
});

test('each check opens its own connection unless keepAlive is set', async (t) => {
  const fresh = await heartbeatServer(t);
  const reused = await heartbeatServer(t);
  const hc = checker(t);
  const ka = checker(t, { keepAlive: true });
  hc.add({ id: 'a', url: fresh.url });
  ka.add({ id: 'b', url: reused.url });
  await waitFor(() => hc.get('a')!.checks >= 4 && ka.get('b')!.checks >= 4);
  assert.ok(fresh.connections.accepted >= 4, `${fresh.connections.accepted} connections for ${hc.get('a')!.checks} checks`);
  assert.equal(reused.connections.accepted, 1);
});

test('the `host` option sets the Host header of heartbeats', async (t) => {
  const server = await heartbeatServer(t);
  const hc = checker(t, { host: 'app.internal' });
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => server.requests.length >= 1);
  assert.equal(server.requests[0]!.host, 'app.internal');
});

test('jitter draws each delay from the injected source of randomness', async (t) => {
  const server = await heartbeatServer(t);
  let draws = 0;
  const hc = checker(t, { random: () => (draws++, 0.5) });
  hc.add({ id: 'a', url: server.url });
  await waitFor(() => hc.get('a')!.checks >= 3);
  assert.ok(draws >= 2, 'one draw per scheduled check');
});

test('remove() stops checking that server and aborts its check in flight; the others go on', async (t) => {
  const hanging = await heartbeatServer(t, 'hang');
  const steady = await heartbeatServer(t);
  const hc = checker(t);
  hc.add({ id: 'hang', url: hanging.url });
  hc.add({ id: 'steady', url: steady.url });
  await waitFor(() => hanging.requests.length === 1 && hc.get('steady')!.checks >= 1);
  await hc.remove('hang');
  assert.equal(hc.has('hang'), false);
  assert.equal(hc.get('hang'), undefined);
  await waitFor(() => hanging.connections.open === 0, { what: 'the in-flight heartbeat connection to close' });
  const after = hc.get('steady')!.checks;
  await waitFor(() => hc.get('steady')!.checks >= after + 5, { what: '5 more checks of the other server' });
  assert.equal(hanging.requests.length, 1);
  assert.ok(hc.checks.every((c) => c.id === 'steady'), 'no result is reported for the removed server');
  await hc.remove('unknown'); // a no-op
});

test('stop() clears every timer, aborts checks in flight and leaves no handle behind', async (t) => {
  const hanging = await heartbeatServer(t, 'hang');
  const steady = await heartbeatServer(t);
  const gone = await heartbeatServer(t);
  await gone.close();
  // The closed listener's handle goes a moment after its close callback.
  const baseline = await waitFor(() => resources()['TCPServerWrap'] === 2 && resources());
  // Ref'd timers here, so that a leaked one would show in getActiveResourcesInfo().
  const hc = checker(t, { unref: false, keepAlive: true });
  hc.add({ id: 'hang', url: hanging.url });
  hc.add({ id: 'steady', url: steady.url });
  hc.add({ id: 'gone', url: gone.url });
  await waitFor(() => hanging.requests.length === 1 && hc.get('steady')!.checks >= 3 && hc.get('gone')!.checks >= 3);
  assert.notDeepEqual(resources(), baseline);
  const reported = hc.checks.length;
  await hc.stop();
  await waitFor(() => JSON.stringify(resources()) === JSON.stringify(baseline), { what: `resources back to ${JSON.stringify(baseline)}` });
  assert.equal(hanging.connections.open, 0);
  assert.equal(hc.checks.length, reported, 'nothing is reported after stop()');
  assert.throws(() => hc.add({ id: 'late', url: steady.url }), /stopped/);
});

test('add() refuses a server already checked; the options are checked when the checker is built', (t) => {
  const hc = checker(t);
  hc.add({ id: 'a', url: 'http://127.0.0.1:9' });
  assert.throws(() => hc.add({ id: 'a', url: 'http://127.0.0.1:9' }), /already checked/);
  const onChange = () => {};
  assert.throws(() => new ActiveHealthCheck({ path: 'healthz', onChange }), /must start with "\/"/);
  assert.throws(() => new ActiveHealthCheck({ path: '/', jitter: 1, onChange }), /jitter/);
  assert.throws(() => new ActiveHealthCheck({ path: '/', rise: 0, onChange }), /rise/);
  assert.throws(() => new ActiveHealthCheck({ path: '/', fall: 1.5, onChange }), /fall/);
  assert.throws(() => new ActiveHealthCheck({ path: '/', intervalMs: 0, onChange }), /intervalMs/);
  assert.throws(() => new ActiveHealthCheck({ path: '/', expectedStatus: [], onChange }), /expectedStatus/);
});

test('nextDelay spreads checks over interval ± jitter', () => {
  assert.equal(nextDelay(2000, 0.1, () => 0), 1800);
  assert.equal(nextDelay(2000, 0.1, () => 0.5), 2000);
  assert.equal(nextDelay(2000, 0.1, () => 0.999_999), 2200);
  assert.equal(nextDelay(2000, 0, () => 0), 2000);
  for (let i = 0; i < 1000; i++) {
    const d = nextDelay(2000, 0.1);
    assert.ok(d >= 1800 && d <= 2200, `${d}`);
  }
});

test('statusMatches and parseStatusRanges', () => {
  assert.equal(statusMatches(200, [[200, 399]]), true);
  assert.equal(statusMatches(399, [[200, 399]]), true);
  assert.equal(statusMatches(400, [[200, 399]]), false);
  assert.equal(statusMatches(204, [[200, 200], [204, 204]]), true);
  assert.deepEqual(parseStatusRanges('200-399'), [[200, 399]]);
  assert.deepEqual(parseStatusRanges('200, 204 ,300 - 302'), [[200, 200], [204, 204], [300, 302]]);
  assert.match(parseStatusRanges('2xx') as string, /not a status/);
  assert.match(parseStatusRanges('200,') as string, /not a status/);
  assert.match(parseStatusRanges('399-200') as string, /empty/);
  assert.match(parseStatusRanges('600') as string, /outside/);
  assert.match(parseStatusRanges('099') as string, /outside/);
});

/** Active resources by type, sorted, for comparison. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
