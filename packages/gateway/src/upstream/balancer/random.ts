// random: each pick independent, probability proportional to weight. No state
// to carry and nothing to coordinate, so many gateway processes in front of the
// same servers never fall into step with each other (round-robin can).
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';
import { WeightedSample } from './weighted-sample.ts';

export class RandomBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
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
    const n = this.#servers.length;
    if (n === 0) return null;
    return this.#servers[this.#sample.one(this.#random())]!;
  }
}
