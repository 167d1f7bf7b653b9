// The flights front page (the departures board, GET / anonymous) behind
// rampart, once through a route with `cache: true` and once with
// `cache: false`, at the same concurrency: how many more users one server
// holds with the edge cache. One flights instance on an
// embedded PostgreSQL seeded as `npm start` seeds it (100,000 flights), two
// gateways in front of that one instance; the app, the database and the
// gateways share the servers' core, wrk has the other. Interleaved
// repetitions, medians, like the wrk scenarios.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, descendants, processTree } from './proc-stats.ts';
import { freePort, startProcess, stopProcess, waitForPort, type Child } from './process.ts';
import { median } from './stats.ts';
import type { Running, ToolContext } from './tools/index.ts';
import { startGateway } from './tools/rampart.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export interface FlightsFrontEntry {
  /** The route's `cache:` setting. */
  cache: boolean;
  connections: number;
  seconds: number;
  /** Medians over repetitions. */
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Socket errors and non-2xx/3xx, summed over repetitions. */
  errors: number;
  /** Requests wrk completed in the measured runs, summed. */
  requests: number;
  /** Requests the gateway sent to the app during the measured runs (its /status `served`), summed: what the cache did not answer itself. */
  upstream_requests: number;
  /** Per 10,000 requests: the gateway, the app (Node), PostgreSQL (every backend process). */
  gateway_cpu_s_per_10k: number;
  app_cpu_s_per_10k: number;
  db_cpu_s_per_10k: number;
  samples: number[];
  /** What the front page carried when measured: its Cache-Control, and the Cache-Status of a repeated GET through this gateway. */
  cache_control: string | null;
  cache_status: string | null;
}

export interface FlightsFrontOptions {
  wrk: string;
  loaderCore: string | undefined;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  repetitions: number;
  log: (line: string) => void;
}

interface Variant {
  cache: boolean;
  gateway: Running;
  adminPort: number;
  cacheControl: string | null;
  cacheStatus: string | null;
  samples: Sample[];
}

interface Sample {
  wrk: WrkResult;
  served: number;
  gatewayCpuS: number;
  appCpuS: number;
  dbCpuS: number;
}

const APP_DEADLINE_MS = 180_000;

export async function measureFlightsFront(ctx: ToolContext, options: FlightsFrontOptions): Promise<FlightsFrontEntry[]> {
  // Loaded here: a run without this scenario needs neither pg nor PostgreSQL.
  const { startEmbeddedPostgres } = await import('@rampart/data');
  // As root PostgreSQL runs as `postgres`, who must get through the run dir.
  chmodSync(ctx.dir, 0o755);
  const log = options.log;
  log('flights-front: starting PostgreSQL, then the flights app (migrations, seed of 100,000 flights)');
  const postgres = await startEmbeddedPostgres({ dir: join(ctx.dir, 'flights-postgres') });
  const children: Child[] = [];
  try {
    if (ctx.core !== undefined) pinTree(postgres.pid, ctx.core);
    const app = await startApp(ctx, postgres.url);
    children.push(app.child);
    const variants: Variant[] = [];
    for (const cache of [false, true]) {
      const [port, adminPort] = [await freePort(), await freePort()];
      try {
        const gateway = await startGateway(ctx, `flights-gateway-${cache ? 'cache' : 'nocache'}`, { port, adminPort, servers: [app.port], cache });
        if (gateway.child !== undefined) children.push(gateway.child);
        const probe = await probeFront(port);
        variants.push({ cache, gateway, adminPort, ...probe, samples: [] });
        log(`flights-front cache: ${cache}: GET / → Cache-Control: ${probe.cacheControl ?? '(none)'}; Cache-Status on a repeat: ${probe.cacheStatus ?? '(none)'}`);
      } catch (error) {
        log(`flights-front cache: ${cache}: skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const v of variants) {
      await runWrk({ wrk: options.wrk, core: options.loaderCore, url: `http://127.0.0.1:${v.gateway.port}/`, connections: options.connections, seconds: options.warmupSeconds });
    }
    for (let rep = 0; rep < options.repetitions; rep++) {
      const order = variants.map((_, i) => variants[(i + rep) % variants.length] as Variant);
      for (const v of order) {
        const sample = await measureOnce(v, app.child, postgres.pid, options);
        v.samples.push(sample);
        log(`flights-front c=${options.connections} rep ${rep + 1}/${options.repetitions}  cache: ${String(v.cache).padEnd(5)} ${sample.wrk.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.wrk.p50Ms.toFixed(2)} ms  p99 ${sample.wrk.p99Ms.toFixed(2)} ms  upstream ${sample.served}${sample.wrk.errors > 0 ? `  ERRORS ${sample.wrk.errors}` : ''}`);
      }
    }
    return variants.filter((v) => v.samples.length > 0).map((v) => summarizeVariant(v, options));
  } finally {
    for (const child of children.reverse()) await stopProcess(child, 10_000);
    await postgres.stop();
  }
}

/** The app as `node apps/flights/src/server.ts` in production mode, in a folder of the run. */
async function startApp(ctx: ToolContext, databaseUrl: string): Promise<{ child: Child; port: number }> {
  const home = join(ctx.dir, 'flights-app');
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  const child = startProcess({
    name: 'flights',
    command: ctx.nodeBin,
    args: [join(ctx.repoDir, 'apps/flights/src/server.ts')],
    core: ctx.core,
    cwd: home,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      NODE_ENV: 'production',
      RESET_SECRET: randomBytes(32).toString('base64url'),
      RAMPART_INSTANCE_ID: 'flights-bench',
      LOG_LEVEL: 'warn',
    },
    stdoutPath: join(home, 'stdout.log'),
    logPath: join(home, 'stderr.log'),
  });
  await waitForPort(port, child, APP_DEADLINE_MS);
  return { child, port };
}

/** Two anonymous GETs of the front page: it must be a 200 without a cookie; the second shows whether the cache answered. */
async function probeFront(port: number): Promise<{ cacheControl: string | null; cacheStatus: string | null }> {
  const get = async (): Promise<Response> => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET / gave ${res.status}`);
    if (res.headers.has('set-cookie')) throw new Error('GET / set a cookie: the anonymous front page must not');
    return res;
  };
  const first = await get();
  const second = await get();
  return { cacheControl: first.headers.get('cache-control'), cacheStatus: second.headers.get('cache-status') };
}

async function measureOnce(v: Variant, app: Child, postgresPid: number, options: FlightsFrontOptions): Promise<Sample> {
  const gatewayTree = v.gateway.child === undefined ? [] : processTree(v.gateway.child.pid);
  const appTree = processTree(app.pid);
  // PostgreSQL forks a backend per connection: list them at each sample.
  const dbTree = processTree(postgresPid);
  const cpu = (): [number, number, number] => [cpuSeconds(gatewayTree), cpuSeconds(appTree), cpuSeconds(dbTree)];
  const servedBefore = await served(v.adminPort);
  const before = cpu();
  const wrk = await runWrk({ wrk: options.wrk, core: options.loaderCore, url: `http://127.0.0.1:${v.gateway.port}/`, connections: options.connections, seconds: options.seconds });
  const after = cpu();
  const servedAfter = await served(v.adminPort);
  return { wrk, served: servedAfter - servedBefore, gatewayCpuS: after[0] - before[0], appCpuS: after[1] - before[1], dbCpuS: after[2] - before[2] };
}

/** Requests the gateway has sent to its servers, from the admin API. */
async function served(adminPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/status`, { signal: AbortSignal.timeout(5_000) });
  const status = (await res.json()) as { upstreams: Record<string, { servers: { served: number }[] }> };
  return Object.values(status.upstreams).reduce((sum, u) => sum + u.servers.reduce((s, server) => s + server.served, 0), 0);
}

function summarizeVariant(v: Variant, options: FlightsFrontOptions): FlightsFrontEntry {
  const per10k = (pick: (s: Sample) => number): number => round(median(v.samples.map((s) => (s.wrk.requests > 0 ? (pick(s) / s.wrk.requests) * 10_000 : Number.NaN))), 4);
  return {
    cache: v.cache,
    connections: options.connections,
    seconds: options.seconds,
    rps: round(median(v.samples.map((s) => s.wrk.rps)), 1),
    p50_ms: round(median(v.samples.map((s) => s.wrk.p50Ms)), 3),
    p99_ms: round(median(v.samples.map((s) => s.wrk.p99Ms)), 3),
    errors: v.samples.reduce((sum, s) => sum + s.wrk.errors, 0),
    requests: v.samples.reduce((sum, s) => sum + s.wrk.requests, 0),
    upstream_requests: v.samples.reduce((sum, s) => sum + s.served, 0),
    gateway_cpu_s_per_10k: per10k((s) => s.gatewayCpuS),
    app_cpu_s_per_10k: per10k((s) => s.appCpuS),
    db_cpu_s_per_10k: per10k((s) => s.dbCpuS),
    samples: v.samples.map((s) => round(s.wrk.rps, 1)),
    cache_control: v.cacheControl,
    cache_status: v.cacheStatus,
  };
}

/**
 * Puts the postmaster and the processes it has forked on the servers' core;
 * the backends it forks later inherit the affinity. Every thread (-a) of each.
 */
function pinTree(pid: number, core: string): void {
  for (const p of [pid, ...descendants(pid)]) spawnSync('taskset', ['-a', '-p', '-c', core, String(p)], { stdio: 'ignore' });
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
