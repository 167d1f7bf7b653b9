// `npm run bench`: every selected tool in front of the same nginx backend,
// measured with wrk side by side in one run, interleaved, medians reported.
// See bench/RESULTS.md's header for the method.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionsOf, parseSettings, usage, type Settings } from './lib/args.ts';
import { countBackendRequests, startBackend } from './lib/backend.ts';
import { assertHits, checkServesHits } from './lib/cache-check.ts';
import { measureCoalescing } from './lib/coalescing.ts';
import { measureFlightsFront } from './lib/flights-front.ts';
import { describeMachine } from './lib/machine.ts';
import { measure, summarize, type Sample } from './lib/measure.ts';
import { ensureBinaries, ensureNpmPeers, type Binary } from './lib/prereqs.ts';
import { killAllNow, stopAll, stopProcess } from './lib/process.ts';
import { writeReport, type Report, type RunEntry } from './lib/report.ts';
import { appliesTo, setupOf, type Scenario } from './lib/scenarios.ts';
import { checkServes } from './lib/smoke.ts';
import { tool, type Running, type Setup, type ToolContext, type ToolName } from './lib/tools/index.ts';
import { peerVersions } from './lib/versions.ts';
import { runWrk } from './lib/wrk.ts';

const benchDir = import.meta.dirname;
const repoDir = join(benchDir, '..');
// The repo pins its Node (npm package `node`); every Node tool runs on it.
const repoNode = join(repoDir, 'node_modules', '.bin', 'node');
// wrk on one core, everything it talks to on another, so the loader never
// steals cycles from what it measures. A one-core machine cannot do that.
const pinned = availableParallelism() >= 2;
const LOADER_CORE = pinned ? '0' : undefined;
const SERVER_CORE = pinned ? '1' : undefined;
const WARMUP_CONNECTIONS = 50;
/** Tools measured in the coalescing round, in this order; `direct` is the control. */
const COALESCING_TOOLS: readonly ToolName[] = ['direct', 'rampart', 'nginx', 'varnish'];
const FLIGHTS_CONNECTIONS = 50;
const tempDirs: string[] = [];
const startedAt = Date.now();
const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s`;
const log = (line: string): void => console.log(`[${elapsed()}] ${line}`);

/** One running instance per tool and setup: a tool measured as a proxy and as a cache runs twice. */
interface Instance {
  name: ToolName;
  setup: Setup;
}
const instanceKey = (name: ToolName, setup: Setup): string => `${name}@${setup}`;

async function main(settings: Settings): Promise<void> {
  // Scenarios with no connection count in this mode (balance-1k under --quick) start nothing.
  const measured = settings.scenarios.filter((s) => connectionsOf(settings, s).length > 0);
  const instances = wantedInstances(settings, measured);
  const coalescingTools = settings.coalescing ? COALESCING_TOOLS.filter((name) => settings.tools.includes(name)) : [];
  const flights = settings.flightsFront && settings.tools.includes('rampart');
  const needs = new Set([...instances.map((i) => i.name), ...coalescingTools].flatMap((name) => tool(name).needs));
  const bins = ensureBinaries(['wrk', 'nginx', ...(['haproxy', 'caddy', 'varnishd'] as const).filter((b) => needs.has(b))] as Binary[]);
  const wrk = bins.get('wrk');
  const nginxBin = bins.get('nginx');
  if (wrk === undefined || nginxBin === undefined) throw new Error('wrk and nginx are required (apt-get install -y wrk nginx-light)');
  const npmPeers = needs.has('npm-peers') ? ensureNpmPeers(benchDir) : false;

  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  tempDirs.push(dir);
  const memDir = memoryDir(dir);
  try {
    const backend = await startBackend({ dir, core: SERVER_CORE }, nginxBin, measured);
    const ctx: ToolContext = {
      dir,
      backendPort: backend.port,
      backendPorts: [backend.port, ...(backend.extraPorts ?? [])],
      core: SERVER_CORE,
      bins: { nginx: nginxBin, haproxy: bins.get('haproxy'), caddy: bins.get('caddy'), varnishd: bins.get('varnishd') },
      memDir,
      nodeBin: existsSync(repoNode) ? repoNode : process.execPath,
      repoDir,
      benchDir,
    };
    let runs: RunEntry[] = [];
    if (instances.length > 0) {
      const running = await startTools(ctx, instances, measured, npmPeers);
      log(`started ${[...running.keys()].join(', ') || 'nothing'}`);
      runs = await measureAll(settings, measured, running, backend, wrk);
      // The coalescing round and flights-front have the servers' core to themselves.
      await Promise.all([...running.values()].map(async (r) => (r.child === undefined ? undefined : stopProcess(r.child))));
    }
    const report: Report = {
      machine: describeMachine(),
      date: new Date().toISOString(),
      node: process.version,
      settings: {
        quick: settings.quick,
        repetitions: settings.repetitions,
        seconds: settings.seconds,
        warmup_seconds: settings.warmupSeconds,
        warmup_per: settings.quick ? ('tool' as const) : ('scenario' as const),
        pinning: pinned
          ? 'wrk on core 0 (`taskset -c 0`), the backend and every proxy on core 1 (`taskset -c 1`)'
          : 'none (fewer than 2 cores): wrk, backend and proxies share the CPU',
        loader: 'wrk -t1 -c<N> -d<S>s --latency',
      },
      versions: peerVersions(bins, benchDir),
      runs,
    };
    if (coalescingTools.length > 0) {
      const available = coalescingTools.filter((name) => tool(name).needs.every((need) => need === 'npm-peers' || ctx.bins[need] !== undefined));
      report.coalescing = await measureCoalescing(ctx, available, log);
    }
    if (flights) {
      try {
        report.flights_front = await measureFlightsFront(ctx, {
          wrk,
          loaderCore: LOADER_CORE,
          connections: settings.connections?.[0] ?? FLIGHTS_CONNECTIONS,
          seconds: settings.flightsSeconds,
          warmupSeconds: settings.warmupSeconds,
          repetitions: settings.repetitions,
          log,
        });
      } catch (error) {
        // The rest of the run is still worth its report.
        log(`flights-front: FAILED: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const paths = writeReport(benchDir, report);
    console.log(`\n[${elapsed()}] wrote ${paths.json} and ${paths.markdown}`);
  } finally {
    await stopAll();
    removeTempDirs();
  }
}

/** Every tool × setup that some measured scenario needs. */
function wantedInstances(settings: Settings, measured: readonly Scenario[]): Instance[] {
  const found = new Map<string, Instance>();
  for (const scenario of measured) {
    const setup = setupOf(scenario);
    for (const name of settings.tools.filter((n) => appliesTo(scenario, n) && tool(n).setups.includes(setup))) {
      found.set(instanceKey(name, setup), { name, setup });
    }
  }
  return [...found.values()];
}

/**
 * A folder for the caches' files on tmpfs when /dev/shm takes one (memory
 * against memory: rampart's store is in its heap); the run dir otherwise.
 */
function memoryDir(runDir: string): string {
  try {
    const dir = mkdtempSync(join('/dev/shm', 'rampart-bench-'));
    tempDirs.push(dir);
    return dir;
  } catch {
    return runDir;
  }
}

function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Starts every instance in parallel; one that fails is skipped with one line. */
async function startTools(ctx: ToolContext, instances: readonly Instance[], measured: readonly Scenario[], npmPeers: boolean): Promise<Map<string, Running>> {
  const running = new Map<string, Running>();
  await Promise.all(
    instances.map(async ({ name, setup }) => {
      const t = tool(name);
      const label = setup === 'proxy' ? name : `${name} (${setup})`;
      const missing = t.needs.find((need) => (need === 'npm-peers' ? !npmPeers : ctx.bins[need] === undefined));
      if (missing !== undefined) {
        console.log(`skip ${label}: ${missing} is not available`);
        return;
      }
      let instance: Running | undefined;
      try {
        instance = await t.start(ctx, setup);
        for (const s of measured.filter((sc) => setupOf(sc) === setup && appliesTo(sc, name))) {
          await checkServes(instance.port, `/${s.file}`, s.bytes);
          // The backend answers every request itself: only a cache can be asked for hits.
          if (setup === 'cache' && name !== 'direct') await checkServesHits(instance.port, ctx.backendPort, `/${s.file}`, s.bytes);
        }
        running.set(instanceKey(name, setup), instance);
      } catch (error) {
        console.log(`skip ${label}: ${error instanceof Error ? error.message : String(error)}`);
        if (instance?.child !== undefined) await stopProcess(instance.child);
      }
    }),
  );
  return running;
}

async function measureAll(settings: Settings, measured: readonly Scenario[], running: Map<string, Running>, backend: Running, wrk: string): Promise<RunEntry[]> {
  const runs: RunEntry[] = [];
  const warmed = new Set<string>();
  for (const scenario of measured) {
    const setup = setupOf(scenario);
    for (const connections of connectionsOf(settings, scenario)) {
      const cellTools = settings.tools.filter((name) => running.has(instanceKey(name, setup)) && appliesTo(scenario, name));
      const samples = new Map<ToolName, Sample[]>(cellTools.map((name) => [name, []]));
      for (let rep = 0; rep < settings.repetitions; rep++) {
        // Round-robin, one tool later each repetition: no tool always runs
        // first (cold) or right after the heaviest one.
        const order = cellTools.map((_, i) => cellTools[(i + rep) % cellTools.length] as ToolName);
        for (const name of order) {
          const key = instanceKey(name, setup);
          const instance = running.get(key);
          if (instance === undefined) continue;
          if (instance.child?.exitCode !== undefined) {
            console.log(`skip ${name}: exited (${String(instance.child.exitCode)}) during the run`);
            running.delete(key);
            continue;
          }
          const url = `http://127.0.0.1:${instance.port}/${scenario.file}`;
          try {
            // Full runs warm every proxy before its first run of each scenario.
            // --quick, to stay within two minutes, warms only what needs it
            // most, the V8 tools, once each. `direct` is the backend, which
            // every other warm-up warms already.
            const warmKey = settings.quick ? key : `${key} ${scenario.name}`;
            const wantsWarmup = name !== 'direct' && (!settings.quick || tool(name).jit);
            if (wantsWarmup && !warmed.has(warmKey)) {
              await runWrk({ wrk, core: LOADER_CORE, url, connections: WARMUP_CONNECTIONS, seconds: settings.warmupSeconds });
              warmed.add(warmKey);
            }
            const options = { wrk, core: LOADER_CORE, serverCore: SERVER_CORE, url, connections, seconds: settings.seconds };
            let sample: Sample;
            if (setup === 'cache' && name !== 'direct') {
              // A cache run counts what got past the cache, and a run with misses is refused.
              const counted = await countBackendRequests(backend.port, () => measure(instance, backend, options));
              assertHits(name, counted.result.wrk.requests, counted.backendRequests);
              sample = { ...counted.result, backendRequests: counted.backendRequests };
            } else {
              sample = await measure(instance, backend, options);
            }
            samples.get(name)?.push(sample);
            log(progress(scenario.name, connections, rep, settings.repetitions, name, sample));
          } catch (error) {
            console.log(`${scenario.name} c=${connections} ${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }
      for (const [name, list] of samples) {
        if (list.length > 0) runs.push(summarize(scenario.name, connections, name, list));
      }
    }
  }
  return runs;
}

function progress(scenario: string, connections: number, rep: number, reps: number, name: string, s: Sample): string {
  const cpu = s.cpuS === undefined ? '' : `  cpu ${((s.cpuS / Math.max(s.wrk.requests, 1)) * 10_000).toFixed(3)} s/10k`;
  const errors = s.wrk.errors > 0 ? `  ERRORS ${s.wrk.errors}` : '';
  const backend = s.backendRequests === undefined ? '' : `  backend ${s.backendRequests}`;
  return `${scenario} c=${connections} rep ${rep + 1}/${reps}  ${name.padEnd(18)} ${s.wrk.rps.toFixed(0).padStart(7)} req/s  p50 ${s.wrk.p50Ms.toFixed(3)} ms  p99 ${s.wrk.p99Ms.toFixed(3)} ms${cpu}${backend}${errors}`;
}

let settings: Settings | 'help';
try {
  settings = parseSettings(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  process.exit(2);
}
if (settings === 'help') {
  console.log(usage);
  process.exit(0);
}

// Every started process is stopped by PID however the run ends.
process.once('exit', () => {
  killAllNow();
  removeTempDirs();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.log(`\n${sig}: stopping the processes this run started`);
    void stopAll().finally(() => process.exit(130));
  });
}
try {
  await main(settings);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
