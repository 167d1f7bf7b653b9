// Freshness and age of a stored response (RFC 9111 §4.2): how long it is
// fresh, how old it is now, and which stale uses its directives forbid. The
// result is computed once per stored response and kept beside it, so that a
// hit only adds the time it has spent in the cache.
import type { HeaderList } from '../middleware/types.ts';
import { MAX_DELTA_SECONDS, parseResponseCacheControl, type ResponseDirectives } from './cache-control.ts';
import { parseHttpDate } from './http-date.ts';

/** §4.2.2 / RFC 9110 §15.1: responses with these codes may be cached without explicit freshness. */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Heuristic freshness is at most a day (§4.2.2 suggests at most 10% of the time since Last-Modified; nginx and Varnish cap it too). */
const HEURISTIC_MAX_MS = 86_400_000;

/** What a response looks like before it has a body: enough to compute its freshness. */
export interface ResponseHeadFacts {
  readonly status: number;
  readonly headers: HeaderList;
  readonly requestTime: number;
  readonly responseTime: number;
}

export interface Freshness {
  readonly directives: ResponseDirectives;
  /** Explicit (s-maxage, max-age, Expires) or heuristic lifetime; 0 when neither applies. */
  readonly lifetimeMs: number;
  readonly explicit: boolean;
  /** §4.2.3 corrected_initial_age: how old the response already was when it arrived. */
  readonly initialAgeMs: number;
  readonly responseTime: number;
  /** The Date field, or the response time when it is missing or invalid. */
  readonly dateMs: number;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  readonly lastModifiedMs: number | undefined;
  /** Never served stale, for any reason: must-revalidate, proxy-revalidate (§5.2.2.2, §5.2.2.8) or no-cache. */
  readonly noStale: boolean;
  /**
   * s-maxage implies proxy-revalidate for a shared cache (§5.2.2.10): no stale
   * use that the response did not itself grant. Its own stale-while-revalidate
   * and stale-if-error, written next to s-maxage, still count.
   */
  readonly sharedRevalidate: boolean;
  /** §3.5: may be used for (and stored from) a request with Authorization. */
  readonly authorizationOk: boolean;
}

export function computeFreshness(response: ResponseHeadFacts, heuristic: boolean): Freshness {
  let cacheControl: string | undefined;
  let expires: string | undefined;
  let expiresConflict = false;
  let date: string | undefined;
  let age: string | undefined;
  let etag: string | undefined;
  let lastModified: string | undefined;
  const headers = response.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1]!;
    switch (headers[i]) {
      case 'cache-control':
        cacheControl = cacheControl === undefined ? value : `${cacheControl}, ${value}`;
        break;
      case 'expires':
        if (expires === undefined) expires = value;
        else if (expires !== value) expiresConflict = true;
        break;
      case 'date':
        date ??= value;
        break;
      case 'age':
        age ??= value;
        break;
      case 'etag':
        etag ??= value;
        break;
      case 'last-modified':
        lastModified ??= value;
        break;
      default:
        break;
    }
  }
  const directives = parseResponseCacheControl(cacheControl);
  const responseTime = response.responseTime;
  const dateMs = parseHttpDate(date, responseTime) ?? responseTime;
  const lastModifiedMs = parseHttpDate(lastModified, responseTime);

  let lifetimeMs = 0;
  let explicit = true;
  if (directives.sMaxAge !== undefined) lifetimeMs = directives.sMaxAge * 1000;
  else if (directives.maxAge !== undefined) lifetimeMs = directives.maxAge * 1000;
  else if (expires !== undefined) {
    // §4.2.1: an invalid Expires (`0`, `-1`, garbage) means already expired,
    // and so do two Expires that disagree.
    const expiresMs = expiresConflict ? undefined : parseHttpDate(expires, responseTime);
    lifetimeMs = expiresMs === undefined ? 0 : Math.min(Math.max(0, expiresMs - dateMs), MAX_DELTA_SECONDS * 1000);
  } else {
    explicit = false;
    if (heuristic && lastModifiedMs !== undefined && (HEURISTICALLY_CACHEABLE.has(response.status) || directives.public)) {
      lifetimeMs = Math.min(Math.max(0, (dateMs - lastModifiedMs) / 10), HEURISTIC_MAX_MS);
    }
  }

  // §4.2.3, with every time in milliseconds.
  const apparentAge = Math.max(0, responseTime - dateMs);
  const responseDelay = Math.max(0, responseTime - response.requestTime);
  const correctedAgeValue = ageSeconds(age) * 1000 + responseDelay;
  const initialAgeMs = Math.max(apparentAge, correctedAgeValue);

  return {
    directives,
    lifetimeMs,
    explicit,
    initialAgeMs,
    responseTime,
    dateMs,
    etag,
    lastModified,
    lastModifiedMs,
    noStale: directives.mustRevalidate || directives.proxyRevalidate || directives.noCache,
    sharedRevalidate: directives.sMaxAge !== undefined,
    authorizationOk: directives.public || directives.mustRevalidate || directives.sMaxAge !== undefined,
  };
}

/**
 * The Age field (§5.1): a list keeps its first member; anything but a
 * non-negative integer is ignored; huge values are clamped (§1.2.2).
 */
export function ageSeconds(value: string | undefined): number {
  if (value === undefined) return 0;
  const comma = value.indexOf(',');
  const first = (comma === -1 ? value : value.slice(0, comma)).trim();
  if (!/^\d+$/.test(first)) return 0;
  return Math.min(Number(first), MAX_DELTA_SECONDS);
}

/** §4.2.3 current_age at `now`. */
export function currentAgeMs(f: Freshness, now: number): number {
  const resident = now - f.responseTime;
  return f.initialAgeMs + (resident > 0 ? resident : 0);
}

/** Validators a revalidation can send (§4.3.1). */
export function hasValidators(f: Freshness): boolean {
  return f.etag !== undefined || f.lastModified !== undefined;
}
