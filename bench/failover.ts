// Failover under load: three app servers behind rampart, wrk on the loader
// core, one server killed with SIGKILL mid-run. Measures the GETs that
// failed (target 0: retries take them to another server) and the time from
// the kill until the gateway takes the dead server out of rotation (target
// ≤ 1 s with passive detection), with passive detection and with active
// heartbeats only. Then, under `rampart up`, a rolling restart of three
// instances and an autoscale step under load: failed requests (target 0) and
// the time until the new capacity serves. Writes bench/results/failover.json
// and the failover section of RESULTS.md.
//
//   npm run bench:failover [-- --seconds 8]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startProcess, stopAll, stopProcess, waitForPort, type Child } from './lib/process.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';
import { ensureBinaries } from './lib/prereqs.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoDir = dirname(benchDir);
const LOADER_CORE = '0';
const SERVER_CORE = '1';

interface Variant {
  name: string;
  description: string;
  upstreamYaml: string;
}

const VARIANTS: Variant[] = [
  {
    name: 'passive',
    description: 'outlier ejection (5 failures in a row) + retries, heartbeat every 2 s',
    upstreamYaml: '    health: { path: /healthz, interval: 2s, timeout: 1s }\n',
  },
  {
    name: 'active-only',
    description: 'heartbeat every 1 s, fall 3; no outlier ejection; retries',
    upstreamYaml: '    health: { path: /healthz, interval: 1s, timeout: 500ms, fall: 3 }\n    outlier: false\n',
  },
];

const APP = `
const http = require('node:http');
const body = Buffer.alloc(1024, 'x');
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.end('ok'); return; }
  res.writeHead(200, { 'content-length': body.length, 'x-port': process.env.PORT });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Outcome {
  variant: string;
  description: string;
  requests: number;
  failed: number;
  rps: number;
  p99_ms: number;
  /** ms from the kill to the gateway taking the server out (ejected or unhealthy); null if it never did. */
  out_of_rotation_ms: number | null;
  how: string | null;
}

async function runVariant(variant: Variant, seconds: number, wrkBin: string, nodeBin: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-failover-'));
  const children: Child[] = [];
  try {
    writeFileSync(join(dir, 'app.cjs'), APP);
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      children.push(
        startProcess({
          name: `app-${port}`,
          command: nodeBin,
          args: [join(dir, 'app.cjs')],
          core: SERVER_CORE,
          cwd: dir,
          env: { ...process.env, PORT: String(port) },
          stdoutPath: '/dev/null',
          logPath: join(dir, `app-${port}.log`),
        }),
      );
    }
    for (const [i, p] of ports.entries()) await waitForPort(p, children[i], 10_000);
    const [port, admin] = [await freePort(), await freePort()];
    const config = `listen: "127.0.0.1:${port}"
admin: "127.0.0.1:${admin}"
log: { access: false }
upstreams:
  app:
    servers: [ ${ports.map((p) => `"http://127.0.0.1:${p}"`).join(', ')} ]
${variant.upstreamYaml}routes:
  - path: /
    upstream: app
`;
    writeFileSync(join(dir, 'rampart.yaml'), config);
    const logPath = join(dir, 'gateway.log');
    const gateway = startProcess({
      name: 'rampart',
      command: nodeBin,
      args: [join(repoDir, 'packages/cli/bin/rampart.js'), 'gateway', '-c', join(dir, 'rampart.yaml'), '--no-watch'],
      core: SERVER_CORE,
      cwd: dir,
      stdoutPath: logPath,
      logPath: join(dir, 'gateway.err'),
    });
    children.push(gateway);
    await waitForPort(port, gateway, 15_000);
    // Warm up, so the kill hits a gateway at speed with pooled connections.
    await runWrk({ wrk: wrkBin, url: `http://127.0.0.1:${port}/`, connections: 50, seconds: 2, core: LOADER_CORE });

    const victim = children[0]!;
    const load = runWrk({ wrk: wrkBin, url: `http://127.0.0.1:${port}/`, connections: 50, seconds, core: LOADER_CORE });
    await new Promise((r) => setTimeout(r, Math.min(2000, (seconds * 1000) / 3)));
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const result: WrkResult = await load;
    await stopProcess(gateway);
    const out = outOfRotation(logPath, ports[0]!, killedAt);
    return {
      variant: variant.name,
      description: variant.description,
      requests: result.requests,
      failed: result.errors,
      rps: Math.round(result.rps),
      p99_ms: result.p99Ms,
      out_of_rotation_ms: out?.ms ?? null,
      how: out?.how ?? null,
    };
  } finally {
    for (const child of children) await stopProcess(child, 2000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** When the gateway's log says the killed server left rotation. */
function outOfRotation(logPath: string, port: number, killedAt: number): { ms: number; how: string } | null {
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('server state changed') || !line.includes(`:${port}"`)) continue;
    const entry = JSON.parse(line) as { time: string; state: string; event?: string };
    if (entry.state !== 'ejected' && entry.state !== 'unhealthy') continue;
    return { ms: Date.parse(entry.time) - killedAt, how: entry.event ?? entry.state };
  }
  return null;
}

interface Supervised {
  phase: string;
  requests: number;
  failed: number;
  /** Rolling restart: how long the rollout took. Autoscale: load start → first new instance serving. */
  seconds_to_capacity: number | null;
  detail: string;
}

async function admin(port: number, method: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

async function runSupervised(seconds: number, wrkBin: string, nodeBin: string): Promise<Supervised[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-up-bench-'));
  const results: Supervised[] = [];
  try {
    const app = join(repoDir, 'test/fixtures/instance-app.js');
    const run = async (name: string, upstream: string, body: (port: number, adminPort: number) => Promise<Supervised>) => {
      const [port, adminPort] = [await freePort(), await freePort()];
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `listen: "127.0.0.1:${port}"\nadmin: "127.0.0.1:${adminPort}"\nlog: { access: false }\nupstreams:\n  app:\n${upstream}    health: { path: /healthz, interval: 1s }\nroutes:\n  - path: /\n    upstream: app\n`);
      const up = startProcess({
        name: `up-${name}`,
        command: nodeBin,
        args: [join(repoDir, 'packages/cli/bin/rampart.js'), 'up', '-c', file],
        core: SERVER_CORE,
        cwd: dir,
        stdoutPath: join(dir, `${name}.log`),
        logPath: join(dir, `${name}.err`),
      });
      try {
        await waitForPort(port, up, 20_000);
        results.push(await body(port, adminPort));
      } finally {
        await stopProcess(up, 15_000);
      }
    };
    await run('rolling', `    run: { command: "${nodeBin} ${app}", instances: 3 }\n`, async (port, adminPort) => {
      await waitForReady(adminPort, 3);
      const load = runWrk({ wrk: wrkBin, url: `http://127.0.0.1:${port}/`, connections: 50, seconds, core: LOADER_CORE });
      await new Promise((r) => setTimeout(r, 1000));
      const started = Date.now();
      const restart = await admin(adminPort, 'POST', '/upstreams/app/restart');
      const took = (Date.now() - started) / 1000;
      const result = await load;
      return { phase: 'rolling restart', requests: result.requests, failed: result.errors, seconds_to_capacity: restart.status === 200 ? took : null, detail: `3 instances, one at a time; admin answered ${restart.status}` };
    });
    await run('autoscale', `    run: { command: "${nodeBin} ${app}", autoscale: { min: 1, max: 4, target: 5, window: 5s, interval: 500ms } }\n`, async (port, adminPort) => {
      await waitForReady(adminPort, 1);
      const started = Date.now();
      // 40 connections each holding a 50 ms request: about 40 in flight on one instance, target 5.
      const load = runWrk({ wrk: wrkBin, url: `http://127.0.0.1:${port}/?delay=50`, connections: 40, seconds, core: LOADER_CORE });
      let capacity: number | null = null;
      while (Date.now() - started < seconds * 1000 && capacity === null) {
        if ((await readyServers(adminPort)) > 1) capacity = (Date.now() - started) / 1000;
        else await new Promise((r) => setTimeout(r, 100));
      }
      const result = await load;
      return { phase: 'autoscale step', requests: result.requests, failed: result.errors, seconds_to_capacity: capacity, detail: 'min 1, max 4, target 5 in flight per instance; 40 concurrent 50 ms requests' };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

async function readyServers(adminPort: number): Promise<number> {
  const status = JSON.parse((await admin(adminPort, 'GET', '/status')).body) as { upstreams: { app: { servers: { state: string }[] } } };
  return status.upstreams.app.servers.filter((s) => s.state === 'ready').length;
}

async function waitForReady(adminPort: number, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await readyServers(adminPort).catch(() => 0)) < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} instances ready after 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function render(outcomes: Outcome[], supervised: Supervised[], seconds: number): string {
  const rows = outcomes.map(
    (o) => `| ${o.variant} | ${o.description} | ${o.requests} | ${o.failed} | ${o.out_of_rotation_ms === null ? 'never' : `${o.out_of_rotation_ms} ms (${o.how})`} | ${o.rps} | ${o.p99_ms} |`,
  );
  return [
    '<!-- failover:start -->',
    `### Failover: one of three servers killed (SIGKILL) under load`,
    '',
    `Generated by \`npm run bench:failover\` on ${new Date().toISOString()}: wrk, 50 connections, ${seconds} s, on core 0; three Node.js app servers and rampart on core 1; the kill comes ${Math.min(2, seconds / 3).toFixed(0)} s into the run. "Failed" counts socket errors and non-2xx responses seen by wrk; "out of rotation" is the time from the kill to the gateway's log line taking the server out.`,
    '',
    '| detection | setup | requests | failed | out of rotation after | req/s | p99 ms |',
    '|---|---|---:|---:|---|---:|---:|',
    ...rows,
    '',
    `### Rolling restart and autoscale step under \`rampart up\``,
    '',
    'Same pinning; wrk for the whole phase. Rolling restart: the admin API\'s `POST /upstreams/app/restart` replaces three instances one at a time (start new → ready → add → drain old → stop old); "time" is how long the rollout took. Autoscale: from the load step to the first new instance serving.',
    '',
    '| phase | setup | requests | failed | time |',
    '|---|---|---:|---:|---:|',
    ...supervised.map((p) => `| ${p.phase} | ${p.detail} | ${p.requests} | ${p.failed} | ${p.seconds_to_capacity === null ? 'n/a' : `${p.seconds_to_capacity.toFixed(1)} s`} |`),
    '<!-- failover:end -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 3 || seconds > 60) throw new Error('--seconds: a whole number from 3 to 60');
  const bins = ensureBinaries(['wrk']);
  const wrkBin = bins.get('wrk');
  if (wrkBin === undefined) throw new Error('wrk is required (apt-get install -y wrk)');
  const outcomes: Outcome[] = [];
  for (const variant of VARIANTS) {
    const outcome = await runVariant(variant, seconds, wrkBin, process.execPath);
    console.log(`${variant.name}: ${outcome.requests} requests, ${outcome.failed} failed, out of rotation after ${outcome.out_of_rotation_ms ?? 'never'} ms (${outcome.how ?? '-'})`);
    outcomes.push(outcome);
  }
  const supervised = await runSupervised(seconds, wrkBin, process.execPath);
  for (const p of supervised) console.log(`${p.phase}: ${p.requests} requests, ${p.failed} failed, ${p.seconds_to_capacity ?? 'n/a'} s`);
  writeFileSync(join(benchDir, 'results/failover.json'), JSON.stringify({ date: new Date().toISOString(), seconds, outcomes, supervised }, null, 2) + '\n');
  const resultsPath = join(benchDir, 'RESULTS.md');
  const current = readFileSync(resultsPath, 'utf8');
  const section = render(outcomes, supervised, seconds);
  const start = current.indexOf('<!-- failover:start -->');
  const end = current.indexOf('<!-- failover:end -->');
  const next = start !== -1 && end !== -1 ? current.slice(0, start) + section + current.slice(end + '<!-- failover:end -->'.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(resultsPath, next);
  console.log(`wrote bench/results/failover.json and the failover section of bench/RESULTS.md`);
}

try {
  await main();
} finally {
  await stopAll();
}
