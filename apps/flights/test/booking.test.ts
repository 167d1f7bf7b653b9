// The last seats of a flight, booked by ten logged-in clients at once: exactly
// as many bookings as there were seats, each its own seat, never below zero.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { hashPassword } from '@rampart/kit';
import { startFlights, Browser, csrfTokenOf, type Flights } from './harness.ts';

let flights: Flights;
before(async () => {
  flights = await startFlights();
});
after(() => flights.stop());

async function loggedInClients(prefix: string, n: number): Promise<Browser[]> {
  const password = 'ten clients at the gate';
  const hash = await hashPassword(password);
  const emails = Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
  await flights.db.query(sql`insert into users (email, password_hash) select unnest(${emails}::text[]), ${hash}`);
  return Promise.all(
    emails.map(async (email) => {
      const browser = new Browser(flights.base);
      const res = await browser.submit('/login', '/login', { email, password });
      assert.equal(res.status, 303);
      return browser;
    }),
  );
}

test('ten clients booking the last three seats at once: three bookings, seven friendly 409s', async () => {
  const clients = await loggedInClients('client', 10);
  const flight = await flights.db.one<{ id: number; seats: number }>(sql`
    update flights set seats_left = 3 where id = (select id from flights where departure > now() order by id limit 1)
    returning id::int as id, seats`);
  // Tokens first, so that the ten POSTs leave together.
  const tokens = await Promise.all(clients.map(async (c) => csrfTokenOf(await (await c.get(`/flights/${flight.id}`)).text()) ?? ''));
  const answers = await Promise.all(clients.map((c, i) => c.request(`/flights/${flight.id}/book`, { form: { passenger_name: `Passenger ${i}`, _csrf: tokens[i] ?? '' } })));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [303, 303, 303, 409, 409, 409, 409, 409, 409, 409]);
  for (const r of answers) {
    const body = await r.text();
    if (r.status === 409) assert.match(body, /Sorry, this flight is full/);
  }
  const after = await flights.db.one<{ seatsLeft: number }>(sql`select seats_left as "seatsLeft" from flights where id = ${flight.id}`);
  assert.equal(after.seatsLeft, 0);
  const seats = await flights.db.many<{ seat: number }>(sql`select seat from bookings where flight_id = ${flight.id} order by seat`);
  assert.deepEqual(seats.map((s) => s.seat), [flight.seats - 2, flight.seats - 1, flight.seats]);

  // The flight page now says so and offers no form.
  const page = await (await clients[0]!.get(`/flights/${flight.id}`)).text();
  assert.match(page, /This flight is full/);
  assert.doesNotMatch(page, /action="\/flights\/\d+\/book"/);
});

test('booking an unknown flight is a 404 and books nothing', async () => {
  const [client] = await loggedInClients('ghost', 1);
  const token = csrfTokenOf(await (await client!.get('/')).text()) ?? '';
  const res = await client!.request('/flights/999999/book', { form: { passenger_name: 'Ghost', _csrf: token } });
  assert.equal(res.status, 404);
  assert.equal((await flights.db.one<{ n: number }>(sql`select count(*)::int as n from bookings where passenger_name = 'Ghost'`)).n, 0);
});
