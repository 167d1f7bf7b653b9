import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { kitSessions, type KitSessionsOptions } from './kit-sessions.ts';
import { memorySessionStore } from './memory-store.ts';
import { hashSessionId } from './session-id.ts';
import type { SessionStore } from './store.ts';
import { setCookies, type SetCookie } from './test-support.ts';
import { KitError } from '../errors.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** A memory store that logs every call (the key and the method), on a clock the test moves. */
function spyStore(clock: () => number): SessionStore & { calls: string[]; keys: Set<string> } {
  const inner = memorySessionStore({ clock });
  const calls: string[] = [];
  const keys = new Set<string>();
  const log = (method: string, key: string) => (calls.push(method), keys.add(key));
  return {
    calls,
    keys,
    get: (k) => (log('get', k), inner.get(k)),
    set: (k, r, ttl) => (log('set', k), inner.set(k, r, ttl)),
    touch: (k, at, ttl) => (log('touch', k), inner.touch(k, at, ttl)),
    destroy: (k) => (log('destroy', k), inner.destroy(k)),
    close: () => inner.close(),
  };
}

interface Harness {
  app: FastifyInstance;
  store: ReturnType<typeof spyStore>;
  clock: { now: number };
  /** Sends a request with the cookie (if any) and returns the session cookie the response set. */
  send(method: 'GET' | 'POST', url: string, cookie?: string, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; cookie: SetCookie | undefined }>;
}

async function harness(t: TestContext, options: Partial<KitSessionsOptions> = {}): Promise<Harness> {
  const clock = { now: T0 };
  const store = spyStore(() => clock.now);
  const app = Fastify({ trustProxy: true });
  await app.register(kitSessions, { store, clock: () => clock.now, ...options });
  app.get('/whoami', (request) => ({ user: request.session.get<string>('user') ?? null, id: request.session.id }));
  app.post('/login', async (request) => {
    await request.session.regenerate();
    request.session.set('user', 'ada');
    return { id: request.session.id };
  });
  app.post('/cart', (request) => {
    request.session.set('cart', [...(request.session.get<string[]>('cart') ?? []), 'item']);
    return { cart: request.session.get('cart') };
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { id: request.session.id };
  });
  t.after(() => app.close());
  return {
    app,
    store,
    clock,
    async send(method, url, cookie, headers = {}) {
      const res = await app.inject({ method, url, headers: { ...headers, ...(cookie ? { cookie } : {}) } });
      return { status: res.statusCode, json: res.json(), cookie: setCookies(res.headers)[0] };
    },
  };
}

const pair = (c: SetCookie | undefined) => (assert.ok(c, 'expected a Set-Cookie'), `${c.name}=${c.value}`);

test('a visitor who never writes the session gets no cookie and costs no store call', async (t) => {
  const h = await harness(t);
  const res = await h.send('GET', '/whoami');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { user: null, id: null });
  assert.equal(res.cookie, undefined);
  assert.deepEqual(h.store.calls, []);
});

test('the first write saves the session and sets rampart.sid: HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age of the idle timeout', async (t) => {
  const h = await harness(t);
  const res = await h.send('POST', '/cart');
  const c = res.cookie!;
  assert.equal(c.name, 'rampart.sid');
  assert.match(c.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.deepEqual([...c.attributes.keys()].sort(), ['httponly', 'max-age', 'path', 'samesite']);
  assert.equal(c.attributes.get('path'), '/');
  assert.equal(c.attributes.get('samesite'), 'Lax');
  assert.equal(c.attributes.get('max-age'), '1800');
  assert.deepEqual(h.store.calls, ['set']);
  assert.deepEqual([...h.store.keys], [hashSessionId(c.value)], 'the store is keyed by SHA-256 of the id, never the id');
  assert.notEqual(hashSessionId(c.value), c.value);

  const again = await h.send('POST', '/cart', pair(c));
  assert.deepEqual(again.json, { cart: ['item', 'item'] });
  assert.equal(again.cookie?.value, c.value, 'same id while nothing about the privilege changed');
});

test('reading an unchanged session does not write to the store', async (t) => {
  const h = await harness(t);
  const login = await h.send('POST', '/login');
  h.store.calls.length = 0;
  for (let i = 0; i < 3; i++) {
    h.clock.now += 10_000;
    const res = await h.send('GET', '/whoami', pair(login.cookie));
    assert.equal(res.json.user, 'ada');
    assert.equal(res.cookie, undefined);
  }
  assert.deepEqual(h.store.calls, ['get', 'get', 'get']);
});

test('over HTTPS (X-Forwarded-Proto from the gateway) the cookie is __Host-rampart.sid and Secure', async (t) => {
  const h = await harness(t);
  const https = { 'x-forwarded-proto': 'https' };
  const res = await h.send('POST', '/login', undefined, https);
  assert.equal(res.cookie?.name, '__Host-rampart.sid');
  assert.equal(res.cookie?.attributes.get('secure'), '');
  assert.equal(res.cookie?.attributes.has('domain'), false);
  const read = await h.send('GET', '/whoami', pair(res.cookie), https);
  assert.equal(read.json.user, 'ada');
  // The unprefixed name is what any subdomain or plain-HTTP response could plant; HTTPS ignores it.
  const planted = await h.send('GET', '/whoami', `rampart.sid=${res.cookie?.value}`, https);
  assert.equal(planted.json.user, null);
});

test('secure: true marks the cookie Secure even on plain HTTP; sameSite: strict and cookieName are honoured', async (t) => {
  const h = await harness(t, { secure: true, sameSite: 'strict', cookieName: 'app.sid' });
  const res = await h.send('POST', '/login');
  assert.equal(res.cookie?.name, '__Host-app.sid');
  assert.equal(res.cookie?.attributes.get('secure'), '');
  assert.equal(res.cookie?.attributes.get('samesite'), 'Strict');
});

test('malformed, unknown and expired ids read as a fresh session, never an error', async (t) => {
  const h = await harness(t);
  const login = await h.send('POST', '/login');
  h.clock.now += 31 * MIN;
  for (const cookie of [pair(login.cookie), 'rampart.sid=short', `rampart.sid=${'A'.repeat(43)}`, 'rampart.sid=%00%ff', 'rampart.sid=']) {
    const res = await h.send('GET', '/whoami', cookie);
    assert.equal(res.status, 200, cookie);
    assert.deepEqual(res.json, { user: null, id: null }, cookie);
  }
  assert.equal(h.store.calls.filter((c) => c === 'get').length, 2, 'only well-formed ids reach the store');
});

test('regenerate: a new id with the same data; the old id no longer works', async (t) => {
  const h = await harness(t);
  const anon = await h.send('POST', '/cart');
  const login = await h.send('POST', '/login', pair(anon.cookie));
  assert.notEqual(login.cookie?.value, anon.cookie?.value);
  assert.equal(login.json.id, login.cookie?.value);
  const after = await h.app.inject({ method: 'POST', url: '/cart', headers: { cookie: pair(login.cookie) } });
  assert.deepEqual(after.json(), { cart: ['item', 'item'] }, 'the cart survived the login');
  const old = await h.send('GET', '/whoami', pair(anon.cookie));
  assert.deepEqual(old.json, { user: null, id: null }, 'the pre-login id is dead (session fixation)');
});

test('destroy deletes the record and clears the cookie', async (t) => {
  const h = await harness(t);
  const login = await h.send('POST', '/login');
  const out = await h.send('POST', '/logout', pair(login.cookie));
  assert.deepEqual(out.json, { id: null });
  assert.equal(out.cookie?.name, 'rampart.sid');
  assert.equal(out.cookie?.value, '');
  assert.equal(out.cookie?.attributes.get('max-age'), '0');
  assert.equal(await h.store.get(hashSessionId(login.cookie?.value ?? '')), null);
  const replay = await h.send('GET', '/whoami', pair(login.cookie));
  assert.equal(replay.json.user, null);
});

test('idle timeout: activity is written at most once a minute and keeps the session; 30 idle minutes end it', async (t) => {
  const h = await harness(t);
  const login = await h.send('POST', '/login');
  h.store.calls.length = 0;
  h.clock.now += 59_000;
  assert.equal((await h.send('GET', '/whoami', pair(login.cookie))).cookie, undefined);
  h.clock.now += 1_000;
  const touched = await h.send('GET', '/whoami', pair(login.cookie));
  assert.equal(touched.cookie?.attributes.get('max-age'), '1800', 'the cookie is refreshed with the touch');
  assert.deepEqual(h.store.calls, ['get', 'get', 'touch']);
  h.clock.now += 30 * MIN - 1;
  assert.equal((await h.send('GET', '/whoami', pair(login.cookie))).json.user, 'ada', 'alive: idle clock restarted at the touch');
  h.clock.now += 30 * MIN;
  assert.equal((await h.send('GET', '/whoami', pair(login.cookie))).json.user, null);
});

test('absolute timeout ends even an active session; Max-Age shrinks towards it', async (t) => {
  const h = await harness(t, { idleTimeout: 30 * MIN, absoluteTimeout: 60 * MIN });
  const login = await h.send('POST', '/login');
  h.clock.now += 20 * MIN;
  assert.equal((await h.send('GET', '/whoami', pair(login.cookie))).cookie?.attributes.get('max-age'), '1800');
  h.clock.now += 20 * MIN;
  const late = await h.send('GET', '/whoami', pair(login.cookie));
  assert.equal(late.cookie?.attributes.get('max-age'), String(20 * 60), 'only 20 minutes of absolute lifetime left');
  h.clock.now += 20 * MIN;
  assert.equal((await h.send('GET', '/whoami', pair(login.cookie))).json.user, null);
});

test('a failing store is a 500, not a silent logout', async (t) => {
  const store = spyStore(Date.now);
  store.get = () => Promise.reject(new Error('connection refused'));
  const app = Fastify();
  t.after(() => app.close());
  await app.register(kitSessions, { store });
  app.get('/', (request) => ({ user: request.session.get('user') ?? null }));
  const res = await app.inject({ url: '/', headers: { cookie: `rampart.sid=${'a'.repeat(43)}` } });
  assert.equal(res.statusCode, 500);
});

test('values that JSON cannot carry are refused when set', async (t) => {
  const h = await harness(t);
  h.app.post('/bad', (request) => {
    request.session.set('n', 10n);
  });
  const res = await h.app.inject({ method: 'POST', url: '/bad' });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(h.store.calls, []);
});

test('options are checked when the plugin is registered', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /give a store/],
    [{ store: { get() {} } }, /give a store/],
    [{ idleTimeout: 0 }, /idleTimeout must be a positive/],
    [{ absoluteTimeout: '1h' }, /absoluteTimeout must be a positive.*"1h"/],
    [{ idleTimeout: 2 * MIN, absoluteTimeout: MIN }, /longer than absoluteTimeout/],
    [{ cookieName: 'a b' }, /HTTP token/],
    [{ cookieName: '__Host-sid' }, /without the __Host-/],
    [{ secure: 'yes' }, /secure must be/],
    [{ sameSite: 'none' }, /sameSite must be 'lax' or 'strict'/],
  ];
  for (const [options, message] of cases) {
    const app = Fastify();
    const withStore = 'store' in options || Object.keys(options).length === 0 ? options : { store: memorySessionStore(), ...options };
    await assert.rejects(
      async () => {
        await app.register(kitSessions, withStore as unknown as KitSessionsOptions);
        await app.ready();
      },
      (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_SESSION_OPTIONS' && message.test(err.message),
      JSON.stringify(options),
    );
    await app.close();
  }
});

test('an app that registered @fastify/cookie itself (even with hook: false) keeps it, and sessions still load', async (t) => {
  const { default: fastifyCookie } = await import('@fastify/cookie');
  const app = Fastify();
  t.after(() => app.close());
  await app.register(fastifyCookie, { hook: false });
  await app.register(kitSessions, { store: memorySessionStore() });
  app.post('/login', (request) => (request.session.set('user', 'ada'), 'ok'));
  app.get('/whoami', (request) => ({ user: request.session.get('user') ?? null }));
  const login = await app.inject({ method: 'POST', url: '/login' });
  const c = setCookies(login.headers)[0];
  const me = await app.inject({ url: '/whoami', headers: { cookie: `${c?.name}=${c?.value}` } });
  assert.deepEqual(me.json(), { user: 'ada' });
});

test('cookies the app sets with reply.setCookie go out beside the session cookie', async (t) => {
  const h = await harness(t);
  h.app.post('/prefs', (request, reply) => {
    request.session.set('theme', 'dark');
    void reply.setCookie('theme', 'dark', { path: '/' });
    return 'ok';
  });
  const res = await h.app.inject({ method: 'POST', url: '/prefs' });
  assert.deepEqual(setCookies(res.headers).map((c) => c.name).sort(), ['rampart.sid', 'theme']);
});
