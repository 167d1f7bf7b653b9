// round-robin: servers in order, one each, ignoring weights (use
// weighted-round-robin for those). Two details keep the rotation fair:
// - the first pick starts at a random server, as Envoy seeds its round-robin
//   schedule (EdfLoadBalancerBase::refresh advances it by `seed_ % hosts`), so
//   several gateways started together do not all hit the first server first;
// - update() continues with the server that was due next (or, if it left, the
//   next one that stays) instead of restarting at index 0. Health flaps and
//   slow-start weight updates call update() often; restarting would send the
//   first server a share of extra requests on every call.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';

export class RoundRobinBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  /** Index of the server due next. */
  #next = 0;
  #random: () => number;

  constructor(options: BalancerOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  update(servers: readonly S[]): void {
    const index = indexServers(servers);
    const old = this.#servers;
    this.#servers = servers.slice();
    if (servers.length === 0) return void (this.#next = 0);
    for (let k = 0; k < old.length; k++) {
      const due = index.get(old[(this.#next + k) % old.length]!.id);
      if (due !== undefined) return void (this.#next = due);
    }
    this.#next = Math.min(Math.floor(this.#random() * servers.length), servers.length - 1);
  }

  pick(_ctx?: PickContext): S | null {
    const n = this.#servers.length;
    if (n === 0) return null;
    const s = this.#servers[this.#next]!;
    this.#next = this.#next + 1 === n ? 0 : this.#next + 1;
    return s;
  }
}
