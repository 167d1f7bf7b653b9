// How busy the proxies' core was with work that is not ours. The machine may
// be shared (and virtual): a run is only as good as the core it had, so every
// sample records the CPU that others took and what the hypervisor stole.
import { readFileSync } from 'node:fs';

export interface CoreTicks {
  busy: number;
  steal: number;
  total: number;
}

/** Counters of one CPU from /proc/stat (proc(5): user nice system idle iowait irq softirq steal ...). */
export function coreTicks(core: string): CoreTicks | undefined {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (line === undefined) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // Interrupt time counts as busy: without CONFIG_IRQ_TIME_ACCOUNTING (the
  // common case) the ticks that land in a softirq are also charged to the
  // task they interrupted, so our processes' utime + stime include our own
  // loopback traffic. What remains is other processes, plus the interrupts
  // that hit while the core was idle: a few percent even on a quiet machine.
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

/**
 * Share of the core, in percent, used by others (busy ticks minus the ticks of
 * our own processes) and stolen by the hypervisor between two readings.
 */
export function foreignLoad(before: CoreTicks, after: CoreTicks, ourTicks: number): { otherPct: number; stealPct: number } {
  const total = after.total - before.total;
  if (total <= 0) return { otherPct: 0, stealPct: 0 };
  const other = Math.max(0, after.busy - before.busy - ourTicks);
  return { otherPct: (100 * other) / total, stealPct: (100 * (after.steal - before.steal)) / total };
}
