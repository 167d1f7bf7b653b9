// The balancing methods of an upstream, one module each, behind one interface
// (types.ts). The upstream calls update() with the eligible servers whenever
// that set or a weight changes, pick() per request, and observe() after each
// exchange; a method keeps whatever state it needs by server id.
import type { Balancer, BalanceMethod, BalancerOptions, BalancerServer } from './types.ts';
import { RandomBalancer } from './random.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import { LeastConnectionsBalancer } from './least-connections.ts';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.ts';
import { P2cBalancer } from './p2c.ts';
import { HashBalancer } from './hash.ts';
import { EwmaBalancer } from './ewma.ts';

export type { Balancer, BalanceMethod, BalancerOptions, BalancerServer, PickContext } from './types.ts';
export { BALANCE_METHODS } from './types.ts';

/** A balancer with no servers yet; call update() before pick(). Throws RangeError for an invalid option. */
export function createBalancer<S extends BalancerServer>(method: BalanceMethod, options: BalancerOptions = {}): Balancer<S> {
  switch (method) {
    case 'random':
      return new RandomBalancer<S>(options);
    case 'round-robin':
      return new RoundRobinBalancer<S>(options);
    case 'least-connections':
      return new LeastConnectionsBalancer<S>(options);
    case 'weighted-round-robin':
      return new WeightedRoundRobinBalancer<S>(options);
    case 'p2c':
      return new P2cBalancer<S>(options);
    case 'hash':
      return new HashBalancer<S>(options);
    case 'ewma':
      return new EwmaBalancer<S>(options);
    default: {
      const unknown: never = method;
      throw new TypeError(`balancer: unknown method ${String(unknown)}`);
    }
  }
}
