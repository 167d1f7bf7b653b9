// Panic threshold, as Envoy's load balancer has it
// (docs/root/intro/arch_overview/upstream/load_balancing/panic_threshold.rst):
// when the share of healthy servers falls under the threshold (default 50%),
// balance over every server, healthy or not. Health checks fail together
// more often because of a shared cause — a database, a bad deploy of the
// health endpoint, a network blip between gateway and servers — than
// because most servers died at once; piling all traffic onto the few
// survivors would then take them down too, while spreading it keeps some
// requests succeeding. A threshold of 0 turns panic off: with no healthy
// server, nothing is eligible and the client gets 503.
//
// `servers` is the set the balancer may use at all: servers being drained
// or still starting are left out by the caller, because panic overrides
// health, not an operator's decision (Envoy likewise keeps excluded hosts
// out of the panic computation).

export interface Eligible<T> {
  /** The servers to balance over. */
  readonly servers: readonly T[];
  /** True when health is being ignored. */
  readonly panic: boolean;
}

/** Whether `healthy` of `total` servers is under `thresholdPercent`. */
export function inPanic(healthy: number, total: number, thresholdPercent = 50): boolean {
  // Integers, so 1 healthy of 2 is exactly 50% and not a panic (Envoy: "below" the threshold).
  return total > 0 && healthy * 100 < thresholdPercent * total;
}

/**
 * The servers to balance over: the healthy ones, or all of them in panic.
 * It allocates; call it when health changes and keep the result, not on
 * every request (ARCHITECTURE.md, hot-path rules).
 */
export function eligible<T>(servers: readonly T[], isHealthy: (server: T) => boolean, thresholdPercent = 50): Eligible<T> {
  if (!(thresholdPercent >= 0 && thresholdPercent <= 100)) throw new RangeError(`panic threshold must be in [0, 100] percent (got ${thresholdPercent})`);
  const healthy = servers.filter(isHealthy);
  if (inPanic(healthy.length, servers.length, thresholdPercent)) return { servers, panic: true };
  return { servers: healthy, panic: false };
}
