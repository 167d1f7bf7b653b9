// The database step of `rampart up`, between the gateway and the instances:
// a PostgreSQL (the one in DATABASE_URL, or an embedded one), the migrations,
// then the `setup` command. Instances start only after all three succeeded,
// so no instance ever sees a schema older than its code.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createDb, migrate, startEmbeddedPostgres, type RunningPostgres } from '@rampart/data';
import type { DatabaseConfig, Logger } from '@rampart/gateway';
import { resolveCommand } from '@rampart/supervisor';

export interface ProvidedDatabase {
  readonly url: string;
  /** Null when DATABASE_URL named an existing server. */
  readonly embedded: RunningPostgres | null;
  stop(): Promise<void>;
  /** For process 'exit': asks the embedded server to shut down (SIGINT: fast shutdown). */
  stopSync(): void;
}

export class DatabaseStepError extends Error {
  override name = 'DatabaseStepError';
}

export async function provideDatabase(config: DatabaseConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ProvidedDatabase> {
  const given = env[config.env];
  let embedded: RunningPostgres | null = null;
  let url: string;
  if (given !== undefined && given !== '') {
    url = given;
    logger.info({ database: redact(url) }, `database: ${config.env} is set; using that server`);
  } else {
    embedded = await startEmbeddedPostgres({
      dir: config.embeddedDir,
      port: config.embeddedPort,
      onLog: (line) => {
        if (/\b(FATAL|PANIC|ERROR):/.test(line)) logger.warn({ component: 'postgres' }, line);
        else logger.debug({ component: 'postgres' }, line);
      },
    });
    url = embedded.url;
    logger.info({ database: redact(url), dir: embedded.dir, pid: embedded.pid }, 'database: embedded PostgreSQL started');
  }
  const stopEmbedded = async () => {
    if (embedded === null) return;
    await embedded.stop();
    logger.info({ pid: embedded.pid }, 'database: embedded PostgreSQL stopped');
  };
  try {
    if (config.migrations.length > 0) {
      const db = createDb({ url, max: 1, applicationName: 'rampart up' });
      try {
        const { applied, current } = await migrate(db, config.migrations, { log: (message) => logger.info({ component: 'migrate' }, message) });
        logger.info({ applied: applied.length, total: current.length }, applied.length > 0 ? `database: ${applied.length} migration(s) applied` : 'database: schema up to date');
      } finally {
        await db.close();
      }
    }
    if (config.setup !== null) await runSetup(config, url, logger, env);
  } catch (err) {
    await stopEmbedded().catch(() => {});
    throw err;
  }
  return {
    url,
    embedded,
    stop: stopEmbedded,
    stopSync: () => {
      if (embedded === null || embedded.pid === 0) return;
      try {
        process.kill(embedded.pid, 'SIGINT');
      } catch {
        // already gone
      }
    },
  };
}

/** Runs `database.setup` to completion, its output logged line by line. */
async function runSetup(config: DatabaseConfig, url: string, logger: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const command = resolveCommand(config.setup ?? []);
  const started = Date.now();
  const child = spawn(command.file, command.args, { cwd: config.cwd, env: { ...env, [config.env]: url }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = (stream: NodeJS.ReadableStream, level: 'info' | 'warn') => {
    createInterface({ input: stream }).on('line', (line) => logger[level]({ component: 'setup' }, line));
  };
  log(child.stdout, 'info');
  log(child.stderr, 'warn');
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 1));
  });
  const line = typeof config.setup === 'string' ? config.setup : (config.setup ?? []).join(' ');
  if (code !== 0) throw new DatabaseStepError(`database.setup \`${line}\` failed (${typeof code === 'number' ? `exit code ${code}` : code}); the instances were not started`);
  logger.info({ ms: Date.now() - started }, `database: setup \`${line}\` done`);
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
