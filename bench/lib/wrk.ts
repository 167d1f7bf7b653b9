// wrk as the loader: `wrk -t1 -c<N> -d<S>s --latency <url>`, and a parser for
// its text report (wrk 4.x has no machine-readable output without a Lua script).
import { spawn } from 'node:child_process';

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Socket errors (connect/read/write/timeout) plus non-2xx/3xx responses. */
  errors: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "512.34us" / "1.20ms" / "2.00s" / "1.00m" → milliseconds. */
export function parseDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (match === null) throw new Error(`wrk: unreadable duration ${JSON.stringify(text)}`);
  return Number(match[1]) * (TIME_UNITS[match[2] ?? ''] ?? Number.NaN);
}

export function parseWrk(output: string): WrkResult {
  const percentile = (p: number): number => {
    const match = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+(\\S+)\\s*$`, 'm').exec(output);
    if (match?.[1] === undefined) throw new Error(`wrk: no ${p}% line (was --latency given?)`);
    return parseDurationMs(match[1]);
  };
  const total = /^\s*(\d+) requests in (\S+),/m.exec(output);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (total?.[1] === undefined || total[2] === undefined || rps?.[1] === undefined) {
    throw new Error(`wrk: no summary in output: ${output.slice(0, 200)}`);
  }
  const sockets = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(output);
  const non2xx = /^\s*Non-2xx or 3xx responses: (\d+)/m.exec(output);
  const errors = (sockets?.slice(1) ?? []).reduce((sum, n) => sum + Number(n), 0) + Number(non2xx?.[1] ?? 0);
  return {
    requests: Number(total[1]),
    seconds: parseDurationMs(total[2]) / 1000,
    rps: Number(rps[1]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    errors,
  };
}

export interface WrkOptions {
  wrk: string;
  url: string;
  connections: number;
  seconds: number;
  /** CPU list for `taskset -c`; undefined runs unpinned. */
  core: string | undefined;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', options.url];
  const [command, argv] = options.core === undefined
    ? [options.wrk, args]
    : ['taskset', ['-c', options.core, options.wrk, ...args]];
  const proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // wrk stops on its own after -d; the guard only catches a wedged run.
  const guard = setTimeout(() => proc.kill('SIGKILL'), (options.seconds + 20) * 1000);
  const onSignal = (): void => void proc.kill('SIGKILL');
  process.once('exit', onSignal);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', resolve);
    });
    if (code !== 0) throw new Error(`wrk exited ${String(code)}: ${err.trim() || out.trim()}`);
    const result = parseWrk(out);
    // wrk reports a run where nothing answered as 0 req/s with 0 us latencies.
    if (result.requests === 0) throw new Error(`no response within ${options.seconds} s`);
    return result;
  } finally {
    clearTimeout(guard);
    process.off('exit', onSignal);
  }
}
