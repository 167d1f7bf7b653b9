import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Gateway, parseConfig, ConfigError, createLogger, type GatewayConfig } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';
import { GATEWAY_HELP } from '../help.ts';

export async function gatewayCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' }, 'no-watch': { type: 'boolean', default: false } }, GATEWAY_HELP);
  const file = path.resolve(String(values.config));
  let config: GatewayConfig;
  let text: string;
  try {
    text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
    });
    config = parseConfig(text, file, { run: 'refuse' });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { logger: createLogger(config.log.level) });
  } catch (err) {
    const listenError = describeListenError(err);
    if (listenError === null) throw err;
    process.stderr.write(`rampart gateway: ${listenError}\n`);
    return 1;
  }
  runUntilSignalled(gateway, file, !values['no-watch'], text);
  return 0;
}

/** A listener that cannot open is an operator's problem: say which address and why, without a stack. */
export function describeListenError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const host = e.address?.includes(':') ? `[${e.address}]` : e.address;
  const where = host === undefined ? '' : ` ${host}:${e.port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `cannot listen on${where}: the address is already in use (another rampart, or another server?)`;
    case 'EACCES':
      return `cannot listen on${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on${where}: no local interface has that address`;
    default:
      return null;
  }
}

/** What `rampart up` adds to the gateway's reload and shutdown. */
export interface RunHooks {
  /** Parses the file (throws ConfigError to refuse it). Default: the gateway's parser, refusing `run:`. */
  readonly parse?: (text: string, file: string) => GatewayConfig;
  /** Applies a parsed config. Default: `gateway.reload`. */
  readonly apply?: (config: GatewayConfig, why: string) => void;
  /** At the first SIGTERM/SIGINT, before the gateway closes. */
  readonly beforeClose?: () => void;
  /** Once the gateway has closed, before the process exits 0. */
  readonly afterClose?: () => Promise<void>;
}

/** `loadedText`: the file as the running config was parsed from, so a change made since is not missed. */
export function runUntilSignalled(gateway: Gateway, file: string | null, watchFile: boolean, loadedText = '', hooks: RunHooks = {}): void {
  const logger = gateway.logger;
  const parse = hooks.parse ?? ((text: string, at: string) => parseConfig(text, at, { run: 'refuse' }));
  const apply = hooks.apply ?? ((config: GatewayConfig, why: string) => gateway.reload(config, why));
  let lastHash = createHash('sha256').update(loadedText).digest('hex');
  let reloading: Promise<void> | null = null;
  const reload = async (why: string) => {
    if (file === null) return;
    // One read serves both the change check and the parse, so the config
    // applied is the text that was hashed.
    const text = await readFile(file, 'utf8').catch((err: unknown) => err as Error);
    const hash = typeof text === 'string' ? createHash('sha256').update(text).digest('hex') : '';
    if (why === 'file changed' && hash === lastHash) return;
    lastHash = hash;
    try {
      if (typeof text !== 'string') throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${text.message}` }]);
      apply(parse(text, file), why);
    } catch (err) {
      gateway.metrics.configReloads.labels('refused').inc();
      if (err instanceof ConfigError) logger.error({ file, why, problems: err.problems }, 'configuration refused; the previous one stays in force');
      else logger.error({ file, why, err }, 'configuration reload failed; the previous one stays in force');
    }
  };
  const queueReload = (why: string) => {
    // One reload at a time, in order; a change during a reload is picked up
    // after it. Only the last link of the chain may clear it, or a third
    // reload could start while the second still runs.
    const next: Promise<void> = (reloading ?? Promise.resolve()).then(() => reload(why)).then(
      () => {
        if (reloading === next) reloading = null;
      },
      (err: unknown) => {
        if (reloading === next) reloading = null;
        logger.error({ err, why }, 'configuration reload failed');
      },
    );
    reloading = next;
  };
  if (file !== null) {
    process.on('SIGHUP', () => queueReload('SIGHUP'));
    if (watchFile) {
      // Watch the directory: editors replace files by rename, which ends a
      // watch on the file itself. Kubernetes updates a mounted ConfigMap by
      // swapping its `..data` symlink, so those names count too; the hash
      // check in reload() drops events that changed nothing.
      let timer: NodeJS.Timeout | null = null;
      const base = path.basename(file);
      const watcher = watch(path.dirname(file), (_event, name) => {
        if (name !== base && !name?.startsWith('..')) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => queueReload('file changed'), 100);
      });
      watcher.on('error', (err) => logger.warn({ err, file }, 'watching the config file failed; reload with SIGHUP'));
      watcher.unref();
    }
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C again) means: stop waiting for the grace period.
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    hooks.beforeClose?.();
    gateway.close().then(
      async ({ forced }) => {
        if (forced > 0) logger.warn({ forced }, 'connections cut at the end of the grace period');
        try {
          await hooks.afterClose?.();
        } catch (err) {
          logger.error({ err }, 'shutdown failed');
          process.exitCode = 1;
        }
        logger.flush();
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
