// The departures board is cached on every instance and a booking through any
// instance is on the board of the others right after: two instances on one
// PostgreSQL with memory stores and the LISTEN/NOTIFY broadcast, as `rampart
// up` runs them; and with the Redis store when there is a redis-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { startTestRedis } from '@rampart/data/testing';
import { createCache, redisCacheStore, type Cache } from '@rampart/kit';
import { createFlightsCache } from '../src/app.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/seed.ts';
import { Browser, startFlights, startInstance, waitFor, type Flights } from './harness.ts';

let flights: Flights;
let cache: Cache;
before(async () => {
  // The first instance's cache, kept here so that a test can invalidate it.
  flights = await startFlights({ cache: (db) => (cache = createFlightsCache(db)) });
  // Departures are on 5-minute marks, and every cache keeps the board only
  // until its first departure: a test started seconds before one would see
  // its entries expire. Nothing leaves the board while these tests run.
  await flights.db.query(sql`update flights set departure = departure + interval '20 minutes' where departure >= now() and departure < now() + interval '20 minutes'`);
});
after(async () => {
  await flights.stop();
  await cache.close();
});

interface Row {
  id: number;
  seatsLeft: string;
  bookedHere: number;
}

/** The board's rows as shown: flight id, seats left, booked here. */
async function board(base: string, browser?: Browser): Promise<{ rows: Row[]; status: string | null; cacheControl: string | null }> {
  const res = browser === undefined ? await fetch(base) : await browser.get('/');
  assert.equal(res.status, 200);
  const page = await res.text();
  const rows = [...page.matchAll(/<a href="\/flights\/(\d+)">[^<]*<\/a>.*?<td class="num(?: full)?">([^<]*)<\/td><td class="num">(\d+)<\/td><\/tr>/g)].map((m) => ({ id: Number(m[1]), seatsLeft: m[2] ?? '', bookedHere: Number(m[3]) }));
  return { rows, status: res.headers.get('cache-status'), cacheControl: res.headers.get('cache-control') };
}

/** A row whose flight has seats to spare (2 % of the seeded flights are full). */
function bookable(rows: Row[], skip = 0): Row {
  const open = rows.filter((r) => /^\d+$/.test(r.seatsLeft) && Number(r.seatsLeft) > 1);
  return open[skip] ?? assert.fail('no bookable flight on the board');
}

const rowOf = (rows: Row[], id: number) => rows.find((r) => r.id === id);

async function book(browser: Browser, flightId: number, name: string): Promise<void> {
  const res = await browser.submit(`/flights/${flightId}`, `/flights/${flightId}/book`, { passenger_name: name });
  assert.equal(res.status, 303);
}

test('the board is stored: the second anonymous view is a hit on each instance', async (t) => {
  const second = await startInstance(flights, { instanceId: 'test-2' });
  t.after(() => second.stop());
  for (const base of [flights.base, second.base]) {
    const first = await board(base);
    assert.ok(first.rows.length > 0);
    const again = await board(base);
    assert.equal(again.status, 'flights; hit', base);
    assert.deepEqual(again.rows, first.rows);
  }
});

test('a booking through one instance is on the board of another instance right after (memory stores + LISTEN/NOTIFY)', async (t) => {
  const second = await startInstance(flights, { instanceId: 'test-2' });
  t.after(() => second.stop());
  // Cached on the second instance, anonymous and logged in.
  const viewer = new Browser(second.base);
  await viewer.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  const before = await board(second.base);
  await board(second.base);
  assert.equal((await board(second.base)).status, 'flights; hit');
  await board(second.base, viewer);
  const target = bookable(before.rows);

  const booker = new Browser(flights.base);
  await booker.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  await book(booker, target.id, 'Grace Hopper');

  const expected = { id: target.id, seatsLeft: String(Number(target.seatsLeft) - 1), bookedHere: target.bookedHere + 1 };
  // The invalidation is applied on the other instance within the
  // notification's latency (invalidateTags waited for its own echo before the
  // booking's redirect went out); the deadline is far below every TTL (a minute).
  let looks = 0;
  await waitFor(async () => (looks++, rowOf((await board(second.base)).rows, target.id)?.bookedHere === expected.bookedHere), 'the booking on the second instance\'s board', 2000);
  assert.deepEqual(rowOf((await board(second.base)).rows, target.id), expected);
  assert.deepEqual(rowOf((await board(second.base, viewer)).rows, target.id), expected, 'the logged-in view (fragment and data caches) too');
  assert.deepEqual(rowOf((await board(flights.base)).rows, target.id), expected, 'and on the instance that booked');
  t.diagnostic(`seen on the other instance at look ${looks}`);
});

test('a booking through the JSON API invalidates the board too', async () => {
  const browser = new Browser(flights.base);
  await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  const created = await browser.submit('/account/api-keys', '/account/api-keys', { name: 'cache test', scopes: ['bookings:write'] });
  const key = /<p class="key">([^<]+)<\/p>/.exec(await created.text())?.[1] ?? assert.fail('no key shown');
  const before = await board(flights.base);
  assert.equal((await board(flights.base)).status, 'flights; hit');
  const target = bookable(before.rows, 1);
  const res = await fetch(`${flights.base}/api/bookings`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ flightId: target.id, passengerName: 'Ada' }) });
  assert.equal(res.status, 201);
  const after = await board(flights.base);
  assert.equal(after.status, 'flights; fwd=uri-miss; stored');
  assert.equal(rowOf(after.rows, target.id)?.bookedHere, target.bookedHere + 1);
});

test('the board leaves a flight the moment it departs, without any invalidation: nothing is kept past the first departure', async () => {
  // Make a flight depart two seconds from now; it becomes the first row.
  const soon = await flights.db.one<{ id: number }>(sql`
    update flights set departure = now() + interval '2 seconds'
    where id = (select id from flights where departure > now() + interval '1 hour' order by id limit 1)
    returning id::int as id`);
  await cache.invalidateTags(['board']);
  const first = await board(flights.base);
  assert.equal(first.rows[0]?.id, soon.id);
  const m = /s-maxage=(\d+)/.exec(first.cacheControl ?? '');
  assert.ok(m !== null && Number(m[1]) <= 2, `shared caches keep it no longer than the departure: ${first.cacheControl}`);
  assert.doesNotMatch(first.cacheControl ?? '', /stale-while-revalidate/);
  // Polled: served from the caches until the departure, gone right after.
  await waitFor(async () => !(await board(flights.base)).rows.some((r) => r.id === soon.id), 'the departed flight to leave the board', 6000);
});

test('with the Redis store: a booking through one instance is on the other\'s board at once', async (t) => {
  const redis = await startTestRedis();
  if (redis === null) return t.skip('redis-server not found');
  t.after(() => redis.stop());
  const caches = [1, 2].map(() => createCache({ store: redisCacheStore(redis.url), prefix: 'flights:' }));
  const [a, b] = await Promise.all(caches.map((c, i) => startInstance(flights, { instanceId: `redis-${i + 1}`, cache: c })));
  t.after(async () => {
    await a!.stop();
    await b!.stop();
    for (const c of caches) await c.close();
  });
  const before = await board(b!.base);
  assert.equal((await board(b!.base)).status, 'flights; hit');
  assert.equal((await board(a!.base)).status, 'flights; hit', 'one store: what b stored, a serves');
  const target = bookable(before.rows, 2);
  const booker = new Browser(a!.base);
  await booker.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  await book(booker, target.id, 'Barbara Liskov');
  const after = await board(b!.base);
  assert.deepEqual(rowOf(after.rows, target.id), { id: target.id, seatsLeft: String(Number(target.seatsLeft) - 1), bookedHere: target.bookedHere + 1 });
});
