// Can a client tell "no such account" from "wrong password" by the time the
// login takes? Logins go through a real Fastify app on a real socket against
// a real PostgreSQL; the two kinds are interleaved so that whatever else the
// machine does falls on both alike. The same statistic must flag a leaky
// login (no dummy hash), or the test proves nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from '@rampart/data';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';
import { hashPassword, verifyPassword } from '../passwords/hasher.ts';
import { authenticate } from './authenticate.ts';
import { kolmogorovSmirnov, median } from './two-sample.ts';

interface User {
  id: string;
  passwordHash: string;
}

const ALPHA = 0.001;
let pg: TestPostgres;
let app: FastifyInstance;
let base: string;

before(async () => {
  pg = await startTestPostgres();
  await pg.db.pool.query('create table users (id bigserial primary key, email text not null unique, password_hash text not null)');
  await pg.db.query(sql`insert into users (email, password_hash) values (${'ada@example.com'}, ${await hashPassword('correct horse battery staple')})`);
  const findUser = (login: string) => pg.db.maybeOne<User>(sql`select id::text, password_hash as "passwordHash" from users where email = ${login}`);

  app = Fastify();
  app.post<{ Body: { login: string; password: string } }>('/login', async (request, reply) => {
    const user = await authenticate({ login: request.body.login, password: request.body.password, findUser });
    if (user === null) return reply.code(401).send({ error: 'invalid login or password' });
    return { id: user.id };
  });
  // The mistake the kit prevents: answer at once when the account is missing.
  app.post<{ Body: { login: string; password: string } }>('/leaky-login', async (request, reply) => {
    const user = await findUser(request.body.login);
    if (user === null || !(await verifyPassword(user.passwordHash, request.body.password)).ok) {
      return reply.code(401).send({ error: 'invalid login or password' });
    }
    return { id: user.id };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
after(async () => {
  await app.close();
  await pg.stop();
});

async function timeLogin(path: string, login: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password: 'wrong horse battery staple' }),
  });
  await res.arrayBuffer();
  const elapsed = performance.now() - started;
  assert.equal(res.status, 401);
  return elapsed;
}

/** `pairs` logins of each kind, ABAB…, the order inside a pair alternating so that a drift favours neither. */
async function measure(path: string, pairs: number): Promise<{ existing: number[]; missing: number[] }> {
  for (let i = 0; i < 8; i++) {
    await timeLogin(path, 'ada@example.com');
    await timeLogin(path, `warmup-${i}@example.com`);
  }
  const existing: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      existing.push(await timeLogin(path, 'ada@example.com'));
      missing.push(await timeLogin(path, `nobody-${i}@example.com`));
    } else {
      missing.push(await timeLogin(path, `nobody-${i}@example.com`));
      existing.push(await timeLogin(path, 'ada@example.com'));
    }
  }
  return { existing, missing };
}

function describe(name: string, sample: { existing: number[]; missing: number[] }) {
  const ks = kolmogorovSmirnov(sample.existing, sample.missing);
  // Both logins of a pair ran back to back, under the same load: the median
  // of their ratios cancels what the machine was doing, where a ratio of the
  // two medians can jump between the modes of a loaded machine.
  const pairedRatio = median(sample.existing.map((ms, i) => ms / (sample.missing[i] as number)));
  const summary = `${name}: n=${sample.existing.length}+${sample.missing.length}, median existing ${median(sample.existing).toFixed(2)} ms, missing ${median(sample.missing).toFixed(2)} ms, paired median ratio ${pairedRatio.toFixed(3)}, KS D=${ks.d.toFixed(3)} p=${ks.p.toExponential(2)}`;
  return { ...ks, pairedRatio, summary };
}

test('the two-sample statistic: identical samples are not told apart, disjoint ones are', () => {
  const a = Array.from({ length: 60 }, (_, i) => 30 + (i % 10) / 10);
  assert.deepEqual(kolmogorovSmirnov(a, [...a].reverse()), { d: 0, p: 1 });
  const far = kolmogorovSmirnov(a, a.map((x) => x - 29));
  assert.equal(far.d, 1);
  assert.ok(far.p < 1e-20);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('login time does not tell an unknown account from a wrong password (KS p ≥ 0.001, paired median ratio within 0.8–1.25)', async (t) => {
  const result = describe('authenticate', await measure('/login', 64));
  t.diagnostic(result.summary);
  assert.ok(result.p >= ALPHA, `distinguishable: ${result.summary}`);
  assert.ok(result.pairedRatio > 0.8 && result.pairedRatio < 1.25, `medians differ: ${result.summary}`);
});

test('the same statistic flags a login that skips the hash for an unknown account', async (t) => {
  const result = describe('leaky', await measure('/leaky-login', 64));
  t.diagnostic(result.summary);
  assert.ok(result.p < ALPHA, `not flagged: ${result.summary}`);
  assert.ok(result.pairedRatio > 2, `medians too close: ${result.summary}`);
});
