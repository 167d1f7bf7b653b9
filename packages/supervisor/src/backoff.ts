// Restart delay for a crashed instance: exponential, capped, jittered.
//
// "Equal jitter" (half fixed, half random; AWS Architecture Blog, "Exponential
// Backoff And Jitter") rather than full jitter: a crash loop never restarts
// with a near-zero delay, and instances that crashed together (a bad deploy,
// a lost database) do not restart in lockstep. PM2's exp_backoff_restart_delay
// has no jitter and no cap by default; systemd's RestartSec has no growth.

export interface BackoffOptions {
  /** Delay ceiling of the first restart. Default 100 ms. */
  readonly baseMs: number;
  /** Largest delay ceiling. Default 30 s. */
  readonly maxMs: number;
  /** A run at least this long (counted from ready) resets the delay to the base. Default 10 s. */
  readonly stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 30_000, stableAfterMs: 10_000 };

/** Delay before restart number `attempt` (0 = first restart after a stable run). */
export function backoffDelay(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
