// ewma: peak-EWMA latency, the load metric of Finagle's p2c balancer
// (finagle-core, PeakEwma) and of Linkerd's proxy (tower::load::PeakEwma),
// chosen between two random servers as in p2c.ts. A server's cost is its
// latency estimate × (in flight + 1) / weight: the time a new request would
// wait if each queued one took the estimate. Unlike counting connections it
// sees a server that answers slowly before the slowness fills its queue.
//
// The estimate, per server:
// - a sample above the current estimate replaces it at once ("peak"), so one
//   slow response is enough to steer traffic away;
// - a sample below it is blended in with weight 1 − e^(−Δt/τ), Δt the time
//   since the estimate last moved: an EWMA in time, not in sample count, so a
//   busy server's estimate does not forget faster than an idle one's;
// - reading the estimate to pick decays it toward zero the same way (Finagle
//   reads as observe(0)), so a server that was slow gets a request again after
//   a few τ and its estimate can recover; without that it would never be
//   sampled again;
// - a failed exchange counts as at least `ewmaFailurePenaltyMs`, because a
//   server that fails fast would otherwise look like the fastest of all and
//   draw the traffic it is failing (gRPC's weighted_round_robin adds an error
//   penalty for the same reason);
// - a server with no sample yet starts at `ewmaDefaultLatencyMs`.
// Defaults are Linkerd's: τ = 10 s, default latency 30 ms.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';
import { WeightedSample } from './weighted-sample.ts';

export class EwmaBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  #index = new Map<string, number>();
  /** Latency estimate (ms) of each server, by index, as of #stamp. */
  #cost = new Float64Array(0);
  #stamp = new Float64Array(0);
  #sample = new WeightedSample();
  #random: () => number;
  #now: () => number;
  #decayMs: number;
  #defaultLatencyMs: number;
  #failurePenaltyMs: number;

  constructor(options: BalancerOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#decayMs = positive('ewmaDecayMs', options.ewmaDecayMs ?? 10_000);
    this.#defaultLatencyMs = positive('ewmaDefaultLatencyMs', options.ewmaDefaultLatencyMs ?? 30);
    this.#failurePenaltyMs = positive('ewmaFailurePenaltyMs', options.ewmaFailurePenaltyMs ?? 1000);
  }

  update(servers: readonly S[]): void {
    const index = indexServers(servers);
    const now = this.#now();
    const cost = new Float64Array(servers.length);
    const stamp = new Float64Array(servers.length);
    for (let i = 0; i < servers.length; i++) {
      const kept = this.#index.get(servers[i]!.id);
      cost[i] = kept === undefined ? this.#defaultLatencyMs : this.#cost[kept]!;
      stamp[i] = kept === undefined ? now : this.#stamp[kept]!;
    }
    this.#servers = servers.slice();
    this.#index = index;
    this.#cost = cost;
    this.#stamp = stamp;
    this.#sample.reset(servers.map((s) => s.weight));
  }

  pick(_ctx?: PickContext): S | null {
    const servers = this.#servers;
    if (servers.length < 2) return servers[0] ?? null;
    const now = this.#now();
    const i = this.#sample.one(this.#random());
    const j = this.#sample.other(i, this.#random());
    return this.#load(j, now) < this.#load(i, now) ? servers[j]! : servers[i]!;
  }

  observe(server: S, latencyMs: number, failed: boolean): void {
    const i = this.#index.get(server.id);
    if (i === undefined) return; // left the set while its exchange ran
    this.#observe(i, failed ? Math.max(latencyMs, this.#failurePenaltyMs) : latencyMs, this.#now());
  }

  /** A server's latency estimate in ms now, without moving it (for /status and tests). */
  estimate(server: S): number | undefined {
    const i = this.#index.get(server.id);
    return i === undefined ? undefined : this.#cost[i]! * Math.exp(-Math.max(this.#now() - this.#stamp[i]!, 0) / this.#decayMs);
  }

  #load(i: number, now: number): number {
    this.#observe(i, 0, now);
    const s = this.#servers[i]!;
    return (this.#cost[i]! * (s.inflight + 1)) / s.weight;
  }

  #observe(i: number, rtt: number, now: number): void {
    const cost = this.#cost[i]!;
    if (rtt > cost) {
      this.#cost[i] = rtt;
    } else {
      const w = Math.exp(-Math.max(now - this.#stamp[i]!, 0) / this.#decayMs);
      this.#cost[i] = cost * w + rtt * (1 - w);
    }
    this.#stamp[i] = now;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0 && Number.isFinite(value))) throw new RangeError(`balancer: ${name} must be a finite number > 0 (got ${value})`);
  return value;
}
