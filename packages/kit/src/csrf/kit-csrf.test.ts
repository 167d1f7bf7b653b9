// Every branch of kitCsrf with real HTTP requests on a socket (node:http, so
// that Origin and Sec-Fetch-* can be set as a browser would send them).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { kitCsrf, type KitCsrfOptions } from './kit-csrf.ts';
import { kitSessions, kitCookieSessions, memorySessionStore, memoryRevocationStore } from '../sessions/index.ts';
import { setCookies } from '../sessions/test-support.ts';
import { KitError } from '../errors.ts';

interface Reply {
  status: number;
  text: string;
  cookie: string | undefined;
}

function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const set = setCookies(res.headers)[0];
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), cookie: set ? `${set.name}=${set.value}` : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Site {
  base: string;
  /** A visitor with a session and its token, as after loading a page with a form. */
  visitor(headers?: Record<string, string>): Promise<{ cookie: string; token: string }>;
}

async function site(t: TestContext, csrf: KitCsrfOptions = {}, sessions: (app: FastifyInstance) => PromiseLike<unknown> = (app) => app.register(kitSessions, { store: memorySessionStore() })): Promise<Site> {
  const app = Fastify({ trustProxy: true });
  t.after(() => app.close());
  await app.register(formbody);
  await sessions(app);
  await app.register(kitCsrf, csrf);
  app.get('/form', (request) => ({ token: request.csrfToken() }));
  app.post('/transfer', () => 'done');
  app.put('/thing', () => 'done');
  app.patch('/thing', () => 'done');
  app.delete('/thing', () => 'done');
  app.post('/login', async (request) => {
    await request.session.regenerate();
    return { token: request.csrfToken() };
  });
  app.post('/webhook', { config: { csrf: false } }, () => 'hooked');
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    base,
    async visitor(headers = {}) {
      const res = await send(base, 'GET', '/form', headers);
      assert.ok(res.cookie, 'csrfToken() starts a session');
      return { cookie: res.cookie, token: (JSON.parse(res.text) as { token: string }).token };
    },
  };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

test('GET, HEAD and OPTIONS are never checked, even cross-site and without a token', async (t) => {
  const s = await site(t);
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    const res = await send(s.base, method, '/form', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    assert.notEqual(res.status, 403, method);
  }
});

test('a same-origin form POST with the _csrf field passes; the x-csrf-token header passes for PUT, PATCH and DELETE', async (t) => {
  const s = await site(t);
  const v = await s.visitor();
  const post = await send(s.base, 'POST', '/transfer', { ...form, cookie: v.cookie, 'sec-fetch-site': 'same-origin', origin: s.base }, `amount=5&_csrf=${v.token}`);
  assert.deepEqual([post.status, post.text], [200, 'done']);
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    const res = await send(s.base, method, '/thing', { cookie: v.cookie, 'x-csrf-token': v.token });
    assert.deepEqual([res.status, res.text], [200, 'done'], method);
  }
});

test('Sec-Fetch-Site: cross-site is refused even with a valid token', async (t) => {
  const s = await site(t);
  const v = await s.visitor();
  const res = await send(s.base, 'POST', '/transfer', { ...form, cookie: v.cookie, 'sec-fetch-site': 'cross-site' }, `_csrf=${v.token}`);
  assert.equal(res.status, 403);
  assert.equal(res.text, 'Forbidden: cross-site request refused (Sec-Fetch-Site)');
});

test('Sec-Fetch-Site: same-site is refused by default and allowed with allowSameSite; none and same-origin pass', async (t) => {
  const strict = await site(t);
  const v = await strict.visitor();
  const sameSite = (base: string, cookie: string, token: string) => send(base, 'POST', '/transfer', { cookie, 'x-csrf-token': token, 'sec-fetch-site': 'same-site' });
  assert.equal((await sameSite(strict.base, v.cookie, v.token)).status, 403);
  for (const value of ['none', 'same-origin']) {
    assert.equal((await send(strict.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': v.token, 'sec-fetch-site': value })).status, 200, value);
  }
  assert.equal((await send(strict.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': v.token, 'sec-fetch-site': 'bogus' })).status, 403);
  const lenient = await site(t, { allowSameSite: true });
  const w = await lenient.visitor();
  assert.equal((await sameSite(lenient.base, w.cookie, w.token)).status, 200);
});

test('an Origin of another site, or Origin: null, is refused even with a valid token', async (t) => {
  const s = await site(t);
  const v = await s.visitor();
  for (const origin of ['https://evil.example', 'null', s.base.replace('http:', 'https:'), 'not a url']) {
    const res = await send(s.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': v.token, origin });
    assert.equal(res.status, 403, origin);
    assert.equal(res.text, 'Forbidden: request Origin does not match this site (Origin)');
  }
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': v.token, origin: s.base.toUpperCase() })).status, 200, 'scheme and host compare case-insensitively');
});

test('behind the gateway the own origin is https (X-Forwarded-Proto) with the Host; allowedOrigins adds exact others', async (t) => {
  const s = await site(t, { allowedOrigins: ['https://admin.example.com'] });
  const v = await s.visitor({ 'x-forwarded-proto': 'https' });
  assert.match(v.cookie, /^__Host-rampart\.sid=/);
  const host = new URL(s.base).host;
  const proxied = { cookie: v.cookie, 'x-csrf-token': v.token, 'x-forwarded-proto': 'https' };
  assert.equal((await send(s.base, 'POST', '/transfer', { ...proxied, origin: `https://${host}` })).status, 200);
  assert.equal((await send(s.base, 'POST', '/transfer', { ...proxied, origin: `http://${host}` })).status, 403);
  assert.equal((await send(s.base, 'POST', '/transfer', { ...proxied, origin: 'https://admin.example.com' })).status, 200);
  assert.equal((await send(s.base, 'POST', '/transfer', { ...proxied, origin: 'https://admin.example.com.evil.example' })).status, 403);
});

test('a missing or wrong token is refused, and the reply never echoes it', async (t) => {
  const s = await site(t);
  const v = await s.visitor();
  const missing = await send(s.base, 'POST', '/transfer', { ...form, cookie: v.cookie }, 'amount=5');
  assert.deepEqual([missing.status, missing.text], [403, 'Forbidden: CSRF token missing (form field _csrf or header x-csrf-token)']);
  const wrong = `${v.token.slice(0, -2)}xx`;
  for (const res of [
    await send(s.base, 'POST', '/transfer', { ...form, cookie: v.cookie }, `_csrf=${wrong}`),
    await send(s.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': 'short' }),
  ]) {
    assert.deepEqual([res.status, res.text], [403, 'Forbidden: CSRF token does not match this session']);
    assert.ok(!res.text.includes(wrong) && !res.text.includes(v.token));
  }
});

test('a token from another session is refused, and a session-less POST is refused', async (t) => {
  const s = await site(t);
  const [alice, mallory] = [await s.visitor(), await s.visitor()];
  assert.notEqual(alice.token, mallory.token);
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: alice.cookie, 'x-csrf-token': mallory.token })).status, 403);
  const anonymous = await send(s.base, 'POST', '/transfer', { 'x-csrf-token': mallory.token });
  assert.deepEqual([anonymous.status, anonymous.text], [403, 'Forbidden: CSRF token does not match this session']);
  assert.equal(anonymous.cookie, undefined, 'refusing creates no session');
});

test('the token is stable within a session and changes when the session is regenerated at login', async (t) => {
  const s = await site(t);
  const v = await s.visitor();
  const again = await send(s.base, 'GET', '/form', { cookie: v.cookie });
  assert.equal((JSON.parse(again.text) as { token: string }).token, v.token);
  const login = await send(s.base, 'POST', '/login', { cookie: v.cookie, 'x-csrf-token': v.token });
  assert.equal(login.status, 200);
  const fresh = (JSON.parse(login.text) as { token: string }).token;
  assert.notEqual(fresh, v.token);
  assert.ok(login.cookie);
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: login.cookie, 'x-csrf-token': v.token })).status, 403, 'the pre-login token is dead');
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: login.cookie, 'x-csrf-token': fresh })).status, 200);
});

test('config: { csrf: false } turns every check off for that route only', async (t) => {
  const s = await site(t);
  const res = await send(s.base, 'POST', '/webhook', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
  assert.deepEqual([res.status, res.text], [200, 'hooked']);
  assert.equal((await send(s.base, 'POST', '/transfer', {})).status, 403);
});

test('works the same over kitCookieSessions', async (t) => {
  const keys = [randomBytes(32).toString('base64url')];
  const s = await site(t, {}, (app) => app.register(kitCookieSessions, { keys, revocations: memoryRevocationStore() }));
  const v = await s.visitor();
  assert.match(v.cookie, /^rampart\.session=/);
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': v.token })).status, 200);
  assert.equal((await send(s.base, 'POST', '/transfer', { cookie: v.cookie, 'x-csrf-token': 'x'.repeat(43) })).status, 403);
});

test('kitCsrf refuses to register without a session plugin or with a malformed allowed origin', async () => {
  const cases: [(app: FastifyInstance) => PromiseLike<unknown>, KitCsrfOptions, RegExp][] = [
    [() => Promise.resolve(), {}, /register kitSessions or kitCookieSessions first/],
    [(app) => app.register(kitSessions, { store: memorySessionStore() }), { allowedOrigins: ['https://a.example/'] }, /allowedOrigins\[0\] must be an origin/],
    [(app) => app.register(kitSessions, { store: memorySessionStore() }), { allowedOrigins: ['null'] }, /allowedOrigins\[0\]/],
  ];
  for (const [sessions, options, message] of cases) {
    const app = Fastify();
    await sessions(app);
    await assert.rejects(
      async () => {
        await app.register(kitCsrf, options);
        await app.ready();
      },
      (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_CSRF_OPTIONS' && message.test(err.message),
    );
    await app.close();
  }
});
