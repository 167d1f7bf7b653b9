// The schema and the seed, on a PostgreSQL of their own: the lecture's
// horizontal partitioning, seed determinism and realism, seats that cannot
// go below zero.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';
import { migrateFlights } from '../src/migrations.ts';
import { DEMO_EMAIL, seed } from '../src/seed.ts';
import { distanceKm, durationMinutes } from '../src/seed/schedule.ts';

let pg: TestPostgres;
const START = new Date('2026-03-01T00:00:00Z');

before(async () => {
  pg = await startTestPostgres();
  await migrateFlights(pg.db);
});
after(() => pg.stop());

async function checksum(): Promise<{ airports: string; flights: string }> {
  return pg.db.one(sql`
    select
      (select md5(string_agg(concat_ws('|', id, code, name, city, country, latitude, longitude), ',' order by id)) from airports) as airports,
      (select md5(string_agg(concat_ws('|', id, kind, number, origin_id, destination_id, extract(epoch from departure), duration, seats, seats_left), ',' order by id)) from flights) as flights`);
}

async function empty(): Promise<void> {
  await pg.db.query(sql`truncate bookings, flights, airports, users, password_resets, outbox_emails restart identity cascade`);
}

test('three seeders starting together seed once: one writes, two find the rows', async () => {
  await empty();
  const results = await Promise.all([1, 2, 3].map(() => seed(pg.db, { flights: 3000, start: START })));
  assert.deepEqual(results.map((r) => r.seeded).sort(), [false, false, true]);
  for (const r of results) assert.deepEqual([r.airports, r.flights], [144, 3000]);
  const users = await pg.db.many<{ email: string }>(sql`select email from users`);
  assert.deepEqual(users, [{ email: DEMO_EMAIL }]);
});

test('the seed is deterministic: two seeds of an empty database write the same rows', async () => {
  await empty();
  await seed(pg.db, { flights: 3000, start: START });
  const first = await checksum();
  await empty();
  await seed(pg.db, { flights: 3000, start: START });
  assert.deepEqual(await checksum(), first);
  await empty();
  await seed(pg.db, { flights: 3000, start: START, seed: 2 });
  assert.notEqual((await checksum()).flights, first.flights, 'another PRNG seed gives another schedule');
});

test('the seed is realistic: ≥ 100 real airports with the lecture\'s eight, plausible durations, both kinds', async () => {
  await empty();
  await seed(pg.db, { flights: 3000, start: START });
  const airports = await pg.db.many<{ code: string; city: string }>(sql`select code, city from airports order by id`);
  assert.ok(airports.length >= 100);
  const cities = new Map(airports.map((a) => [a.code, a.city]));
  for (const [code, city] of [['JFK', 'New York'], ['PVG', 'Shanghai'], ['IST', 'Istanbul'], ['LHR', 'London'], ['SVO', 'Moscow'], ['LIM', 'Lima'], ['CDG', 'Paris'], ['NRT', 'Tokyo']]) {
    assert.equal(cities.get(code as string), city, code);
  }
  // The lecture's table has JFK→LHR 415 min; ours is block time from the distance.
  const jfkLhr = durationMinutes(distanceKm({ lat: 40.64, lon: -73.78 }, { lat: 51.47, lon: -0.45 }));
  assert.ok(jfkLhr >= 380 && jfkLhr <= 480, `JFK→LHR ${jfkLhr} min`);
  const kinds = await pg.db.many<{ kind: string; n: number; wrong: number; min: number; max: number }>(sql`
    select f.kind, count(*)::int as n,
      count(*) filter (where (o.country = d.country) <> (f.kind = 'domestic'))::int as wrong,
      min(f.departure) >= ${START} as min, max(f.departure) < ${START}::timestamptz + interval '60 days' as max
    from flights f join airports o on o.id = f.origin_id join airports d on d.id = f.destination_id
    group by f.kind order by f.kind`);
  assert.deepEqual(kinds.map((k) => k.kind), ['domestic', 'international']);
  for (const k of kinds) {
    assert.ok(k.n > 3000 * 0.3, `${k.kind}: ${k.n}`);
    assert.equal(k.wrong, 0, `${k.kind} flights whose airports' countries disagree with the kind`);
    assert.equal(k.min, true);
    assert.equal(k.max, true);
  }
});

function relations(plan: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(plan)) for (const p of plan) relations(p, out);
  else if (typeof plan === 'object' && plan !== null) {
    for (const [key, value] of Object.entries(plan)) {
      if (key === 'Relation Name' && typeof value === 'string') out.add(value);
      else relations(value, out);
    }
  }
  return out;
}

test('a domestic-only query scans flights_domestic only: partition pruning', async () => {
  await empty();
  await seed(pg.db, { flights: 3000, start: START });
  const explain = async (kind: string) => {
    const [row] = await pg.db.many<{ 'QUERY PLAN': unknown }>(sql`
      explain (format json)
      select f.id, o.code, d.code from flights f
      join airports o on o.id = f.origin_id join airports d on d.id = f.destination_id
      where f.kind = ${kind} and f.departure >= ${START}
      order by f.departure limit 20`);
    return relations(row?.['QUERY PLAN']);
  };
  const domestic = await explain('domestic');
  assert.ok(domestic.has('flights_domestic'), [...domestic].join(', '));
  assert.ok(!domestic.has('flights_international'), [...domestic].join(', '));
  const international = await explain('international');
  assert.ok(international.has('flights_international') && !international.has('flights_domestic'), [...international].join(', '));
  const all = relations((await pg.db.many<{ 'QUERY PLAN': unknown }>(sql`explain (format json) select count(*) from flights`))[0]?.['QUERY PLAN']);
  assert.ok(all.has('flights_domestic') && all.has('flights_international'), 'without a kind both partitions are read');
  // The rows really are split: each partition holds only its kind.
  const split = await pg.db.one<{ d: number; i: number; total: number; wrong: number }>(sql`
    select (select count(*)::int from flights_domestic) as d, (select count(*)::int from flights_international) as i,
      (select count(*)::int from flights) as total, (select count(*)::int from flights_domestic where kind <> 'domestic') as wrong`);
  assert.equal(split.d + split.i, split.total);
  assert.ok(split.d > 0 && split.i > 0);
  assert.equal(split.wrong, 0);
});

test('seats_left cannot go below zero or above seats, whatever the writer', async () => {
  await empty();
  await seed(pg.db, { flights: 10, start: START, demoUser: false });
  await assert.rejects(pg.db.query(sql`update flights set seats_left = -1 where id = 1`), /flights_check|check constraint/);
  await assert.rejects(pg.db.query(sql`update flights set seats_left = seats + 1 where id = 1`), /check constraint/);
});
