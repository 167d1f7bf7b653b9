// Hot reload of `rampart gateway -c file` as a child process: on file change
// and on SIGHUP, new requests follow the new config while requests in flight
// and idle keep-alive connections are kept; an invalid file is refused and
// the running config stays in force.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startUpstream } from '../helpers/upstream.ts';
import { startGatewayProcess, freePort, type GatewayProcess } from '../helpers/cli.ts';
import { KeepAliveClient } from '../helpers/keepalive.ts';
import { waitFor } from '../helpers/wait.ts';

function gatewayYaml(port: number, admin: number, routes: [string, string][], servers: Record<string, string>): string {
  return `listen: "127.0.0.1:${port}"
admin: "127.0.0.1:${admin}"
shutdownGrace: 2s
upstreams:
${Object.entries(servers)
  .map(([name, url]) => `  ${name}:\n    servers: ["${url}"]\n`)
  .join('')}routes:
${routes.map(([p, u]) => `  - { path: ${p}, upstream: ${u} }\n`).join('')}`;
}

async function body(url: string): Promise<string> {
  const res = await fetch(url);
  return `${res.status} ${await res.text()}`;
}

async function started(gw: GatewayProcess): Promise<void> {
  await waitFor(() => gw.logs.some((l) => l.msg === 'gateway listening') || gw.child.exitCode !== null, { timeoutMs: 15_000, what: 'gateway listening' });
  assert.equal(gw.child.exitCode, null, gw.stderr());
}

async function setup(t: TestContext) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let slowArrived = false;
  const a = await startUpstream((req, res) => {
    if (req.url === '/slow') {
      slowArrived = true;
      void held.then(() => res.end('A slow'));
      return;
    }
    res.end('A');
  });
  const b = await startUpstream((_req, res) => res.end('B'));
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-reload-'));
  t.after(async () => {
    release();
    await Promise.all([a.close(), b.close(), rm(dir, { recursive: true, force: true })]);
  });
  const port = await freePort();
  const admin = await freePort();
  const servers = { a: a.url, b: b.url };
  return {
    file: path.join(dir, 'rampart.yaml'),
    dir,
    port,
    admin,
    base: `http://127.0.0.1:${port}`,
    v1: gatewayYaml(port, admin, [['/', 'a']], servers),
    v2: gatewayYaml(port, admin, [['/', 'a'], ['/b', 'b']], servers),
    release,
    slowArrived: () => slowArrived,
  };
}

test('a changed file applies to new requests; a request in flight and an idle keep-alive connection survive', async (t) => {
  const s = await setup(t);
  await writeFile(s.file, s.v1);
  const gw = startGatewayProcess(s.file);
  t.after(() => gw.kill());
  await started(gw);

  const client = await KeepAliveClient.connect(s.port);
  t.after(() => client.close());
  assert.equal((await client.get('/b/1')).body, 'A', 'before the reload /b is served by the / route');
  const inflight = fetch(`${s.base}/slow`);
  await waitFor(s.slowArrived, { what: 'the slow request at the upstream' });

  // Editors save by writing a new file and renaming it over the old one.
  await writeFile(`${s.file}.tmp`, s.v2);
  await rename(`${s.file}.tmp`, s.file);
  await waitFor(async () => (await body(`${s.base}/b/2`)) === '200 B', { timeoutMs: 10_000, intervalMs: 50, what: 'the new route to b' });
  const reloaded = await waitFor(() => gw.logs.find((l) => l.msg === 'configuration reloaded'), { what: 'the reload log line' });
  assert.equal(reloaded.routes, 2);
  assert.equal(reloaded.why, 'file changed');

  s.release();
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'A slow', 'the request in flight during the reload completes');

  const after = await client.get('/b/3');
  assert.equal(after.status, 200);
  assert.equal(after.body, 'B', 'the idle connection opened before the reload follows the new routes');
  assert.equal(client.closed, false);
  assert.equal(client.socket.localPort, client.localPort, 'same connection');
  assert.equal((await client.get('/x')).body, 'A');
});

test('SIGHUP reloads; an invalid file is refused with its problems and the old routes keep working', async (t) => {
  const s = await setup(t);
  await writeFile(s.file, s.v1);
  // --no-watch: only the signal can cause the reload.
  const gw = startGatewayProcess(s.file, ['--no-watch']);
  t.after(() => gw.kill());
  await started(gw);
  assert.equal(await body(`${s.base}/b`), '200 A');

  await writeFile(s.file, s.v2);
  gw.child.kill('SIGHUP');
  await waitFor(async () => (await body(`${s.base}/b`)) === '200 B', { timeoutMs: 10_000, intervalMs: 50, what: 'SIGHUP reload' });
  assert.equal((await waitFor(() => gw.logs.find((l) => l.msg === 'configuration reloaded'))).why, 'SIGHUP');

  await writeFile(s.file, `${s.v2}  - { path: /c, upstream: nope }\n`);
  gw.child.kill('SIGHUP');
  const refused = await waitFor(() => gw.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('configuration refused')), { timeoutMs: 10_000, what: 'the refusal' });
  assert.equal(refused.level, 'error');
  assert.equal(refused.file, s.file);
  assert.deepEqual(refused.problems, [{ path: 'routes[2].upstream (line 12)', message: 'no upstream named "nope" (defined: a, b)' }]);

  assert.equal(await body(`${s.base}/b`), '200 B', 'the config in force before the refusal still routes');
  assert.equal(await body(`${s.base}/`), '200 A');
  assert.equal((await fetch(`${s.base}/c`)).status, 200, '/c still goes to / (a), the refused route does not exist');
  assert.equal(gw.child.exitCode, null, 'the gateway is still running');

  const metrics = await (await fetch(`http://127.0.0.1:${s.admin}/metrics`)).text();
  assert.match(metrics, /^rampart_config_reloads_total\{result="refused"\} 1$/m);
  assert.match(metrics, /^rampart_config_reloads_total\{result="applied"\} 1$/m);
});
