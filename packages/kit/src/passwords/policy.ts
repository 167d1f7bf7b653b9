// The password policy of OWASP ASVS 5.0 6.2 (NIST SP 800-63B §5.1.1.2):
// length is what matters, so there is a minimum and a generous maximum, no
// composition rules (6.2.5), spaces and every other character allowed, and a
// refusal of passwords an attacker tries first: common ones (6.2.4) and the
// account's own words (6.2.11).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface PasswordPolicyOptions {
  /** Words of this account an attacker would try: its email, username, name. Compared case-insensitively. */
  context?: readonly string[];
}

export type PasswordPolicyResult = { ok: true } | { ok: false; reason: string };

/** ASVS 5.0 6.2.1: at least 8 (15 is recommended, and a caller may ask for it in the UI). */
export const PASSWORD_MIN_LENGTH = 8;
/** ASVS 5.0 6.2.9 wants at least 64 allowed; ASVS 4.0.3 2.1.2 caps at 128. */
export const PASSWORD_MAX_LENGTH = 128;

const LIST_FILE = path.join(import.meta.dirname, '..', '..', 'data', 'common-passwords.txt');
let common: Set<string> | undefined;

// Read on first use, not at import: an app that never checks a policy (a
// worker, a CLI) does not pay for 18 000 strings.
function commonPasswords(): Set<string> {
  common ??= new Set(readFileSync(LIST_FILE, 'utf8').split('\n').filter((line) => line !== ''));
  return common;
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

export function checkPasswordPolicy(password: string, options: PasswordPolicyOptions = {}): PasswordPolicyResult {
  if (typeof password !== 'string') return { ok: false, reason: 'Enter a password.' };
  // Code points after NFKC, the form that is hashed: "é" typed either way
  // counts once, a character outside the BMP (an emoji) once, not twice as
  // in .length. Never truncated (ASVS 5.0 6.2.8).
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN_LENGTH) return { ok: false, reason: `Use at least ${PASSWORD_MIN_LENGTH} characters.` };
  if (length > PASSWORD_MAX_LENGTH) return { ok: false, reason: `Use at most ${PASSWORD_MAX_LENGTH} characters.` };
  const folded = fold(password);
  if (commonPasswords().has(folded)) return { ok: false, reason: 'This password is too common: it is among the first an attacker would try. Choose another one.' };
  for (const word of options.context ?? []) {
    if (typeof word !== 'string' || word.trim() === '') continue;
    const value = fold(word.trim());
    // The local part of an email address is the username people reuse.
    const at = value.lastIndexOf('@');
    if (folded === value || (at > 0 && folded === value.slice(0, at))) {
      return { ok: false, reason: 'The password must not be your email address or username.' };
    }
  }
  return { ok: true };
}
