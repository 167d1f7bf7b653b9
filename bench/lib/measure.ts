// One measured wrk run against one tool, with the CPU its process tree (and the
// backend's) spent during exactly that run, and the medians over repetitions.
import { coreTicks, foreignLoad } from './core-load.ts';
import { clockTicks, cpuSeconds, processTree, rssMiB } from './proc-stats.ts';
import type { RunEntry } from './report.ts';
import { median } from './stats.ts';
import type { Running } from './tools/index.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export interface Sample {
  wrk: WrkResult;
  /** CPU seconds of the tool's tree during the run; undefined for `direct`. */
  cpuS: number | undefined;
  backendCpuS: number;
  rssMiB: number | undefined;
  /** Load on the proxies' core from outside this run; undefined when not pinned. */
  otherPct: number | undefined;
  stealPct: number | undefined;
  /** Requests that reached the backend during the run: counted in the cache scenario only. */
  backendRequests?: number;
}

export interface MeasureOptions {
  wrk: string;
  /** wrk's core. */
  core: string | undefined;
  /** The core of the tool and the backend. */
  serverCore: string | undefined;
  url: string;
  connections: number;
  seconds: number;
}

export async function measure(tool: Running, backend: Running, options: MeasureOptions): Promise<Sample> {
  const backendPid = backend.child?.pid;
  if (backendPid === undefined) throw new Error('backend has no process');
  // Trees are fixed during a run: nginx forks its worker at start only.
  const tree = tool.child === undefined ? undefined : processTree(tool.child.pid);
  const backendTree = processTree(backendPid);
  const coreBefore = options.serverCore === undefined ? undefined : coreTicks(options.serverCore);
  const before = tree === undefined ? 0 : cpuSeconds(tree);
  const backendBefore = cpuSeconds(backendTree);
  const wrk = await runWrk(options);
  const cpuS = tree === undefined ? undefined : cpuSeconds(tree) - before;
  const backendCpuS = cpuSeconds(backendTree) - backendBefore;
  const coreAfter = options.serverCore === undefined ? undefined : coreTicks(options.serverCore);
  const load = coreBefore && coreAfter ? foreignLoad(coreBefore, coreAfter, ((cpuS ?? 0) + backendCpuS) * clockTicks()) : undefined;
  return {
    wrk,
    cpuS,
    backendCpuS,
    rssMiB: tree === undefined ? undefined : rssMiB(tree),
    otherPct: load?.otherPct,
    stealPct: load?.stealPct,
  };
}

export function summarize(scenario: string, connections: number, tool: string, samples: readonly Sample[]): RunEntry {
  const per10k = (cpu: number, s: Sample): number => (s.wrk.requests > 0 ? (cpu / s.wrk.requests) * 10_000 : Number.NaN);
  const direct = samples.some((s) => s.cpuS === undefined);
  return {
    scenario,
    connections,
    tool,
    rps: round(median(samples.map((s) => s.wrk.rps)), 1),
    p50_ms: round(median(samples.map((s) => s.wrk.p50Ms)), 3),
    p99_ms: round(median(samples.map((s) => s.wrk.p99Ms)), 3),
    cpu_s_per_10k: direct ? null : round(median(samples.map((s) => per10k(s.cpuS ?? 0, s))), 4),
    rss_mib: direct ? null : round(median(samples.map((s) => s.rssMiB ?? 0)), 1),
    backend_cpu_s_per_10k: round(median(samples.map((s) => per10k(s.backendCpuS, s))), 4),
    core_other_pct: optionalMedian(samples.map((s) => s.otherPct), 1),
    core_steal_pct: optionalMedian(samples.map((s) => s.stealPct), 1),
    errors: samples.reduce((sum, s) => sum + s.wrk.errors, 0),
    samples: samples.map((s) => round(s.wrk.rps, 1)),
    ...(samples.every((s) => s.backendRequests !== undefined) ? { backend_requests: samples.reduce((sum, s) => sum + (s.backendRequests ?? 0), 0) } : {}),
  };
}

function optionalMedian(values: (number | undefined)[], digits: number): number | null {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? null : round(median(known), digits);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
