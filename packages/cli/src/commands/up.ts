// `rampart up`: the gateway, and for every upstream with `run:` a supervised
// set of instances (src/up/supervised-upstream.ts). The gateway listens first,
// so that a port in use fails the command before any process is started.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Gateway, parseConfig, ConfigError, createLogger, type GatewayConfig, type RunConfig } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';
import { UP_HELP } from '../help.ts';
import { runUntilSignalled, describeListenError } from './gateway.ts';
import { checkRun } from '../up/run-check.ts';
import { SupervisedUpstream } from '../up/supervised-upstream.ts';
import { isRampartUp, readPidFile, removePidFile, writePidFile } from '../up/pid-file.ts';
import { provideDatabase, type ProvidedDatabase } from '../up/database.ts';

/** The URL of the database `rampart up` provides, once it runs: every `run:` block gets it in `database.env`. */
let databaseUrl: string | null = null;

const parse = (text: string, file: string): GatewayConfig => withDatabaseEnv(parseConfig(text, file, { run: checkRun }));

/** Adds the database URL to the environment of every `run:` upstream (a value written in `run.env` wins). */
function withDatabaseEnv(config: GatewayConfig): GatewayConfig {
  if (databaseUrl === null || config.database === null) return config;
  const name = config.database.env;
  const url = databaseUrl;
  const upstreams = new Map([...config.upstreams].map(([key, u]) => [key, u.run === null ? u : { ...u, run: { ...u.run, env: { [name]: url, ...u.run.env } } }]));
  return { ...config, upstreams };
}

export async function upCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' }, 'no-watch': { type: 'boolean', default: false } }, UP_HELP);
  const file = path.resolve(String(values.config));
  let text: string;
  let config: GatewayConfig;
  try {
    text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
    });
    config = parse(text, file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const running = readPidFile(file);
  if (running !== null && running.pid !== process.pid && isRampartUp(running.pid)) {
    process.stderr.write(`rampart up: already running for ${file} (pid ${running.pid}); stop it first, or apply changes with \`rampart reload -c ${values.config as string}\`\n`);
    return 1;
  }

  const logger = createLogger(config.log.level);
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { logger });
  } catch (err) {
    const listenError = describeListenError(err);
    if (listenError === null) throw err;
    process.stderr.write(`rampart up: ${listenError}\n`);
    return 1;
  }

  let database: ProvidedDatabase | null = null;
  if (config.database !== null) {
    try {
      database = await provideDatabase(config.database, logger);
    } catch (err) {
      logger.error({ err }, 'rampart up: the database step failed; nothing else was started');
      process.stderr.write(`rampart up: ${(err as Error).message}\n`);
      await gateway.close();
      return 1;
    }
    databaseUrl = database.url;
    config = withDatabaseEnv(config);
  }

  /** By upstream name: the runners of the config in force. */
  const runners = new Map<string, SupervisedUpstream>();
  /** Every runner with processes, including ones whose `run:` a reload removed and that are still stopping. */
  const live = new Set<SupervisedUpstream>();
  // Synchronous, so it also runs on process.exit() and after an uncaught
  // exception: SIGKILL to every instance still running. Instances never
  // outlive `rampart up` (unless it is itself SIGKILLed).
  process.on('exit', () => {
    for (const runner of live) runner.killAllSync();
    database?.stopSync();
    removePidFile(file, process.pid);
  });
  const adminHost = config.admin?.host ?? '127.0.0.1';
  writePidFile({ pid: process.pid, file, startedAt: new Date().toISOString(), admin: gateway.adminPort ? `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${gateway.adminPort}` : null });

  const launch = (name: string, run: RunConfig, drainTimeoutMs: number) => {
    const runner = new SupervisedUpstream(name, run, logger, { drainTimeoutMs });
    runners.set(name, runner);
    live.add(runner);
    gateway.setRunner(name, runner);
    return runner.start().then(
      () => logger.info({ upstream: name, ready: runner.set.readyCount(), instances: runner.set.replicas }, 'instances started'),
      (err: unknown) => logger.error({ upstream: name, err }, 'starting the instances failed'),
    );
  };

  const starts: Promise<void>[] = [];
  for (const [name, upstream] of config.upstreams) if (upstream.run !== null) starts.push(launch(name, upstream.run, config.shutdownGraceMs));

  runUntilSignalled(gateway, file, !values['no-watch'], text, {
    parse,
    apply: (next, why) => {
      // SIGHUP (and `rampart reload`, which sends it) also replaces every
      // instance; a saved file only replaces those whose command changed.
      const restart = why === 'SIGHUP' ? 'SIGHUP' : null;
      // Upstreams that lost `run:` keep their instances in the old balancer
      // until those have drained, instead of lending them to the new one.
      const gone: SupervisedUpstream[] = [];
      for (const [name, runner] of runners) {
        if ((next.upstreams.get(name)?.run ?? null) !== null) continue;
        gateway.setRunner(name, null);
        runners.delete(name);
        gone.push(runner);
      }
      gateway.reload(next, why);
      if (JSON.stringify(next.database) !== JSON.stringify(config.database)) logger.warn('database: changed in the file: this applies when rampart up restarts');
      for (const runner of gone) {
        logger.info({ upstream: runner.name }, 'run: removed from the config: stopping its instances');
        runner.stop().then(
          () => live.delete(runner),
          (err: unknown) => logger.error({ upstream: runner.name, err }, 'stopping the instances failed'),
        );
      }
      for (const [name, upstream] of next.upstreams) {
        if (upstream.run === null) continue;
        const runner = runners.get(name);
        if (runner === undefined) {
          void launch(name, upstream.run, next.shutdownGraceMs);
          continue;
        }
        const needsRestart = runner.update(upstream.run, restart);
        if (needsRestart.length > 0) logger.warn({ upstream: name, needsRestart }, `run.${needsRestart.join(', run.')} changed: this applies when rampart up restarts`);
      }
    },
    beforeClose: () => {
      // No scaling while the gateway drains: its falling load is no signal.
      for (const runner of live) runner.freeze();
    },
    afterClose: async () => {
      await Promise.all([...live].map((r) => r.stop()));
      logger.info('instances stopped');
      // After the instances: they finish their requests against it first.
      await database?.stop();
    },
  });
  void Promise.all(starts).then(() => {
    if (starts.length > 0) logger.info({ upstreams: [...runners.keys()] }, 'rampart up: every run: upstream started');
  });
  return 0;
}
