// `rampart up` with a `run:` upstream, as a user runs it: one real `up`
// process supervising real app processes, real load through the gateway.
// A killed instance leaves the balancer at once and comes back; a rolling
// restart (`rampart reload`, i.e. SIGHUP, and the admin endpoint) replaces
// every process; neither fails a request. At the end SIGTERM stops the
// gateway and every instance and exits 0.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, rampart } from '../helpers/cli.ts';
import { INSTANCE_APP, LoadLoop, isAlive, readyServers, startUp, upstreamStatus, type Answer, type UpProcess } from '../helpers/up.ts';
import { waitFor } from '../helpers/wait.ts';

function config(port: number, admin: number, greeting: string): string {
  return JSON.stringify({
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${admin}`,
    shutdownGrace: '5s',
    log: { level: 'info', access: false },
    upstreams: {
      app: {
        run: { command: [process.execPath, INSTANCE_APP], instances: 3, env: { GREETING: greeting }, stopGrace: '2s' },
        health: { path: '/healthz', interval: '500ms' },
      },
    },
    routes: [{ path: '/', upstream: 'app' }],
  });
}

describe('rampart up with a run: upstream of 3 instances', () => {
  let dir: string;
  let file: string;
  let base: string;
  let adminUrl: string;
  let admin: number;
  let port: number;
  let up: UpProcess;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rampart-up-'));
    file = path.join(dir, 'rampart.yaml');
    port = await freePort();
    admin = await freePort();
    base = `http://127.0.0.1:${port}`;
    adminUrl = `http://127.0.0.1:${admin}`;
    await writeFile(file, config(port, admin, 'v1'));
    // No file watching: the file is rewritten below and only SIGHUP must act on it.
    up = startUp(file, ['--no-watch']);
  });

  after(async () => {
    const code = await up.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `rampart up exited ${code}: ${up.stderr()}`);
    const pids = up.instancePids();
    assert.ok(pids.size >= 3);
    for (const pid of pids) assert.equal(isAlive(pid), false, `instance ${pid} outlived rampart up`);
    assert.ok(up.logs.some((l) => l.msg === 'instances stopped'));
  });

  test('all three serve, /status lists them ready with their PIDs, output is logged with the instance id', async () => {
    const servers = await readyServers(adminUrl, 3);
    assert.equal(new Set(servers.map((s) => s.pid)).size, 3);
    const ids = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${base}/`);
      assert.equal(res.status, 200);
      ids.add(((await res.json()) as Answer).id);
    }
    assert.deepEqual([...ids].sort(), ['app-1', 'app-2', 'app-3'], 'requests land on three distinct instances');
    const u = await upstreamStatus(adminUrl);
    assert.deepEqual(u.autoscale, { enabled: false });
    assert.deepEqual(u.instances!.map((i) => [i.id, i.state]), [['app-1', 'ready'], ['app-2', 'ready'], ['app-3', 'ready']]);
    await waitFor(() => up.logs.some((l) => l.instance === 'app-2' && l.stream === 'stdout' && /^listening on \d+$/.test(String(l.msg))), { what: 'instance output in the log' });
  });

  test('an instance killed with SIGKILL leaves the balancer at once and comes back on a new port; no GET fails', async (t) => {
    const before = await readyServers(adminUrl, 3);
    const victim = before.find((s) => s.instance === 'app-2')!;
    // Three clients: every request a dead server fails is retried elsewhere
    // within the retry budget's minimum of 3 concurrent retries.
    const load = new LoadLoop(`${base}/`, { maxRequests: 20_000, maxMs: 20_000 });
    load.setConcurrency(3);
    try {
      await waitFor(() => load.ok >= 50, { what: 'load to flow' });
      const killedAt = Date.now();
      process.kill(victim.pid!, 'SIGKILL');
      // Out of the balancer: the crash is seen when the process exits, not after failed requests or heartbeats.
      await waitFor(async () => !(await upstreamStatus(adminUrl)).servers.some((s) => s.url === victim.url), { intervalMs: 5, what: 'the dead server to leave' });
      const goneAfter = Date.now() - killedAt;
      const back = await waitFor(
        async () => {
          const u = await upstreamStatus(adminUrl);
          return u.servers.find((s) => s.instance === 'app-2' && s.state === 'ready' && s.pid !== victim.pid);
        },
        { timeoutMs: 10_000, what: 'app-2 to come back' },
      );
      assert.notEqual(back.url, victim.url, 'a restarted instance gets a new port');
      const served = load.servedBy.get('app-2') ?? 0;
      await waitFor(() => (load.servedBy.get('app-2') ?? 0) >= served + 10, { what: 'the restarted instance to serve' });
      assert.ok(goneAfter < 1_000, `the dead server left after ${goneAfter} ms`);
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
    assert.equal(load.exhausted, false);
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    const retried = [...metrics.matchAll(/^rampart_upstream_errors_total\{upstream="app",kind="([A-Z_]+)"\} (\d+)/gm)].map((m) => `${m[1]}=${m[2]}`);
    t.diagnostic(`${load.total} GETs, 0 failed; exchanges with the dead instance that were retried: ${retried.join(', ') || 'none'}`);
    const u = await upstreamStatus(adminUrl);
    assert.equal(u.instances!.find((i) => i.id === 'app-2')!.restarts, 1);
    assert.ok(up.logs.some((l) => l.msg === 'instance crashed: out of the balancer; it restarts with backoff' && l.instance === 'app-2' && l.signal === 'SIGKILL'));
  });

  test('rolling restarts under load (`rampart reload` with a changed env, then POST /upstreams/app/restart): 0 failed, every PID replaced', async () => {
    const first = await readyServers(adminUrl, 3);
    const load = new LoadLoop(`${base}/?delay=20`, { maxRequests: 50_000, maxMs: 30_000 });
    load.setConcurrency(8);
    try {
      await waitFor(() => load.ok >= 100, { what: 'load to flow' });

      // 1. `rampart reload`: SIGHUP to `up`, which rereads the file (new GREETING) and replaces every instance.
      await writeFile(file, config(port, admin, 'v2'));
      const reload = await rampart(['reload', '-c', file]);
      assert.equal(reload.code, 0, reload.stderr);
      assert.match(reload.stdout, /asked rampart up \(pid \d+\) to reload/);
      const second = await waitFor(
        async () => {
          const servers = await readyServers(adminUrl, 3);
          return servers.every((s) => !first.some((f) => f.pid === s.pid)) ? servers : null;
        },
        { timeoutMs: 15_000, what: 'every instance replaced after rampart reload' },
      );
      const answer = (await (await fetch(`${base}/`)).json()) as Answer;
      assert.equal(answer.greeting, 'v2', 'the new instances run with the reloaded env');

      // 2. The admin endpoint answers when the restart is done.
      const res = await fetch(`${adminUrl}/upstreams/app/restart`, { method: 'POST', signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { restarted: boolean; status: { servers: { pid: number; state: string }[] } };
      assert.equal(body.restarted, true);
      const third = body.status.servers;
      assert.equal(third.length, 3);
      assert.ok(third.every((s) => s.state === 'ready' && !second.some((p) => p.pid === s.pid)), 'every PID changed again');
      const served = load.total;
      await waitFor(() => load.total >= served + 50, { what: 'load after the restart' });
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
    assert.equal(load.exhausted, false);
    assert.ok(load.pids.size >= 9, `answers came from ${load.pids.size} processes`);
    assert.equal((await fetch(`${adminUrl}/upstreams/nope/restart`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${adminUrl}/upstreams/app/restart`)).status, 405);
  });
});
