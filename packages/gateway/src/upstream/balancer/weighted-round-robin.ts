// weighted-round-robin: nginx's smooth weighted round-robin
// (ngx_http_upstream_get_peer in ngx_http_upstream_round_robin.c; nginx commit
// 52327e0, "Upstream: smooth weighted round-robin balancing", 2012). Each pick
// every server's current weight grows by its weight, the largest is chosen
// (first in order on a tie) and loses the total. Over a cycle of Σweight picks
// each server is chosen exactly `weight` times, and a heavy server's turns are
// interleaved with the others' instead of bunched: {a:5, b:1, c:1} gives
// a a b a c a a, never a a a a a b c.
//
// Current weights are kept by server id across update(), so a slow-start ramp
// or a health flap does not restart the cycle with a burst to the heaviest
// server. A server that joins starts at 0, as in nginx.
//
// Cost is O(n) per pick, the same scan nginx does. An O(log n) scheduler
// (Envoy's earliest-deadline-first) gives the same long-run shares but not
// this interleaving, and the current weights do not form a static order a heap
// could keep: every pick moves all of them. See bench.ts for what the scan costs.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';

export class WeightedRoundRobinBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  #weights = new Float64Array(0);
  #current = new Float64Array(0);
  #total = 0;

  constructor(_options: BalancerOptions = {}) {}

  update(servers: readonly S[]): void {
    indexServers(servers);
    const previous = new Map<string, number>();
    for (let i = 0; i < this.#servers.length; i++) previous.set(this.#servers[i]!.id, this.#current[i]!);
    this.#servers = servers.slice();
    this.#weights = Float64Array.from(servers, (s) => s.weight);
    this.#current = Float64Array.from(servers, (s) => previous.get(s.id) ?? 0);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
  }

  pick(_ctx?: PickContext): S | null {
    const n = this.#servers.length;
    if (n === 0) return null;
    const current = this.#current;
    const weights = this.#weights;
    let best = 0;
    for (let i = 0; i < n; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= this.#total;
    return this.#servers[best]!;
  }
}
