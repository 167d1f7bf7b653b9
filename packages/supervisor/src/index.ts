// @rampart/supervisor: runs N instances of a command for the gateway — readiness
// before traffic, crash restart with backoff, rolling restart without dropped
// requests, and autoscaling by the Kubernetes HPA algorithm. No dependency on
// the gateway: it talks through events (instance-set.ts) and callbacks.

export { InstanceSet, type InstanceSetOptions, type InstanceSetEvents, type CommandOptions, type RemovalReason, type ScalableSet } from './instance-set.ts';
export type { Instance, InstanceState, InstanceInfo, LastExit } from './instance.ts';
export { resolveCommand, type ResolvedCommand } from './command.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { Autoscaler, type AutoscalerOptions, type AutoscalerState, type LoadSample } from './autoscaler/autoscaler.ts';
export { HpaRecommender, DEFAULT_POLICY, type HpaPolicy, type HpaObservation, type ScaleDecision, type DecisionReason, type DecisionInputs, type ScaleUpRule } from './autoscaler/hpa.ts';
export { InflightGauge } from './autoscaler/inflight-gauge.ts';
export { SupervisorError } from './errors.ts';
