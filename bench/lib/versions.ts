// Which peers were measured: a result without versions cannot be compared
// with the next one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PATTERNS: Record<string, RegExp> = {
  nginx: /nginx\/(\S+)/,
  haproxy: /HAProxy version (\S+)/,
  caddy: /^v?(\S+)/,
  wrk: /wrk (\S+)/,
  varnishd: /varnish-(\S+) revision/,
};
const FLAGS: Record<string, string[]> = { nginx: ['-v'], haproxy: ['-v'], caddy: ['version'], wrk: ['-v'], varnishd: ['-V'] };

export function peerVersions(bins: ReadonlyMap<string, string>, benchDir: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, path] of bins) {
    const result = spawnSync(path, FLAGS[name] ?? ['--version'], { encoding: 'utf8', timeout: 5000 });
    const match = PATTERNS[name]?.exec(`${result.stdout}${result.stderr}`);
    if (match?.[1] !== undefined) versions[name] = match[1];
  }
  for (const pkg of ['http-proxy', 'fastify', '@fastify/http-proxy', 'undici']) {
    try {
      const manifest = JSON.parse(readFileSync(join(benchDir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: string };
      if (manifest.version !== undefined) versions[pkg] = manifest.version;
    } catch {
      // not installed: the tools using it were skipped
    }
  }
  return versions;
}
