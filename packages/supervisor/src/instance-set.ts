// N instances of one command: the supervisor's unit, one per `run:` upstream.
//
// The set owns the processes; the caller (the gateway) owns the balancer and
// learns what to do from events:
//   ready(instance)              add instance.url to the balancer
//   removing(instance, reason)   take it out of the balancer NOW; the set then
//                                awaits the caller's `drain(instance)` and only
//                                then stops the process
//   exited(instance, code, sig)  the process is gone (take it out too if still
//                                in: a crash gives no `removing`)
// Removal before stop, and readiness before addition, is what makes a rolling
// restart drop nothing — the step PM2's reload gets wrong (pm2#2573: requests
// fail during `pm2 reload` because the old worker stops taking connections
// before the new one is listening).
//
// Scaling and rolling restarts run one at a time through a queue, so the
// autoscaler and a reload never both pick the same instance to remove.

import { EventEmitter } from 'node:events';
import { resolveCommand } from './command.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { invalidOption, rolloutFailed, setStopped } from './errors.ts';
import { Instance, type InstanceInfo, type InstanceRuntime, type InstanceSpec } from './instance.ts';

export type RemovalReason = 'rolling-restart' | 'scale-down' | 'shutdown';

export type InstanceSetEvents = {
  /** A process was launched (first start or restart); not in the balancer yet. */
  starting: [instance: Instance];
  /** Health answered: add `instance.url` to the balancer. */
  ready: [instance: Instance];
  /** Take the instance out of the balancer; `drain(instance)` is awaited next, then the process is stopped. */
  removing: [instance: Instance, reason: RemovalReason];
  /** The process ended. `instance.state` is `crashed` (a restart follows) or `stopped`; `instance.lastExit.reason` says why. */
  exited: [instance: Instance, code: number | null, signal: NodeJS.Signals | null];
  /** A crashed instance will be started again after `delayMs`. */
  restarting: [instance: Instance, delayMs: number];
};

export interface CommandOptions {
  /** A string is run through /bin/sh with `exec` (or directly when it is plain words); an array is spawned as is. */
  readonly command: string | readonly string[];
  readonly cwd?: string;
  /** Merged over the supervisor's environment; `undefined` removes a variable. PORT and RAMPART_INSTANCE_ID are always set. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface InstanceSetOptions extends CommandOptions {
  /** Upstream name; instance ids are `<name>-<n>`. */
  readonly name: string;
  /** How many instances start() runs. Default 1. */
  readonly instances?: number;
  /** Ready = `GET <healthPath>` answers 2xx. Without it, ready = the port accepts a TCP connection. */
  readonly healthPath?: string;
  /** Loopback address the instances are reached at. Default 127.0.0.1. */
  readonly host?: string;
  /** A start that is not ready by then counts as a crash. Default 30 000 ms. */
  readonly startTimeoutMs?: number;
  /** One readiness probe's limit. Default 2 000 ms. */
  readonly probeTimeoutMs?: number;
  /** Wait between readiness probes. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** SIGTERM → SIGKILL. Default 10 000 ms. */
  readonly stopGraceMs?: number;
  /** Longest wait for `drain()`; after it the instance is stopped anyway. Default 30 000 ms. */
  readonly drainTimeoutMs?: number;
  /** Crash-restart backoff. Default base 100 ms, ×2, cap 30 s, reset after 10 s ready. */
  readonly restartBackoff?: Partial<BackoffOptions>;
  /** Resolves when the instance has no requests in flight (or the caller gives up). Default: at once. */
  readonly drain?: (instance: Instance) => Promise<void>;
  /** Each line an instance writes. Default: to this process's stdout/stderr, prefixed with `[id]`. */
  readonly onOutput?: (instanceId: string, stream: 'stdout' | 'stderr', line: string) => void;
  /** Jitter source, for tests. */
  readonly random?: () => number;
}

/** What the autoscaler needs from a set. */
export interface ScalableSet {
  /** The instance count the set is converging to (not counting ones being replaced or removed). */
  readonly replicas: number;
  /** Instances counted in `replicas` that are ready now. */
  readyCount(): number;
  scaleTo(replicas: number): Promise<void>;
}

export class InstanceSet extends EventEmitter<InstanceSetEvents> implements ScalableSet {
  readonly name: string;
  readonly #options: InstanceSetOptions;
  readonly #runtime: InstanceRuntime;
  readonly #drainTimeoutMs: number;
  readonly #instances = new Set<Instance>();
  /** Removals in progress, so a shutdown during a scale-down removes each instance once. */
  readonly #removals = new Map<Instance, Promise<void>>();
  #spec: InstanceSpec;
  #replicas: number;
  #seq = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  constructor(options: InstanceSetOptions) {
    super();
    validate(options);
    this.name = options.name;
    this.#options = options;
    this.#replicas = options.instances ?? 1;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#spec = { command: resolveCommand(options.command), cwd: options.cwd, env: options.env ?? {}, generation: 1 };
    this.#runtime = {
      host: options.host ?? '127.0.0.1',
      healthPath: options.healthPath,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      probeTimeoutMs: options.probeTimeoutMs ?? 2_000,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      stopGraceMs: options.stopGraceMs ?? 10_000,
      backoff: { ...DEFAULT_BACKOFF, ...options.restartBackoff },
      random: options.random ?? Math.random,
    };
  }

  get replicas(): number {
    return this.#replicas;
  }

  readyCount(): number {
    let n = 0;
    for (const i of this.#instances) if (!i.retired && i.state === 'ready') n++;
    return n;
  }

  /** Every instance the set holds, including ones being removed. */
  instances(): readonly Instance[] {
    return [...this.#instances].sort((a, b) => a.seq - b.seq);
  }

  /** Snapshot for /status. */
  list(): readonly InstanceInfo[] {
    return this.instances().map((i) => i.info());
  }

  /** Starts `instances` instances; resolves when each is ready or has failed its first start (it then restarts with backoff). */
  start(): Promise<void> {
    return this.scaleTo(this.#replicas);
  }

  /**
   * Converge to `replicas` instances. Up: new instances start in parallel; resolves
   * when each is ready or has given up for now. Down: not-ready instances go
   * first, then the newest (the order of Kubernetes' ReplicaSet controller, which
   * also prefers keeping pods that have been ready longest); each is removed,
   * drained and stopped.
   */
  scaleTo(replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) return Promise.reject(invalidOption('replicas', `must be a whole number ≥ 0, got ${replicas}`));
    if (this.#stopping) return Promise.reject(setStopped(this.name));
    // Recorded now, applied in turn: `replicas` is the autoscaler's `current`
    // at its next decision even while this waits behind a rolling restart.
    this.#replicas = replicas;
    return this.#serial(() => this.#reconcile());
  }

  /**
   * Replaces every instance, one at a time: start new → ready → `ready` event →
   * `removing(old)` → drain(old) → stop old. With `changes`, new instances run
   * the changed command/cwd/env (each given field replaces the old one whole:
   * pass the full env from the reloaded config). If a new instance is not ready within
   * startTimeoutMs, the restart stops there with RAMPART_ERR_SUPERVISOR_ROLLOUT,
   * the new instance is stopped, the old ones keep serving and the previous
   * command stays in force (Kubernetes' Deployment likewise never removes old
   * pods for new ones that are not ready).
   */
  rollingRestart(changes: Partial<CommandOptions> = {}): Promise<void> {
    if (this.#stopping) return Promise.reject(setStopped(this.name));
    return this.#serial(() => this.#rollout(changes));
  }

  /** Removes every instance (removing → drain → stop, all at once) and refuses further work. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const removals: Promise<void>[] = [];
      for (const i of this.#instances) removals.push(this.#remove(i, 'shutdown'));
      await Promise.all(removals);
      // An operation in progress notices #stopping at its next step; wait for it, then sweep what it left.
      await this.#queue;
      await Promise.all([...this.#instances].map((i) => this.#remove(i, 'shutdown')));
    })();
    return this.#stopping;
  }

  /** SIGKILL to every process now, for a `process.on('exit')` handler, where nothing asynchronous runs. */
  killAllSync(): void {
    for (const i of this.#instances) i.killSync();
  }

  #serial(operation: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(operation);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #reconcile(): Promise<void> {
    if (this.#stopping) return;
    const live = [...this.#instances].filter((i) => !i.retired);
    const want = this.#replicas;
    if (live.length < want) {
      const fresh: Instance[] = [];
      for (let k = live.length; k < want; k++) fresh.push(this.#create(this.#spec));
      await Promise.all(fresh.map((i) => i.start()));
    } else if (live.length > want) {
      const rank = (i: Instance) => (i.state === 'ready' ? 1 : 0);
      const victims = live.sort((a, b) => rank(a) - rank(b) || b.seq - a.seq).slice(0, live.length - want);
      await Promise.all(victims.map((i) => this.#remove(i, 'scale-down')));
    }
  }

  async #rollout(changes: Partial<CommandOptions>): Promise<void> {
    const previous = this.#spec;
    const next: InstanceSpec = {
      command: changes.command === undefined ? previous.command : resolveCommand(changes.command),
      cwd: 'cwd' in changes ? changes.cwd : previous.cwd,
      env: changes.env ?? previous.env,
      generation: previous.generation + 1,
    };
    // Scale-ups during the rollout already run the new spec.
    this.#spec = next;
    for (;;) {
      if (this.#stopping) throw setStopped(this.name);
      const old = [...this.#instances].filter((i) => !i.retired && i.spec.generation < next.generation).sort((a, b) => a.seq - b.seq)[0];
      if (old === undefined) return;
      const fresh = this.#create(next);
      void fresh.start();
      // Crashes during start are retried with backoff within the same deadline.
      const ready = await fresh.whenReady(this.#runtime.startTimeoutMs);
      if (!ready) {
        if (this.#stopping) throw setStopped(this.name);
        const why = fresh.lastExit?.reason ?? `not ready within ${this.#runtime.startTimeoutMs} ms`;
        this.#spec = previous;
        await this.#remove(fresh, 'rolling-restart');
        throw rolloutFailed(fresh.id, why);
      }
      await this.#remove(old, 'rolling-restart');
    }
  }

  #create(spec: InstanceSpec): Instance {
    const seq = ++this.#seq;
    const instance = new Instance(`${this.name}-${seq}`, seq, spec, this.#runtime, {
      starting: (i) => this.#emit('starting', i),
      ready: (i) => this.#emit('ready', i),
      exited: (i, exit) => this.#emit('exited', i, exit.code, exit.signal),
      restarting: (i, delayMs) => this.#emit('restarting', i, delayMs),
      output: (i, stream, line) => this.#output(i.id, stream, line),
    });
    this.#instances.add(instance);
    return instance;
  }

  #remove(instance: Instance, reason: RemovalReason): Promise<void> {
    let removal = this.#removals.get(instance);
    if (removal === undefined) {
      removal = this.#removeOnce(instance, reason).finally(() => {
        this.#instances.delete(instance);
        this.#removals.delete(instance);
      });
      this.#removals.set(instance, removal);
    }
    return removal;
  }

  async #removeOnce(instance: Instance, reason: RemovalReason): Promise<void> {
    const wasReady = instance.state === 'ready';
    instance.retire();
    this.#emit('removing', instance, reason);
    if (wasReady) await this.#drain(instance);
    await instance.stop();
  }

  async #drain(instance: Instance): Promise<void> {
    const hook = this.#options.drain;
    if (hook === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#drainTimeoutMs);
    });
    try {
      // A drain hook that throws must not keep the process running forever.
      await Promise.race([hook(instance).catch(() => {}), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #output(id: string, stream: 'stdout' | 'stderr', line: string): void {
    const sink = this.#options.onOutput;
    if (sink !== undefined) sink(id, stream, line);
    else (stream === 'stdout' ? process.stdout : process.stderr).write(`[${id}] ${line}\n`);
  }

  /**
   * Emits after the instance's own state change is complete; a listener that
   * throws is reported on the next tick (loudly, as EventEmitter would) instead
   * of leaving the instance half-way through a transition.
   */
  #emit<K extends keyof InstanceSetEvents>(event: K, ...args: InstanceSetEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: InstanceSetEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

function validate(o: InstanceSetOptions): void {
  if (typeof o.name !== 'string' || !/^[\w.-]+$/.test(o.name)) throw invalidOption('name', 'must be letters, digits, _, . or -');
  const command = o.command as unknown;
  if (!(typeof command === 'string' || (Array.isArray(command) && command.every((a) => typeof a === 'string')))) throw invalidOption('command', 'must be a string or an array of strings');
  if (o.instances !== undefined && !(Number.isInteger(o.instances) && o.instances >= 0)) throw invalidOption('instances', `must be a whole number ≥ 0, got ${o.instances}`);
  if (o.healthPath !== undefined && !o.healthPath.startsWith('/')) throw invalidOption('healthPath', `must start with /, got ${JSON.stringify(o.healthPath)}`);
  for (const key of ['startTimeoutMs', 'probeTimeoutMs', 'pollIntervalMs', 'stopGraceMs', 'drainTimeoutMs'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw invalidOption(key, `must be a number of milliseconds > 0, got ${v}`);
  }
  const b = o.restartBackoff ?? {};
  for (const key of ['baseMs', 'maxMs', 'stableAfterMs'] as const) {
    const v = b[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw invalidOption(`restartBackoff.${key}`, `must be a number of milliseconds > 0, got ${v}`);
  }
  if (b.baseMs !== undefined && b.maxMs !== undefined && b.baseMs > b.maxMs) throw invalidOption('restartBackoff', 'baseMs must not exceed maxMs');
}
