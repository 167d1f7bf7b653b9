import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPasswordPolicy } from './policy.ts';

const refused = (password: string, context?: string[]) => {
  const result = checkPasswordPolicy(password, { context });
  assert.equal(result.ok, false, `${JSON.stringify(password)} should be refused`);
  return result.ok ? '' : result.reason;
};

test('length: 8 to 128 code points; shorter and longer are refused, never truncated', () => {
  assert.match(refused('Zq7#vL2'), /at least 8/);
  assert.deepEqual(checkPasswordPolicy('Zq7#vL2m'), { ok: true });
  assert.deepEqual(checkPasswordPolicy('a'.repeat(64)), { ok: true }, 'ASVS 5.0 6.2.9: 64 must be allowed');
  assert.deepEqual(checkPasswordPolicy('x9'.repeat(64)), { ok: true }, '128 is allowed');
  assert.match(refused('x9'.repeat(64) + 'z'), /at most 128/);
  assert.match(refused('y'.repeat(1000)), /at most 128/);
});

test('no composition rules: spaces, letters only or digits only are fine', () => {
  assert.deepEqual(checkPasswordPolicy('correct horse battery staple'), { ok: true });
  assert.deepEqual(checkPasswordPolicy('flughafenzubringer'), { ok: true });
  assert.deepEqual(checkPasswordPolicy('58203917446'), { ok: true });
});

test('common passwords from the bundled list are refused, whatever their case or width', () => {
  for (const password of ['password123', 'qwertyuiop', 'PASSWORD123', 'QwertyUiop', '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11\uff12\uff13', 'iloveyou2', 'baseball']) {
    assert.match(refused(password), /too common/, password);
  }
});

test('length counts Unicode code points after NFKC, not UTF-16 units', () => {
  // 7 emoji are 14 UTF-16 units: still 7 characters.
  assert.match(refused('\u{1F512}'.repeat(7)), /at least 8/);
  assert.deepEqual(checkPasswordPolicy('\u{1F512}'.repeat(8)), { ok: true });
  // e + combining acute: 14 code points typed, 7 after NFKC composes them.
  assert.match(refused('e\u0301'.repeat(7)), /at least 8/);
  assert.deepEqual(checkPasswordPolicy('\u00e9t\u00e9 \u00e0 Z\u00fcrich'), { ok: true });
  // 128 emoji are 256 UTF-16 units and allowed; 129 are not.
  assert.deepEqual(checkPasswordPolicy('\u{1F680}'.repeat(128)), { ok: true });
  assert.match(refused('\u{1F680}'.repeat(129)), /at most 128/);
});

test('a password equal to a context word (email, its local part, username) is refused, case-insensitively', () => {
  const context = ['ada.lovelace@example.com', 'AdaTheCountess', ''];
  assert.match(refused('Ada.Lovelace@Example.com', context), /email address or username/);
  assert.match(refused('ADA.LOVELACE', context), /email address or username/);
  assert.match(refused('adathecountess', context), /email address or username/);
  assert.deepEqual(checkPasswordPolicy('ada lovelace wrote the first program', { context }), { ok: true });
  assert.deepEqual(checkPasswordPolicy('adathecountess'), { ok: true }, 'without context it is not special');
});
