import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StickyCookies, readCookie, STICKY_KEYS_ENV } from './sticky.ts';

const A = 'http://127.0.0.1:3001';
const B = 'http://127.0.0.1:3002';
const key = (c: string) => Buffer.from(c.repeat(32));

function cookieOf(setCookie: string): string {
  return setCookie.split(';')[0]!;
}

test('a cookie it issued pins to the same server, and names it only by an opaque token', () => {
  const sticky = new StickyCookies({ cookie: 'rs', ttlMs: 60_000, keys: [key('a')] });
  const set = sticky.issue(B, false);
  assert.equal(sticky.verify(cookieOf(set), [A, B]), B);
  assert.ok(!set.includes('127.0.0.1') && !set.includes('3002'), set);
  assert.match(set, /; Path=\/; Max-Age=60; HttpOnly; SameSite=Lax$/);
  assert.match(sticky.issue(B, true), /; Secure$/);
});

test('tampered, truncated, foreign or expired cookies count as absent', () => {
  let now = 1_000_000;
  const sticky = new StickyCookies({ cookie: 'rs', ttlMs: 1000, keys: [key('a')], now: () => now });
  const value = cookieOf(sticky.issue(A, false)).slice(3);
  const [token, expiry, sig] = value.split('.') as [string, string, string];
  const other = new StickyCookies({ cookie: 'rs', ttlMs: 1000, keys: [key('b')], now: () => now });
  const cases = [
    `rs=${token}.${Number(expiry) + 1}.${sig}`, // extended expiry
    `rs=${token.slice(1)}x.${expiry}.${sig}`, // other server token
    `rs=${token}.${expiry}.${sig.slice(0, -2)}AA`, // forged signature
    `rs=${token}.${expiry}`, // truncated
    `rs=`,
    `rs=${'a'.repeat(5000)}`,
    cookieOf(other.issue(A, false)), // signed with a key we do not have
  ];
  for (const c of cases) assert.equal(sticky.verify(c, [A, B]), null, c);
  assert.equal(sticky.verify(`rs=${value}`, [A, B]), A);
  now += 1001;
  assert.equal(sticky.verify(`rs=${value}`, [A, B]), null, 'expired');
});

test('a cookie for a server that is gone counts as absent', () => {
  const sticky = new StickyCookies({ cookie: 'rs', ttlMs: 60_000, keys: [key('a')] });
  assert.equal(sticky.verify(cookieOf(sticky.issue(A, false)), [B]), null);
});

test('key rotation: new cookies use the newest key, cookies signed with an older key still verify', () => {
  const old = new StickyCookies({ cookie: 'rs', ttlMs: 60_000, keys: [key('o')] });
  const rotated = new StickyCookies({ cookie: 'rs', ttlMs: 60_000, keys: [key('n'), key('o')] });
  const fromOld = cookieOf(old.issue(A, false));
  assert.equal(rotated.verify(fromOld, [A, B]), A);
  const fromNew = cookieOf(rotated.issue(A, false));
  assert.equal(old.verify(fromNew, [A, B]), null, 'signed with the newest key');
  const retired = new StickyCookies({ cookie: 'rs', ttlMs: 60_000, keys: [key('n')] });
  assert.equal(retired.verify(fromOld, [A, B]), null, 'a removed key no longer verifies');
});

test('keys come from the environment, newest first, and short keys are refused', () => {
  assert.equal(StickyCookies.keysFromEnv({}), null);
  const keys = StickyCookies.keysFromEnv({ [STICKY_KEYS_ENV]: `${'n'.repeat(32)}, ${'o'.repeat(40)}` });
  assert.deepEqual(keys?.map((k) => k.length), [32, 40]);
  assert.throws(() => StickyCookies.keysFromEnv({ [STICKY_KEYS_ENV]: 'short' }), /at least 32 characters/);
});

test('readCookie finds a cookie among others, by exact name', () => {
  assert.equal(readCookie('a=1; rs=xyz; b=2', 'rs'), 'xyz');
  assert.equal(readCookie('xrs=1; rs = v ', 'rs'), 'v');
  assert.equal(readCookie('a=1', 'rs'), null);
  assert.equal(readCookie('rs=first; rs=second', 'rs'), 'first');
});
