// `database:`: the PostgreSQL that `rampart up` provides to its instances.
// Resolved when the file loads, so that a migrations folder that does not
// exist is one line with its key path, not a failure after PostgreSQL started.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ConfigProblem } from '../errors.ts';
import type { RawDatabase } from './schema.ts';

export interface DatabaseConfig {
  /** Absolute folder of the embedded cluster (used when DATABASE_URL is not set). */
  readonly embeddedDir: string;
  /** 0: a free port at each start. */
  readonly embeddedPort: number;
  /** Absolute folders, in the order written. */
  readonly migrations: readonly string[];
  readonly setup: string | readonly string[] | null;
  /** Folder `setup` runs in: the config file's. */
  readonly cwd: string;
  /** Variable that carries the URL to setup and instances. */
  readonly env: string;
}

type Locate = (segments: (string | number)[], message: string) => ConfigProblem;

// `@scope/name/sub/dir` or `name/sub/dir`: a folder inside an installed package.
const PACKAGE_PATH = /^((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)\/(.+)$/i;

export function resolveDatabase(raw: RawDatabase, file: string, locate: Locate, problems: ConfigProblem[]): DatabaseConfig {
  const base = path.resolve(path.dirname(file));
  const migrations = raw.migrations.map((entry, i) => {
    const dir = resolveFolder(entry, base);
    if (typeof dir === 'object') {
      problems.push(locate(['database', 'migrations', i], dir.problem));
      return '';
    }
    return dir;
  });
  if (raw.env === 'PORT' || raw.env === 'RAMPART_INSTANCE_ID') problems.push(locate(['database', 'env'], `${raw.env} is set by rampart for each instance; choose another name`));
  return {
    embeddedDir: path.resolve(base, raw.embedded.dir),
    embeddedPort: raw.embedded.port,
    migrations,
    setup: raw.setup ?? null,
    cwd: base,
    env: raw.env,
  };
}

function resolveFolder(entry: string, base: string): string | { problem: string } {
  const relative = entry.startsWith('.') || path.isAbsolute(entry);
  const match = relative ? null : PACKAGE_PATH.exec(entry);
  let dir: string;
  if (match !== null) {
    const [, pkg = '', sub = ''] = match;
    try {
      const manifest = createRequire(path.resolve(base, 'rampart.yaml')).resolve(`${pkg}/package.json`);
      dir = path.join(path.dirname(manifest), sub);
    } catch {
      // Not an installed package: it may still be a folder written without `./`.
      dir = path.resolve(base, entry);
      if (!isFolder(dir)) return { problem: `neither a folder relative to the config file nor a folder of an installed package: ${JSON.stringify(entry)} (write ./${entry} for a folder, or npm install ${pkg})` };
    }
  } else dir = path.resolve(base, entry);
  return isFolder(dir) ? dir : { problem: `no such folder: ${dir}` };
}

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
