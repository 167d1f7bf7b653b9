// Peers install themselves: system binaries from Debian packages (root only),
// npm peers into bench/node_modules. Nothing here is a gateway dependency.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

export type Binary = 'nginx' | 'haproxy' | 'caddy' | 'varnishd' | 'wrk';

const PACKAGE: Record<Binary, string> = { nginx: 'nginx-light', haproxy: 'haproxy', caddy: 'caddy', varnishd: 'varnish', wrk: 'wrk' };

export function findBinary(name: string): string | undefined {
  // nginx, haproxy and varnishd live in /usr/sbin, which a non-root PATH often lacks.
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Finds each binary, installing the missing ones with apt-get when root. */
export function ensureBinaries(names: readonly Binary[]): Map<Binary, string> {
  const missing = names.filter((name) => findBinary(name) === undefined);
  if (missing.length > 0) {
    const packages = missing.map((name) => PACKAGE[name]);
    if (process.getuid?.() === 0) {
      console.log(`installing ${packages.join(' ')} with apt-get`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const install = (): number | null =>
        spawnSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit', env }).status;
      // A fresh container has no package lists yet: update once and retry.
      if (install() !== 0) {
        spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
        install();
      }
    } else {
      console.log(`not root: install ${packages.join(' ')} (apt-get install -y ${packages.join(' ')}) to measure them`);
    }
  }
  const found = new Map<Binary, string>();
  for (const name of names) {
    const path = findBinary(name);
    if (path !== undefined) found.set(name, path);
  }
  return found;
}

/** Installs bench/package.json's peers when bench/node_modules is absent. */
export function ensureNpmPeers(benchDir: string): boolean {
  if (existsSync(join(benchDir, 'node_modules'))) return true;
  console.log('installing the npm peers into bench/node_modules');
  const result = spawnSync('npm', ['install', '--prefix', benchDir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  return result.status === 0;
}
