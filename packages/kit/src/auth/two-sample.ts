// Two-sample statistics for the enumeration timing test: are two sets of
// response times drawn from one distribution? Kolmogorov–Smirnov looks at the
// whole shape (a shift, a second mode, a longer tail), not only the mean, and
// needs no assumption about the distribution, which latencies never follow.

export interface KolmogorovSmirnov {
  /** Largest distance between the two empirical CDFs, 0…1. */
  d: number;
  /** Probability of a distance at least d if both samples come from one distribution (asymptotic). */
  p: number;
}

export function kolmogorovSmirnov(a: readonly number[], b: readonly number[]): KolmogorovSmirnov {
  if (a.length === 0 || b.length === 0) throw new RangeError('kolmogorovSmirnov: both samples need values');
  const x = [...a].sort((u, v) => u - v);
  const y = [...b].sort((u, v) => u - v);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const value = Math.min(x[i] as number, y[j] as number);
    while (i < x.length && (x[i] as number) <= value) i++;
    while (j < y.length && (y[j] as number) <= value) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const n = (x.length * y.length) / (x.length + y.length);
  // Stephens' correction makes the asymptotic distribution usable from n ≈ 4
  // (Numerical Recipes, 3rd ed., §14.3.3).
  const lambda = (Math.sqrt(n) + 0.12 + 0.11 / Math.sqrt(n)) * d;
  return { d, p: kolmogorovQ(lambda) };
}

/** Q_KS(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²), the Kolmogorov distribution's upper tail. */
function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((u, v) => u - v);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
