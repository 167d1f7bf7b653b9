import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Gateway, loadConfigFile, ConfigError, createLogger, type GatewayConfig } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';

export const GATEWAY_HELP = `Usage: rampart gateway -c <file>

Runs the gateway from a YAML config file (see docs/config.md).

Signals:
  SIGHUP           reload the config file (so does saving it)
  SIGTERM, SIGINT  graceful shutdown: stop accepting, finish in-flight requests
                   within shutdownGrace, exit 0

A config file that fails validation is refused with every problem listed;
at start the command exits 2, on reload the running config stays in force.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
      --no-watch       do not reload when the file changes
`;

export async function gatewayCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' }, 'no-watch': { type: 'boolean', default: false } }, GATEWAY_HELP);
  const file = path.resolve(String(values.config));
  let config: GatewayConfig;
  try {
    config = await loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const gateway = await Gateway.start(config, { logger: createLogger(config.log.level) });
  runUntilSignalled(gateway, file, !values['no-watch']);
  return 0;
}

export function runUntilSignalled(gateway: Gateway, file: string | null, watchFile: boolean): void {
  const logger = gateway.logger;
  let lastHash = '';
  let reloading: Promise<void> | null = null;
  const reload = async (why: string) => {
    if (file === null) return;
    const text = await readFile(file, 'utf8').catch(() => null);
    const hash = text === null ? '' : createHash('sha256').update(text).digest('hex');
    if (why === 'file changed' && hash === lastHash) return;
    lastHash = hash;
    try {
      gateway.reload(await loadConfigFile(file));
    } catch (err) {
      gateway.metrics.configReloads.labels('refused').inc();
      if (err instanceof ConfigError) logger.error({ file, why, problems: err.problems }, 'configuration refused; the previous one stays in force');
      else logger.error({ file, why, err }, 'configuration reload failed; the previous one stays in force');
    }
  };
  const queueReload = (why: string) => {
    // One reload at a time; a change during a reload is picked up after it.
    reloading = (reloading ?? Promise.resolve()).then(() => reload(why)).finally(() => {
      reloading = null;
    });
  };
  if (file !== null) {
    void readFile(file, 'utf8').then((t) => (lastHash = createHash('sha256').update(t).digest('hex')), () => {});
    process.on('SIGHUP', () => queueReload('SIGHUP'));
    if (watchFile) {
      // Watch the directory: editors replace files by rename, which ends a
      // watch on the file itself.
      let timer: NodeJS.Timeout | null = null;
      const watcher = watch(path.dirname(file), (_event, name) => {
        if (name !== path.basename(file)) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => queueReload('file changed'), 100);
      });
      watcher.unref();
    }
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      ({ forced }) => {
        logger.flush();
        if (forced > 0) logger.warn({ forced }, 'connections cut at the end of the grace period');
        setImmediate(() => process.exit());
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
