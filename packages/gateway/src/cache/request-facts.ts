// The request fields the cache reads, gathered in one pass over the header
// list (names are lower-case already), so the hit path scans the headers once.
import type { HeaderList } from '../middleware/types.ts';

export interface RequestFacts {
  readonly cacheControl: string | undefined;
  readonly pragma: string | undefined;
  /** Every Cookie field line, joined with `; ` (RFC 6265 §5.4). */
  readonly cookie: string | undefined;
  readonly authorization: boolean;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
  /** If-Match or If-Unmodified-Since: preconditions for the origin (RFC 9111 §4.3.2), not for a cache to judge. */
  readonly originPreconditions: boolean;
}

export function scanRequest(headers: HeaderList): RequestFacts {
  let cacheControl: string | undefined;
  let pragma: string | undefined;
  let cookie: string | undefined;
  let authorization = false;
  let range: string | undefined;
  let ifRange: string | undefined;
  let ifNoneMatch: string | undefined;
  let ifModifiedSince: string | undefined;
  let originPreconditions = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const c = name.charCodeAt(0);
    // Most fields start with other letters: one comparison skips them.
    if (c !== 99 /* c */ && c !== 112 /* p */ && c !== 97 /* a */ && c !== 114 /* r */ && c !== 105 /* i */) continue;
    const value = headers[i + 1]!;
    switch (name) {
      case 'cache-control':
        cacheControl = cacheControl === undefined ? value : `${cacheControl}, ${value}`;
        break;
      case 'pragma':
        pragma = pragma === undefined ? value : `${pragma}, ${value}`;
        break;
      case 'cookie':
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        break;
      case 'authorization':
        authorization = true;
        break;
      case 'range':
        range = range === undefined ? value : `${range},${value}`;
        break;
      case 'if-range':
        ifRange = value;
        break;
      case 'if-none-match':
        ifNoneMatch = ifNoneMatch === undefined ? value : `${ifNoneMatch}, ${value}`;
        break;
      case 'if-modified-since':
        ifModifiedSince ??= value;
        break;
      case 'if-match':
      case 'if-unmodified-since':
        originPreconditions = true;
        break;
      default:
        break;
    }
  }
  return { cacheControl, pragma, cookie, authorization, range, ifRange, ifNoneMatch, ifModifiedSince, originPreconditions };
}

/** Fields a cache removes when it sends its own validators instead of the client's (§4.3.1). */
const CLIENT_CONDITIONALS: ReadonlySet<string> = new Set(['if-none-match', 'if-modified-since', 'if-range', 'range']);

/**
 * The request headers for an upstream request the cache makes on its own
 * behalf: the client's conditionals and Range go (the cache answers them from
 * the full response), the stored response's validators come in.
 */
export function withValidators(headers: HeaderList, etag: string | undefined, lastModified: string | undefined): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) if (!CLIENT_CONDITIONALS.has(headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
  if (etag !== undefined) out.push('if-none-match', etag);
  if (lastModified !== undefined) out.push('if-modified-since', lastModified);
  return out;
}
