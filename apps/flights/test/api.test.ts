// The JSON API: API keys made on /account/api-keys, scopes, schema
// validation (400 in Fastify's format, never 500), no CSRF token needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { startFlights, Browser, type Flights } from './harness.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/seed.ts';

let flights: Flights;
let browser: Browser;
let readKey: string;
let writeKey: string;

async function createKey(name: string, scopes: string[]): Promise<string> {
  const res = await browser.submit('/account/api-keys', '/account/api-keys', { name, scopes });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const key = /<p class="key">([^<]+)<\/p>/.exec(await res.text())?.[1];
  assert.ok(key);
  return key;
}

before(async () => {
  flights = await startFlights();
  browser = new Browser(flights.base);
  await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  readKey = await createKey('reader', ['flights:read']);
  writeKey = await createKey('writer', ['flights:read', 'bookings:write']);
});
after(() => flights.stop());

const api = (path: string, key?: string, init: RequestInit = {}) =>
  fetch(flights.base + path, { ...init, headers: { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) } });

test('the key is shown once; the list shows its prefix only', async () => {
  const page = await (await browser.get('/account/api-keys')).text();
  assert.doesNotMatch(page, new RegExp(readKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(page, /<td>reader<\/td>/);
  assert.match(page, /<td>flights:read bookings:write<\/td>/);
});

test('GET /api/flights: 401 without a key, 401 with a bad one, 200 with flights:read', async () => {
  const none = await api('/api/flights?from=JFK');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"');
  assert.equal((await api('/api/flights?from=JFK', 'not-a-key')).status, 401);
  assert.equal((await api('/api/flights?from=not-valid')).status, 401, 'the key is checked before the input');
  assert.equal((await api('/api/bookings', undefined, { method: 'POST', body: '{' })).status, 401);
  const ok = await api('/api/flights?from=jfk&limit=200', readKey);
  assert.equal(ok.status, 200);
  const { flights: list } = (await ok.json()) as { flights: Array<{ id: number; from: string; departure: string; seatsLeft: number }> };
  const expected = await flights.db.many<{ id: number }>(sql`
    select f.id::int as id from flights f join airports o on o.id = f.origin_id
    where o.code = 'JFK' and f.departure >= now() order by f.departure, f.id limit 200`);
  assert.deepEqual(list.map((f) => f.id), expected.map((r) => r.id));
  assert.ok(list.every((f) => f.from === 'JFK'));
});

test('GET /api/flights with from, to and date returns only that route on that UTC day', async () => {
  const sample = await flights.db.one<{ from: string; to: string; day: string }>(sql`
    select o.code as from, d.code as to, to_char(f.departure at time zone 'UTC', 'YYYY-MM-DD') as day
    from flights f join airports o on o.id = f.origin_id join airports d on d.id = f.destination_id order by f.id limit 1`);
  const res = await api(`/api/flights?from=${sample.from}&to=${sample.to}&date=${sample.day}`, readKey);
  assert.equal(res.status, 200);
  const { flights: list } = (await res.json()) as { flights: Array<{ from: string; to: string; departure: string }> };
  assert.ok(list.length >= 1);
  for (const f of list) {
    assert.equal(f.from, sample.from);
    assert.equal(f.to, sample.to);
    assert.equal(f.departure.slice(0, 10), sample.day);
  }
});

test('POST /api/bookings: 403 without the bookings:write scope, 201 with it, no CSRF token needed', async () => {
  const flight = await flights.db.one<{ id: number }>(sql`select id::int as id from flights where seats_left > 0 order by id limit 1`);
  const body = JSON.stringify({ flightId: flight.id, passengerName: 'Grace Hopper' });
  const denied = await api('/api/bookings', readKey, { method: 'POST', body });
  assert.equal(denied.status, 403);
  assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  const made = await api('/api/bookings', writeKey, { method: 'POST', body });
  assert.equal(made.status, 201);
  const booking = (await made.json()) as { id: number; flightId: number; seat: number; passengerName: string };
  assert.equal(booking.flightId, flight.id);
  assert.equal(booking.passengerName, 'Grace Hopper');
  const row = await flights.db.one<{ email: string }>(sql`select u.email from bookings b join users u on u.id = b.user_id where b.id = ${booking.id}`);
  assert.equal(row.email, DEMO_EMAIL, 'booked for the key\'s owner');
  const missing = await api('/api/bookings', writeKey, { method: 'POST', body: JSON.stringify({ flightId: 999999, passengerName: 'x' }) });
  assert.equal(missing.status, 404);
});

test('bad input is a 400 in Fastify\'s error format, never a 500', async () => {
  const cases: Array<[string, RequestInit | undefined]> = [
    ['/api/flights?from=JFKX', undefined],
    ['/api/flights?from=J1K', undefined],
    ['/api/flights', undefined],
    ['/api/flights?from=JFK&date=2026-13-45', undefined],
    ['/api/flights?from=JFK&limit=0', undefined],
    ['/api/flights?from=JFK&limit=100000', undefined],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 'abc', passengerName: 'x' }) }],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 0, passengerName: 'x' }) }],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 1e12, passengerName: 'x' }) }],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 1, passengerName: 'x'.repeat(101) }) }],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 1, passengerName: '   ' }) }],
    ['/api/bookings', { method: 'POST', body: JSON.stringify({ flightId: 1 }) }],
    ['/api/bookings', { method: 'POST', body: '{"flightId": 1,' }],
  ];
  for (const [path, init] of cases) {
    const res = await api(path, writeKey, init);
    const label = `${path} ${typeof init?.body === 'string' ? init.body : ''}`;
    assert.equal(res.status, 400, label);
    const body = (await res.json()) as { statusCode: number; error: string; message: string };
    assert.equal(body.statusCode, 400, label);
    assert.equal(body.error, 'Bad Request', label);
    assert.equal(typeof body.message, 'string', label);
    assert.doesNotMatch(body.message, /select|insert|at .*\.ts/i, label);
  }
});

test('a revoked key stops working at once', async () => {
  const key = await createKey('short-lived', ['flights:read']);
  assert.equal((await api('/api/flights?from=CDG', key)).status, 200);
  const page = await (await browser.get('/account/api-keys')).text();
  const id = /<td>short-lived<\/td>[\s\S]*?action="\/account\/api-keys\/([0-9a-f-]{36})\/revoke"/.exec(page)?.[1];
  assert.ok(id);
  const revoked = await browser.submit('/account/api-keys', `/account/api-keys/${id}/revoke`, {});
  assert.equal(revoked.status, 303);
  assert.equal((await api('/api/flights?from=CDG', key)).status, 401);
  // Another user cannot revoke the demo user's keys.
  const other = new Browser(flights.base);
  await other.submit('/register', '/register', { email: 'other@example.com', password: 'another fine passphrase' });
  await other.submit('/login', '/login', { email: 'other@example.com', password: 'another fine passphrase' });
  const readerId = /<td>reader<\/td>[\s\S]*?action="\/account\/api-keys\/([0-9a-f-]{36})\/revoke"/.exec(page)?.[1];
  assert.equal((await other.submit('/account/api-keys', `/account/api-keys/${readerId}/revoke`, {})).status, 404);
  assert.equal((await api('/api/flights?from=CDG', readKey)).status, 200);
});

test('/account/api-keys needs a login', async () => {
  const res = await fetch(`${flights.base}/account/api-keys`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login?next=%2Faccount%2Fapi-keys');
});
