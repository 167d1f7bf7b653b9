// The autoscaler's control loop: every interval, sample the load, ask the HPA
// recommender, and resize the instance set. The algorithm lives in hpa.ts;
// this file only drives it, so both can be tested apart (hpa.ts with injected
// time, this one with mock timers, the pair against real processes).

import { invalidOption } from '../errors.ts';
import type { ScalableSet } from '../instance-set.ts';
import { DEFAULT_POLICY, HpaRecommender, type HpaPolicy, type ScaleDecision, type ScaleUpRule } from './hpa.ts';

export interface LoadSample {
  /** Average in-flight requests per ready instance (ideally time-averaged over the interval; see InflightGauge). */
  readonly inflightPerInstance: number;
  /** Ready instances the average was taken over; default: the set's ready count. */
  readonly ready?: number;
}

export interface AutoscalerOptions {
  /** At least 1: with no instance there is no load to measure. */
  readonly min: number;
  readonly max: number;
  /** Desired in-flight requests per instance. Default 10. */
  readonly target?: number;
  /** Default 0.1. */
  readonly tolerance?: number;
  /** Scale-down stabilisation window. Default 60 000 ms. */
  readonly stabilizationWindowMs?: number;
  /** Default { pods: 4, percent: 100, periodMs: 15 000 }. */
  readonly scaleUp?: Partial<ScaleUpRule>;
  /** Sampling and decision interval. Default 1 000 ms. */
  readonly intervalMs?: number;
  readonly observe: () => LoadSample;
  /** Every decision, changed or not (log the changes at info, the rest at debug). */
  readonly onDecision?: (decision: ScaleDecision) => void;
  /** Clock for decision times; default Date.now. */
  readonly now?: () => number;
}

/** For /status. Decision times are epoch ms (or the injected clock's). */
export interface AutoscalerState {
  readonly enabled: boolean;
  readonly min: number;
  readonly max: number;
  readonly current: number;
  readonly ready: number;
  /** Where the last decision is taking the set. */
  readonly desired: number;
  readonly target: number;
  /** The latest evaluation (one per interval), with its inputs and reason. */
  readonly lastDecision: ScaleDecision | null;
  /** The latest evaluation that changed the count. */
  readonly lastScale: ScaleDecision | null;
  /** The latest failure to observe, decide or resize, if any. */
  readonly lastError: string | null;
}

export class Autoscaler {
  readonly #set: ScalableSet;
  readonly #options: AutoscalerOptions;
  readonly #hpa: HpaRecommender;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #last: ScaleDecision | null = null;
  #lastScale: ScaleDecision | null = null;
  #lastError: string | null = null;

  constructor(set: ScalableSet, options: AutoscalerOptions) {
    const policy: HpaPolicy = {
      min: options.min,
      max: options.max,
      target: options.target ?? DEFAULT_POLICY.target,
      tolerance: options.tolerance ?? DEFAULT_POLICY.tolerance,
      stabilizationWindowMs: options.stabilizationWindowMs ?? DEFAULT_POLICY.stabilizationWindowMs,
      scaleUp: { ...DEFAULT_POLICY.scaleUp, ...options.scaleUp },
    };
    validate(policy, options);
    this.#set = set;
    this.#options = options;
    this.#hpa = new HpaRecommender(policy);
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  get policy(): HpaPolicy {
    return this.#hpa.policy;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    // The instance set keeps the process alive while there is work; this loop alone must not.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One iteration: sample, decide, resize. Called by the timer; public for tests and for an admin "decide now". */
  tick(): ScaleDecision {
    let sample: LoadSample | undefined;
    try {
      sample = this.#options.observe();
    } catch (error) {
      this.#lastError = `observe() failed: ${String(error)}`;
    }
    const decision = this.#hpa.decide({
      now: this.#now(),
      current: this.#set.replicas,
      ready: sample?.ready ?? this.#set.readyCount(),
      observed: sample?.inflightPerInstance,
    });
    this.#last = decision;
    if (decision.to !== decision.from) {
      this.#lastScale = decision;
      // The set serialises this behind any rolling restart; `replicas` reflects it at once.
      void this.#set.scaleTo(decision.to).catch((error: unknown) => {
        this.#lastError = `scaling to ${decision.to} failed: ${String(error)}`;
      });
    }
    try {
      this.#options.onDecision?.(decision);
    } catch (error) {
      this.#lastError = `onDecision() failed: ${String(error)}`;
    }
    return decision;
  }

  state(): AutoscalerState {
    const { min, max, target } = this.#hpa.policy;
    const current = this.#set.replicas;
    return {
      enabled: this.#timer !== undefined,
      min,
      max,
      current,
      ready: this.#set.readyCount(),
      desired: this.#last?.to ?? current,
      target,
      lastDecision: this.#last,
      lastScale: this.#lastScale,
      lastError: this.#lastError,
    };
  }
}

function validate(p: HpaPolicy, o: AutoscalerOptions): void {
  if (!Number.isInteger(p.min) || p.min < 1) throw invalidOption('autoscale.min', `must be a whole number ≥ 1, got ${p.min}`);
  if (!Number.isInteger(p.max) || p.max < p.min) throw invalidOption('autoscale.max', `must be a whole number ≥ min (${p.min}), got ${p.max}`);
  if (!(Number.isFinite(p.target) && p.target > 0)) throw invalidOption('autoscale.target', `must be a number > 0, got ${p.target}`);
  if (!(Number.isFinite(p.tolerance) && p.tolerance >= 0 && p.tolerance < 1)) throw invalidOption('autoscale.tolerance', `must be ≥ 0 and < 1, got ${p.tolerance}`);
  if (!(Number.isFinite(p.stabilizationWindowMs) && p.stabilizationWindowMs >= 0)) throw invalidOption('autoscale.stabilizationWindowMs', `must be ≥ 0, got ${p.stabilizationWindowMs}`);
  const { pods, percent, periodMs } = p.scaleUp;
  if (!(Number.isInteger(pods) && pods >= 0)) throw invalidOption('autoscale.scaleUp.pods', `must be a whole number ≥ 0, got ${pods}`);
  if (!(Number.isFinite(percent) && percent >= 0)) throw invalidOption('autoscale.scaleUp.percent', `must be ≥ 0, got ${percent}`);
  if (pods === 0 && percent === 0) throw invalidOption('autoscale.scaleUp', 'pods and percent are both 0, so the autoscaler could never scale up');
  if (!(Number.isFinite(periodMs) && periodMs >= 0)) throw invalidOption('autoscale.scaleUp.periodMs', `must be ≥ 0, got ${periodMs}`);
  const interval = o.intervalMs ?? 1_000;
  if (!(Number.isFinite(interval) && interval > 0)) throw invalidOption('autoscale.intervalMs', `must be > 0, got ${interval}`);
  if (typeof o.observe !== 'function') throw invalidOption('autoscale.observe', 'must be a function returning { inflightPerInstance }');
}
