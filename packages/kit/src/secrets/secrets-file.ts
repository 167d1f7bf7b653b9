// Development secrets kept in one JSON file (mode 0600), shared by every
// instance of the app started from the same folder. Several instances start
// at once, so the file is only ever replaced whole and only ever grows:
//
//   - a writer fills a private temp file (0600, fsync) and publishes it with
//     link(2), which fails with EEXIST instead of overwriting: the first
//     writer wins, everyone else reads the winner;
//   - adding names to an existing file goes through `<file>.next`, taken with
//     link(2) as well; its holder replaces the file (rename(2) is atomic) only
//     if the file is still the one it merged into, so no value is ever lost;
//   - what a caller gets is always what it read from the file, never what it
//     generated, so all instances end with the same values.
//
// A `.next` left by a process that died holding it is removed after
// STALE_MS. Nothing is ever logged: the file holds the secrets.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { KitError } from '../errors.ts';

const STALE_MS = 5_000;
const GIVE_UP_MS = 15_000;

interface Snapshot {
  text: string;
  values: Record<string, string>;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function read(file: string): Snapshot | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    values = null;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values) || !Object.values(values).every((v) => typeof v === 'string')) {
    throw new KitError('RAMPART_ERR_SECRET', `${file} is not a JSON object of strings; delete it and start again to generate new development secrets (sessions made with the old ones end)`);
  }
  return { text, values: values as Record<string, string> };
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

function writePrivate(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  // The new name must survive a crash as well as the content.
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** The values of `names` in `file`; the missing ones are generated and added first. */
export function readOrCreateSecrets(file: string, names: readonly string[], generate: () => string): Record<string, string> {
  const dir = path.dirname(file);
  const next = `${file}.next`;
  // 0711: others may pass through but not list it. The file itself is 0600;
  // the folder is usually `.rampart/`, where PostgreSQL (run as `postgres`
  // when rampart up runs as root) keeps its cluster and must enter it.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const giveUp = Date.now() + GIVE_UP_MS;
  for (;;) {
    const current = read(file);
    if (current !== null && names.every((name) => Object.hasOwn(current.values, name))) {
      return Object.fromEntries(names.map((name) => [name, current.values[name] as string]));
    }
    if (Date.now() > giveUp) {
      throw new KitError('RAMPART_ERR_SECRET', `could not add secrets to ${file} within ${GIVE_UP_MS / 1000} s: another process holds ${next}; if none is running, delete ${next}`);
    }
    const merged: Record<string, string> = { ...current?.values };
    for (const name of names) if (!Object.hasOwn(merged, name)) merged[name] = generate();
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writePrivate(temp, `${JSON.stringify(merged, null, 2)}\n`);
    try {
      if (current === null) {
        try {
          linkSync(temp, file);
          syncDir(dir);
        } catch (err) {
          if (code(err) !== 'EEXIST') throw err; // another instance was first: read its file
        }
        continue;
      }
      try {
        linkSync(temp, next);
      } catch (err) {
        if (code(err) !== 'EEXIST') throw err;
        try {
          if (Date.now() - statSync(next).mtimeMs > STALE_MS) unlinkQuietly(next);
        } catch (statErr) {
          if (code(statErr) !== 'ENOENT') throw statErr;
        }
        pause(2 + Math.floor(Math.random() * 8));
        continue;
      }
      if (read(file)?.text === current.text) {
        try {
          renameSync(next, file);
          syncDir(dir);
        } catch (err) {
          if (code(err) !== 'ENOENT') throw err; // taken as stale meanwhile: read again
        }
      } else {
        unlinkQuietly(next);
      }
    } finally {
      unlinkQuietly(temp);
    }
  }
}
