import { test } from 'node:test';
import assert from 'node:assert/strict';
import argon2 from 'argon2';
import { KitError } from '../errors.ts';
import { createPasswordHasher, hashPassword, verifyPassword } from './hasher.ts';
import { parseArgon2 } from './phc.ts';

const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

test('hashPassword writes argon2id, v=19, m=19456,t=2,p=1, a 16-byte salt and a 32-byte hash as a PHC string', async () => {
  const first = await hashPassword('correct horse battery staple');
  const second = await hashPassword('correct horse battery staple');
  assert.match(first, PHC);
  assert.notEqual(first, second, 'a new random salt for every hash');
  const parts = parseArgon2(first);
  assert.equal(parts?.salt.length, 16);
  assert.equal(parts?.hash.length, 32);
  // Readable by the reference implementation's decoder (node-argon2 here).
  assert.equal(await argon2.verify(first, 'correct horse battery staple'), true);
});

test('verifyPassword: ok for the password, not for another one; no rehash with the same parameters', async () => {
  const stored = await hashPassword('correct horse battery staple');
  assert.deepEqual(await verifyPassword(stored, 'correct horse battery staple'), { ok: true, needsRehash: false });
  assert.deepEqual(await verifyPassword(stored, 'correct horse battery stapler'), { ok: false, needsRehash: false });
  assert.deepEqual(await verifyPassword(stored, 'Correct horse battery staple'), { ok: false, needsRehash: false }, 'no case folding');
  assert.deepEqual(await verifyPassword(stored, 'correct horse battery staple '), { ok: false, needsRehash: false }, 'no trimming');
});

test('the password is NFKC-normalised: é typed composed or decomposed is the same password', async () => {
  const stored = await hashPassword('caf\u00e9 au lait!');
  assert.equal((await verifyPassword(stored, 'cafe\u0301 au lait!')).ok, true);
});

test('a malformed or foreign stored hash is { ok: false }, never a throw', async () => {
  const good = await hashPassword('correct horse battery staple');
  const [, , , , salt, digest] = good.split('$');
  const malformed = [
    '',
    'correct horse battery staple',
    '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', // bcrypt
    '$pbkdf2-sha256$29000$N2ZM$Q9Kk',
    good.slice(0, -10),
    `$argon2id$v=19$m=4194304,t=2,p=1$${salt}$${digest}`, // 4 GiB: out of bounds
    `$argon2id$v=19$m=19456,t=2,p=1,p=1$${salt}$${digest}`,
    `$argon2id$v=19$m=19456,t=2$${salt}$${digest}`,
    `$argon2id$v=18$m=19456,t=2,p=1$${salt}$${digest}`,
    `$argon2id$v=19$m=19456,t=2,p=1$${salt}$!!!`,
    `$argon2id$v=19$m=19456,t=2,p=1$$${digest}`,
    `$toString$v=19$m=19456,t=2,p=1$${salt}$${digest}`,
  ];
  for (const stored of malformed) {
    assert.deepEqual(await verifyPassword(stored, 'correct horse battery staple'), { ok: false, needsRehash: false }, stored);
  }
  assert.deepEqual(await verifyPassword(null as unknown as string, 'x'), { ok: false, needsRehash: false });
  assert.deepEqual(await verifyPassword(good, undefined as unknown as string), { ok: false, needsRehash: false });
});

test('needsRehash once the parameters change, and for another Argon2 variant; never for a wrong password', async () => {
  const before = createPasswordHasher();
  const after = createPasswordHasher({ memoryCost: 19456, timeCost: 3 });
  const old = await before.hash('correct horse battery staple');
  assert.deepEqual(await after.verify(old, 'correct horse battery staple'), { ok: true, needsRehash: true });
  assert.deepEqual(await after.verify(old, 'wrong horse battery staple'), { ok: false, needsRehash: false });
  const renewed = await after.hash('correct horse battery staple');
  assert.match(renewed, /\$m=19456,t=3,p=1\$/);
  assert.deepEqual(await after.verify(renewed, 'correct horse battery staple'), { ok: true, needsRehash: false });
  assert.equal(before.needsRehash(renewed), true);

  const argon2i = await argon2.hash('correct horse battery staple', { type: argon2.argon2i, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  assert.deepEqual(await before.verify(argon2i, 'correct horse battery staple'), { ok: true, needsRehash: true });
});

test('rehash at login: the first login after a parameter change stores a new hash, the second does not', async () => {
  const account = { passwordHash: await createPasswordHasher().hash('correct horse battery staple') };
  const hasher = createPasswordHasher({ memoryCost: 47104, timeCost: 1 });
  let rehashes = 0;
  async function login(password: string): Promise<boolean> {
    const { ok, needsRehash } = await hasher.verify(account.passwordHash, password);
    if (needsRehash) {
      account.passwordHash = await hasher.hash(password);
      rehashes++;
    }
    return ok;
  }
  assert.equal(await login('wrong password here'), false);
  assert.equal(rehashes, 0);
  assert.equal(await login('correct horse battery staple'), true);
  assert.equal(rehashes, 1);
  assert.match(account.passwordHash, /^\$argon2id\$v=19\$m=47104,t=1,p=1\$/);
  assert.equal(await login('correct horse battery staple'), true);
  assert.equal(rehashes, 1);
});

test('createPasswordHasher refuses parameters below the OWASP minimums when it is built', () => {
  const refused = [{ memoryCost: 4096 }, { memoryCost: 19456, timeCost: 1 }, { memoryCost: 7168, timeCost: 4 }, { parallelism: 0 }, { timeCost: 1.5 }, { memoryCost: 1 << 24 }];
  for (const options of refused) {
    assert.throws(() => createPasswordHasher(options), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_PASSWORD_PARAMS', JSON.stringify(options));
  }
  assert.deepEqual(createPasswordHasher({ memoryCost: 47104, timeCost: 1 }).parameters, { memoryCost: 47104, timeCost: 1, parallelism: 1 });
  assert.deepEqual(createPasswordHasher({ memoryCost: 7168, timeCost: 5 }).parameters, { memoryCost: 7168, timeCost: 5, parallelism: 1 });
  assert.deepEqual(createPasswordHasher().parameters, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
});
