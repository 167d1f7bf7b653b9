// Conditional requests at the cache (RFC 9111 §4.3): answering a client's
// If-None-Match / If-Modified-Since from a stored response (§4.3.2), and
// folding an upstream 304 into the stored response (§4.3.4, §3.2).
import type { HeaderList } from '../middleware/types.ts';
import type { Freshness } from './freshness.ts';
import { parseHttpDate } from './http-date.ts';

/** The opaque tag of an entity-tag, without `W/` (weak comparison, RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/**
 * Members of an If-None-Match list. Entity-tags may hold commas inside their
 * quotes, so the list is split on commas outside quotes only. Not vary.ts's
 * splitList: an entity-tag is not a quoted-string (RFC 9110 §8.8.3, etagc),
 * so a backslash in it is a plain character, not an escape.
 */
function etagList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 44 && !quoted) {
      const member = value.slice(start, i).trim();
      if (member !== '') out.push(member);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** RFC 9110 §13.1.2: `*` matches any current representation; otherwise weak comparison. */
export function noneMatchMatches(ifNoneMatch: string, etag: string | undefined): boolean {
  const members = etagList(ifNoneMatch);
  if (members.length === 1 && members[0] === '*') return true;
  if (etag === undefined) return false;
  const stored = opaque(etag);
  for (const m of members) if (opaque(m) === stored) return true;
  return false;
}

export interface ClientConditionals {
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
}

/**
 * Whether a GET/HEAD with these conditionals is answered 304 by a stored
 * response (§4.3.2). If-None-Match wins over If-Modified-Since (RFC 9110
 * §13.1.3); without Last-Modified the stored Date (or when it arrived) is
 * the modification time a cache compares with.
 */
export function notModified(conds: ClientConditionals, f: Pick<Freshness, 'etag' | 'lastModifiedMs' | 'dateMs'>, now: number): boolean {
  if (conds.ifNoneMatch !== undefined) return noneMatchMatches(conds.ifNoneMatch, f.etag);
  if (conds.ifModifiedSince === undefined) return false;
  const since = parseHttpDate(conds.ifModifiedSince, now);
  // An invalid date is ignored (RFC 9110 §13.1.3), which means "send it".
  if (since === undefined) return false;
  const modified = f.lastModifiedMs ?? f.dateMs;
  return modified <= since;
}

/**
 * Whether a 304 received for a revalidation identifies the stored response
 * whose ETag is `stored` (§4.3.4). A strong ETag in the 304 selects only a
 * stored response with the same strong ETag, a weak one any that matches it
 * weakly; a 304 with an ETag that matches nothing stored MUST NOT update it.
 * A 304 without an ETag is taken as confirming what the cache asked about
 * (the stricter §4.3.4 reading would refuse every such 304 from an origin
 * that omits validators there, which origins commonly do).
 */
export function notModifiedSelects(stored: string | undefined, incoming: HeaderList): boolean {
  let etag: string | undefined;
  for (let i = 0; i < incoming.length; i += 2) {
    if (incoming[i] === 'etag') {
      etag = incoming[i + 1]!.trim();
      break;
    }
  }
  if (etag === undefined) return true;
  if (stored === undefined) return false;
  if (etag.startsWith('W/')) return opaque(etag) === opaque(stored);
  return !stored.trim().startsWith('W/') && etag === stored.trim();
}

/** RFC 9110 §15.4.5: what a 304 carries, of the fields the 200 would have had. */
const NOT_MODIFIED_FIELDS: ReadonlySet<string> = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'last-modified', 'vary']);

/** The fields of a stored response that go in a 304 made from it. */
export function notModifiedHeaders(stored: HeaderList): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < stored.length; i += 2) if (NOT_MODIFIED_FIELDS.has(stored[i]!)) out.push(stored[i]!, stored[i + 1]!);
  return out;
}

/**
 * Fields a 304 does not replace in the stored response (§3.2): framing, the
 * ones the cache removed before storing, and Vary, which the stored variant's
 * identity depends on. Content-Range is processed away by this cache.
 */
const NOT_UPDATED: ReadonlySet<string> = new Set(['content-length', 'content-range', 'transfer-encoding', 'vary', 'set-cookie', 'cache-tag', 'surrogate-key']);

/**
 * The stored header fields after a 304 (§3.2, §4.3.4): every field the 304
 * carries replaces the stored fields of that name. `incoming` has been
 * cleaned of hop-by-hop fields already. The stored Age goes: it described the
 * old copy, and the 304 says the origin has just confirmed it.
 */
export function mergeNotModified(stored: HeaderList, incoming: HeaderList): HeaderList {
  const replaced = new Set<string>();
  for (let i = 0; i < incoming.length; i += 2) {
    const name = incoming[i]!;
    if (!NOT_UPDATED.has(name)) replaced.add(name);
  }
  replaced.add('age');
  const out: HeaderList = [];
  for (let i = 0; i < stored.length; i += 2) if (!replaced.has(stored[i]!)) out.push(stored[i]!, stored[i + 1]!);
  for (let i = 0; i < incoming.length; i += 2) if (replaced.has(incoming[i]!)) out.push(incoming[i]!, incoming[i + 1]!);
  return out;
}
