// Slow start: a server that has just become healthy again gets a share of
// new requests that grows over a window instead of its full weight at once,
// so a cold cache, JIT or connection pool is not flooded the moment it joins.
// HAProxy's `slowstart <time>` ramps the weight linearly from near 0;
// Envoy's slow_start_config (round robin and least request) uses
//   weight × max(min_weight_percent, time_factor ^ (1 / aggression))
// with min_weight_percent 10% and aggression 1.0 (linear) by default.
// We follow Envoy's formula, whose floor keeps a new server from getting no
// traffic at all in its first moments.
//
// HAProxy applies slowstart when a server comes back after a failed check or
// leaves maintenance, not when HAProxy itself starts — all servers at 10% at
// once would only delay the start. Call begin() on transitions, not on load.

export interface SlowStartOptions {
  /** Length of the ramp; 0 turns slow start off. */
  readonly windowMs: number;
  /** Share of the weight at the start of the ramp, in (0, 1]. Default 0.1 (Envoy's min_weight_percent 10%). */
  readonly minFactor?: number;
  /** Shape of the ramp: 1 is linear, above 1 rises faster at first (Envoy's `aggression`). Default 1. */
  readonly aggression?: number;
}

/** Factor in [minFactor, 1] that a weight is multiplied by, `elapsedMs` into a ramp of `windowMs`. */
export function slowStartFactor(elapsedMs: number, options: SlowStartOptions): number {
  const { windowMs, minFactor = 0.1, aggression = 1 } = options;
  if (windowMs <= 0 || elapsedMs >= windowMs) return 1;
  const timeFactor = Math.max(0, elapsedMs) / windowMs;
  return Math.max(minFactor, aggression === 1 ? timeFactor : timeFactor ** (1 / aggression));
}

/** `weight` as it counts `now − since` ms after the server returned. */
export function effectiveWeight(weight: number, sinceMs: number, nowMs: number, options: SlowStartOptions): number {
  return weight * slowStartFactor(nowMs - sinceMs, options);
}

/**
 * Which servers are ramping, and since when. Entries end by themselves
 * once their window has passed.
 */
export class SlowStart {
  readonly #options: SlowStartOptions;
  readonly #now: () => number;
  readonly #since = new Map<string, number>();

  constructor(options: SlowStartOptions & { readonly now?: () => number }) {
    const { windowMs, minFactor = 0.1, aggression = 1 } = options;
    if (!(Number.isFinite(windowMs) && windowMs >= 0)) throw new RangeError(`slow start window must be ≥ 0 ms (got ${windowMs})`);
    if (!(minFactor > 0 && minFactor <= 1)) throw new RangeError(`minFactor must be in (0, 1] (got ${minFactor})`);
    if (!(aggression > 0 && Number.isFinite(aggression))) throw new RangeError(`aggression must be a positive number (got ${aggression})`);
    this.#options = { windowMs, minFactor, aggression };
    this.#now = options.now ?? (() => Date.now());
  }

  /** A server has (re)joined: start its ramp now (or at `at`). A ramp under way starts over. */
  begin(id: string, at: number = this.#now()): void {
    if (this.#options.windowMs > 0) this.#since.set(id, at);
  }

  /** Ends a server's ramp at once (it was removed, or must take full load). */
  end(id: string): void {
    this.#since.delete(id);
  }

  /** The factor a server's weight is multiplied by now: 1 unless it is ramping. */
  factor(id: string, now: number = this.#now()): number {
    const since = this.#since.get(id);
    if (since === undefined) return 1;
    const f = slowStartFactor(now - since, this.#options);
    if (f === 1) this.#since.delete(id);
    return f;
  }

  weight(id: string, weight: number, now: number = this.#now()): number {
    return weight * this.factor(id, now);
  }

  isRamping(id: string, now: number = this.#now()): boolean {
    return this.factor(id, now) < 1;
  }

  /** The servers ramping now, for `/status`. */
  ramping(now: number = this.#now()): string[] {
    return [...this.#since.keys()].filter((id) => this.factor(id, now) < 1);
  }
}
