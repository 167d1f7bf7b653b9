// The lecture's four CSRF pages (a link, an <img src>, a form with a button,
// a form submitted on load), plus a script's fetch(), aimed at the flights
// app's booking endpoint, in a real Chromium whose victim logged in through
// the real login form. Each page is served once from another site and once
// from the app's own site on another port: there SameSite=Lax no longer holds
// the cookie back, and only the server's layers (no state change on GET,
// Sec-Fetch-Site, Origin, the token) stand between the page and a booking.
// The app's own form, in the same browser, does book, so the attacks' zero
// bookings mean something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page, Request } from 'playwright-core';
import { sql } from '@rampart/data';
import { captureLogs, startFlights } from '../../apps/flights/test/harness.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../../apps/flights/src/seed.ts';
import { chromiumMissing, launchBrowser } from '../helpers/browser.ts';
import { startAttackerSite, watchServer, type Exchange } from '../helpers/attacker.ts';
import { waitFor } from '../helpers/wait.ts';

const MALLORY = 'Mallory';
const SEC_FETCH_SITE_REFUSAL = 'Forbidden: cross-site request refused (Sec-Fetch-Site)';

interface Attack {
  name: string;
  /** The attacker's page, given the booking URL. */
  page: (bookUrl: string) => string;
  /** What the victim does on the page to set it off, if anything. */
  act?: (page: Page) => Promise<void>;
  method: 'GET' | 'POST';
  /** Whether a SameSite=Lax cookie goes along from another site: only on a top-level GET navigation. */
  laxSendsCrossSite: boolean;
  /**
   * What the browser does with the app's answer: shows it as the new page, or
   * keeps it from the attacker's <img> or script (the app's
   * Cross-Origin-Resource-Policy: same-origin).
   */
  shown: 'page' | 'blocked';
}

const hiddenForm = (bookUrl: string) => `<form action="${bookUrl}" method="post">
    <input type="hidden" name="passenger_name" value="${MALLORY}">
    <input type="submit" value="Click Here!">
  </form>`;

// The lecture's pages, with yourbank.com/transfer replaced by the booking endpoint.
const ATTACKS: Attack[] = [
  {
    name: 'a link to a GET that would book',
    page: (bookUrl) => `<body><a href="${bookUrl}?passenger_name=${MALLORY}">Click Here!</a></body>`,
    act: (page) => page.getByText('Click Here!').click(),
    method: 'GET',
    laxSendsCrossSite: true,
    shown: 'page',
  },
  {
    name: 'an <img src> to the same GET',
    page: (bookUrl) => `<body><img src="${bookUrl}?passenger_name=${MALLORY}"></body>`,
    method: 'GET',
    laxSendsCrossSite: false,
    shown: 'blocked',
  },
  {
    name: 'a form with hidden fields and a button',
    page: (bookUrl) => `<body>${hiddenForm(bookUrl)}</body>`,
    act: (page) => page.getByRole('button', { name: 'Click Here!' }).click(),
    method: 'POST',
    laxSendsCrossSite: false,
    shown: 'page',
  },
  {
    name: 'a form submitted on load',
    page: (bookUrl) => `<body onload="document.forms[0].submit()">${hiddenForm(bookUrl)}</body>`,
    method: 'POST',
    laxSendsCrossSite: false,
    shown: 'page',
  },
  {
    // A form body (application/x-www-form-urlencoded: CORS-safelisted, so no
    // preflight, and what the booking route parses) with the victim's
    // credentials. no-cors would hide the answer from the script, not from the app.
    name: "a script's fetch(no-cors, credentials: include)",
    page: (bookUrl) => `<body><script>
      fetch(${JSON.stringify(bookUrl)}, { method: 'POST', credentials: 'include', mode: 'no-cors', body: new URLSearchParams({ passenger_name: ${JSON.stringify(MALLORY)} }) })
        .then((r) => { document.title = 'answered: ' + r.type; }, (e) => { document.title = 'failed: ' + e.name; });
    </script></body>`,
    method: 'POST',
    laxSendsCrossSite: false,
    shown: 'blocked',
  },
];

interface LogLine {
  msg?: string;
  csrf?: string;
}

function sessionCookieIn(exchange: Exchange): boolean {
  return /(?:^|;\s*)rampart\.sid=/.test(exchange.headers.cookie ?? '');
}

test('the lecture CSRF pages book nothing; the app form books', { skip: chromiumMissing() ?? false }, async (t) => {
  // The app's log says which CSRF check refused a request the browser kept from the page.
  const { lines, stream } = captureLogs();
  const flights = await startFlights({ flights: 300, logger: { stream } });
  t.after(() => flights.stop());
  const watch = watchServer(flights.app.server);
  t.after(() => watch.stop());
  const attacker = await startAttackerSite();
  t.after(() => attacker.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());

  // localhost, not 127.0.0.1: the attacker's 127.0.0.1 must be another site.
  const app = flights.base.replace('127.0.0.1', 'localhost');
  const { id: flightId } = await flights.db.one<{ id: number }>(
    sql`select id::int as id from flights where seats_left > 0 and departure > now() order by departure limit 1`,
  );
  const bookPath = `/flights/${flightId}/book`;
  const bookUrl = app + bookPath;
  const bookings = async () => (await flights.db.one<{ n: number }>(sql`select count(*)::int as n from bookings`)).n;
  /** The first booking request the app has answered since exchange `from`. */
  const answered = (from: number) =>
    waitFor(() => watch.exchanges.slice(from).find((e) => e.url.startsWith(bookPath) && e.status !== undefined), { timeoutMs: 10_000, what: `an answer to ${bookPath}` });

  // One context: the victim's browser, one cookie jar for every tab and site.
  const context = await browser.newContext();
  const page = await context.newPage();

  await t.test('the victim logs in through the login form', async () => {
    await page.goto(`${app}/login`);
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL(`${app}/`), page.getByRole('button', { name: 'Log in' }).click()]);
    assert.equal(await page.locator('header .who').textContent(), DEMO_EMAIL);
    const sids = (await context.cookies(app)).filter((c) => c.name === 'rampart.sid');
    assert.equal(sids.length, 1);
    assert.deepEqual({ domain: sids[0]?.domain, sameSite: sids[0]?.sameSite, httpOnly: sids[0]?.httpOnly }, { domain: 'localhost', sameSite: 'Lax', httpOnly: true });
  });

  const origins = [
    { name: 'another site', origin: attacker.crossSite, secFetchSite: 'cross-site', crossSite: true },
    { name: 'the same site on another port', origin: attacker.sameSite, secFetchSite: 'same-site', crossSite: false },
  ] as const;

  for (const from of origins) {
    for (const [i, attack] of ATTACKS.entries()) {
      await t.test(`${attack.name}, from ${from.name}`, async () => {
        const path = `/${from.crossSite ? 'cross' : 'same'}-${i}`;
        attacker.serve(path, attack.page(bookUrl));
        const before = await bookings();
        const exchangesFrom = watch.exchanges.length;
        const logFrom = lines.length;
        // Listening before goto: the on-load form and the fetch fire during it.
        const blocked: Promise<Request> | undefined =
          attack.shown === 'blocked' ? page.waitForEvent('requestfailed', { predicate: (r) => r.url().startsWith(bookUrl), timeout: 10_000 }) : undefined;

        await page.goto(from.origin + path);
        await attack.act?.(page);

        // What reached the app and what it answered, whatever the page got to see.
        const exchange = await answered(exchangesFrom);
        assert.equal(exchange.method, attack.method);
        assert.equal(exchange.headers['sec-fetch-site'], from.secFetchSite);
        assert.equal(sessionCookieIn(exchange), !from.crossSite || attack.laxSendsCrossSite, 'session cookie sent as SameSite=Lax decides');
        if (attack.method === 'GET') {
          // RFC 9110 §9.2.1: GET is safe; the booking route has no GET, so the app never books on one.
          assert.equal(exchange.status, 404);
        } else {
          assert.equal(exchange.headers.origin, from.origin);
          assert.equal(exchange.status, 403);
          const refusal = await waitFor(() => lines.slice(logFrom).map((l) => JSON.parse(l) as LogLine).find((l) => l.msg === 'csrf check failed'), { what: 'the csrf log line' });
          assert.equal(refusal.csrf, 'fetch-metadata');
        }

        if (attack.shown === 'page') {
          await page.waitForURL((url) => url.origin === app);
          await page.waitForLoadState('load');
          if (attack.method === 'POST') {
            assert.equal(await page.locator('body').innerText(), SEC_FETCH_SITE_REFUSAL);
          } else {
            // The victim lands on the 404 page, still logged in (the cookie went along), nothing booked.
            assert.equal(await page.locator('h1').textContent(), `Not Found: ${bookPath}`);
            assert.equal(await page.locator('header .who').textContent(), DEMO_EMAIL);
          }
        } else {
          const failed = await blocked;
          assert.match(failed?.failure()?.errorText ?? '', /^net::ERR_BLOCKED_BY_RESPONSE/, 'CORP kept the answer from the attacker page');
          // The script sees a network error, not even an opaque answer.
          if (attack.method === 'POST') await waitFor(async () => (await page.title()) === 'failed: TypeError', { timeoutMs: 10_000, what: 'the fetch to fail' });
        }
        // The app answers a booking only after it commits, so the count is final here.
        assert.equal(await bookings(), before, 'no booking');
      });
    }
  }

  await t.test('the app form books a seat, and /bookings lists it', async () => {
    const before = await bookings();
    const exchangesFrom = watch.exchanges.length;
    await page.goto(`${app}/flights/${flightId}`);
    await page.getByLabel('Passenger name').fill('Victim Herself');
    await Promise.all([page.waitForURL(/\/bookings\?booked=\d+$/), page.getByRole('button', { name: 'Book a seat' }).click()]);
    const exchange = await answered(exchangesFrom);
    assert.equal(exchange.status, 303);
    assert.equal(exchange.headers['sec-fetch-site'], 'same-origin');
    assert.ok(sessionCookieIn(exchange));
    assert.equal(await bookings(), before + 1);
    await page.goto(`${app}/bookings`);
    assert.equal(await page.getByRole('cell', { name: 'Victim Herself', exact: true }).count(), 1);
    const mallory = await flights.db.one<{ n: number }>(sql`select count(*)::int as n from bookings where passenger_name = ${MALLORY}`);
    assert.equal(mallory.n, 0);
  });
});
