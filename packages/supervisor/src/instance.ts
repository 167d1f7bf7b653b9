// One instance: a named slot that runs one process at a time, on a port of its
// own, and brings it back after a crash.
//
// States:
//   starting ──health answers──▶ ready ──removing──▶ draining ──▶ stopping ──▶ stopped
//      │  ▲                        │
//      │  └──backoff timer──┐      │ process exits on its own
//      └──exit / not ready──┴─▶ crashed
// A crash is reported at once (the caller takes the instance out of its
// balancer) and the slot restarts after a backoff; the id stays, the port is
// chosen afresh (the old one may be what made it crash).

import type { ResolvedCommand } from './command.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { releasePort, reservePort } from './free-port.ts';
import { launch, stopProcess, type Exit, type Launched } from './process.ts';
import { waitUntilReady } from './readiness.ts';

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopping' | 'stopped' | 'crashed';

/** What an instance runs; fixed for its whole life (a rolling restart makes new instances). */
export interface InstanceSpec {
  readonly command: ResolvedCommand;
  readonly cwd: string | undefined;
  /** Merged over the supervisor's environment; `undefined` removes a variable. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Bumped by every rolling restart; instances of an older generation are the ones it replaces. */
  readonly generation: number;
}

/** Settings shared by all instances of a set. */
export interface InstanceRuntime {
  readonly host: string;
  readonly healthPath: string | undefined;
  readonly startTimeoutMs: number;
  readonly probeTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly stopGraceMs: number;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
}

export interface InstanceHooks {
  starting(instance: Instance): void;
  ready(instance: Instance): void;
  exited(instance: Instance, exit: Exit): void;
  restarting(instance: Instance, delayMs: number): void;
  output(instance: Instance, stream: 'stdout' | 'stderr', line: string): void;
}

export interface LastExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Epoch ms. */
  readonly at: number;
  /** Why, in words: "exited with code 1", "killed by SIGKILL", "not ready within 30000 ms", "could not start: spawn … ENOENT". */
  readonly reason: string;
}

/** JSON-friendly snapshot for /status. */
export interface InstanceInfo {
  readonly id: string;
  readonly state: InstanceState;
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly restarts: number;
  readonly startedAt: number | undefined;
  readonly readyAt: number | undefined;
  readonly lastExit: LastExit | undefined;
}

export class Instance {
  readonly id: string;
  /** Creation order within the set; scale-down removes the highest first. */
  readonly seq: number;
  readonly spec: InstanceSpec;
  readonly #runtime: InstanceRuntime;
  readonly #hooks: InstanceHooks;
  #state: InstanceState = 'starting';
  #port = 0;
  #proc: Launched | undefined;
  #pid: number | undefined;
  #restarts = 0;
  #attempt = 0;
  #startedAt: number | undefined;
  #readyAt: number | undefined;
  #lastExit: LastExit | undefined;
  /** Why the current process is being ended by us although nobody asked to stop it. */
  #failure: string | undefined;
  /** Set once the instance is being removed: it will never restart or turn ready again. */
  #retired = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #readyAbort: AbortController | undefined;
  readonly #readyWaiters = new Set<(ok: boolean) => void>();

  constructor(id: string, seq: number, spec: InstanceSpec, runtime: InstanceRuntime, hooks: InstanceHooks) {
    this.id = id;
    this.seq = seq;
    this.spec = spec;
    this.#runtime = runtime;
    this.#hooks = hooks;
  }

  get state(): InstanceState {
    return this.#state;
  }
  get port(): number {
    return this.#port;
  }
  /** Where the gateway sends requests; the port (so the URL) changes when a crashed instance restarts. */
  get url(): string {
    return `http://${this.#runtime.host}:${this.#port}`;
  }
  get pid(): number | undefined {
    return this.#pid;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get lastExit(): LastExit | undefined {
    return this.#lastExit;
  }
  get retired(): boolean {
    return this.#retired;
  }

  info(): InstanceInfo {
    return {
      id: this.id,
      state: this.#state,
      url: this.url,
      port: this.#port,
      pid: this.#pid,
      generation: this.spec.generation,
      restarts: this.#restarts,
      startedAt: this.#startedAt,
      readyAt: this.#readyAt,
      lastExit: this.#lastExit,
    };
  }

  /**
   * Launches the process and waits for readiness. True when it became ready;
   * false when it crashed or timed out first (a restart is then scheduled) or
   * was removed meanwhile. Never rejects.
   */
  async start(): Promise<boolean> {
    if (this.#retired || this.#proc !== undefined) return false;
    this.#state = 'starting';
    this.#readyAt = undefined;
    let port: number;
    try {
      port = await reservePort(this.#runtime.host);
    } catch (error) {
      this.#afterExit({ code: null, signal: null, error: error as Error });
      return false;
    }
    if (this.#retired) {
      releasePort(port);
      return false;
    }
    this.#port = port;
    this.#startedAt = Date.now();
    const env = { ...process.env, ...this.spec.env, PORT: String(port), RAMPART_INSTANCE_ID: this.id };
    const proc = launch(this.spec.command, { cwd: this.spec.cwd, env, onLine: (stream, line) => this.#hooks.output(this, stream, line) });
    this.#proc = proc;
    this.#pid = proc.pid;
    const ac = new AbortController();
    this.#readyAbort = ac;
    void proc.exited.then((exit) => this.#onExit(proc, exit));
    this.#hooks.starting(this);
    const { startTimeoutMs, pollIntervalMs, probeTimeoutMs, healthPath, host } = this.#runtime;
    const outcome = await waitUntilReady({ host, port, path: healthPath, timeoutMs: startTimeoutMs, intervalMs: pollIntervalMs, probeTimeoutMs, signal: ac.signal });
    if (this.#proc !== proc || this.#state !== 'starting') return false;
    if (outcome === 'ready') {
      this.#state = 'ready';
      this.#readyAt = Date.now();
      this.#settleWaiters(true);
      this.#hooks.ready(this);
      return true;
    }
    // Not ready in time: end it as a crash, so it restarts with backoff
    // rather than holding a port and a process that will never serve.
    this.#failure = `not ready within ${startTimeoutMs} ms`;
    await stopProcess(proc, this.#runtime.stopGraceMs);
    return false;
  }

  /** Resolves true when the instance is (or becomes) ready within `timeoutMs`, false otherwise or when it is removed. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.#state === 'ready') return Promise.resolve(true);
    if (this.#retired) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        this.#readyWaiters.delete(settle);
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      this.#readyWaiters.add(settle);
    });
  }

  /** First step of removal: never ready again, never restarted; a ready instance becomes `draining`. */
  retire(): void {
    this.#retired = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#readyAbort?.abort();
    this.#settleWaiters(false);
    if (this.#state === 'ready' || this.#state === 'starting') this.#state = 'draining';
  }

  /** SIGTERM, the grace period, SIGKILL; resolves once the process is gone. */
  async stop(): Promise<void> {
    this.retire();
    const proc = this.#proc;
    if (proc === undefined) {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    await stopProcess(proc, this.#runtime.stopGraceMs);
  }

  /** SIGKILL now, for a supervisor that is exiting and cannot wait (process 'exit' handlers are synchronous). */
  killSync(): void {
    this.retire();
    this.#proc?.signal('SIGKILL');
  }

  #onExit(proc: Launched, exit: Exit): void {
    if (this.#proc !== proc) return;
    this.#proc = undefined;
    releasePort(this.#port);
    this.#readyAbort?.abort();
    this.#afterExit(exit);
  }

  #afterExit(exit: Exit): void {
    const at = Date.now();
    this.#lastExit = { code: exit.code, signal: exit.signal, at, reason: this.#failure ?? describeExit(exit) };
    this.#failure = undefined;
    if (this.#retired) {
      this.#state = 'stopped';
      this.#hooks.exited(this, exit);
      return;
    }
    // A crash: the caller hears of it now, not after the backoff, so it stops
    // sending requests to a dead port at once.
    this.#state = 'crashed';
    const ranStably = this.#readyAt !== undefined && at - this.#readyAt >= this.#runtime.backoff.stableAfterMs;
    if (ranStably) this.#attempt = 0;
    this.#hooks.exited(this, exit);
    if (this.#retired) return; // a listener removed it
    const delay = backoffDelay(this.#attempt++, this.#runtime.backoff, this.#runtime.random);
    this.#hooks.restarting(this, delay);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      void this.start();
    }, delay);
  }

  #settleWaiters(ok: boolean): void {
    for (const settle of [...this.#readyWaiters]) settle(ok);
  }
}

function describeExit(exit: Exit): string {
  if (exit.error !== undefined) return `could not start: ${exit.error.message}`;
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}
