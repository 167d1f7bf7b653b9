// One child process: spawn it, collect its output, know when it exits, stop it.

import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedCommand } from './command.ts';
import { collectLines } from './output.ts';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES, bad cwd). */
  readonly error?: Error;
}

export interface LaunchOptions {
  readonly cwd: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface Launched {
  /** Undefined only when spawning failed; `exited` then resolves at once with the error. */
  readonly pid: number | undefined;
  readonly exited: Promise<Exit>;
  /** True once `exited` has resolved. */
  hasExited(): boolean;
  /** Signals the spawned PID; a no-op once it has exited, so a recycled PID is never hit. */
  signal(signal: NodeJS.Signals): void;
}

export function launch(command: ResolvedCommand, options: LaunchOptions): Launched {
  // detached: false keeps the child in our process group, so a terminal's
  // Ctrl-C reaches it too; stops are always by its own PID.
  const child = spawn(command.file, [...command.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let done = false;
  // Spawn failures are emitted on a later tick, so these listeners are in time.
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    // 'error' also fires for a failed kill(); only a failed spawn (no PID) ends the process here.
    child.on('error', (error) => {
      if (child.pid === undefined && !done) {
        done = true;
        resolve({ code: null, signal: null, error });
      }
    });
  });
  collectLines(child.stdout, (line) => options.onLine('stdout', line));
  collectLines(child.stderr, (line) => options.onLine('stderr', line));
  return {
    pid: child.pid,
    exited,
    hasExited: () => done,
    signal(signal) {
      // ChildProcess.kill() refuses once Node has reaped the child, unlike process.kill(pid).
      if (!done) child.kill(signal);
    },
  };
}

/**
 * SIGTERM, up to `graceMs` for the process to finish its in-flight work, then
 * SIGKILL. Kubernetes terminates pods the same way (terminationGracePeriodSeconds);
 * PM2's kill_timeout likewise.
 */
export async function stopProcess(proc: Launched, graceMs: number): Promise<Exit> {
  if (proc.hasExited()) return proc.exited;
  proc.signal('SIGTERM');
  const ac = new AbortController();
  const grace = sleep(graceMs, 'grace-over' as const, { signal: ac.signal }).catch(() => 'exited' as const);
  const first = await Promise.race([proc.exited, grace]);
  ac.abort();
  if (first !== 'grace-over') return proc.exited;
  proc.signal('SIGKILL');
  return proc.exited;
}
