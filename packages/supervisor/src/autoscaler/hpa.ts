// The Kubernetes Horizontal Pod Autoscaler's decision, as pure logic: no
// timers, no I/O, time passed in. One call = one control-loop iteration.
//
// Source: https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/
// ("Algorithm details", "Stabilization window", "Scaling policies") and the
// controller itself, kubernetes/pkg/controller/podautoscaler/horizontal.go
// (stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
// calculateScaleUpLimitWithScalingRules) and replica_calculator.go.
//
//   desired = ceil(current × observed / target)
//   |observed/target − 1| ≤ tolerance (0.1)  → no change
//   instances not ready yet count as 0 load when scaling up, so a scale-up
//     is not repeated while the instances it started are still booting
//   scale-up: immediate, at most max(pods, percent% of current) more per period
//   scale-down: to the HIGHEST recommendation of the stabilisation window, so
//     one quiet sample never removes capacity that the last minute needed
//   then clamped to [min, max].
//
// The metric here is in-flight requests per ready instance, measured by the
// gateway (a Little's-law proxy for load that, unlike CPU, also sees an app
// blocked on its database).

export interface ScaleUpRule {
  /** At most this many instances more per period. Default 4 (HPA's default Pods policy). */
  readonly pods: number;
  /** …or this percentage of the count at the period's start, whichever allows more. Default 100. */
  readonly percent: number;
  /** Default 15 000 ms (HPA's periodSeconds: 15). */
  readonly periodMs: number;
}

export interface HpaPolicy {
  readonly min: number;
  readonly max: number;
  /** Desired average in-flight requests per instance. */
  readonly target: number;
  /** Default 0.1 (kube-controller-manager --horizontal-pod-autoscaler-tolerance). */
  readonly tolerance: number;
  /** Scale-down stabilisation window. HPA's default is 300 s; rampart's 60 s. */
  readonly stabilizationWindowMs: number;
  readonly scaleUp: ScaleUpRule;
}

export const DEFAULT_POLICY: Omit<HpaPolicy, 'min' | 'max'> = {
  target: 10,
  tolerance: 0.1,
  stabilizationWindowMs: 60_000,
  scaleUp: { pods: 4, percent: 100, periodMs: 15_000 },
};

export interface HpaObservation {
  /** Epoch ms (or any monotonic ms clock, used consistently). */
  readonly now: number;
  /** Instances the set is meant to have now. */
  readonly current: number;
  /** Of those, how many are ready (the ones the metric was measured on). */
  readonly ready: number;
  /** Average in-flight requests per ready instance; NaN or undefined = no measurement. */
  readonly observed: number | undefined;
}

export type DecisionReason =
  | 'no-metrics'
  | 'below-min'
  | 'above-max'
  | 'within-tolerance'
  | 'steady'
  | 'scale-up'
  | 'scale-up-limited'
  | 'at-max'
  | 'scale-down'
  | 'scale-down-stabilised'
  | 'at-min';

export interface DecisionInputs {
  readonly current: number;
  readonly ready: number;
  readonly observed: number | null;
  readonly target: number;
  /** observed / target, or null without a measurement. */
  readonly ratio: number | null;
  /** The recommendation before the stabilisation window and limits. */
  readonly rawDesired: number;
  /** After the stabilisation window, before the step limit and min/max. */
  readonly stabilisedDesired: number;
  /** Highest count the scale-up rule allows now. */
  readonly scaleUpLimit: number;
}

export interface ScaleDecision {
  /** Same clock as HpaObservation.now. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly reason: DecisionReason;
  /** The reason in words, with the numbers. */
  readonly message: string;
  readonly inputs: DecisionInputs;
}

interface Timestamped {
  readonly at: number;
  readonly value: number;
}

export class HpaRecommender {
  readonly policy: HpaPolicy;
  /** Raw recommendations within the stabilisation window. */
  #recommendations: Timestamped[] | undefined;
  /** Replica changes (signed) within the scale-up period. */
  #scaleEvents: Timestamped[] = [];

  constructor(policy: HpaPolicy) {
    this.policy = policy;
  }

  decide(o: HpaObservation): ScaleDecision {
    const { min, max, target, tolerance } = this.policy;
    const { now, current } = o;
    // A fresh controller must not scale down on its first quiet sample:
    // Kubernetes seeds the window with the current count (recordInitialRecommendation).
    this.#recommendations ??= [{ at: now, value: current }];
    const ready = Math.max(0, o.ready);
    const observed = o.observed !== undefined && Number.isFinite(o.observed) && o.observed >= 0 ? o.observed : null;
    const ratio = observed === null ? null : observed / target;
    const limit = this.#scaleUpLimit(now, current);
    const decision = (to: number, reason: DecisionReason, message: string, raw = current, stabilised = current): ScaleDecision => {
      if (to !== current) this.#recordScale(now, to - current);
      return { at: now, from: current, to, reason, message, inputs: { current, ready, observed, target, ratio, rawDesired: raw, stabilisedDesired: stabilised, scaleUpLimit: limit } };
    };

    // Out of bounds (the bounds changed, or instances were added by hand):
    // straight to the bound, as the HPA does before looking at metrics.
    if (current < min) return decision(min, 'below-min', `${current} instances is below the minimum ${min}`);
    if (current > max) return decision(max, 'above-max', `${current} instances is above the maximum ${max}`);
    if (observed === null || ratio === null || ready === 0) return decision(current, 'no-metrics', 'no ready instance reported a load; keeping the count');

    const { raw, tolerated } = rawRecommendation(current, ready, observed, target, tolerance);
    const stabilised = this.#stabilise(now, current, raw);
    const load = `${round(observed)} in flight per ready instance, target ${target} (ratio ${round(ratio)})`;

    if (stabilised > current) {
      const byMax = max <= limit;
      const to = Math.min(stabilised, Math.max(current, Math.min(max, limit)));
      if (to === stabilised) return decision(to, 'scale-up', `${load}: scaling ${current} → ${to}`, raw, stabilised);
      const held = byMax ? `the maximum ${max}` : `the scale-up rule (at most ${limit} within ${this.policy.scaleUp.periodMs} ms)`;
      const step = to === current ? `staying at ${current}` : `scaling ${current} → ${to}`;
      return decision(to, byMax ? 'at-max' : 'scale-up-limited', `${load}: wants ${stabilised}, ${step}, held by ${held}`, raw, stabilised);
    }
    if (stabilised < current) {
      const to = Math.max(stabilised, min);
      if (to === current) return decision(current, 'at-min', `${load}: wants ${stabilised}, already at the minimum ${min}`, raw, stabilised);
      if (to > stabilised) return decision(to, 'at-min', `${load}: wants ${stabilised}, scaling ${current} → ${to}, held by the minimum ${min}`, raw, stabilised);
      return decision(to, 'scale-down', `${load}: scaling ${current} → ${to}, the highest recommendation in the last ${this.policy.stabilizationWindowMs} ms`, raw, stabilised);
    }
    if (raw < current) {
      return decision(current, 'scale-down-stabilised', `${load}: wants ${raw}, but the last ${this.policy.stabilizationWindowMs} ms recommended up to ${current}`, raw, stabilised);
    }
    if (tolerated) return decision(current, 'within-tolerance', `${load}: within the ${tolerance * 100}% tolerance`, raw, stabilised);
    return decision(current, 'steady', `${load}: ${current} instances is the right count`, raw, stabilised);
  }

  /**
   * Records `raw` and returns the count the window allows: a scale-up as is
   * (scale-up window 0, HPA's default), a scale-down only to the highest
   * recommendation within the window.
   */
  #stabilise(now: number, current: number, raw: number): number {
    const cutoff = now - this.policy.stabilizationWindowMs;
    const recent = (this.#recommendations ?? []).filter((r) => r.at > cutoff);
    let highest = raw;
    for (const r of recent) highest = Math.max(highest, r.value);
    recent.push({ at: now, value: raw });
    this.#recommendations = recent;
    return raw > current ? raw : Math.min(current, highest);
  }

  /** HPA's calculateScaleUpLimitWithScalingRules with selectPolicy Max over a Pods and a Percent rule. */
  #scaleUpLimit(now: number, current: number): number {
    const { pods, percent, periodMs } = this.policy.scaleUp;
    const cutoff = now - periodMs;
    let change = 0;
    for (const e of this.#scaleEvents) if (e.at > cutoff) change += e.value;
    const periodStart = current - change;
    return Math.max(periodStart + pods, Math.ceil(periodStart * (1 + percent / 100)));
  }

  #recordScale(now: number, change: number): void {
    const cutoff = now - this.policy.scaleUp.periodMs;
    this.#scaleEvents = this.#scaleEvents.filter((e) => e.at > cutoff);
    this.#scaleEvents.push({ at: now, value: change });
  }
}

/**
 * replica_calculator.go's rule for a utilisation metric: within tolerance, keep
 * the count; otherwise ceil(total load / target). When scaling up with
 * instances still starting, count those at zero load and scale only if the
 * adjusted ratio still says up by more than the tolerance.
 */
function rawRecommendation(current: number, ready: number, observed: number, target: number, tolerance: number): { raw: number; tolerated: boolean } {
  const ratio = observed / target;
  // The band is inclusive ("≤ 0.1"); the epsilon keeps 11/10 − 1 = 0.10000000000000009 inside it.
  if (Math.abs(ratio - 1) <= tolerance + 1e-9) return { raw: current, tolerated: true };
  const total = observed * ready;
  if (ratio > 1 && ready < current) {
    const adjusted = total / (current * target);
    if (adjusted <= 1 + tolerance + 1e-9) return { raw: current, tolerated: true };
  }
  // Float noise (1.1 × 10 = 11.000000000000002) must not add an instance.
  const raw = Math.ceil(total / target - 1e-9);
  // Never against the direction of the ratio (the controller's final check).
  if ((ratio > 1 && raw < current) || (ratio < 1 && raw > current)) return { raw: current, tolerated: false };
  return { raw, tolerated: false };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
