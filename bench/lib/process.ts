// Child processes of a bench run: started pinned to a core, waited for by
// polling their port, stopped by PID (never by name: the machine is shared and
// other nginx/haproxy instances may belong to someone else).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { descendants } from './proc-stats.ts';

export interface Child {
  name: string;
  pid: number;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  exitCode: number | string | undefined;
  logPath: string;
}

const live = new Set<Child>();

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  /** CPU list for `taskset -c`; undefined runs unpinned. */
  core: string | undefined;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout goes here ('/dev/null' for chatty access logs); stderr always to logPath. */
  stdoutPath: string;
  logPath: string;
}

export function startProcess(options: StartOptions): Child {
  const [command, args] = options.core === undefined
    ? [options.command, options.args]
    : ['taskset', ['-c', options.core, options.command, ...options.args]];
  const out = openSync(options.stdoutPath, 'a');
  const err = openSync(options.logPath, 'a');
  // taskset execs the command in place, so the PID we get is the tool's own.
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out, err],
  });
  closeSync(out);
  closeSync(err);
  if (proc.pid === undefined) throw new Error(`${options.name}: could not spawn ${command}`);
  const child: Child = {
    name: options.name,
    pid: proc.pid,
    exitCode: undefined,
    logPath: options.logPath,
    exited: new Promise((resolve) => {
      proc.once('error', () => resolve('spawn-error'));
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    }),
  };
  void child.exited.then((code) => {
    child.exitCode = code;
    live.delete(child);
  });
  live.add(child);
  return child;
}

/** Asks politely (SIGTERM), then SIGKILLs the process and the children it had. */
export async function stopProcess(child: Child, graceMs = 5000): Promise<void> {
  if (child.exitCode !== undefined) return;
  const tree = descendants(child.pid);
  signal(child.pid, 'SIGTERM');
  // Unref'd so that a fast exit does not leave the process waiting out the grace.
  const gone = await Promise.race([child.exited.then(() => true), delay(graceMs, false, { ref: false })]);
  if (!gone) signal(child.pid, 'SIGKILL');
  // nginx workers exit with their master; this only catches stragglers.
  for (const pid of tree) signal(pid, 'SIGKILL');
  await child.exited;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopProcess(child)));
}

/** Last resort from a synchronous 'exit' handler: no waiting possible there. */
export function killAllNow(): void {
  for (const child of live) {
    for (const pid of descendants(child.pid)) signal(pid, 'SIGKILL');
    signal(child.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const handedOut = new Set<number>();

/**
 * A port nothing listens on, from listen(0). The kernel may hand the same
 * port out again once it is closed, so ports given to earlier tools of this
 * run (which may not listen yet) are skipped.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await ephemeralPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

async function ephemeralPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** Polls until the port accepts a connection; fails fast if the process dies. */
export async function waitForPort(port: number, child: Child | undefined, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child?.exitCode !== undefined) {
      throw new Error(`exited (${String(child.exitCode)}) before listening${logTail(child)}`);
    }
    if (await canConnect(port)) return;
    if (Date.now() > deadline) {
      throw new Error(`not listening on ${port} after ${deadlineMs} ms${child ? logTail(child) : ''}`);
    }
    await delay(50);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function logTail(child: Child, lines = 3): string {
  try {
    const text = readFileSync(child.logPath, 'utf8').trim();
    if (text === '') return '';
    return `: ${text.split('\n').slice(-lines).join(' | ')}`;
  } catch {
    return '';
  }
}
