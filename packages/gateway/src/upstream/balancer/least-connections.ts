// least-connections: the server with the fewest requests in flight relative to
// its weight. The load key is HAProxy's leastconn (lb_fwlc.c, fwlc_queue_srv):
// 0 for an idle server, else (inflight + 1) / weight. The "+ 1" ranks a server
// by the load it would have after taking this request, so a weight-2 server
// takes two for every one of a weight-1 server; the 0 makes every idle server
// equal whatever its weight, so light traffic is spread instead of all going
// to the heaviest server. Ties go to the server picked least recently, which
// makes equal servers rotate exactly (HAProxy gets the same from inserting
// equal keys behind each other in its tree). O(n) per pick: a scan is cheaper
// than keeping a heap ordered while the caller changes inflight under it.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';

/** HAProxy's leastconn key: lower is less loaded. Shared with p2c. */
export function loadOf(s: BalancerServer): number {
  return s.inflight > 0 ? (s.inflight + 1) / s.weight : 0;
}

export class LeastConnectionsBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  /** Sequence number of each server's last pick (0 = never), by index. */
  #lastPick = new Float64Array(0);
  #sequence = 0;

  constructor(_options: BalancerOptions = {}) {}

  update(servers: readonly S[]): void {
    indexServers(servers);
    const previous = new Map<string, number>();
    for (let i = 0; i < this.#servers.length; i++) previous.set(this.#servers[i]!.id, this.#lastPick[i]!);
    this.#servers = servers.slice();
    this.#lastPick = Float64Array.from(servers, (s) => previous.get(s.id) ?? 0);
  }

  pick(_ctx?: PickContext): S | null {
    const servers = this.#servers;
    const n = servers.length;
    if (n === 0) return null;
    let best = 0;
    let bestLoad = loadOf(servers[0]!);
    for (let i = 1; i < n; i++) {
      const load = loadOf(servers[i]!);
      if (load < bestLoad || (load === bestLoad && this.#lastPick[i]! < this.#lastPick[best]!)) {
        best = i;
        bestLoad = load;
      }
    }
    this.#lastPick[best] = ++this.#sequence;
    return servers[best]!;
  }
}
