// One pass over an upstream response's header fields, splitting them into
// what the client that caused the fetch receives and what the cache keeps
// (RFC 9111 §3.1: hop-by-hop fields are not stored; framing is the cache's
// own; Set-Cookie never). Purge tags are read here and removed from both,
// as Fastly does with Surrogate-Key and Cloudflare with Cache-Tag: they are
// instructions to this cache, not information for clients.
import type { HeaderList } from '../middleware/types.ts';
import { splitTokens } from '../http1/request-head.ts';
import { parseVary } from './vary.ts';

/** RFC 9110 §7.6.1 plus the proxy-* family: never stored, never forwarded. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'proxy']);

/** Bounds on what one response may register for purging, against a header that lists thousands. */
const MAX_TAGS = 64;
const MAX_TAG_LENGTH = 256;

export interface ResponseFields {
  /** For the client whose request went upstream: every field but the purge tags, a Date added if missing. */
  readonly client: HeaderList;
  /** For storage and for other clients: no hop-by-hop, framing, Set-Cookie or purge-tag fields; a Date added if missing. */
  readonly stored: HeaderList;
  /** Content-Length, or -1 when the body is chunked or delimited by close. */
  readonly contentLength: number;
  /** A Set-Cookie other than the gateway's own sticky cookie. */
  readonly setCookie: boolean;
  readonly tags: readonly string[];
  readonly vary: string[] | '*' | null;
}

/**
 * `stickyCookie`: name of the affinity cookie the gateway adds itself
 * (upstream/sticky.ts), whose Set-Cookie is the gateway's, not the app's: it
 * reaches the client that was pinned, never the store, and never stops storage.
 * `date`: an IMF-fixdate for now, added when the response has no Date (RFC
 * 9110 §6.6.1: a recipient with a clock that caches or forwards it adds one).
 */
export function splitResponseFields(headers: HeaderList, stickyCookie: string | null, date: string): ResponseFields {
  let listed: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'connection') listed = (listed ?? ([] as string[])).concat(splitTokens(headers[i + 1]!));
  }
  const client: HeaderList = [];
  const stored: HeaderList = [];
  let contentLength = -1;
  let chunked = false;
  let setCookie = false;
  let hasDate = false;
  let tags: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    switch (name) {
      case 'cache-tag':
        tags = addTags(tags, value.split(','));
        continue;
      case 'surrogate-key':
        tags = addTags(tags, value.split(' '));
        continue;
      case 'set-cookie':
        if (stickyCookie === null || !value.startsWith(`${stickyCookie}=`)) setCookie = true;
        client.push(name, value);
        continue;
      case 'content-length':
        contentLength = Number(value);
        client.push(name, value);
        continue;
      case 'transfer-encoding':
        chunked = true;
        client.push(name, value);
        continue;
      case 'date':
        hasDate = true;
        break;
      default:
        break;
    }
    client.push(name, value);
    if (HOP_BY_HOP.has(name) || name.startsWith('proxy-') || (listed !== null && listed.includes(name))) continue;
    stored.push(name, value);
  }
  if (!hasDate) {
    client.push('date', date);
    stored.push('date', date);
  }
  return { client, stored, contentLength: chunked ? -1 : contentLength, setCookie, tags: tags ?? [], vary: parseVary(stored) };
}

function addTags(tags: string[] | null, parts: string[]): string[] {
  const out = tags ?? [];
  for (const part of parts) {
    const tag = part.trim();
    if (tag === '' || tag.length > MAX_TAG_LENGTH || out.length >= MAX_TAGS || out.includes(tag)) continue;
    out.push(tag);
  }
  return out;
}

/** The purge tags of a 304, or undefined when it carries none (the stored ones stay). */
export function tagsOf(headers: HeaderList): string[] | undefined {
  let tags: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'cache-tag') tags = addTags(tags, headers[i + 1]!.split(','));
    else if (headers[i] === 'surrogate-key') tags = addTags(tags, headers[i + 1]!.split(' '));
  }
  return tags ?? undefined;
}
