// `rampart purge`: removes responses from the edge cache through the admin
// listener (POST /cache/purge), the way `varnishadm ban` or a CDN's purge
// button is used after a deploy. The admin address comes from --admin, else
// from the config file's `admin:` key.
import { existsSync } from 'node:fs';
import { loadConfigFile, ConfigError } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';
import { PURGE_HELP } from '../help.ts';

const DEFAULT_ADMIN = '127.0.0.1:9901';

export async function purgeCommand(args: string[]): Promise<number> {
  const values = parseOrExit(
    args,
    {
      config: { type: 'string', short: 'c', default: 'rampart.yaml' },
      admin: { type: 'string' },
      url: { type: 'string' },
      prefix: { type: 'string' },
      tag: { type: 'string' },
      all: { type: 'boolean' },
    },
    PURGE_HELP,
  );
  const chosen = (['url', 'prefix', 'tag', 'all'] as const).filter((k) => values[k] !== undefined);
  if (chosen.length !== 1) {
    process.stderr.write(`rampart purge: give exactly one of --url, --prefix, --tag, --all\n\n${PURGE_HELP}`);
    return 2;
  }
  const what = chosen[0]!;
  const admin = values.admin !== undefined ? String(values.admin) : await adminFromConfig(String(values.config));
  if (admin === null) return 1;
  const query = what === 'all' ? 'all=1' : `${what}=${encodeURIComponent(String(values[what]))}`;
  const target = `http://${admin}/cache/purge?${query}`;
  let res: Response;
  try {
    res = await fetch(target, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    process.stderr.write(`rampart purge: cannot reach the admin listener at ${admin} (${why}); is the gateway running, and is --admin right?\n`);
    return 1;
  }
  const text = await res.text();
  if (!res.ok) {
    process.stderr.write(`rampart purge: ${res.status} from ${admin}: ${text.trim()}\n`);
    return 1;
  }
  let purged: unknown;
  try {
    purged = (JSON.parse(text) as { purged?: unknown }).purged;
  } catch {
    purged = undefined;
  }
  process.stdout.write(`rampart purge: ${typeof purged === 'number' ? `${purged} stored response${purged === 1 ? '' : 's'} removed` : text.trim()}\n`);
  return 0;
}

/** The admin address of a config file; the default one when there is no file. */
async function adminFromConfig(file: string): Promise<string | null> {
  if (!existsSync(file)) return DEFAULT_ADMIN;
  try {
    const config = await loadConfigFile(file);
    if (config.admin === null) {
      process.stderr.write(`rampart purge: ${file} turns the admin listener off (admin: false); nothing to ask\n`);
      return null;
    }
    // A listener on every interface (no host, 0.0.0.0, ::) is reached on loopback.
    const host = config.admin.host;
    const reach = host === undefined || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    return `${reach}:${config.admin.port}`;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return null;
    }
    throw err;
  }
}
