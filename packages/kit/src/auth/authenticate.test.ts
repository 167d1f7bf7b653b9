import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '@rampart/data';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';
import { createPasswordHasher, hashPassword } from '../passwords/hasher.ts';
import { authenticate } from './authenticate.ts';

interface User {
  id: string;
  email: string;
  passwordHash: string;
}

let pg: TestPostgres;

before(async () => {
  pg = await startTestPostgres();
  await pg.db.pool.query('create table users (id bigserial primary key, email text not null unique, password_hash text not null)');
});
after(() => pg.stop());

async function addUser(email: string, passwordHash: string): Promise<void> {
  await pg.db.query(sql`insert into users (email, password_hash) values (${email}, ${passwordHash})`);
}

function findUser(login: string): Promise<User | null> {
  return pg.db.maybeOne<User>(sql`select id::text, email, password_hash as "passwordHash" from users where email = ${login}`);
}

test('authenticate: the user for the right password; the same null for a wrong password and for an unknown login', async () => {
  await addUser('ada@example.com', await hashPassword('correct horse battery staple'));
  const user = await authenticate({ login: 'ada@example.com', password: 'correct horse battery staple', findUser });
  assert.equal(user?.email, 'ada@example.com');
  assert.equal(await authenticate({ login: 'ada@example.com', password: 'wrong horse battery staple', findUser }), null);
  assert.equal(await authenticate({ login: 'nobody@example.com', password: 'correct horse battery staple', findUser }), null);
  assert.equal(await authenticate({ login: 'nobody@example.com', password: 'x', findUser: () => Promise.resolve(undefined as unknown as null) }), null);
});

test('authenticate: a corrupt stored hash is a failed login, not a throw', async () => {
  await addUser('corrupt@example.com', '$argon2id$v=19$m=19456,t=2,p=1$not-base64$');
  assert.equal(await authenticate({ login: 'corrupt@example.com', password: 'correct horse battery staple', findUser }), null);
});

test('authenticate: onRehash stores an upgraded hash at the first successful login after a parameter change, and only then', async () => {
  await addUser('grace@example.com', await hashPassword('a ship in port is safe'));
  const hasher = createPasswordHasher({ memoryCost: 19456, timeCost: 3 });
  const rehashed: string[] = [];
  const onRehash = async (user: User, newHash: string) => {
    rehashed.push(user.email);
    await pg.db.query(sql`update users set password_hash = ${newHash} where id = ${user.id}::bigint`);
  };

  assert.equal(await authenticate({ login: 'grace@example.com', password: 'a ship in port is unsafe', findUser, onRehash, hasher }), null);
  assert.deepEqual(rehashed, [], 'a wrong password never triggers a rehash');

  assert.equal((await authenticate({ login: 'grace@example.com', password: 'a ship in port is safe', findUser, onRehash, hasher }))?.email, 'grace@example.com');
  assert.deepEqual(rehashed, ['grace@example.com']);
  const stored = await pg.db.one<{ password_hash: string }>(sql`select password_hash from users where email = ${'grace@example.com'}`);
  assert.match(stored.password_hash, /^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);

  assert.equal((await authenticate({ login: 'grace@example.com', password: 'a ship in port is safe', findUser, onRehash, hasher }))?.email, 'grace@example.com');
  assert.deepEqual(rehashed, ['grace@example.com'], 'the new hash has the current parameters: no second rehash');
});
