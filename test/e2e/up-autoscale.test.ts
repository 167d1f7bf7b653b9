// Autoscaling under `rampart up`, against real processes: the signal is the
// gateway's own count of requests in flight per instance. A load step must
// start a scale-up within 5 s; once the load drops, the instances go only
// after the stabilisation window; no request fails on the way up or down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/cli.ts';
import { INSTANCE_APP, LoadLoop, isAlive, startUp, upstreamStatus } from '../helpers/up.ts';
import { waitFor } from '../helpers/wait.ts';

const WINDOW_MS = 2_000;
const INTERVAL_MS = 200;

interface Decision {
  at: number;
  from: number;
  to: number;
  reason: string;
  message: string;
  inputs: { current: number; ready: number; observed: number | null; target: number; ratio: number | null; rawDesired: number };
}

interface AutoscaleState {
  enabled: boolean;
  min: number;
  max: number;
  current: number;
  ready: number;
  desired: number;
  target: number;
  lastDecision: Decision | null;
  lastScale: Decision | null;
}

test('autoscale { min 1, max 4, target 2 }: a load step scales up within 5 s, the drop scales down after the window, 0 failed requests', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-autoscale-'));
  const file = path.join(dir, 'rampart.yaml');
  const port = await freePort();
  const admin = await freePort();
  const adminUrl = `http://127.0.0.1:${admin}`;
  await writeFile(
    file,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      admin: `127.0.0.1:${admin}`,
      shutdownGrace: '5s',
      log: { level: 'info', access: false },
      upstreams: {
        app: {
          run: {
            command: [process.execPath, INSTANCE_APP],
            healthPath: '/healthz',
            stopGrace: '2s',
            autoscale: { min: 1, max: 4, target: 2, window: `${WINDOW_MS / 1000}s`, interval: `${INTERVAL_MS}ms` },
          },
        },
      },
      routes: [{ path: '/', upstream: 'app' }],
    }),
  );
  const up = startUp(file, ['--no-watch']);
  const load = new LoadLoop(`http://127.0.0.1:${port}/?delay=100`, { maxRequests: 20_000, maxMs: 30_000 });
  t.after(async () => {
    await load.stop();
    const code = await up.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, up.stderr());
    for (const pid of up.instancePids()) assert.equal(isAlive(pid), false, `instance ${pid} outlived rampart up`);
  });
  const autoscale = async () => (await upstreamStatus(adminUrl)).autoscale as unknown as AutoscaleState;

  // Starts with min instances, and decides every interval.
  const initial = await waitFor(async () => {
    const a = await autoscale();
    return a.enabled && a.ready === 1 && a.lastDecision !== null ? a : null;
  }, { timeoutMs: 15_000, what: 'the autoscaler with one ready instance' });
  assert.deepEqual([initial.min, initial.max, initial.target, initial.current], [1, 4, 2, 1]);

  // Light load: one client, about 1 in flight against a target of 2: no change.
  load.setConcurrency(1);
  await waitFor(() => load.ok >= 10, { what: 'light load to flow' });
  assert.equal((await autoscale()).current, 1);

  // The step: 12 clients of 100 ms requests, ~12 in flight on one instance, 6× the target.
  const stepAt = Date.now();
  load.setConcurrency(12);
  const up1 = await waitFor(async () => {
    const a = await autoscale();
    return a.lastScale !== null && a.lastScale.to > a.lastScale.from ? a.lastScale : null;
  }, { timeoutMs: 5_000, intervalMs: 50, what: 'a scale-up decision within 5 s of the step' });
  assert.ok(up1.at - stepAt <= 5_000, `scale-up began ${up1.at - stepAt} ms after the step`);
  assert.ok(up1.inputs.observed !== null && up1.inputs.observed > 2, `observed ${up1.inputs.observed}`);
  // The first interval after the step averages in the quiet before it, so the
  // first step may be smaller; the sustained load takes it to the maximum.
  await waitFor(async () => (await upstreamStatus(adminUrl)).servers.filter((s) => s.state === 'ready').length === 4, { timeoutMs: 10_000, what: '4 ready servers' });
  await waitFor(() => ['app-2', 'app-3', 'app-4'].every((id) => (load.servedBy.get(id) ?? 0) >= 10), { what: 'every new instance to serve' });
  assert.equal((await autoscale()).current, 4, 'held at the maximum while the load lasts');

  // The drop: back to one client. Nothing goes before the window has passed.
  const dropAt = Date.now();
  load.setConcurrency(1);
  await waitFor(async () => {
    const u = await upstreamStatus(adminUrl);
    return (u.autoscale as unknown as AutoscaleState).current === 1 && u.servers.length === 1 && u.instances!.length === 1;
  }, { timeoutMs: WINDOW_MS + 10_000, intervalMs: 50, what: 'back to one instance' });
  const served = load.ok;
  await waitFor(() => load.ok >= served + 10, { what: 'requests after the scale-down' });
  await load.stop();

  assert.deepEqual(load.failures.slice(0, 5), [], `${load.failures.length} of ${load.total} requests failed`);
  assert.equal(load.exhausted, false);
  const last = (await autoscale()).lastDecision!;
  assert.equal(typeof last.reason, 'string');
  assert.equal(typeof last.message, 'string');
  for (const key of ['current', 'ready', 'observed', 'target', 'ratio', 'rawDesired']) assert.ok(key in last.inputs, `lastDecision.inputs.${key}`);

  // Every decision that changed the count is in the log with its inputs: up
  // from 1 to 4, then down to 1, the first step down a window after the drop.
  const changes = await waitFor(() => {
    const lines = up.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('autoscale: ') && (l.autoscale as Decision).to !== (l.autoscale as Decision).from);
    return lines.at(-1) !== undefined && (lines.at(-1)!.autoscale as Decision).to === 1 ? lines : null;
  }, { what: 'the scale-down in the log' });
  const steps = changes.map((l) => ({ ...(l.autoscale as Decision), at: Date.parse(l.time as string) }));
  const firstDown = steps.findIndex((d) => d.to < d.from);
  assert.ok(firstDown > 0, JSON.stringify(steps));
  assert.ok(steps.slice(0, firstDown).every((d) => d.to > d.from) && steps.slice(firstDown).every((d) => d.to < d.from), JSON.stringify(steps.map((d) => [d.from, d.to])));
  assert.equal(steps[firstDown - 1]!.to, 4);
  assert.ok(steps[firstDown]!.at - dropAt >= WINDOW_MS - INTERVAL_MS, `scaled down ${steps[firstDown]!.at - dropAt} ms after the drop, within the ${WINDOW_MS} ms window`);
  assert.ok(['scale-down', 'at-min'].includes(steps.at(-1)!.reason), steps.at(-1)!.reason);
  assert.ok(steps.every((d) => d.inputs.target === 2 && typeof d.inputs.observed === 'number'));
  t.diagnostic(`scale-up ${up1.at - stepAt} ms after the step; scale-down ${steps[firstDown]!.at - dropAt} ms after the drop; steps ${steps.map((d) => `${d.from}→${d.to}`).join(', ')}; ${load.total} requests, 0 failed`);
});
