// Session ids and what the stores key them by.
import { createHash, randomBytes } from 'node:crypto';

// 256 bits of CSPRNG output: well above the 64 bits of entropy OWASP's
// Session Management Cheat Sheet asks for (and ASVS 5.0 V7.2.3's 128).
const ID_BYTES = 32;
const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export function createSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** Anything else in the cookie is treated as "no session", without a store lookup. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && ID_FORMAT.test(value);
}

/**
 * Stores key records by SHA-256 of the id, so that a copy of the table or of
 * the Redis keys does not hand out live session ids (ASVS V7.2.4 intent: the
 * token is a bearer secret; keep only its digest at rest). A plain hash is
 * enough because the id has 256 bits of entropy: nothing to brute-force.
 */
export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
