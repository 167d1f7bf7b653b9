// A PostgreSQL of its own for one test file: a fresh cluster in a temporary
// folder on a free port, removed again by stop(). Nothing is shared between
// test files and nothing needs to be installed: the binaries come with npm.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from './db.ts';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded.ts';

export interface TestPostgres {
  readonly url: string;
  readonly server: RunningPostgres;
  /** A pool on the test database; closed by stop(). */
  readonly db: Db;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-pg-'));
  let server: RunningPostgres;
  try {
    server = await startEmbeddedPostgres({ dir });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const db = createDb({ url: server.url, max: 5 });
  return {
    url: server.url,
    server,
    db,
    async stop() {
      await db.close().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
