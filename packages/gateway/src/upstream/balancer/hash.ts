// hash: consistent hashing on a key (client IP, header, cookie or path), so
// one client keeps reaching the same server while the set is stable, and a
// change of the set moves as few keys as possible. A ring (Karger et al.,
// "Consistent Hashing and Random Trees", STOC 1997), as nginx's `hash … consistent`
// and Envoy's ring_hash: each server owns `weight × pointsPerWeight` points on a
// 32-bit circle, and a key goes to the owner of the first point at or after the
// key's hash.
//
// Why a ring and not Maglev (Eisenbud et al., NSDI 2016): Maglev balances
// better for the same memory, but its table is filled by servers taking turns,
// so removing one server also moves a few keys between servers that stayed
// (the paper measures this as "minimal", not zero). On a ring a server's
// points belong to it alone: removing it moves exactly the keys it had, and
// adding one to N moves about 1/(N+1) of them, all to the newcomer. Sticky
// behaviour that holds exactly is what users of hash balancing expect; the
// ring's looser balance is bought back with more points. A weight change adds
// or drops only that server's last points, so a slow-start ramp moves keys
// gradually. The lookup is a binary search, O(log points).
//
// Points per unit of weight: a server's share of keys varies with a relative
// standard deviation of about 1/√points. nginx uses 160 per unit
// (ngx_http_upstream_init_chash), which leaves a weight-1 server ±7–8% (one σ)
// off its share; 1024 brings that to about ±3%. To bound memory and rebuild
// time when weights are large, a ring that would exceed 2^17 points uses the
// largest power of two per unit that fits instead; servers keep a prefix of
// their points, but crossing that bound is the one change that moves keys
// between servers that stay.
//
// Keys hash with FNV-1a (Fowler–Noll–Vo) over UTF-16 code units, finished by
// MurmurHash3's fmix32: FNV alone leaves the last characters poorly mixed into
// the high bits, and the ring is ordered by the high bits. With no key the
// method falls back to round-robin.
import type { Balancer, BalancerOptions, BalancerServer, PickContext } from './types.ts';
import { indexServers } from './types.ts';
import { RoundRobinBalancer } from './round-robin.ts';

/** 32-bit FNV-1a with a murmur3 finaliser; unsigned. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The configured points per unit, or the largest power of two that keeps the ring within MAX_RING_POINTS. */
function pointsPerWeight(configured: number, totalWeight: number): number {
  if (configured * totalWeight <= MAX_RING_POINTS) return configured;
  return Math.max(1, 2 ** Math.floor(Math.log2(MAX_RING_POINTS / totalWeight)));
}

/** Ring positions of one server's points: a pure function of its ring key and point number. */
function pointsOf(key: string, count: number, known: Uint32Array | undefined): Uint32Array {
  if (known && known.length >= count) return known;
  const points = new Uint32Array(count);
  const start = known?.length ?? 0;
  if (known) points.set(known);
  for (let v = start; v < count; v++) points[v] = hash32(`${key}#${v}`);
  return points;
}

/** Above this many points a ring uses fewer points per unit of weight. */
export const MAX_RING_POINTS = 2 ** 17;

// Ring entries are packed as point × 2^21 + rank in one float64 (exact below
// 2^53) so a typed-array sort orders them by point and then by server rank.
const RANK_BITS = 2 ** 21;

export class HashBalancer<S extends BalancerServer = BalancerServer> implements Balancer<S> {
  #servers: readonly S[] = [];
  #ring = new Uint32Array(0);
  /** Index in #servers of the owner of each ring point. */
  #owner = new Uint32Array(0);
  #pointsPerWeight: number;
  /** Each server's points so far, by ring key, kept across update() so a rebuild does not rehash. */
  #pointsByKey = new Map<string, Uint32Array>();
  #fallback: RoundRobinBalancer<S>;

  constructor(options: BalancerOptions = {}) {
    this.#pointsPerWeight = options.hashPointsPerWeight ?? 1024;
    if (!(Number.isInteger(this.#pointsPerWeight) && this.#pointsPerWeight >= 1)) throw new RangeError(`balancer: hashPointsPerWeight must be an integer ≥ 1 (got ${this.#pointsPerWeight})`);
    this.#fallback = new RoundRobinBalancer<S>(options);
  }

  update(servers: readonly S[]): void {
    indexServers(servers);
    if (servers.length >= RANK_BITS) throw new RangeError(`balancer: hash supports at most ${RANK_BITS - 1} servers`);
    this.#servers = servers.slice();
    this.#fallback.update(servers);
    // Equal points (a 32-bit collision) go to the lower ring key, whatever
    // order the caller lists servers in: the ring must be a function of the set alone.
    const ringKeys = servers.map((s) => s.ringKey ?? s.id);
    const byKey = servers.map((_, i) => i).sort((a, b) => (ringKeys[a]! < ringKeys[b]! ? -1 : 1));
    const perWeight = pointsPerWeight(this.#pointsPerWeight, servers.reduce((a, s) => a + s.weight, 0));
    const counts = servers.map((s) => Math.max(1, Math.round(s.weight * perWeight)));
    const packed = new Float64Array(counts.reduce((a, b) => a + b, 0));
    const pointsByKey = new Map<string, Uint32Array>();
    let p = 0;
    for (let rank = 0; rank < byKey.length; rank++) {
      const i = byKey[rank]!;
      const key = ringKeys[i]!;
      const points = pointsOf(key, counts[i]!, this.#pointsByKey.get(key));
      pointsByKey.set(key, points);
      for (let v = 0; v < counts[i]!; v++) packed[p++] = points[v]! * RANK_BITS + rank;
    }
    this.#pointsByKey = pointsByKey;
    packed.sort();
    this.#ring = new Uint32Array(packed.length);
    this.#owner = new Uint32Array(packed.length);
    for (let k = 0; k < packed.length; k++) {
      const rank = packed[k]! % RANK_BITS;
      this.#ring[k] = (packed[k]! - rank) / RANK_BITS;
      this.#owner[k] = byKey[rank]!;
    }
  }

  pick(ctx?: PickContext): S | null {
    const servers = this.#servers;
    if (servers.length === 0) return null;
    const key = ctx?.key;
    if (key === undefined) return this.#fallback.pick();
    if (servers.length === 1) return servers[0]!;
    const h = hash32(key);
    const ring = this.#ring;
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return servers[this.#owner[lo === ring.length ? 0 : lo]!]!;
  }
}
