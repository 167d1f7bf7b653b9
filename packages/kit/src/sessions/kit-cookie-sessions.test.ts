import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { kitCookieSessions, type KitCookieSessionsOptions } from './kit-cookie-sessions.ts';
import { memoryRevocationStore, type RevocationStore } from './revocation.ts';
import { createSealer, parseKeys } from './seal.ts';
import { setCookies, type SetCookie } from './test-support.ts';
import { KitError } from '../errors.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const K1 = randomBytes(32).toString('base64url');
const K2 = randomBytes(32).toString('base64url');

interface Harness {
  app: FastifyInstance;
  clock: { now: number };
  revocations: RevocationStore & { revoked: string[] };
  send(method: 'GET' | 'POST', url: string, cookie?: string): Promise<{ status: number; json: Record<string, unknown>; cookie: SetCookie | undefined }>;
}

function spyRevocations(clock: () => number): Harness['revocations'] {
  const inner = memoryRevocationStore({ clock });
  const revoked: string[] = [];
  return { ...inner, revoked, revoke: (jti, ttl) => (revoked.push(jti), inner.revoke(jti, ttl)) };
}

async function harness(t: TestContext, options: Partial<KitCookieSessionsOptions> = {}, clock = { now: T0 }): Promise<Harness> {
  const revocations = spyRevocations(() => clock.now);
  const app = Fastify({ trustProxy: true });
  await app.register(kitCookieSessions, { keys: [K1], revocations, clock: () => clock.now, ...options });
  app.get('/whoami', (request) => ({ user: request.session.get<string>('user') ?? null, id: request.session.id }));
  app.post('/login', async (request) => {
    await request.session.regenerate();
    request.session.set('user', 'ada');
    return { id: request.session.id };
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { id: request.session.id };
  });
  app.post('/big', (request) => {
    try {
      request.session.set('blob', 'x'.repeat(5000));
      return { code: null };
    } catch (err) {
      return { code: (err as KitError).code, message: (err as Error).message, kept: request.session.get('blob') ?? null };
    }
  });
  t.after(() => app.close());
  return {
    app,
    clock,
    revocations,
    async send(method, url, cookie) {
      const res = await app.inject({ method, url, headers: cookie ? { cookie } : {} });
      return { status: res.statusCode, json: res.json(), cookie: setCookies(res.headers)[0] };
    },
  };
}

const pair = (c: SetCookie | undefined) => (assert.ok(c, 'expected a Set-Cookie'), `${c.name}=${c.value}`);

test('the session travels sealed in rampart.session: HttpOnly, SameSite=Lax, Path=/, opaque', async (t) => {
  const h = await harness(t);
  assert.equal((await h.send('GET', '/whoami')).cookie, undefined, 'no cookie before the first write');
  const login = await h.send('POST', '/login');
  const c = login.cookie!;
  assert.equal(c.name, 'rampart.session');
  assert.deepEqual([...c.attributes.keys()].sort(), ['httponly', 'max-age', 'path', 'samesite']);
  assert.equal(c.attributes.get('max-age'), '1800');
  assert.ok(!Buffer.from(c.value, 'base64url').includes('ada'), 'the data is encrypted');
  const me = await h.send('GET', '/whoami', pair(c));
  assert.deepEqual(me.json, { user: 'ada', id: login.json.id });
  assert.match(String(login.json.id), /^[A-Za-z0-9_-]{22}$/, 'a 128-bit jti');
});

test('a cookie with any byte changed reads as no session', async (t) => {
  const h = await harness(t);
  const c = (await h.send('POST', '/login')).cookie!;
  const raw = Buffer.from(c.value, 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const copy = Buffer.from(raw);
    copy[i]! ^= 0x01;
    const res = await h.send('GET', '/whoami', `${c.name}=${copy.toString('base64url')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { user: null, id: null }, `byte ${i}`);
  }
});

test('an older key still reads and the response seals again with the newest', async (t) => {
  const clock = { now: T0 };
  const old = await harness(t, { keys: [K1] }, clock);
  const c = (await old.send('POST', '/login')).cookie!;
  const rotated = await harness(t, { keys: [K2, K1] }, clock);
  const res = await rotated.send('GET', '/whoami', pair(c));
  assert.equal(res.json.user, 'ada');
  assert.notEqual(res.cookie?.value, undefined, 'resealed');
  assert.equal(createSealer(parseKeys([K2])).unseal(res.cookie!.value, 'rampart.session')?.keyIndex, 0);
  const onlyNew = await harness(t, { keys: [K2] }, clock);
  assert.deepEqual((await onlyNew.send('GET', '/whoami', pair(res.cookie))).json, { user: 'ada', id: res.json.id });
  assert.deepEqual((await onlyNew.send('GET', '/whoami', pair(c))).json, { user: null, id: null }, 'K1 is gone');
  const again = await rotated.send('GET', '/whoami', pair(res.cookie));
  assert.equal(again.cookie, undefined, 'a cookie sealed with the newest key is not rewritten');
});

test('destroy revokes the jti: the old cookie still decrypts but is refused', async (t) => {
  const h = await harness(t);
  const login = await h.send('POST', '/login');
  const out = await h.send('POST', '/logout', pair(login.cookie));
  assert.equal(out.cookie?.value, '');
  assert.equal(out.cookie?.attributes.get('max-age'), '0');
  assert.deepEqual(h.revocations.revoked, [login.json.id]);
  assert.notEqual(createSealer(parseKeys([K1])).unseal(login.cookie!.value, 'rampart.session'), null, 'still decrypts');
  assert.deepEqual((await h.send('GET', '/whoami', pair(login.cookie))).json, { user: null, id: null });
});

test('regenerate gives a new jti and revokes the old one', async (t) => {
  const h = await harness(t);
  const first = await h.send('POST', '/login');
  const second = await h.send('POST', '/login', pair(first.cookie));
  assert.notEqual(second.json.id, first.json.id);
  assert.deepEqual(h.revocations.revoked, [first.json.id]);
  assert.equal((await h.send('GET', '/whoami', pair(first.cookie))).json.user, null);
  assert.equal((await h.send('GET', '/whoami', pair(second.cookie))).json.user, 'ada');
});

test('idle and absolute timeouts live in the sealed payload; activity reseals at most once a minute', async (t) => {
  const h = await harness(t, { idleTimeout: 30 * MIN, absoluteTimeout: 90 * MIN });
  let cookie = pair((await h.send('POST', '/login')).cookie);
  h.clock.now += 30_000;
  assert.equal((await h.send('GET', '/whoami', cookie)).cookie, undefined);
  h.clock.now += 30_000;
  const touched = await h.send('GET', '/whoami', cookie);
  assert.equal(touched.cookie?.attributes.get('max-age'), '1800');
  const stale = cookie;
  cookie = pair(touched.cookie);
  h.clock.now += 30 * MIN - 1;
  assert.equal((await h.send('GET', '/whoami', stale)).json.user, null, 'the pre-touch cookie is past its idle time');
  for (let i = 0; i < 3; i++) {
    const res = await h.send('GET', '/whoami', cookie);
    assert.equal(res.json.user, 'ada');
    cookie = pair(res.cookie);
    h.clock.now += 20 * MIN;
  }
  assert.equal((await h.send('GET', '/whoami', cookie)).json.user, null, 'past the 90-minute absolute timeout');
});

test('a session that would not fit in 4096 bytes is refused when set, and the old value stays', async (t) => {
  const h = await harness(t);
  const res = await h.send('POST', '/big');
  assert.equal(res.json.code, 'RAMPART_ERR_SESSION_TOO_LARGE');
  assert.match(String(res.json.message), /over the 4096-byte cookie limit; keep less in the session or use kitSessions/);
  assert.equal(res.json.kept, null);
  assert.equal(res.cookie, undefined);
});

test('keys and revocations are checked at registration', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ keys: [randomBytes(16).toString('base64')], revocations: memoryRevocationStore() }, 'RAMPART_ERR_SESSION_KEY', /decodes to 16 bytes/],
    [{ revocations: memoryRevocationStore() }, 'RAMPART_ERR_SESSION_KEY', /non-empty array/],
    [{ keys: [K1] }, 'RAMPART_ERR_SESSION_OPTIONS', /give revocations/],
    [{ keys: [K1], revocations: memoryRevocationStore(), idleTimeout: -1 }, 'RAMPART_ERR_SESSION_OPTIONS', /idleTimeout/],
  ];
  for (const [options, code, message] of cases) {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(kitCookieSessions, options as unknown as KitCookieSessionsOptions);
        await app.ready();
      },
      (err: unknown) => err instanceof KitError && err.code === code && message.test(err.message),
    );
    await app.close();
  }
});
