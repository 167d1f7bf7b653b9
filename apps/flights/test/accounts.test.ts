// Register → log in → book → my bookings, with cookies and CSRF tokens as a
// browser sends them; login and reset that do not tell which emails exist;
// no open redirect after login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { captureLogs, startFlights, Browser, csrfTokenOf, waitFor, type Flights } from './harness.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/seed.ts';

let flights: Flights;
const { lines: logs, stream } = captureLogs();
before(async () => {
  flights = await startFlights({ logger: { level: 'debug', stream } });
});
after(() => flights.stop());

async function openFlight(): Promise<{ id: number; seatsLeft: number }> {
  return flights.db.one(sql`select id::int as id, seats_left as "seatsLeft" from flights where seats_left > 0 and departure > now() order by id limit 1`);
}

/** The page without what differs between two requests by design: the CSRF token, the echoed email. */
function normalise(page: string, email: string): string {
  return page.replaceAll(csrfTokenOf(page) ?? '\u0000', 'TOKEN').replaceAll(email, 'EMAIL');
}

test('register → log in → book → my bookings, with cookies and CSRF tokens', async () => {
  const browser = new Browser(flights.base);
  const email = 'Ada@Example.com';
  const password = 'a long and unusual passphrase';
  const registered = await browser.submit('/register', '/register', { email, password });
  assert.equal(registered.status, 303);
  assert.equal(registered.headers.get('location'), '/login?registered=1');
  const row = await flights.db.one<{ hash: string }>(sql`select password_hash as hash from users where email = ${email}`);
  assert.match(row.hash, /^\$argon2id\$/);
  assert.ok(!row.hash.includes(password));

  // Email is case-insensitive at login.
  const login = await browser.submit('/login?next=%2Fbookings', '/login', { email: 'ada@example.COM', password, next: '/bookings' });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), '/bookings');
  const empty = await (await browser.get('/bookings')).text();
  assert.match(empty, /No bookings yet/);
  assert.match(empty, /<span class="who">Ada@Example.com<\/span>/);

  const flight = await openFlight();
  const booked = await browser.submit(`/flights/${flight.id}`, `/flights/${flight.id}/book`, { passenger_name: 'Ada <Lovelace>' });
  assert.equal(booked.status, 303);
  assert.match(booked.headers.get('location') ?? '', /^\/bookings\?booked=\d+$/);
  const mine = await browser.get(booked.headers.get('location') ?? '');
  assert.equal(mine.headers.get('cache-control'), 'private, no-store');
  const page = await mine.text();
  assert.match(page, /Booked: your seat is confirmed/);
  assert.match(page, new RegExp(`<a href="/flights/${flight.id}">`));
  assert.match(page, /<td>Ada &lt;Lovelace&gt;<\/td>/);
  const after = await flights.db.one<{ seatsLeft: number }>(sql`select seats_left as "seatsLeft" from flights where id = ${flight.id}`);
  assert.equal(after.seatsLeft, flight.seatsLeft - 1);

  // Another user does not see these bookings.
  const other = new Browser(flights.base);
  await other.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  assert.doesNotMatch(await (await other.get('/bookings')).text(), /Lovelace/);

  // Log out: the session is gone, /bookings sends to the login page again.
  const logout = await browser.submit('/', '/logout', {});
  assert.equal(logout.status, 303);
  const out = await browser.get('/bookings');
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), '/login?next=%2Fbookings');
});

test('a state-changing form without its CSRF token is refused and changes nothing', async () => {
  const browser = new Browser(flights.base);
  await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  const flight = await openFlight();
  const forged = await browser.request(`/flights/${flight.id}/book`, { form: { passenger_name: 'Mallory' } });
  assert.equal(forged.status, 403);
  const wrong = await browser.request(`/flights/${flight.id}/book`, { form: { passenger_name: 'Mallory', _csrf: 'x'.repeat(43) } });
  assert.equal(wrong.status, 403);
  const crossSite = await browser.request('/logout', { form: { _csrf: csrfTokenOf(await (await browser.get('/')).text()) ?? '' }, headers: { origin: 'https://evil.example' } });
  assert.equal(crossSite.status, 403);
  const bookings = await flights.db.one<{ n: number }>(sql`select count(*)::int as n from bookings where passenger_name = 'Mallory'`);
  assert.equal(bookings.n, 0);
  assert.equal((await browser.get('/bookings')).status, 200, 'still logged in');
});

test('booking requires a login: a logged-out POST goes to the login page and books nothing', async () => {
  const browser = new Browser(flights.base);
  const flight = await openFlight();
  const res = await browser.submit('/login', `/flights/${flight.id}/book`, { passenger_name: 'Nobody' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent(`/flights/${flight.id}`)}`);
  assert.equal((await flights.db.one<{ n: number }>(sql`select count(*)::int as n from bookings where passenger_name = 'Nobody'`)).n, 0);
});

test('login fails with the same answer for an unknown email and a wrong password', async () => {
  const browser = new Browser(flights.base);
  const unknown = await browser.submit('/login', '/login', { email: 'nobody@example.com', password: 'whatever it is' });
  const wrong = await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: 'whatever it is' });
  assert.equal(unknown.status, 401);
  assert.equal(wrong.status, 401);
  const [a, b] = [await unknown.text(), await wrong.text()];
  assert.match(a, /Wrong email or password\./);
  assert.equal(normalise(a, 'nobody@example.com'), normalise(b, DEMO_EMAIL));
  assert.deepEqual(unknown.headers.getSetCookie().length, wrong.headers.getSetCookie().length);
});

test('login regenerates the session id: an id planted before login is worthless after it', async () => {
  const browser = new Browser(flights.base);
  await browser.get('/login');
  const before = browser.cookieHeader();
  assert.notEqual(before, '');
  await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  assert.notEqual(browser.cookieHeader(), before);
  const fixated = await fetch(`${flights.base}/bookings`, { headers: { cookie: before }, redirect: 'manual' });
  assert.equal(fixated.status, 303, 'the pre-login cookie is not logged in');
});

test('after login, next only leads to a path on this site: no open redirect', async () => {
  const evil = ['//evil.example', 'https://evil.example/', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)', 'http:evil.example', '\\\\evil.example'];
  for (const next of evil) {
    const browser = new Browser(flights.base);
    const res = await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD, next });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/', JSON.stringify(next));
  }
  const page = await (await fetch(`${flights.base}/login?next=${encodeURIComponent('//evil.example')}`)).text();
  assert.doesNotMatch(page, /name="next"/);
  const browser = new Browser(flights.base);
  const ok = await browser.submit('/login', '/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD, next: '/search?q=paris' });
  assert.equal(ok.headers.get('location'), '/search?q=paris');
});

test('registration refuses weak passwords with the reason, and answers the same for a taken email', async () => {
  const browser = new Browser(flights.base);
  const weak = await browser.submit('/register', '/register', { email: 'weak@example.com', password: 'password' });
  assert.equal(weak.status, 400);
  assert.match(await weak.text(), /too common/);
  const own = await browser.submit('/register', '/register', { email: 'own@example.com', password: 'own@example.com' });
  assert.equal(own.status, 400);
  const taken = await browser.submit('/register', '/register', { email: DEMO_EMAIL.toUpperCase(), password: 'some other long passphrase' });
  const fresh = await browser.submit('/register', '/register', { email: 'fresh@example.com', password: 'some other long passphrase' });
  assert.equal(taken.status, 303);
  assert.equal(fresh.status, 303);
  assert.equal(taken.headers.get('location'), fresh.headers.get('location'));
  const users = await flights.db.many<{ email: string }>(sql`select email from users where lower(email) = lower(${DEMO_EMAIL})`);
  assert.equal(users.length, 1, 'the taken address did not get a second account');
  const mail = await flights.db.many<{ subject: string }>(sql`select subject from outbox_emails where lower(recipient) = lower(${DEMO_EMAIL}) order by id`);
  assert.deepEqual(mail.map((m) => m.subject), ['Someone tried to register with your address']);
});

test('password reset: the same answer for a known and an unknown email; the link works once; the token is never logged', async () => {
  const browser = new Browser(flights.base);
  const email = 'reset@example.com';
  await browser.submit('/register', '/register', { email, password: 'the first passphrase' });
  const unknown = await browser.submit('/password-reset', '/password-reset', { email: 'ghost@example.com' });
  const known = await browser.submit('/password-reset', '/password-reset', { email });
  assert.equal(unknown.status, 200);
  assert.equal(known.status, 200);
  assert.equal(normalise(await unknown.text(), ''), normalise(await known.text(), ''));

  const mail = await waitFor(
    () => flights.db.maybeOne<{ body: string }>(sql`select body from outbox_emails where recipient = ${email} and subject = 'Choose a new password'`),
    'the reset e-mail in the outbox',
  );
  const token = decodeURIComponent(/token=([^\s]+)/.exec(mail.body)?.[1] ?? '');
  assert.notEqual(token, '');
  assert.equal((await flights.db.one<{ n: number }>(sql`select count(*)::int as n from outbox_emails where recipient = 'ghost@example.com'`)).n, 0);
  const stored = await flights.db.one<{ n: number; plain: number }>(sql`
    select count(*)::int as n, count(*) filter (where token_hash = convert_to(${token}, 'UTF8'))::int as plain from password_resets`);
  assert.deepEqual(stored, { n: 1, plain: 0 }, 'one reset, stored by hash only');

  const form = await browser.get(`/password-reset/confirm?token=${encodeURIComponent(token)}`);
  assert.equal(form.status, 200);
  assert.equal(form.headers.get('referrer-policy'), 'no-referrer');
  const changed = await browser.submit(`/password-reset/confirm?token=${encodeURIComponent(token)}`, '/password-reset/confirm', { token, password: 'the second passphrase' });
  assert.equal(changed.status, 303);
  assert.equal(changed.headers.get('location'), '/login?reset=1');

  assert.equal((await new Browser(flights.base).submit('/login', '/login', { email, password: 'the first passphrase' })).status, 401);
  assert.equal((await new Browser(flights.base).submit('/login', '/login', { email, password: 'the second passphrase' })).status, 303);
  assert.equal((await browser.get(`/password-reset/confirm?token=${encodeURIComponent(token)}`)).status, 400, 'used once');
  const again = await browser.submit('/password-reset', '/password-reset/confirm', { token, password: 'a third passphrase here' });
  assert.equal(again.status, 400);

  const text = logs.join('\n');
  assert.ok(text.includes('/password-reset/confirm?token=[redacted]'), 'the confirm URL is logged without its token');
  assert.ok(!text.includes(token), 'the token is not in the log');
  assert.ok(!text.includes(encodeURIComponent(token)), 'nor URL-encoded');
  assert.ok(!text.includes('the second passphrase') && !text.includes('the first passphrase'), 'no password in the log');
});
