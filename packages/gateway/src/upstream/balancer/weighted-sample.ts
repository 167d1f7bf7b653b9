// Draws server indexes with probability proportional to weight, one or two
// distinct at a time, in O(log n): prefix sums and a binary search (the
// inverse-CDF method). When all weights are equal it skips the search and is
// O(1). Shared by random, p2c and ewma so they agree on what "weighted" means.

export class WeightedSample {
  /** cumulative[i] = weight[0] + … + weight[i]. */
  #cumulative = new Float64Array(0);
  #weights = new Float64Array(0);
  #total = 0;
  #uniform = true;

  get size(): number {
    return this.#weights.length;
  }

  reset(weights: readonly number[]): void {
    const n = weights.length;
    this.#weights = Float64Array.from(weights);
    this.#cumulative = new Float64Array(n);
    let total = 0;
    let uniform = true;
    for (let i = 0; i < n; i++) {
      total += weights[i]!;
      this.#cumulative[i] = total;
      if (weights[i] !== weights[0]) uniform = false;
    }
    this.#total = total;
    this.#uniform = uniform;
  }

  /** One index; `r` uniform in [0, 1). */
  one(r: number): number {
    const n = this.#weights.length;
    if (this.#uniform) return Math.min(Math.floor(r * n), n - 1);
    return this.#search(r * this.#total);
  }

  /** An index other than `i` (needs size ≥ 2), weighted among the rest; `r` uniform in [0, 1). */
  other(i: number, r: number): number {
    const n = this.#weights.length;
    let j: number;
    if (this.#uniform) {
      j = Math.min(Math.floor(r * (n - 1)), n - 2);
      if (j >= i) j++;
      return j;
    }
    // Draw over the total without i's weight, then step over i's interval:
    // exact, and no retry loop when one server holds most of the weight.
    const wi = this.#weights[i]!;
    let u = r * (this.#total - wi);
    if (u >= this.#cumulative[i]! - wi) u += wi;
    j = this.#search(u);
    // Rounding at the edge of i's interval can land on i itself.
    return j === i ? (i + 1) % n : j;
  }

  /** First index whose cumulative weight exceeds u. */
  #search(u: number): number {
    const c = this.#cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
