import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSealer, parseKeys } from './seal.ts';
import { KitError } from '../errors.ts';

const key = () => randomBytes(32).toString('base64url');
const K1 = key();
const K2 = key();

test('keys are 32 bytes as base64 or base64url; anything else is refused naming the index, never the value', () => {
  const raw = randomBytes(32);
  assert.equal(parseKeys([raw.toString('base64'), raw.toString('base64url')]).length, 2);
  const short = randomBytes(16).toString('base64url');
  const cases: [unknown, RegExp][] = [
    [[], /non-empty array/],
    ['not-an-array', /non-empty array/],
    [[K1, short], /keys\[1\] decodes to 16 bytes; it must be exactly 32/],
    [[randomBytes(48).toString('base64')], /decodes to 48 bytes/],
    [['correct horse battery staple'], /keys\[0\] is not a base64/],
    [[42], /keys\[0\] is not a base64/],
  ];
  for (const [keys, message] of cases) {
    assert.throws(() => parseKeys(keys), (err: unknown) => {
      assert.ok(err instanceof KitError && err.code === 'RAMPART_ERR_SESSION_KEY');
      assert.match(err.message, message);
      assert.match(err.message, /randomBytes\(32\)/, 'says how to make a key');
      assert.ok(!err.message.includes(short), 'the key is not echoed');
      return true;
    });
  }
});

test('seal and unseal round-trip; every seal has its own IV', () => {
  const sealer = createSealer(parseKeys([K1]));
  const a = sealer.seal('{"hello":"wörld"}', 'rampart.session');
  const b = sealer.seal('{"hello":"wörld"}', 'rampart.session');
  assert.notEqual(a, b);
  assert.notDeepEqual(Buffer.from(a, 'base64url').subarray(1, 13), Buffer.from(b, 'base64url').subarray(1, 13));
  assert.deepEqual(sealer.unseal(a, 'rampart.session'), { plaintext: '{"hello":"wörld"}', keyIndex: 0 });
  assert.ok(!Buffer.from(a, 'base64url').includes('hello'), 'the payload is encrypted, not just signed');
  assert.equal(a.length, sealer.sealedLength(Buffer.byteLength('{"hello":"wörld"}')));
});

test('flipping any bit of any byte makes the value unreadable', () => {
  const sealer = createSealer(parseKeys([K1]));
  const sealed = Buffer.from(sealer.seal('{"user":"ada","admin":false}', 'n'), 'base64url');
  for (let i = 0; i < sealed.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const copy = Buffer.from(sealed);
      copy[i]! ^= bit;
      assert.equal(sealer.unseal(copy.toString('base64url'), 'n'), null, `byte ${i} bit ${bit}`);
    }
  }
  assert.equal(sealer.unseal(sealed.subarray(0, -1).toString('base64url'), 'n'), null, 'truncated');
  assert.equal(sealer.unseal('', 'n'), null);
  assert.equal(sealer.unseal('not base64url!', 'n'), null);
});

test('the cookie name is bound as additional data: a value moved to another cookie name is refused', () => {
  const sealer = createSealer(parseKeys([K1]));
  const sealed = sealer.seal('{}', 'rampart.session');
  assert.equal(sealer.unseal(sealed, '__Host-rampart.session'), null);
  assert.equal(sealer.unseal(sealed, 'other'), null);
});

test('a non-canonical base64url spelling of a valid value is refused', () => {
  const sealer = createSealer(parseKeys([K1]));
  // 1 + 12 + 2 + 16 = 31 bytes: 42 characters, the last carrying 4 unused bits.
  const sealed = sealer.seal('{}', 'n');
  const last = sealed.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
  const variant = sealed.slice(0, -1) + sibling;
  assert.deepEqual(Buffer.from(variant, 'base64url'), Buffer.from(sealed, 'base64url'), 'same bytes');
  assert.equal(sealer.unseal(variant, 'n'), null);
});

test('rotation: every listed key opens, only the newest seals, a dropped key no longer opens', () => {
  const old = createSealer(parseKeys([K1])).seal('{"v":1}', 'n');
  const rotated = createSealer(parseKeys([K2, K1]));
  assert.deepEqual(rotated.unseal(old, 'n'), { plaintext: '{"v":1}', keyIndex: 1 });
  const fresh = rotated.seal('{"v":2}', 'n');
  assert.deepEqual(createSealer(parseKeys([K2])).unseal(fresh, 'n'), { plaintext: '{"v":2}', keyIndex: 0 });
  assert.equal(createSealer(parseKeys([K2])).unseal(old, 'n'), null);
});
