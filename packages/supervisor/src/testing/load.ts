// Test support (not exported by the package): the fixture app, a condition
// waiter, a minimal balancer that obeys the supervisor's events the way the
// gateway must, and a bounded load loop that counts every failed request.

import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { InflightGauge } from '../autoscaler/inflight-gauge.ts';
import type { Instance } from '../instance.ts';
import type { InstanceSet } from '../instance-set.ts';

export const FIXTURE = fileURLToPath(new URL('../../test-fixtures/app.js', import.meta.url));

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, { timeoutMs = 5_000, intervalMs = 10 } = {}): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** True while a process with this PID exists (signal 0 probes without signalling). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Outcome {
  readonly ok: boolean;
  readonly instanceId: string | undefined;
  readonly detail: string;
}

/**
 * Round-robin over the instances that are ready now. `ready` adds,
 * `removing`/`exited` remove; requests are never retried, so a request sent to
 * an instance the supervisor has already stopped shows up as a failure.
 */
export class TestBalancer {
  readonly #ready: Instance[] = [];
  readonly #inflight = new Map<Instance, number>();
  readonly #agents = new Map<string, http.Agent>();
  readonly gauge = new InflightGauge();
  #next = 0;

  attach(set: InstanceSet): void {
    set.on('ready', (i) => this.#add(i));
    set.on('removing', (i) => this.#remove(i));
    set.on('exited', (i) => this.#remove(i));
  }

  get readyIds(): string[] {
    return this.#ready.map((i) => i.id);
  }

  inflight(instance: Instance): number {
    return this.#inflight.get(instance) ?? 0;
  }

  /** The drain hook handed to the InstanceSet: resolves when the instance has nothing in flight. */
  async drain(instance: Instance): Promise<void> {
    await waitFor(`${instance.id} to drain`, () => this.inflight(instance) === 0, { timeoutMs: 10_000, intervalMs: 5 });
  }

  /** Time-averaged in-flight requests per ready instance since the last call: the autoscaler's signal. */
  sample(): { inflightPerInstance: number; ready: number } {
    const ready = this.#ready.length;
    return { inflightPerInstance: ready === 0 ? 0 : this.gauge.takeAverage() / ready, ready };
  }

  request(): Promise<Outcome> {
    if (this.#ready.length === 0) return Promise.resolve({ ok: false, instanceId: undefined, detail: 'no ready instance' });
    const instance = this.#ready[this.#next++ % this.#ready.length]!;
    const url = instance.url;
    let agent = this.#agents.get(url);
    if (agent === undefined) this.#agents.set(url, (agent = new http.Agent({ keepAlive: true })));
    this.#inflight.set(instance, this.inflight(instance) + 1);
    this.gauge.inc();
    return new Promise<Outcome>((resolve) => {
      const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ok: res.statusCode === 200, instanceId: instance.id, detail: `${res.statusCode} ${body}` }));
        res.on('error', (e) => resolve({ ok: false, instanceId: instance.id, detail: String(e) }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => resolve({ ok: false, instanceId: instance.id, detail: `${url}: ${String(e)}` }));
    }).finally(() => {
      this.#inflight.set(instance, this.inflight(instance) - 1);
      this.gauge.dec();
    });
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  #add(instance: Instance): void {
    if (!this.#ready.includes(instance)) this.#ready.push(instance);
  }

  #remove(instance: Instance): void {
    const at = this.#ready.indexOf(instance);
    if (at >= 0) this.#ready.splice(at, 1);
    const agent = this.#agents.get(instance.url);
    // Idle keep-alive sockets to a removed instance are never reused; in-flight ones finish first.
    if (agent !== undefined && this.inflight(instance) === 0) {
      agent.destroy();
      this.#agents.delete(instance.url);
    }
  }
}

/** Closed-loop load: `concurrency` workers, each sending its next request when the previous one ends. */
export class LoadLoop {
  ok = 0;
  readonly failures: string[] = [];
  readonly servedBy = new Map<string, number>();
  readonly #source: { request(): Promise<Outcome> };
  readonly #maxRequests: number;
  readonly #deadline: number;
  readonly #running = new Map<number, Promise<void>>();
  #concurrency = 0;
  #stopped = false;

  /** `source`: the TestBalancer here, or anything that sends one request and says how it went. */
  constructor(source: { request(): Promise<Outcome> }, { maxRequests, maxMs }: { maxRequests: number; maxMs: number }) {
    this.#source = source;
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
    for (let k = 0; k < n; k++) if (!this.#running.has(k)) this.#running.set(k, this.#worker(k));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running.values());
  }

  async #worker(k: number): Promise<void> {
    try {
      while (!this.#stopped && k < this.#concurrency && !this.exhausted) {
        const outcome = await this.#source.request();
        if (outcome.ok) this.ok++;
        else this.failures.push(outcome.detail);
        if (outcome.instanceId !== undefined) this.servedBy.set(outcome.instanceId, (this.servedBy.get(outcome.instanceId) ?? 0) + 1);
      }
    } finally {
      this.#running.delete(k);
    }
  }
}
