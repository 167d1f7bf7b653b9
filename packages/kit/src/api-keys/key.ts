// The API key format: `rk_<prefix>_<secret>`.
//   prefix: 8 random bytes as 16 lower-case hex characters; not secret, it
//           names the key in lists and logs and finds its row.
//   secret: 32 random bytes (256 bits) as 43 base64url characters.
// The `rk_` marker lets secret scanners (and people) recognise a leaked key.
import { createHash, randomBytes } from 'node:crypto';

const KEY = /^rk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

export function generateKey(): NewKey {
  const prefix = randomBytes(8).toString('hex');
  const key = `rk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashKey(key) };
}

/** The prefix of a well-formed key, or null. */
export function keyPrefix(key: unknown): string | null {
  if (typeof key !== 'string') return null;
  return KEY.exec(key)?.[1] ?? null;
}

// SHA-256, not argon2: the secret is 256 random bits, so there is no
// dictionary to try and a slow hash would protect nothing while costing every
// request a verification (ASVS 5.0 6.5.2: "a standard hash function can be used
// if the secret has 112 bits of entropy or more"). The whole key is hashed,
// so a row's prefix only ever matches its own secret.
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
