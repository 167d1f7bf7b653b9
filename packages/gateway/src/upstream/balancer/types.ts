// The one shape every balancing method has. The upstream owns the servers and
// their in-flight counts; a balancer only reads them. It is told the eligible
// set (healthy, ready, not draining) through update() whenever that set or a
// weight changes, so pick() never filters and stays O(1)/O(log n) for the
// methods that promise it.

export interface BalancerServer {
  /** Stable id within the upstream: per-server state survives update() by id. */
  readonly id: string;
  /** Configured weight (> 0, default 1), possibly scaled by slow start; read at update(). */
  readonly weight: number;
  /** Requests in flight now, maintained by the caller; read at pick(). */
  readonly inflight: number;
  /**
   * Where the server sits on a hash ring (hash.ts): its address, so that it
   * sits in the same place in every gateway and after a reload that renumbers
   * the ids (nginx and Envoy hash the address too). Default: the id.
   */
  readonly ringKey?: string;
}

export interface PickContext {
  /** Hash key for the `hash` method (client IP, header, cookie or path, chosen by config); undefined otherwise. */
  readonly key?: string;
}

export interface Balancer<S extends BalancerServer = BalancerServer> {
  /**
   * The servers eligible now (the caller passes only healthy/ready ones).
   * Called whenever the set or their weights change; keeps per-server state
   * (smooth WRR current weights, EWMA) for servers whose id stays.
   * Throws RangeError for a weight that is not a finite number > 0 and for a
   * duplicate id: both are bugs in the caller, not conditions to route around.
   */
  update(servers: readonly S[]): void;
  /** One server, or null when the set is empty. */
  pick(ctx?: PickContext): S | null;
  /** Feedback after an exchange: latency in ms to the response headers, and whether it failed (ewma uses it; others ignore). */
  observe?(server: S, latencyMs: number, failed: boolean): void;
}

export type BalanceMethod = 'random' | 'round-robin' | 'least-connections' | 'weighted-round-robin' | 'p2c' | 'hash' | 'ewma';

export const BALANCE_METHODS: readonly BalanceMethod[] = ['random', 'round-robin', 'least-connections', 'weighted-round-robin', 'p2c', 'hash', 'ewma'];

/** Options of all methods in one flat bag; each method reads only its own. */
export interface BalancerOptions {
  /** Uniform in [0, 1). Default Math.random; tests pass a seeded generator. */
  readonly random?: () => number;
  /** Monotonic clock in ms (ewma). Default performance.now. */
  readonly now?: () => number;
  /** hash: ring points per unit of weight. Default 1024 (nginx uses 160; see hash.ts). */
  readonly hashPointsPerWeight?: number;
  /** ewma: decay time constant in ms. Default 10 000, as Linkerd. */
  readonly ewmaDecayMs?: number;
  /** ewma: latency assumed for a server with no sample yet. Default 30 ms, Linkerd's default RTT. */
  readonly ewmaDefaultLatencyMs?: number;
  /** ewma: a failed exchange counts as a sample of at least this many ms. Default 1000. */
  readonly ewmaFailurePenaltyMs?: number;
}

/** The checks every update() makes; returns id → index in `servers`. */
export function indexServers(servers: readonly BalancerServer[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i]!;
    if (!(s.weight > 0 && Number.isFinite(s.weight))) throw new RangeError(`balancer: server ${s.id} has weight ${s.weight}; a weight must be a finite number > 0`);
    if (index.has(s.id)) throw new RangeError(`balancer: server id ${s.id} appears twice; ids must be unique within an upstream`);
    index.set(s.id, i);
  }
  return index;
}
