// How `rampart reload -c rampart.yaml` finds the `rampart up` that runs that
// file: a pid file in `.rampart/` beside the config file, named after it, so
// that two `up`s of two files in one folder do not share one. It is written
// once the gateway listens and removed at exit.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PidRecord {
  readonly pid: number;
  /** Absolute path of the config file. */
  readonly file: string;
  readonly startedAt: string;
  /** `http://127.0.0.1:9901`, or null without an admin listener. */
  readonly admin: string | null;
}

export function pidFilePath(configFile: string): string {
  const file = path.resolve(configFile);
  return path.join(path.dirname(file), '.rampart', `${path.basename(file)}.pid`);
}

export function writePidFile(record: PidRecord): void {
  const at = pidFilePath(record.file);
  mkdirSync(path.dirname(at), { recursive: true });
  writeFileSync(at, `${JSON.stringify(record)}\n`);
}

/** The record, or null when there is none or it is unreadable. */
export function readPidFile(configFile: string): PidRecord | null {
  try {
    const record = JSON.parse(readFileSync(pidFilePath(configFile), 'utf8')) as Partial<PidRecord>;
    return Number.isInteger(record.pid) && typeof record.file === 'string' ? (record as PidRecord) : null;
  } catch {
    return null;
  }
}

/** Removes the pid file if it is still ours (synchronous: runs in the 'exit' handler). */
export function removePidFile(configFile: string, pid: number): void {
  if (readPidFile(configFile)?.pid !== pid) return;
  rmSync(pidFilePath(configFile), { force: true });
}

/**
 * True when `pid` is a live `rampart up`. A pid file left by a process that
 * was SIGKILLed may name a PID the system has since given to something else;
 * where /proc exists, its command line must name rampart before we signal it.
 */
export function isRampartUp(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone; EPERM: alive but another user's, so not ours to reload.
    return false;
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc (macOS): the PID check is all there is
  }
  const args = cmdline.split('\0');
  return args.some((a) => /rampart/.test(a)) && args.includes('up');
}
