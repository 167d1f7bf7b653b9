// `rampart up` as a real child process, its /status, and a bounded load loop
// through the gateway that counts every failed request.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnRampart } from './cli.ts';
import { waitFor } from './wait.ts';
import { LoadLoop as SupervisorLoadLoop, type Outcome } from '../../packages/supervisor/src/testing/load.ts';

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
  const { child, logs, stderr, exited } = spawnRampart(['up', '-c', file, ...extraArgs]);
  const instancePids = () => new Set(logs.filter((l) => l.msg === 'instance starting' && typeof l.pid === 'number').map((l) => l.pid as number));
  return {
    child,
    logs,
    stderr,
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

/**
 * Closed-loop load through the gateway: `concurrency` clients, each sending
 * its next GET when the last one ends. Bounded in count and time. The
 * supervisor's loop, fed by real HTTP requests instead of its test balancer.
 */
export class LoadLoop extends SupervisorLoadLoop {
  /** PIDs of the instances that answered. */
  readonly pids: Set<number>;

  constructor(url: string, bounds: { maxRequests: number; maxMs: number }) {
    const pids = new Set<number>();
    super(
      {
        async request(): Promise<Outcome> {
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
            const text = await res.text();
            if (res.status !== 200) return { ok: false, instanceId: undefined, detail: `${res.status} ${text.slice(0, 200)}` };
            const answer = JSON.parse(text) as Answer;
            pids.add(answer.pid);
            return { ok: true, instanceId: answer.id, detail: '' };
          } catch (err) {
            return { ok: false, instanceId: undefined, detail: String(err) };
          }
        },
      },
      bounds,
    );
    this.pids = pids;
  }
}
