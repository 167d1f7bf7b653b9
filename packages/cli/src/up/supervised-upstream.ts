// The instances of one `run:` upstream, wired into the gateway's balancer.
//
// The InstanceSet (@rampart/supervisor) owns the processes and tells what
// happens through events; this class turns them into balancer changes:
//   ready(i)     addServer(i.url): requests flow to it
//   removing(i)  drain(server): no new requests. The set then awaits the
//                drain hook, which resolves once the server has nothing in
//                flight; the server leaves the balancer, then the process stops
//   exited(i)    a crash: out of the balancer at once (retries cover what it
//                had in flight); the set restarts it on a NEW port with backoff
// and feeds the autoscaler with the gateway's in-flight count per instance.
//
// A reload of the config builds new Upstream objects without the servers added
// at run time; attach() puts the live instances into each new one. An instance
// can therefore have servers in several Upstream objects (requests in flight
// on the old one finish there), and its drain waits for all of them.

import { setTimeout as sleep } from 'node:timers/promises';
import { InstanceSet, Autoscaler, type Instance, type LoadSample, type ScaleDecision, type RemovalReason } from '@rampart/supervisor';
import type { AutoscaleConfig, Logger, RunConfig, RunnerStatus, Upstream, UpstreamRunner, UpstreamServer } from '@rampart/gateway';

interface Member {
  readonly url: string;
  /** Where the instance is in the live balancer. */
  current: { readonly upstream: Upstream; readonly server: UpstreamServer };
  /** Every server object of this instance that may still have requests in flight. */
  readonly servers: Set<UpstreamServer>;
  draining: boolean;
}

export interface SupervisedUpstreamOptions {
  /** Longest wait for an instance's requests to finish before it is stopped anyway. */
  readonly drainTimeoutMs: number;
  /** Readiness probe interval; default the supervisor's (100 ms). */
  readonly pollIntervalMs?: number;
}

/** Samples of the in-flight count per autoscale interval: enough to average out a burst at the sampling instant. */
const SAMPLES_PER_INTERVAL = 10;
const DRAIN_POLL_MS = 10;

export class SupervisedUpstream implements UpstreamRunner {
  readonly name: string;
  readonly set: InstanceSet;
  readonly #logger: Logger;
  readonly #drainTimeoutMs: number;
  readonly #members = new Map<Instance, Member>();
  #run: RunConfig;
  #upstream: Upstream | null = null;
  #autoscaler: Autoscaler | null = null;
  #sampler: NodeJS.Timeout | undefined;
  #samples = { sum: 0, count: 0 };
  #lastReason: string | null = null;
  #stopping = false;

  constructor(name: string, run: RunConfig, logger: Logger, options: SupervisedUpstreamOptions) {
    this.name = name;
    this.#run = run;
    this.#logger = logger.child({ upstream: name });
    this.#drainTimeoutMs = options.drainTimeoutMs;
    this.set = new InstanceSet({
      name,
      command: run.command,
      cwd: run.cwd,
      env: run.env,
      instances: run.instances,
      healthPath: run.healthPath,
      startTimeoutMs: run.startTimeoutMs,
      stopGraceMs: run.stopGraceMs,
      drainTimeoutMs: options.drainTimeoutMs,
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      drain: (i) => this.#drain(i),
      onOutput: (id, stream, line) => this.#logger.info({ instance: id, stream }, line),
    });
    this.set.on('starting', (i) => this.#logger.info({ instance: i.id, pid: i.pid, port: i.port, generation: i.spec.generation }, 'instance starting'));
    this.set.on('ready', (i) => this.#join(i));
    this.set.on('removing', (i, reason) => this.#leaving(i, reason));
    this.set.on('exited', (i, code, signal) => this.#exited(i, code, signal));
    this.set.on('restarting', (i, delayMs) => this.#logger.warn({ instance: i.id, delayMs, restarts: i.restarts + 1 }, 'instance restarting after backoff'));
  }

  /** Starts the instances (resolves when each is ready or has failed its first start), then the autoscaler. */
  async start(): Promise<void> {
    await this.set.start();
    if (!this.#stopping) this.#startAutoscaler(this.#run.autoscale);
  }

  attach(upstream: Upstream): void {
    this.#upstream = upstream;
    for (const m of this.#members.values()) {
      // One being drained stays where it is: it only finishes what it has.
      if (m.draining) continue;
      const server = upstream.addServer(m.url, { starting: false });
      m.current = { upstream, server };
      for (const s of m.servers) if (s.inflight === 0) m.servers.delete(s);
      m.servers.add(server);
    }
  }

  status(): RunnerStatus {
    return { autoscale: this.#autoscaler?.state() ?? { enabled: false }, instances: this.set.list() };
  }

  restart(): Promise<void> {
    return this.#rollingRestart('admin API');
  }

  /**
   * Applies a reloaded `run:` block. A changed command, cwd or env (or
   * `restart`, for SIGHUP and `rampart reload`) replaces the instances one at a
   * time; the instance count and the autoscaler follow at once. Returns the
   * keys that only a restart of `rampart up` applies.
   */
  update(run: RunConfig, restart: string | null): string[] {
    const previous = this.#run;
    this.#run = run;
    const needsRestart: string[] = [];
    if (previous.healthPath !== run.healthPath) needsRestart.push('healthPath');
    if (previous.startTimeoutMs !== run.startTimeoutMs) needsRestart.push('startTimeout');
    if (previous.stopGraceMs !== run.stopGraceMs) needsRestart.push('stopGrace');
    if (!sameAutoscale(previous.autoscale, run.autoscale)) {
      this.#autoscaler?.stop();
      this.#autoscaler = null;
      this.#startAutoscaler(run.autoscale);
    }
    if (run.autoscale === null && (previous.autoscale !== null || previous.instances !== run.instances)) {
      this.#logger.info({ from: this.set.replicas, to: run.instances }, 'instance count changed by the config');
      this.set.scaleTo(run.instances).catch((err: unknown) => this.#logger.error({ err }, 'scaling failed'));
    }
    const specChanged = JSON.stringify([previous.command, previous.cwd, previous.env]) !== JSON.stringify([run.command, run.cwd, run.env]);
    if (specChanged || restart !== null) {
      // Not awaited: a reload of the file must not wait behind a restart; the set runs them in order.
      this.#rollingRestart(restart ?? 'command, cwd or env changed').catch(() => {});
    }
    return needsRestart;
  }

  /** No more scaling or restarts on reload: the shutdown has begun, and its falling load is no signal. */
  freeze(): void {
    this.#stopping = true;
    this.#autoscaler?.stop();
    clearInterval(this.#sampler);
  }

  /** Drains and stops every instance. */
  async stop(): Promise<void> {
    this.freeze();
    await this.set.stop();
  }

  /** For the 'exit' handler: no instance may outlive `rampart up`. */
  killAllSync(): void {
    this.set.killAllSync();
  }

  #rollingRestart(why: string): Promise<void> {
    const run = this.#run;
    const before = this.set.list().map((i) => i.id);
    this.#logger.info({ why, instances: before }, 'rolling restart: replacing the instances one at a time');
    return this.set.rollingRestart({ command: run.command, cwd: run.cwd, env: run.env }).then(
      () => this.#logger.info({ why, instances: this.set.list().map((i) => ({ id: i.id, pid: i.pid })) }, 'rolling restart done'),
      (err: unknown) => {
        if (this.#stopping) this.#logger.info({ why }, 'rolling restart ended by shutdown');
        else this.#logger.error({ why, err }, 'rolling restart failed; the remaining old instances keep serving');
        throw err;
      },
    );
  }

  #join(instance: Instance): void {
    const upstream = this.#upstream;
    if (upstream === null) throw new Error(`instance ${instance.id} is ready before upstream ${this.name} was attached`);
    this.#leave(instance);
    const server = upstream.addServer(instance.url, { starting: false });
    this.#members.set(instance, { url: instance.url, current: { upstream, server }, servers: new Set([server]), draining: false });
    this.#logger.info({ instance: instance.id, pid: instance.pid, url: instance.url, server: server.id }, 'instance ready: in the balancer');
  }

  #leaving(instance: Instance, reason: RemovalReason): void {
    const m = this.#members.get(instance);
    if (m === undefined) return;
    m.draining = true;
    m.current.upstream.drain(m.current.server.id);
    this.#logger.info({ instance: instance.id, reason, inflight: inflightOf(m) }, 'instance leaving the balancer: draining');
  }

  /** The set's drain hook: resolves once nothing is in flight on the instance (or the deadline passed). */
  async #drain(instance: Instance): Promise<void> {
    const m = this.#members.get(instance);
    if (m === undefined) return;
    const deadline = performance.now() + this.#drainTimeoutMs;
    while (inflightOf(m) > 0 && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
    const left = inflightOf(m);
    if (left > 0) this.#logger.warn({ instance: instance.id, inflight: left, drainTimeoutMs: this.#drainTimeoutMs }, 'drain timed out: stopping the instance with requests in flight');
    this.#leave(instance);
  }

  #exited(instance: Instance, code: number | null, signal: NodeJS.Signals | null): void {
    const wasIn = this.#members.has(instance);
    this.#leave(instance);
    const detail = { instance: instance.id, pid: instance.pid, code, signal, reason: instance.lastExit?.reason };
    if (instance.state === 'crashed') this.#logger.warn({ ...detail, wasInBalancer: wasIn }, 'instance crashed: out of the balancer; it restarts with backoff');
    else this.#logger.info(detail, 'instance stopped');
  }

  /** Takes the instance out of the balancer now (its requests in flight, if any, are cut). */
  #leave(instance: Instance): void {
    const m = this.#members.get(instance);
    if (m === undefined) return;
    this.#members.delete(instance);
    const { upstream, server } = m.current;
    // Server ids are reused once freed: remove only the very server this instance was given.
    if (upstream.servers.includes(server)) upstream.removeServer(server.id);
  }

  #startAutoscaler(config: AutoscaleConfig | null): void {
    clearInterval(this.#sampler);
    this.#sampler = undefined;
    if (config === null) return;
    this.#autoscaler = new Autoscaler(this.set, {
      min: config.min,
      max: config.max,
      target: config.target,
      stabilizationWindowMs: config.windowMs,
      intervalMs: config.intervalMs,
      observe: () => this.#observe(),
      onDecision: (d) => this.#decided(d),
    });
    this.#samples = { sum: 0, count: 0 };
    this.#sampler = setInterval(() => this.#sample(), Math.max(1, Math.floor(config.intervalMs / SAMPLES_PER_INTERVAL)));
    this.#sampler.unref();
    this.#autoscaler.start();
    this.#logger.info({ autoscale: config }, 'autoscaler started');
  }

  /** In flight per instance in the balancer, now. */
  #sample(): number | null {
    let inflight = 0;
    let ready = 0;
    for (const m of this.#members.values()) {
      if (m.draining) continue;
      inflight += m.current.server.inflight;
      ready++;
    }
    if (ready === 0) return null;
    const perInstance = inflight / ready;
    this.#samples.sum += perInstance;
    this.#samples.count++;
    return ready;
  }

  /** The autoscaler's signal: the average of the samples since the last decision. */
  #observe(): LoadSample {
    const ready = this.#sample() ?? 0;
    const { sum, count } = this.#samples;
    this.#samples = { sum: 0, count: 0 };
    return { inflightPerInstance: count === 0 ? Number.NaN : sum / count, ready };
  }

  #decided(d: ScaleDecision): void {
    // Each change of count or of reason at info, with its inputs; the same
    // decision again (every interval) at debug, so the log stays readable.
    const notable = d.to !== d.from || d.reason !== this.#lastReason;
    this.#lastReason = d.reason;
    const fields = { autoscale: { from: d.from, to: d.to, reason: d.reason, inputs: d.inputs } };
    if (notable) this.#logger.info(fields, `autoscale: ${d.message}`);
    else this.#logger.debug(fields, `autoscale: ${d.message}`);
  }
}

function inflightOf(m: Member): number {
  let n = 0;
  for (const s of m.servers) n += s.inflight;
  return n;
}

function sameAutoscale(a: AutoscaleConfig | null, b: AutoscaleConfig | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
