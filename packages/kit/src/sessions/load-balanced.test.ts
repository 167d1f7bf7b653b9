// Two instances of one app behind a balancer: a session written through one
// is read, regenerated and ended through the other. Real HTTP on port 0, real
// PostgreSQL, real redis-server.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { startTestRedis } from '@rampart/data/testing';
import { kitSessions } from './kit-sessions.ts';
import { kitCookieSessions } from './kit-cookie-sessions.ts';
import { postgresSessionStore } from './postgres-store.ts';
import { redisSessionStore } from './redis-store.ts';
import { postgresRevocationStore, redisRevocationStore, type RevocationStore } from './revocation.ts';
import { createSealer, parseKeys } from './seal.ts';
import type { SessionStore } from './store.ts';
import { postgresWithKitTables, setCookies } from './test-support.ts';

const pg = await postgresWithKitTables();
const redis = await startTestRedis();
after(async () => {
  await pg.stop();
  await redis?.stop();
});
const noRedis = redis ? false : 'redis-server is not installed';

/** One app instance listening on 127.0.0.1:0; returns its base URL. */
async function instance(t: TestContext, register: (app: FastifyInstance) => PromiseLike<unknown>): Promise<string> {
  const app = Fastify();
  await register(app);
  app.get('/whoami', (request) => ({ user: request.session.get<string>('user') ?? null }));
  app.post('/login', async (request) => {
    await request.session.regenerate();
    request.session.set('user', 'ada');
    return {};
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return {};
  });
  t.after(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

async function call(base: string, method: string, path: string, cookie?: string): Promise<{ user: unknown; cookie: string | undefined }> {
  const res = await fetch(base + path, { method, headers: cookie ? { cookie } : {} });
  assert.equal(res.status, 200);
  const set = setCookies(res.headers)[0];
  return { user: ((await res.json()) as { user?: unknown }).user, cookie: set ? `${set.name}=${set.value}` : undefined };
}

async function crossInstanceSessions(t: TestContext, store: () => SessionStore): Promise<void> {
  const stores = [store(), store()];
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const [a, b] = await Promise.all(stores.map((s) => instance(t, (app) => app.register(kitSessions, { store: s }))));
  const login = await call(a!, 'POST', '/login');
  assert.equal((await call(b!, 'GET', '/whoami', login.cookie)).user, 'ada', 'B reads what A wrote');
  const again = await call(b!, 'POST', '/login', login.cookie);
  assert.equal((await call(a!, 'GET', '/whoami', login.cookie)).user, null, 'B regenerated: the old id is dead on A too');
  assert.equal((await call(a!, 'GET', '/whoami', again.cookie)).user, 'ada');
  await call(a!, 'POST', '/logout', again.cookie);
  assert.equal((await call(b!, 'GET', '/whoami', again.cookie)).user, null, 'A logged out: B refuses it too');
}

test('kitSessions: two instances sharing a PostgreSQL store', (t) => crossInstanceSessions(t, () => postgresSessionStore(pg.db, { pruneInterval: 0 })));

test('kitSessions: two instances sharing a Redis store', { skip: noRedis }, (t) => crossInstanceSessions(t, () => redisSessionStore(redis!.url)));

async function crossInstanceRevocation(t: TestContext, revocations: () => RevocationStore): Promise<void> {
  const keys = [randomBytes(32).toString('base64url')];
  const stores = [revocations(), revocations()];
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const plugin = (s: RevocationStore) => (app: FastifyInstance) => app.register(kitCookieSessions, { keys, revocations: s });
  const [a, b] = await Promise.all(stores.map((s) => instance(t, plugin(s))));
  const login = await call(a!, 'POST', '/login');
  assert.equal((await call(b!, 'GET', '/whoami', login.cookie)).user, 'ada');
  await call(b!, 'POST', '/logout', login.cookie);
  const value = login.cookie!.slice(login.cookie!.indexOf('=') + 1);
  assert.notEqual(createSealer(parseKeys(keys)).unseal(value, 'rampart.session'), null, 'the cookie still decrypts');
  assert.equal((await call(a!, 'GET', '/whoami', login.cookie)).user, null, 'A refuses the cookie B revoked');
  assert.equal((await call(b!, 'GET', '/whoami', login.cookie)).user, null);
}

test('kitCookieSessions: a cookie revoked on one instance is refused by the other (PostgreSQL revocations)', (t) =>
  crossInstanceRevocation(t, () => postgresRevocationStore(pg.db, { pruneInterval: 0 })));

test('kitCookieSessions: a cookie revoked on one instance is refused by the other (Redis revocations)', { skip: noRedis }, (t) =>
  crossInstanceRevocation(t, () => redisRevocationStore(redis!.url)));
