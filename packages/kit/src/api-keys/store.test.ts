import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from '@rampart/data';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';
import { KitError } from '../errors.ts';
import { createApiKeyStore } from './store.ts';

let pg: TestPostgres;
let clock = new Date('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;
const later = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

before(async () => {
  pg = await startTestPostgres();
  await pg.db.pool.query(await readFile(path.join(import.meta.dirname, '..', '..', 'migrations', '002_api_keys.sql'), 'utf8'));
});
after(() => pg.stop());

const store = () => createApiKeyStore(pg.db, { now: () => clock });
const isCode = (code: string) => (err: unknown) => err instanceof KitError && err.code === code;

test('issue: rk_<16 hex>_<43 base64url>, shown once; the table holds its SHA-256, not the key', async () => {
  const keys = store();
  const issued = await keys.issue({ ownerId: 'user-1', name: 'ci', scopes: ['flights:read', 'flights:read', 'bookings:write'] });
  assert.match(issued.key, /^rk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.equal(issued.key.split('_')[1], issued.prefix);
  assert.equal(Buffer.from(issued.key.slice(20), 'base64url').length, 32, '256 random bits');

  const row = await pg.db.one<Record<string, unknown>>(sql`select * from kit_api_keys where id = ${issued.id}::uuid`);
  assert.deepEqual(row.key_hash, createHash('sha256').update(issued.key).digest());
  assert.ok(!JSON.stringify(row).includes(issued.key.slice(20)), 'the secret is nowhere in the row');
  assert.deepEqual(row.scopes, ['flights:read', 'bookings:write']);

  assert.deepEqual(await keys.verify(issued.key), { id: issued.id, ownerId: 'user-1', scopes: ['flights:read', 'bookings:write'] });
  const listed = await keys.list('user-1');
  assert.deepEqual(listed, [{ id: issued.id, name: 'ci', prefix: issued.prefix, scopes: ['flights:read', 'bookings:write'], createdAt: clock, expiresAt: null, revokedAt: null, lastUsedAt: clock }]);
  assert.ok(!JSON.stringify(listed).includes(issued.key), 'list never shows the key');
  assert.deepEqual(await keys.list('user-2'), []);
});

test('verify: malformed, unknown, altered, expired and revoked keys are null', async () => {
  const keys = store();
  const good = await keys.issue({ ownerId: 'user-3', name: 'short-lived', scopes: [], expiresAt: new Date(clock.getTime() + HOUR) });
  const other = await keys.issue({ ownerId: 'user-3', name: 'other', scopes: [] });
  const flip = (key: string) => key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
  for (const bad of ['', 'rk_', 'Bearer ' + good.key, good.key + 'x', flip(good.key), `rk_${other.prefix}_${good.key.slice(20)}`, `rk_0123456789abcdef_${good.key.slice(20)}`, good.key.toUpperCase()]) {
    assert.equal(await keys.verify(bad), null, bad);
  }
  assert.equal(await keys.verify(undefined as unknown as string), null);

  assert.notEqual(await keys.verify(good.key), null);
  later(HOUR - 1);
  assert.notEqual(await keys.verify(good.key), null, 'one millisecond before expiry');
  later(1);
  assert.equal(await keys.verify(good.key), null, 'expired');

  assert.notEqual(await keys.verify(other.key), null);
  await keys.revoke(other.id);
  assert.equal(await keys.verify(other.key), null, 'revoked');
  await keys.revoke(other.id); // idempotent
  const [info] = (await keys.list('user-3')).filter((k) => k.id === other.id);
  assert.deepEqual(info?.revokedAt, clock);
});

test('rotate: a new key at once; the old one works until the overlap ends (24 h by default), then not', async () => {
  const keys = store();
  const old = await keys.issue({ ownerId: 'user-4', name: 'deploy', scopes: ['flights:read'] });
  const next = await keys.rotate(old.id);
  assert.notEqual(next.key, old.key);
  assert.notEqual(next.id, old.id);
  assert.deepEqual(await keys.verify(next.key), { id: next.id, ownerId: 'user-4', scopes: ['flights:read'] });
  assert.notEqual(await keys.verify(old.key), null);

  later(24 * HOUR - 1);
  assert.notEqual(await keys.verify(old.key), null, 'still inside the overlap');
  later(1);
  assert.equal(await keys.verify(old.key), null, 'overlap over');
  assert.notEqual(await keys.verify(next.key), null);
  const listed = await keys.list('user-4');
  assert.deepEqual(listed.map((k) => [k.name, k.expiresAt === null]), [['deploy', false], ['deploy', true]]);

  const third = await keys.rotate(next.id, { overlapMs: 0 });
  assert.equal(await keys.verify(next.key), null, 'overlapMs 0 ends the old key now');
  assert.notEqual(await keys.verify(third.key), null);
});

test('rotate keeps a key\'s lifetime, and never lengthens the old key', async () => {
  const keys = store();
  const old = await keys.issue({ ownerId: 'user-5', name: 'weekly', scopes: [], expiresAt: new Date(clock.getTime() + 7 * 24 * HOUR) });
  later(6 * 24 * HOUR + 23 * HOUR); // one hour left
  const next = await keys.rotate(old.id, { overlapMs: 48 * HOUR });
  const [oldInfo, nextInfo] = await keys.list('user-5');
  assert.equal(oldInfo?.expiresAt?.getTime(), clock.getTime() + HOUR, 'the overlap does not outlive the original expiry');
  assert.equal(nextInfo?.id, next.id);
  assert.equal(nextInfo?.expiresAt?.getTime(), clock.getTime() + 7 * 24 * HOUR);
});

test('rotate and revoke: an unknown id, another owner\'s key or a dead key is RAMPART_ERR_API_KEY_NOT_FOUND', async () => {
  const keys = store();
  const mine = await keys.issue({ ownerId: 'user-6', name: 'mine', scopes: [] });
  await assert.rejects(keys.rotate('not-a-uuid'), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'));
  await assert.rejects(keys.rotate('00000000-0000-4000-8000-000000000000'), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'));
  await assert.rejects(keys.rotate(mine.id, { ownerId: 'user-7' }), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'));
  await assert.rejects(keys.revoke(mine.id, { ownerId: 'user-7' }), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'));
  await assert.rejects(keys.revoke("1' or '1'='1"), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'));
  assert.notEqual(await keys.verify(mine.key), null, 'untouched by the refused calls');
  assert.equal((await keys.list('user-6')).length, 1);
  await keys.revoke(mine.id, { ownerId: 'user-6' });
  await assert.rejects(keys.rotate(mine.id), isCode('RAMPART_ERR_API_KEY_NOT_FOUND'), 'a revoked key is not rotated back to life');
});

test('last_used_at is written on first use and then at most once a minute', async () => {
  const keys = store();
  const issued = await keys.issue({ ownerId: 'user-8', name: 'usage', scopes: [] });
  const lastUsed = async () => (await keys.list('user-8'))[0]?.lastUsedAt ?? null;
  assert.equal(await lastUsed(), null);
  const first = clock;
  await keys.verify(issued.key);
  assert.deepEqual(await lastUsed(), first);
  later(59_000);
  await keys.verify(issued.key);
  assert.deepEqual(await lastUsed(), first, 'not rewritten within the minute');
  later(1_000);
  await keys.verify(issued.key);
  assert.deepEqual(await lastUsed(), clock);
});

test('issue refuses bad input before touching the database', async () => {
  const keys = store();
  const bad = [
    { ownerId: '', name: 'x', scopes: [] },
    { ownerId: 'user-9', name: ' ', scopes: [] },
    { ownerId: 'user-9', name: 'x', scopes: ['has space'] },
    { ownerId: 'user-9', name: 'x', scopes: 'flights:read' as unknown as string[] },
    { ownerId: 'user-9', name: 'x', scopes: [], expiresAt: new Date(clock.getTime() - 1) },
    { ownerId: 'user-9', name: 'x', scopes: [], expiresAt: new Date('nonsense') },
  ];
  for (const input of bad) await assert.rejects(keys.issue(input), isCode('RAMPART_ERR_API_KEY_INPUT'), JSON.stringify(input));
  assert.deepEqual(await keys.list('user-9'), []);
});
