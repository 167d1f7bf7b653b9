// `rampart up` as a real child process, its /status, and a bounded load loop
// through the gateway that counts every failed request.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { RAMPART, ROOT } from './cli.ts';
import { waitFor } from './wait.ts';

/** The app the `run:` tests supervise (GET /?delay=ms, /healthz; names itself). */
export const INSTANCE_APP = fileURLToPath(new URL('../fixtures/instance-app.js', import.meta.url));

export interface UpProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines, in order. */
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Every instance PID the log has named. */
  instancePids(): Set<number>;
  /**
   * SIGTERM and wait for a graceful exit; if it does not come in time, SIGKILL
   * `rampart up` and every instance it named (test cleanup). Resolves with the exit code.
   */
  stop(timeoutMs?: number): Promise<number | null>;
}

export function startUp(file: string, extraArgs: string[] = []): UpProcess {
  const child = spawn(process.execPath, [RAMPART, 'up', '-c', file, ...extraArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ text: line });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const instancePids = () => new Set(logs.filter((l) => l.msg === 'instance starting' && typeof l.pid === 'number').map((l) => l.pid as number));
  return {
    child,
    logs,
    stderr: () => err,
    exited,
    instancePids,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      for (const pid of instancePids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      return exited;
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ServerEntry {
  id: string;
  url: string;
  state: string;
  inflight: number;
  served: number;
  instance?: string;
  pid?: number;
}

export interface InstanceEntry {
  id: string;
  state: string;
  url: string;
  pid: number | undefined;
  restarts: number;
  generation: number;
}

export interface UpstreamEntry {
  servers: ServerEntry[];
  instances?: InstanceEntry[];
  autoscale: Record<string, unknown> & { enabled: boolean };
}

export async function upstreamStatus(adminUrl: string, name = 'app'): Promise<UpstreamEntry> {
  const res = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { upstreams: Record<string, UpstreamEntry> };
  return body.upstreams[name]!;
}

/** Waits for the gateway to list `count` ready servers, each an instance with a PID. */
export async function readyServers(adminUrl: string, count: number, timeoutMs = 15_000): Promise<ServerEntry[]> {
  return waitFor(
    async () => {
      const u = await upstreamStatus(adminUrl);
      const ready = u.servers.filter((s) => s.state === 'ready' && s.pid !== undefined);
      return ready.length === count && u.servers.length === count ? ready : null;
    },
    { timeoutMs, intervalMs: 50, what: `${count} ready instances in /status` },
  );
}

export interface Answer {
  id: string;
  pid: number;
  port: number;
  greeting: string | null;
}

/** Closed-loop load through the gateway: `concurrency` clients, each sending its next GET when the last one ends. Bounded in count and time. */
export class LoadLoop {
  ok = 0;
  readonly failures: string[] = [];
  /** Answers per instance id. */
  readonly servedBy = new Map<string, number>();
  readonly pids = new Set<number>();
  readonly #url: string;
  readonly #maxRequests: number;
  readonly #deadline: number;
  readonly #workers = new Map<number, Promise<void>>();
  #concurrency = 0;
  #stopped = false;

  constructor(url: string, { maxRequests, maxMs }: { maxRequests: number; maxMs: number }) {
    this.#url = url;
    this.#maxRequests = maxRequests;
    this.#deadline = performance.now() + maxMs;
  }

  get total(): number {
    return this.ok + this.failures.length;
  }

  /** True when the loop stopped on its own bounds rather than because the test was done with it. */
  get exhausted(): boolean {
    return this.total >= this.#maxRequests || performance.now() >= this.#deadline;
  }

  setConcurrency(n: number): void {
    this.#concurrency = n;
    for (let k = 0; k < n; k++) if (!this.#workers.has(k)) this.#workers.set(k, this.#worker(k));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers.values());
  }

  async #worker(k: number): Promise<void> {
    try {
      while (!this.#stopped && k < this.#concurrency && !this.exhausted) {
        try {
          const res = await fetch(this.#url, { signal: AbortSignal.timeout(10_000) });
          const text = await res.text();
          if (res.status !== 200) {
            this.failures.push(`${res.status} ${text.slice(0, 200)}`);
            continue;
          }
          const answer = JSON.parse(text) as Answer;
          this.ok++;
          this.servedBy.set(answer.id, (this.servedBy.get(answer.id) ?? 0) + 1);
          this.pids.add(answer.pid);
        } catch (err) {
          this.failures.push(String(err));
        }
      }
    } finally {
      this.#workers.delete(k);
    }
  }
}
