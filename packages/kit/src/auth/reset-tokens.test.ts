import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { KitError } from '../errors.ts';
import { createResetTokens, type ResetAccount } from './reset-tokens.ts';

const SECRET = 'k'.repeat(8) + 'Qm3vX9pLr2sT7wYb4nHc6dJf8gKa1eZu';

interface Account extends ResetAccount {
  email: string;
}

function accounts() {
  const byEmail = new Map<string, Account>([
    ['ada@example.com', { id: '17', email: 'ada@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA' }],
    ['grace@example.com', { id: '18', email: 'grace@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0eHh4$aGFzaA' }],
  ]);
  return {
    byEmail,
    findUserByLogin: (login: string) => Promise.resolve(byEmail.get(login) ?? null),
    findUserById: (id: string) => Promise.resolve([...byEmail.values()].find((a) => a.id === id) ?? null),
  };
}

test('the forgot-password answer is sent before any per-account work, and is the same for a missing account', { timeout: 10_000 }, async (t) => {
  const store = accounts();
  const gate = Promise.withResolvers<void>();
  const looked: string[] = [];
  const lookups = new Map<string, PromiseWithResolvers<void>>([['ada@example.com', Promise.withResolvers()], ['nobody@example.com', Promise.withResolvers()]]);
  const sent = Promise.withResolvers<{ email: string; token: string }>();
  const resets = createResetTokens<Account>({
    secret: SECRET,
    findUserByLogin: async (login) => {
      looked.push(login);
      await gate.promise; // held until both answers are in
      const user = await store.findUserByLogin(login);
      lookups.get(login)?.resolve();
      return user;
    },
    findUserById: store.findUserById,
    send: (user, token) => {
      sent.resolve({ email: user.email, token });
      return Promise.resolve();
    },
    onError: (err) => assert.fail(String(err)),
  });

  const app = Fastify();
  app.post<{ Body: { email: string } }>('/forgot', async (request, reply) => {
    resets.request(request.body.email);
    return reply.code(202).send({ message: 'If an account exists for this address, we have sent a link to it.' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  const ask = async (email: string) => {
    const res = await fetch(`${base}/forgot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), body: await res.text() };
  };
  const existing = await ask('ada@example.com');
  const missing = await ask('nobody@example.com');
  // Both answers arrived while every lookup was still held: nothing about the
  // account can have reached them.
  assert.deepEqual(existing, missing);
  assert.equal(existing.status, 202);

  gate.resolve();
  const delivered = await sent.promise;
  assert.equal(delivered.email, 'ada@example.com');
  await lookups.get('nobody@example.com')?.promise;
  assert.deepEqual(looked.sort(), ['ada@example.com', 'nobody@example.com']);
  assert.equal((await resets.verify(delivered.token))?.email, 'ada@example.com');
});

test('a reset token works until it expires, and not after the password has changed', async () => {
  const store = accounts();
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const resets = createResetTokens<Account>({ secret: SECRET, ...store, send: () => Promise.resolve(), onError: () => {}, now: () => clock, ttlMs: 15 * 60_000 });
  const ada = store.byEmail.get('ada@example.com') as Account;
  const token = resets.issue(ada);
  assert.match(token, /^[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal((await resets.verify(token))?.id, '17');

  clock += 15 * 60_000 - 1000;
  assert.equal((await resets.verify(token))?.id, '17');
  clock += 1000;
  assert.equal(await resets.verify(token), null, 'expired');

  clock = Date.parse('2030-01-01T00:00:00Z');
  ada.passwordHash = '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaA';
  assert.equal(await resets.verify(token), null, 'used: the password it was issued for is gone');
});

test('a forged, altered or foreign token is refused', async () => {
  const store = accounts();
  const resets = createResetTokens<Account>({ secret: SECRET, ...store, send: () => Promise.resolve(), onError: () => {} });
  const other = createResetTokens<Account>({ secret: SECRET.replace('Q', 'R'), ...store, send: () => Promise.resolve(), onError: () => {} });
  const token = resets.issue(store.byEmail.get('ada@example.com') as Account);
  const [id = '', expires = '', mac = ''] = token.split('.');
  const graceId = Buffer.from('18').toString('base64url');
  for (const bad of [
    `${graceId}.${expires}.${mac}`, // someone else's account with ada's MAC
    `${id}.${Number(expires) + 3600}.${mac}`, // a later expiry
    `${id}.${expires}.${mac.slice(0, -2)}AA`,
    other.issue(store.byEmail.get('ada@example.com') as Account), // another secret
    '',
    'not a token',
    `${token}.extra`,
  ]) {
    assert.equal(await resets.verify(bad), null, bad);
  }
});

test('a failure after the answer goes to onError, and the process goes on', async () => {
  const store = accounts();
  const failed = Promise.withResolvers<unknown>();
  const resets = createResetTokens<Account>({
    secret: SECRET,
    ...store,
    send: () => Promise.reject(new Error('smtp: connection refused')),
    onError: (err) => failed.resolve(err),
  });
  resets.request('grace@example.com');
  const err = await failed.promise;
  assert.match(String(err), /smtp: connection refused/);
});

test('createResetTokens refuses a short secret and a missing callback when it is built', () => {
  const store = accounts();
  const isOptionsError = (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_RESET_OPTIONS';
  assert.throws(() => createResetTokens<Account>({ secret: 'changeme', ...store, send: () => Promise.resolve(), onError: () => {} }), isOptionsError);
  assert.throws(() => createResetTokens<Account>({ secret: SECRET, ...store, send: () => Promise.resolve(), onError: undefined as unknown as () => void }), isOptionsError);
  assert.throws(() => createResetTokens<Account>({ secret: SECRET, ...store, send: () => Promise.resolve(), onError: () => {}, ttlMs: 0 }), isOptionsError);
});
