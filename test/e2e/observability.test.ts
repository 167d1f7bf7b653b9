// What operators see: the access log, Prometheus metrics and the admin
// listener's /status contract (shared/BRIEF.md, "Contracts").
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { once } from 'node:events';
import { startUpstream } from '../helpers/upstream.ts';
import { startGateway, configFor } from '../helpers/gateway.ts';
import { freePort } from '../helpers/cli.ts';
import { rawRequest } from '../helpers/raw.ts';
import { waitFor } from '../helpers/wait.ts';
import { parseConfig } from '../../packages/gateway/src/index.ts';

const STATES = new Set(['starting', 'ready', 'draining', 'ejected', 'unhealthy']);

async function held(t: TestContext) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived = 0;
  const upstream = await startUpstream((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      if (req.url === '/slow') arrived++;
      void (req.url === '/slow' ? gate : Promise.resolve()).then(() => {
        res.setHeader('set-cookie', 'session=upstream-secret-cookie');
        res.end(`got ${bytes}`);
      });
    });
  });
  t.after(async () => {
    release();
    await upstream.close();
  });
  return { upstream, release, arrived: () => arrived };
}

async function metrics(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('one JSON access-log line per request, with what was asked, who served it and how long it took', async (t) => {
  const { upstream } = await held(t);
  const gw = await startGateway(configFor([upstream.url]));
  t.after(() => gw.close());

  assert.equal((await fetch(`${gw.url}/a?x=1`)).status, 200);
  const post = await fetch(`${gw.url}/upload`, { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(await post.text(), 'got 1000');
  const lines = await waitFor(() => {
    const found = gw.logs.filter((l) => l.msg === 'request');
    return found.length >= 2 ? found : null;
  });
  assert.equal(lines.length, 2, 'exactly one line per request');
  const [get, upload] = lines as [Record<string, unknown>, Record<string, unknown>];
  assert.equal(get.level, 'info');
  assert.equal(get.method, 'GET');
  assert.equal(get.path, '/a?x=1');
  assert.equal(get.route, '/');
  assert.equal(get.server, upstream.url);
  assert.equal(get.status, 200);
  assert.equal(get.bytesIn, 0);
  assert.equal(get.bytesOut, 'got 0'.length);
  assert.equal(get.remote, '127.0.0.1');
  assert.equal(typeof get.time, 'string');
  for (const line of lines) {
    assert.equal(typeof line.ms, 'number');
    assert.equal(typeof line.upstreamMs, 'number');
    assert.ok((line.ms as number) >= (line.upstreamMs as number) && (line.upstreamMs as number) >= 0);
  }
  assert.equal(upload.method, 'POST');
  assert.equal(upload.bytesIn, 1000);
  assert.equal(upload.bytesOut, 'got 1000'.length);
});

test('/metrics: requests by route and code, a duration histogram, upstream errors by kind, requests in flight', async (t) => {
  const { upstream, release, arrived } = await held(t);
  const dead = await freePort();
  const gw = await startGateway(
    configFor(
      [upstream.url],
      `  - path: /dead\n    upstream: dead\n`,
    ).replace('routes:', `  dead:\n    servers: ["http://127.0.0.1:${dead}"]\nroutes:`),
  );
  t.after(() => gw.close());

  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gw.url}/ok`)).status, 200);
  assert.equal((await fetch(`${gw.url}/dead/x`)).status, 502);

  const slow = fetch(`${gw.url}/slow`);
  await waitFor(() => arrived() === 1);
  let text = await metrics(gw.adminUrl);
  assert.equal(sample(text, 'rampart_requests_in_flight'), 1, 'the held request is in flight');
  release();
  assert.equal((await slow).status, 200);

  text = await metrics(gw.adminUrl);
  assert.match(text, /^# TYPE rampart_requests_total counter$/m);
  assert.equal(sample(text, 'rampart_requests_total{route="/",code="200"}'), 4);
  assert.equal(sample(text, 'rampart_requests_total{route="/dead",code="502"}'), 1);
  assert.match(text, /^# TYPE rampart_request_duration_seconds histogram$/m);
  assert.equal(sample(text, 'rampart_request_duration_seconds_count{route="/"}'), 4);
  assert.equal(sample(text, 'rampart_request_duration_seconds_bucket{le="+Inf",route="/"}'), 4);
  assert.ok(sample(text, 'rampart_request_duration_seconds_sum{route="/"}')! > 0);
  assert.equal(sample(text, 'rampart_upstream_errors_total{upstream="dead",kind="RAMPART_ERR_UPSTREAM_CONNECT"}'), 1);
  assert.equal(sample(text, 'rampart_requests_in_flight'), 0);
  assert.match(text, /^rampart_process_cpu_seconds_total /m, 'process metrics carry the rampart_ prefix');
});

test('GET /status follows the contract: each upstream with its servers and the autoscaler state', async (t) => {
  const { upstream, release, arrived } = await held(t);
  const other = await startUpstream((_req, res) => res.end());
  t.after(() => other.close());
  const gw = await startGateway(configFor([upstream.url, other.url]));
  t.after(() => gw.close());

  // Round-robin over [held, other]: `/` goes to the first server; of the two
  // /slow that follow, one is held there and the other answered at once.
  assert.equal((await fetch(`${gw.url}/`)).status, 200);
  const slow = fetch(`${gw.url}/slow`);
  const slow2 = fetch(`${gw.url}/slow`);
  type Status = { upstreams: Record<string, { servers: Record<string, unknown>[]; autoscale: unknown }> };
  const total = (st: Status, key: string) => st.upstreams.app!.servers.reduce((n, s) => n + (s[key] as number), 0);
  let res!: Response;
  const status = await waitFor(async () => {
    res = await fetch(`${gw.adminUrl}/status`);
    const st = (await res.json()) as Status;
    return total(st, 'served') === 2 && total(st, 'inflight') === 1 ? st : null;
  }, { what: 'two requests served and one in flight' });
  assert.equal(arrived(), 1);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const app = status.upstreams.app!;
  assert.ok('autoscale' in app, 'autoscale key present');
  assert.equal(typeof app.autoscale, 'object');
  assert.equal(app.servers.length, 2);
  for (const [i, server] of app.servers.entries()) {
    for (const key of ['id', 'url', 'state', 'inflight', 'served']) assert.ok(key in server, `servers[${i}].${key}`);
    assert.equal(typeof server.id, 'string');
    assert.ok(STATES.has(server.state as string), `state ${String(server.state)}`);
    assert.equal(typeof server.inflight, 'number');
    assert.equal(typeof server.served, 'number');
  }
  assert.deepEqual(
    app.servers.map((s) => s.url),
    [upstream.url, other.url],
  );
  assert.deepEqual(
    app.servers.map((s) => s.inflight),
    [1, 0],
    'the held request is in flight on its server',
  );

  release();
  await Promise.all([slow, slow2]);
  const after = (await (await fetch(`${gw.adminUrl}/status`)).json()) as Status;
  assert.equal(total(after, 'served'), 3);
  assert.equal(total(after, 'inflight'), 0);
});

test('the admin listener: loopback by default, GET and HEAD only', async (t) => {
  assert.deepEqual(parseConfig(configFor(['http://127.0.0.1:1']).replace(/^admin: .*\n/m, '')).admin, { host: '127.0.0.1', port: 9901 });

  // A bare port binds loopback too, without the warning for exposed admin listeners.
  const gw = await startGateway(configFor(['http://127.0.0.1:1']).replace(/^admin: .*$/m, 'admin: 0'));
  t.after(() => gw.close());
  assert.equal((await fetch(`${gw.adminUrl}/status`)).status, 200);
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (external) {
    const socket = net.connect(gw.gateway.adminPort, external.address);
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED', `not reachable on ${external.address}`);
  }
  assert.ok(!gw.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('no authentication')));

  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await fetch(`${gw.adminUrl}/status`, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  }
  assert.equal((await fetch(`${gw.adminUrl}/status`, { method: 'HEAD' })).status, 200);
  assert.equal((await fetch(`${gw.adminUrl}/nope`)).status, 404);

  const exposed = await startGateway(configFor(['http://127.0.0.1:1']).replace(/^admin: .*$/m, 'admin: "0.0.0.0:0"'));
  t.after(() => exposed.close());
  await waitFor(() => exposed.logs.some((l) => l.level === 'warn' && l.msg === 'the admin listener is reachable from other hosts and has no authentication'));
});

test('secrets never reach the log, even at trace level', async (t) => {
  const { upstream } = await held(t);
  const dead = await freePort();
  const yaml = configFor([upstream.url], `  - path: /dead\n    upstream: dead\n`)
    .replace('routes:', `  dead:\n    servers: ["http://127.0.0.1:${dead}"]\nroutes:`)
    .replace('log: { level: info, access: true }', 'log: { level: trace, access: true }');
  const gw = await startGateway(yaml);
  t.after(() => gw.close());

  const secrets = { authorization: 'Bearer top-secret-token', cookie: 'session=top-secret-cookie', 'proxy-authorization': 'Basic c2VjcmV0', 'x-api-key': 'secret-api-key' };
  assert.equal((await fetch(`${gw.url}/a`, { headers: secrets })).status, 200);
  assert.equal((await fetch(`${gw.url}/dead`, { headers: secrets })).status, 502);
  // A refused request (bad header line) with credentials in it.
  const refused = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nhost: x\r\nauthorization: Bearer top-secret-token\r\nbad header\r\n\r\n');
  assert.match(refused.text, /^HTTP\/1\.1 400/);
  await waitFor(() => gw.logs.filter((l) => l.msg === 'request').length >= 2 && gw.logs.some((l) => l.msg === 'request refused'));

  const all = JSON.stringify(gw.logs);
  for (const needle of ['top-secret', 'c2VjcmV0', 'secret-api-key', 'upstream-secret-cookie']) {
    assert.ok(!all.includes(needle), `${needle} must not appear in any log line`);
  }
});
