// Failures: a generic 500 page and JSON without stack traces or SQL, logged
// in full on the server with credentials redacted; /healthz says 503 when the
// database is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDb, sql } from '@rampart/data';
import { memorySessionStore } from '@rampart/kit';
import { buildApp } from '../src/app.ts';
import { captureLogs, startFlights, testSecrets, Browser, type Flights } from './harness.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/seed.ts';

let flights: Flights;
const { lines: logs, stream } = captureLogs();
before(async () => {
  flights = await startFlights({ logger: { level: 'info', stream } });
});
after(() => flights.stop());

test('a database error is a generic 500 page; the log has the error, the page has no SQL or stack', async () => {
  await flights.db.query(sql`alter table bookings rename to bookings_moved`);
  try {
    const res = await fetch(flights.base);
    assert.equal(res.status, 500);
    const page = await res.text();
    assert.match(page, /Something went wrong on our side/);
    assert.doesNotMatch(page, /bookings|relation|select|\.ts:\d+|at [A-Za-z]+ \(/i);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  } finally {
    await flights.db.query(sql`alter table bookings_moved rename to bookings`);
  }
  const entry = logs.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string; stack: string } }).find((l) => l.msg === 'request failed');
  assert.ok(entry, 'the failure is logged');
  assert.equal(entry.level, 50);
  assert.match(entry.err?.message ?? '', /relation "bookings" does not exist/);
  assert.equal((await fetch(flights.base)).status, 200, 'back to normal');
});

test('an API failure is a 500 in Fastify\'s format with a generic message', async () => {
  const browser = new Browser(flights.base);
  await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  const page = await (await browser.submit('/account/api-keys', '/account/api-keys', { name: 'k', scopes: 'flights:read' })).text();
  const key = /<p class="key">([^<]+)<\/p>/.exec(page)?.[1] ?? '';
  await flights.db.query(sql`alter table airports rename to airports_moved`);
  try {
    const res = await fetch(`${flights.base}/api/flights?from=JFK`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong on our side.' });
  } finally {
    await flights.db.query(sql`alter table airports_moved rename to airports`);
  }
  const text = logs.join('\n');
  assert.ok(!text.includes(key), 'the API key is not in the log');
  assert.ok(!text.includes(DEMO_PASSWORD), 'the password is not in the log');
  assert.ok(!text.includes(browser.cookieHeader().split('=')[1] ?? '\u0000'), 'the session cookie is not in the log');
});

test('/healthz is 503 when the database is unreachable, and answers rather than hangs', async (t) => {
  // Port 1 on loopback: nothing listens, the connection is refused.
  const db = createDb({ url: 'postgres://nobody:nothing@127.0.0.1:1/none', max: 1 });
  const app = await buildApp({ db, sessionStore: memorySessionStore(), secrets: testSecrets(), instanceId: 'no-db' });
  t.after(async () => {
    await app.close();
    await db.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'database unreachable');
  assert.equal(res.headers.get('x-served-by'), 'no-db');
  const board = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(board.status, 500);
  assert.doesNotMatch(await board.text(), /ECONNREFUSED|127\.0\.0\.1:1/);
});

test('buildApp refuses to start without its secrets, saying which', async () => {
  await assert.rejects(
    buildApp({ db: flights.db, sessionStore: memorySessionStore(), secrets: {}, instanceId: 'x' }),
    /secrets\.RESET_SECRET is missing/,
  );
});
