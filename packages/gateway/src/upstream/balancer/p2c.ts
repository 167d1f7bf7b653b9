// p2c (power of two choices): draw two distinct servers at random, send to the
// less loaded. Mitzenmacher showed (The Power of Two Choices in Randomized Load
// Balancing, IEEE TPDS 2001) that the second choice cuts the worst-case queue
// from O(log n / log log n) to O(log log n), and Envoy's least_request uses it
// for the same reason: it reacts to load like least-connections but with O(1)
// (equal weights) or O(log n) work, and without every gateway piling onto the
// one least-loaded server at once (a "herd" that a full scan invites when the
// in-flight counts it reads are stale).
//
// Weights enter twice: the two candidates are drawn in proportion to weight,
// and they are compared by HAProxy's leastconn key (least-connections.ts). An
// idle pair ties and the first candidate wins, so with no load the shares are
// exactly the weights; under load a server settles at in-flight ∝ weight.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';
import { loadOf } from './least-connections.ts';
import { WeightedSample } from './weighted-sample.ts';

export class P2cBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  #sample = new WeightedSample();
  #random: () => number;

  constructor(options: BalancerOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  update(servers: readonly S[]): void {
    indexServers(servers);
    this.#servers = servers.slice();
    this.#sample.reset(servers.map((s) => s.weight));
  }

  pick(_ctx?: PickContext): S | null {
    const servers = this.#servers;
    if (servers.length < 2) return servers[0] ?? null;
    const i = this.#sample.one(this.#random());
    const a = servers[i]!;
    const b = servers[this.#sample.other(i, this.#random())]!;
    return loadOf(b) < loadOf(a) ? b : a;
  }
}
