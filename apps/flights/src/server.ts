// Runs one instance of the flights app:
//
//   DATABASE_URL=postgres://… PORT=3000 node apps/flights/src/server.ts
//
// Environment: DATABASE_URL (required), PORT (default 3000; 0 picks a free
// one), RAMPART_INSTANCE_ID (x-served-by; default flights-<pid>), REDIS_URL
// (sessions and the app cache in Redis; without it sessions in PostgreSQL
// and the cache in memory, invalidated across instances through
// LISTEN/NOTIFY), LOG_REQUESTS=1 (a log line
// per request; off because the gateway logs each one), PUBLIC_URL (links in
// e-mails), SEED_FLIGHTS (flights seeded into an empty database; default
// 100000), NODE_ENV=production (secrets must come from the environment).
//
// Migrates and seeds before listening (both safe with several instances
// starting at once), then prints one line `listening on http://127.0.0.1:<port>`
// on stdout for whoever started it. SIGTERM/SIGINT: stop accepting, finish
// the requests in flight, close the pool, exit 0.
import { createDb } from '@rampart/data';
import { createCache, loadSecrets, postgresSessionStore, redisCacheStore, redisSessionStore, type Cache } from '@rampart/kit';
import { buildApp, SECRET_NAMES } from './app.ts';
import { migrateFlights } from './migrations.ts';
import { seed } from './seed.ts';

function fail(message: string): never {
  process.stderr.write(`flights: ${message}\n`);
  process.exit(1);
}

const env = process.env;
const url = env['DATABASE_URL'];
if (url === undefined || url === '') fail('DATABASE_URL is not set; give the PostgreSQL URL, e.g. DATABASE_URL=postgres://user:password@127.0.0.1:5432/flights');
const port = Number(env['PORT'] ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got ${env['PORT']}`);
const seedFlights = Number(env['SEED_FLIGHTS'] ?? 100_000);
if (!Number.isSafeInteger(seedFlights) || seedFlights < 0) fail(`SEED_FLIGHTS must be a whole number, got ${env['SEED_FLIGHTS']}`);
const instanceId = env['RAMPART_INSTANCE_ID'] || `flights-${process.pid}`;

let secrets: Record<string, string>;
try {
  secrets = loadSecrets({ names: SECRET_NAMES });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

const db = createDb({ url, max: 10, applicationName: instanceId });
const redisUrl = env['REDIS_URL'];
const sessionStore = redisUrl ? redisSessionStore(redisUrl) : postgresSessionStore(db);
// With Redis every instance shares one store: its tag versions are the
// invalidation, no broadcast needed. Without, buildApp makes its own.
let logCacheError = (_err: Error) => {};
const cache: Cache | undefined = redisUrl ? createCache({ store: redisCacheStore(redisUrl), prefix: 'flights:', onError: (err) => logCacheError(err) }) : undefined;
const app = await buildApp({
  db,
  sessionStore,
  secrets,
  instanceId,
  logger: { level: env['LOG_LEVEL'] ?? 'info' },
  requestLogging: env['LOG_REQUESTS'] === '1',
  publicUrl: env['PUBLIC_URL'],
  cache,
});
logCacheError = (err) => app.log.warn({ err }, 'app cache');

try {
  await migrateFlights(db, (message) => app.log.info(message));
  const seeded = await seed(db, { flights: seedFlights });
  if (seeded.seeded) app.log.info({ ms: seeded.ms, flights: seeded.flights, airports: seeded.airports }, 'seeded the database');
  await app.listen({ host: '127.0.0.1', port });
} catch (err) {
  app.log.error({ err }, 'could not start');
  await app.close().catch(() => {});
  await cache?.close().catch(() => {});
  await sessionStore.close().catch(() => {});
  await db.close().catch(() => {});
  fail(err instanceof Error ? err.message : String(err));
}

const address = app.server.address();
process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}\n`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  try {
    await app.close();
    await cache?.close();
    await sessionStore.close();
    await db.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
