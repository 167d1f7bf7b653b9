// Strong entity tags from content (RFC 9110 §8.8.3): two responses get the
// same tag only when their bytes are the same, which is what "strong" means
// (§8.8.1), on every instance of the app without any shared state.
import { createHash } from 'node:crypto';

/**
 * `"<22 characters>"`: the first 128 bits of the SHA-256 of `body`, base64url.
 * 128 bits make an accidental collision negligible; the characters are all
 * etagc (§8.8.3), so the tag needs no escaping.
 */
export function strongEtag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest().subarray(0, 16).toString('base64url')}"`;
}
