// Runs the `rampart` command as a real child process, the way a user does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RAMPART = fileURLToPath(new URL('../../packages/cli/bin/rampart.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `rampart ...args` to completion (killed after timeoutMs). */
export function rampart(args: string[], { cwd = ROOT, timeoutMs = 15_000 } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RAMPART, ...args], { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines from stdout, in order (non-JSON lines are kept as { text }). */
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGKILL if still running (test cleanup). */
  kill(): void;
}

/** A `rampart` child process with its stdout parsed as JSON log lines (non-JSON lines kept as { text }). */
export interface RampartChild {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts `rampart ...args` and collects its log lines and stderr. */
export function spawnRampart(args: string[]): RampartChild {
  const child = spawn(process.execPath, [RAMPART, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, logs, stderr: () => err, exited };
}

/** Starts `rampart gateway -c <file>` and collects its log lines. */
export function startGatewayProcess(file: string, extraArgs: string[] = []): GatewayProcess {
  const { child, logs, stderr, exited } = spawnRampart(['gateway', '-c', file, ...extraArgs]);
  return {
    child,
    logs,
    stderr,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** A loopback port free at the time of the call: listen on 0, note the port, close. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
