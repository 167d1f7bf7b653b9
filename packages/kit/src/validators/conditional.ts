// If-None-Match (RFC 9110 §13.1.2) and the 304 answer (§15.4.5), shared by
// kitEtag and kitStatic.
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The opaque-tags of an If-None-Match field value, or '*'; null when the value
 * is not a valid list (a recipient that cannot parse a precondition must not
 * act on it, so the caller answers as if there were none).
 *
 *   If-None-Match = "*" / #entity-tag
 *   entity-tag    = [ "W/" ] DQUOTE *etagc DQUOTE
 *
 * An opaque-tag can contain a comma, so the list is scanned, not split.
 */
export function parseIfNoneMatch(value: string): '*' | string[] | null {
  const text = value.trim();
  if (text === '*') return '*';
  const tags: string[] = [];
  let i = 0;
  for (;;) {
    // #rule: empty list elements and OWS around commas are allowed (§5.6.1.2).
    while (i < text.length && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    if (text.startsWith('W/', i)) i += 2;
    if (text[i] !== '"') return null;
    const end = text.indexOf('"', i + 1);
    if (end === -1) return null;
    const opaque = text.slice(i, end + 1);
    // etagc = %x21 / %x23-7E / obs-text: no controls, no space.
    if (/[\u0000-\u0020\u007f]/.test(opaque)) return null;
    tags.push(opaque);
    i = end + 1;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i < text.length && text[i] !== ',') return null;
  }
  return tags.length === 0 ? null : tags;
}

/** The opaque-tag of an entity-tag: the tag without its weakness indicator. */
function opaqueTag(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag;
}

/**
 * True when `ifNoneMatch` matches `etag` by the weak comparison that
 * If-None-Match uses (§13.1.2, §8.8.3.2): the opaque-tags are equal, whether
 * either is weak or not; '*' matches any current representation.
 */
export function ifNoneMatchMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const parsed = parseIfNoneMatch(Array.isArray(ifNoneMatch) ? ifNoneMatch.join(', ') : ifNoneMatch);
  if (parsed === null) return false;
  if (parsed === '*') return true;
  const mine = opaqueTag(etag);
  return parsed.some((tag) => tag === mine);
}

// Representation metadata that a 304 does not repeat (§15.4.5: a sender
// SHOULD NOT generate representation metadata other than Cache-Control,
// Content-Location, Date, ETag, Expires and Vary). Content-Length in
// particular would have to equal the 200's length (§8.6).
const NOT_IN_304 = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-range', 'last-modified'];

/**
 * Turns `reply` into a 304: every header it has stays (ETag, Cache-Control,
 * Vary, Expires, Content-Location, and the security headers), the
 * representation metadata goes. Returns the payload to send on: none for
 * GET; for HEAD the 200's body, so that Fastify's HEAD handling sends the
 * Content-Length the 200 would have had (allowed by §8.6) and no body.
 */
export function toNotModified<T>(request: FastifyRequest, reply: FastifyReply, body: T): T | null {
  reply.code(304);
  for (const name of NOT_IN_304) reply.removeHeader(name);
  return request.method === 'HEAD' ? body : null;
}
