// Fills an empty flights database: the airports, a deterministic schedule
// (100,000 flights by default) and the demo user. Safe to run from several
// instances at once: one seeds under an advisory lock, the others wait for
// it and then find the tables filled.
//
//   DATABASE_URL=postgres://… node apps/flights/src/seed.ts [flights]
import { performance } from 'node:perf_hooks';
import { createDb, sql, type Db, type Queryable } from '@rampart/data';
import { hashPassword } from '@rampart/kit';
import { AIRPORTS } from './seed/airports.ts';
import { generateSchedule } from './seed/schedule.ts';
import { migrateFlights } from './migrations.ts';

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'correct horse battery staple';

// Any constant works as long as nothing else in the database takes the same
// key; this one spells "flights" in ASCII.
const SEED_LOCK = 0x666c6967687473;
const BATCH = 10_000;

export interface SeedOptions {
  /** Default 100,000. */
  flights?: number;
  /** First possible departure. Default: today 00:00 UTC, so the board has departures for `days` days. Same options, same rows. */
  start?: Date;
  /** Departures spread over this many days. Default 60. */
  days?: number;
  /** The PRNG's seed. Default 1. */
  seed?: number;
  /** Create demo@example.com. Default true. */
  demoUser?: boolean;
}

export interface SeedResult {
  /** false when the database already had airports: nothing was written. */
  seeded: boolean;
  airports: number;
  flights: number;
  ms: number;
}

function todayUtc(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

async function insertAirports(tx: Queryable): Promise<void> {
  const column = <T>(index: number) => AIRPORTS.map((row) => row[index] as T);
  await tx.query(sql`
    insert into airports (id, code, name, city, country, latitude, longitude)
    select * from unnest(
      ${AIRPORTS.map((_, i) => i + 1)}::int[], ${column<string>(0)}::text[], ${column<string>(1)}::text[], ${column<string>(2)}::text[],
      ${column<string>(3)}::text[], ${column<number>(4)}::float8[], ${column<number>(5)}::float8[])`);
  await tx.query(sql`select setval(pg_get_serial_sequence('airports', 'id'), ${AIRPORTS.length})`);
}

async function insertFlights(tx: Queryable, options: Required<Pick<SeedOptions, 'flights' | 'start' | 'days' | 'seed'>>): Promise<void> {
  const s = generateSchedule(options);
  // Set-based: one statement per 10,000 rows, each column one array
  // parameter, instead of 100,000 round trips.
  for (let from = 0; from < s.id.length; from += BATCH) {
    const to = from + BATCH;
    await tx.query(sql`
      insert into flights (id, kind, number, origin_id, destination_id, departure, duration, seats, seats_left)
      select * from unnest(
        ${s.id.slice(from, to)}::bigint[], ${s.kind.slice(from, to)}::text[], ${s.number.slice(from, to)}::text[],
        ${s.originId.slice(from, to)}::int[], ${s.destinationId.slice(from, to)}::int[], ${s.departure.slice(from, to)}::timestamptz[],
        ${s.duration.slice(from, to)}::int[], ${s.seats.slice(from, to)}::int[], ${s.seatsLeft.slice(from, to)}::int[])`);
  }
  if (s.id.length > 0) await tx.query(sql`select setval(pg_get_serial_sequence('flights', 'id'), ${s.id.length})`);
}

/** Seeds the tables when they are empty; otherwise does nothing and says so. */
export async function seed(db: Db, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const resolved = { flights: options.flights ?? 100_000, start: options.start ?? todayUtc(), days: options.days ?? 60, seed: options.seed ?? 1 };
  const seeded = await db.transaction(async (tx) => {
    // Transaction-scoped: released by COMMIT or ROLLBACK, also when this
    // process dies mid-seed, so a crashed seeder never blocks the next one.
    await tx.query(sql`select pg_advisory_xact_lock(${SEED_LOCK}::bigint)`);
    const { filled } = await tx.one<{ filled: boolean }>(sql`select exists (select 1 from airports) as filled`);
    if (filled) return false;
    await insertAirports(tx);
    await insertFlights(tx, resolved);
    if (options.demoUser !== false) {
      await tx.query(sql`insert into users (email, password_hash) values (${DEMO_EMAIL}, ${await hashPassword(DEMO_PASSWORD)})`);
    }
    return true;
  });
  // Fresh statistics, or the first plans are made for empty tables.
  if (seeded) await db.query(sql`analyze airports, flights`);
  const counts = await db.one<{ airports: number; flights: number }>(sql`select (select count(*)::int from airports) as airports, (select count(*)::int from flights) as flights`);
  return { seeded, ...counts, ms: Math.round(performance.now() - started) };
}

if (import.meta.main) {
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url === '') {
    process.stderr.write('seed: set DATABASE_URL (postgres://user:password@host:port/database)\n');
    process.exit(1);
  }
  const flights = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  if (flights !== undefined && (!Number.isSafeInteger(flights) || flights < 0)) {
    process.stderr.write(`seed: the number of flights must be a whole number, got ${process.argv[2]}\n`);
    process.exit(1);
  }
  const db = createDb({ url, max: 2, applicationName: 'flights-seed' });
  try {
    await migrateFlights(db);
    const result = await seed(db, { flights });
    process.stdout.write(result.seeded ? `seeded ${result.airports} airports and ${result.flights} flights in ${result.ms} ms\n` : `already seeded (${result.airports} airports, ${result.flights} flights); nothing written\n`);
  } finally {
    await db.close();
  }
}
