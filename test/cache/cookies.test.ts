// Cookies: responses that set one are not stored unless the route allows it
// (then stored without Set-Cookie); requests carrying a session cookie go
// straight upstream; the gateway's own sticky cookie is none of these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

test('a response with Set-Cookie is not stored by default', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { 'set-cookie': 'theme=dark' }));
  t.after(() => c.close());
  const first = await c.get('/c');
  assert.deepEqual(first.headers['set-cookie'], ['theme=dark']);
  assert.match(first.cacheStatus, /detail=set-cookie/);
  await c.get('/c');
  assert.equal(c.count('/c'), 2);
});

test('allowSetCookie stores the response without its Set-Cookie; only the client that fetched it gets the cookie', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { 'set-cookie': ['a=1', 'b=2'] }), { cache: { allowSetCookie: true } });
  t.after(() => c.close());
  const first = await c.get('/c');
  assert.deepEqual(first.headers['set-cookie'], ['a=1', 'b=2']);
  const hit = await c.get('/c');
  assert.match(hit.cacheStatus, /hit/);
  assert.equal(hit.headers['set-cookie'], undefined);
});

test('requests with a session cookie bypass the cache: not served from it, not stored', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`));
  t.after(() => c.close());
  await c.get('/s');
  for (const cookie of ['rampart.sid=x', '__Host-rampart.sid=x', 'rampart.session=x', 'connect.sid=x', 'PHPSESSID=x', 'JSESSIONID=x', 'sessionid=x', 'laravel_session=x', 'theme=1; sessionid=x']) {
    const r = await c.get('/s', { cookie });
    assert.match(r.cacheStatus, /^rampart; fwd=bypass; fwd-status=200; detail=cookie$/, cookie);
  }
  assert.match((await c.get('/s', { cookie: 'theme=dark; lang=de' })).cacheStatus, /hit/, 'other cookies do not bypass');
  assert.equal(c.count('/s'), 10);
  await c.get('/fresh', { cookie: 'PHPSESSID=x' });
  assert.match((await c.get('/fresh')).cacheStatus, /uri-miss/, 'what a bypassed request fetched was not stored');
});

test('bypassCookies: [] turns bypassing off; custom patterns match case-insensitively', async (t) => {
  const off = await setup((_req, res, n) => cacheable(res, `n${n}`), { cache: { bypassCookies: [] } });
  t.after(() => off.close());
  await off.get('/x');
  assert.match((await off.get('/x', { cookie: 'PHPSESSID=1' })).cacheStatus, /hit/);
  const custom = await setup((_req, res, n) => cacheable(res, `n${n}`), { cache: { bypassCookies: ['logged_in_*'] } });
  t.after(() => custom.close());
  await custom.get('/x');
  assert.match((await custom.get('/x', { cookie: 'Logged_In_abc=1' })).cacheStatus, /bypass/);
  assert.match((await custom.get('/x', { cookie: 'PHPSESSID=1' })).cacheStatus, /hit/);
});

test('the gateway\'s sticky cookie neither stops storage, nor is stored, nor bypasses', async (t) => {
  // A sticky cookie named like a session cookie, to show it is told apart by name, not by pattern.
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`), { upstream: { sticky: { cookie: 'gw_sid' } } });
  t.after(() => c.close());
  const first = await c.get('/p');
  const pin = String(first.headers['set-cookie']);
  assert.match(pin, /^gw_sid=/, 'the pinned client gets its cookie');
  assert.match(first.cacheStatus, /stored/);
  const hit = await c.get('/p');
  assert.match(hit.cacheStatus, /hit/);
  assert.equal(hit.headers['set-cookie'], undefined, 'never served from the store');
  const pinned = await c.get('/p', { cookie: pin.split(';')[0]! });
  assert.match(pinned.cacheStatus, /hit/, 'a request carrying it is not bypassed');
  assert.equal(c.count('/p'), 1);
});
