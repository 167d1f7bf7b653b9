import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';
import { KitError } from '../errors.ts';
import { createApiKeyStore, type ApiKeyStore } from './store.ts';
import { kitApiKeys, requireApiKey, type KitApiKeysOptions } from './plugin.ts';

let pg: TestPostgres;
let app: FastifyInstance;
let base: string;
let keys: ApiKeyStore;

before(async () => {
  pg = await startTestPostgres();
  await pg.db.pool.query(await readFile(path.join(import.meta.dirname, '..', '..', 'migrations', '002_api_keys.sql'), 'utf8'));
  keys = createApiKeyStore(pg.db);
  app = Fastify();
  await app.register(kitApiKeys, { store: keys });
  app.get('/open', (request) => ({ apiKey: request.apiKey }));
  app.get('/whoami', { preHandler: requireApiKey() }, (request) => ({ ownerId: request.apiKey?.ownerId }));
  app.get('/flights', { preHandler: requireApiKey('flights:read') }, () => ({ flights: [] }));
  // Route-level hooks run after the app-wide ones, so onRequest works too.
  app.get('/early', { onRequest: requireApiKey('flights:read') }, () => ({ early: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
after(async () => {
  await app.close();
  await pg.stop();
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${url}`, { headers });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
}

test('no key: 401 with a bare Bearer challenge and no error code (RFC 6750 §3.1), JSON body', async () => {
  for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }] as Array<Record<string, string>>) {
    const res = await get('/whoami', headers);
    assert.equal(res.status, 401);
    assert.equal(res.challenge, 'Bearer realm="api"');
    assert.match(res.type ?? '', /^application\/json/);
    assert.equal(res.body.statusCode, 401);
  }
});

test('a key that fails: 401 with error="invalid_token"', async () => {
  const revoked = await keys.issue({ ownerId: 'owner-1', name: 'old', scopes: ['flights:read'] });
  await keys.revoke(revoked.id);
  for (const authorization of ['Bearer rk_0123456789abcdef_' + 'A'.repeat(43), 'Bearer not-a-key', 'Bearer', 'Bearer a b', `Bearer ${revoked.key}`]) {
    const res = await get('/whoami', { authorization });
    assert.equal(res.status, 401, authorization);
    assert.equal(res.challenge, 'Bearer realm="api", error="invalid_token"', authorization);
    assert.equal(res.body.code, 'invalid_token');
  }
});

test('a valid key passes; the scheme name is case-insensitive; request.apiKey carries the identity', async () => {
  const issued = await keys.issue({ ownerId: 'owner-2', name: 'reader', scopes: ['flights:read'] });
  for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
    const res = await get('/whoami', { authorization: `${scheme} ${issued.key}` });
    assert.equal(res.status, 200, scheme);
    assert.deepEqual(res.body, { ownerId: 'owner-2' });
  }
  assert.deepEqual((await get('/flights', { authorization: `Bearer ${issued.key}` })).body, { flights: [] });
  assert.deepEqual((await get('/open', { authorization: `Bearer ${issued.key}` })).body, { apiKey: { id: issued.id, ownerId: 'owner-2', scopes: ['flights:read'] } });
  assert.deepEqual((await get('/open')).body, { apiKey: null });
});

test('a valid key without the scope: 403 with error="insufficient_scope" and the scope', async () => {
  const issued = await keys.issue({ ownerId: 'owner-3', name: 'writer', scopes: ['bookings:write'] });
  const res = await get('/flights', { authorization: `Bearer ${issued.key}` });
  assert.equal(res.status, 403);
  assert.equal(res.challenge, 'Bearer realm="api", error="insufficient_scope", scope="flights:read"');
  assert.equal(res.body.code, 'insufficient_scope');
  assert.equal((await get('/whoami', { authorization: `Bearer ${issued.key}` })).status, 200, 'no scope asked: any valid key');
});

test('requireApiKey also works as a route onRequest hook, after kitApiKeys has run', async () => {
  const reader = await keys.issue({ ownerId: 'owner-5', name: 'reader', scopes: ['flights:read'] });
  const writer = await keys.issue({ ownerId: 'owner-5', name: 'writer', scopes: ['bookings:write'] });
  assert.deepEqual((await get('/early', { authorization: `Bearer ${reader.key}` })).body, { early: true });
  assert.equal((await get('/early', { authorization: `Bearer ${writer.key}` })).status, 403);
  assert.equal((await get('/early')).status, 401);
});

test('the key is read from the Authorization header only: not from a cookie, not from the query string', async () => {
  const issued = await keys.issue({ ownerId: 'owner-4', name: 'leaky', scopes: ['flights:read'] });
  const fromCookie = await get('/whoami', { cookie: `access_token=${issued.key}; apiKey=${issued.key}` });
  assert.equal(fromCookie.status, 401);
  assert.equal(fromCookie.challenge, 'Bearer realm="api"');
  const fromQuery = await get(`/whoami?access_token=${issued.key}&api_key=${issued.key}`);
  assert.equal(fromQuery.status, 401);
  assert.deepEqual((await get(`/open?access_token=${issued.key}`, { cookie: `access_token=${issued.key}` })).body, { apiKey: null });
});

test('misconfiguration fails when the app is built, or loudly: no store, a bad scope, no plugin', async (t) => {
  const noStore = Fastify();
  await assert.rejects(async () => {
    await noStore.register(kitApiKeys, {} as unknown as KitApiKeysOptions);
    await noStore.ready();
  }, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_API_KEY_OPTIONS');
  await noStore.close();
  assert.throws(() => requireApiKey('two words'), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_API_KEY_INPUT');

  const bare = Fastify();
  t.after(() => bare.close());
  bare.get('/x', { preHandler: requireApiKey() }, () => ({ ok: true }));
  const res = await bare.inject('/x');
  assert.equal(res.statusCode, 500, 'an unguarded route is never silently open');
});
