// AES-256-GCM sealing of a whole session into a cookie value.
//
//   value = base64url( version (1) ‖ IV (12) ‖ ciphertext ‖ tag (16) )
//
// The additional authenticated data is the version byte and the cookie name,
// so a value cannot be replayed under another cookie name or reinterpreted by
// a later format. Each seal draws a fresh random 96-bit IV (NIST SP 800-38D
// §8.2.2; rotate the key well before 2^32 seals).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { KitError } from '../errors.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface Sealer {
  /** Seals with the newest key. */
  seal(plaintext: string, cookieName: string): string;
  /** The plaintext and which key opened it (0 = newest); null for anything that does not verify. */
  unseal(value: string, cookieName: string): { plaintext: string; keyIndex: number } | null;
  /** Length of seal()'s output for a plaintext of this many bytes. */
  sealedLength(plaintextBytes: number): number;
}

function keyError(message: string): never {
  throw new KitError('RAMPART_ERR_SESSION_KEY', `kitCookieSessions: ${message}. Make one with: node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`);
}

/** Keys as given (base64 or base64url of 32 random bytes, newest first) → AES keys. Key values never appear in errors. */
export function parseKeys(keys: unknown): Buffer[] {
  if (!Array.isArray(keys) || keys.length === 0) keyError('keys must be a non-empty array of 32-byte keys, newest first');
  return keys.map((key: unknown, i) => {
    if (typeof key !== 'string' || !BASE64.test(key)) keyError(`keys[${i}] is not a base64 or base64url string`);
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== KEY_BYTES) keyError(`keys[${i}] decodes to ${raw.length} bytes; it must be exactly ${KEY_BYTES} random bytes`);
    // HKDF (RFC 5869) gives this use its own key, so the same secret given to
    // another component (or a future format version) does not share a key.
    return Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'rampart cookie-session v1', KEY_BYTES));
  });
}

function aad(cookieName: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION]), Buffer.from(cookieName, 'utf8')]);
}

export function createSealer(keys: readonly Buffer[]): Sealer {
  const newest = keys[0];
  if (!newest) keyError('keys must not be empty');
  return {
    seal(plaintext, cookieName) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', newest, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(cookieName));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    unseal(value, cookieName) {
      if (!BASE64URL.test(value)) return null;
      const raw = Buffer.from(value, 'base64url');
      // One value per seal: a non-canonical spelling of the same bytes is refused too.
      if (raw.toString('base64url') !== value) return null;
      if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) return null;
      const iv = raw.subarray(1, 1 + IV_BYTES);
      const body = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
      const tag = raw.subarray(raw.length - TAG_BYTES);
      for (const [keyIndex, key] of keys.entries()) {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(cookieName));
        decipher.setAuthTag(tag);
        try {
          const plaintext = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
          return { plaintext, keyIndex };
        } catch {
          // Not this key (or tampered): try the next, then give up.
        }
      }
      return null;
    },
    sealedLength(plaintextBytes) {
      return Math.ceil(((1 + IV_BYTES + plaintextBytes + TAG_BYTES) * 4) / 3);
    },
  };
}
