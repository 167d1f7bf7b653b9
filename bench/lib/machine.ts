import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';

/** "<cpu model>, <n> cores, Linux <kernel>": enough to tell two runs' machines apart. */
export function describeMachine(): string {
  let model = cpus()[0]?.model.trim() ?? 'unknown cpu';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1] !== undefined) model = match[1].trim();
  } catch {
    // not Linux; os.cpus() will do
  }
  return `${model}, ${availableParallelism()} cores, Linux ${release()}`;
}
