// `npm run bench`: every selected tool in front of the same nginx backend,
// measured with wrk side by side in one run, interleaved, medians reported.
// See bench/RESULTS.md's header for the method.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionsOf, parseSettings, usage, type Settings } from './lib/args.ts';
import { startBackend } from './lib/backend.ts';
import { describeMachine } from './lib/machine.ts';
import { measure, summarize, type Sample } from './lib/measure.ts';
import { ensureBinaries, ensureNpmPeers, type Binary } from './lib/prereqs.ts';
import { killAllNow, stopAll, stopProcess } from './lib/process.ts';
import { writeReport, type RunEntry } from './lib/report.ts';
import { appliesTo } from './lib/scenarios.ts';
import { checkServes } from './lib/smoke.ts';
import { tool, type Running, type ToolContext, type ToolName } from './lib/tools/index.ts';
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
let tempDir: string | undefined;
const startedAt = Date.now();
const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s`;

async function main(settings: Settings): Promise<void> {
  // Scenarios with no connection count in this mode (balance-1k under --quick) start nothing.
  const wanted = settings.tools.filter((name) => settings.scenarios.some((s) => connectionsOf(settings, s).length > 0 && appliesTo(s, name)));
  const needs = new Set(wanted.flatMap((name) => tool(name).needs));
  const bins = ensureBinaries(['wrk', 'nginx', ...(['haproxy', 'caddy'] as const).filter((b) => needs.has(b))] as Binary[]);
  const wrk = bins.get('wrk');
  const nginxBin = bins.get('nginx');
  if (wrk === undefined || nginxBin === undefined) throw new Error('wrk and nginx are required (apt-get install -y wrk nginx-light)');
  const npmPeers = needs.has('npm-peers') ? ensureNpmPeers(benchDir) : false;

  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  tempDir = dir;
  try {
    const backend = await startBackend({ dir, core: SERVER_CORE }, nginxBin, settings.scenarios);
    const ctx: ToolContext = {
      dir,
      backendPort: backend.port,
      backendPorts: [backend.port, ...(backend.extraPorts ?? [])],
      core: SERVER_CORE,
      bins: { nginx: nginxBin, haproxy: bins.get('haproxy'), caddy: bins.get('caddy') },
      nodeBin: existsSync(repoNode) ? repoNode : process.execPath,
      repoDir,
      benchDir,
    };
    const running = await startTools(ctx, wanted, settings, npmPeers);
    console.log(`[${elapsed()}] started ${[...running.keys()].join(', ')}`);
    const runs = await measureAll(settings, running, backend, wrk);
    const report = {
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
    const paths = writeReport(benchDir, report);
    console.log(`\n[${elapsed()}] wrote ${paths.json} and ${paths.markdown}`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts every tool in parallel; one that fails is skipped with one line. */
async function startTools(ctx: ToolContext, names: ToolName[], settings: Settings, npmPeers: boolean): Promise<Map<ToolName, Running>> {
  const running = new Map<ToolName, Running>();
  await Promise.all(
    names.map(async (name) => {
      const t = tool(name);
      const missing = t.needs.find((need) => (need === 'npm-peers' ? !npmPeers : ctx.bins[need] === undefined));
      if (missing !== undefined) {
        console.log(`skip ${name}: ${missing} is not available`);
        return;
      }
      let instance: Running | undefined;
      try {
        instance = await t.start(ctx);
        for (const s of settings.scenarios.filter((sc) => appliesTo(sc, name))) {
          await checkServes(instance.port, `/${s.file}`, s.bytes);
        }
        running.set(name, instance);
      } catch (error) {
        console.log(`skip ${name}: ${error instanceof Error ? error.message : String(error)}`);
        if (instance?.child !== undefined) await stopProcess(instance.child);
      }
    }),
  );
  return running;
}

async function measureAll(settings: Settings, running: Map<ToolName, Running>, backend: Running, wrk: string): Promise<RunEntry[]> {
  const runs: RunEntry[] = [];
  const warmed = new Set<string>();
  for (const scenario of settings.scenarios) {
    for (const connections of connectionsOf(settings, scenario)) {
      const cellTools = settings.tools.filter((name) => running.has(name) && appliesTo(scenario, name));
      const samples = new Map<ToolName, Sample[]>(cellTools.map((name) => [name, []]));
      for (let rep = 0; rep < settings.repetitions; rep++) {
        // Round-robin, one tool later each repetition: no tool always runs
        // first (cold) or right after the heaviest one.
        const order = cellTools.map((_, i) => cellTools[(i + rep) % cellTools.length] as ToolName);
        for (const name of order) {
          const instance = running.get(name);
          if (instance === undefined) continue;
          if (instance.child?.exitCode !== undefined) {
            console.log(`skip ${name}: exited (${String(instance.child.exitCode)}) during the run`);
            running.delete(name);
            continue;
          }
          const url = `http://127.0.0.1:${instance.port}/${scenario.file}`;
          try {
            // Full runs warm every proxy before its first run of each scenario.
            // --quick, to stay within two minutes, warms only what needs it
            // most, the V8 tools, once each. `direct` is the backend, which
            // every other warm-up warms already.
            const warmKey = settings.quick ? name : `${name} ${scenario.name}`;
            const wantsWarmup = name !== 'direct' && (!settings.quick || tool(name).jit);
            if (wantsWarmup && !warmed.has(warmKey)) {
              await runWrk({ wrk, core: LOADER_CORE, url, connections: WARMUP_CONNECTIONS, seconds: settings.warmupSeconds });
              warmed.add(warmKey);
            }
            const sample = await measure(instance, backend, { wrk, core: LOADER_CORE, serverCore: SERVER_CORE, url, connections, seconds: settings.seconds });
            samples.get(name)?.push(sample);
            console.log(`[${elapsed()}] ${progress(scenario.name, connections, rep, settings.repetitions, name, sample)}`);
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
  return `${scenario} c=${connections} rep ${rep + 1}/${reps}  ${name.padEnd(18)} ${s.wrk.rps.toFixed(0).padStart(7)} req/s  p50 ${s.wrk.p50Ms.toFixed(3)} ms  p99 ${s.wrk.p99Ms.toFixed(3)} ms${cpu}${errors}`;
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
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
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
