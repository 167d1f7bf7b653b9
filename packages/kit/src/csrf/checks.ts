// The header checks of kitCsrf, as plain functions of the request's headers.
import type { FastifyRequest } from 'fastify';
import { KitError } from '../errors.ts';

export type CsrfFailure = 'fetch-metadata' | 'origin' | 'token-missing' | 'token-invalid';

/** What the 403 body says: which check failed, never a token value. */
export const FAILURE_TEXT: Record<CsrfFailure, string> = {
  'fetch-metadata': 'Forbidden: cross-site request refused (Sec-Fetch-Site)',
  origin: 'Forbidden: request Origin does not match this site (Origin)',
  'token-missing': 'Forbidden: CSRF token missing (form field _csrf or header x-csrf-token)',
  'token-invalid': 'Forbidden: CSRF token does not match this session',
};

/**
 * Fetch Metadata (W3C Fetch Metadata Request Headers §2.4; OWASP CSRF
 * Cheat Sheet, "Fetch Metadata headers"): browsers say where a request comes
 * from and a page cannot forge it. 'none' is a user-initiated navigation. No
 * header at all (an old browser, a non-browser client) passes here and is
 * left to the Origin and token checks.
 */
export function fetchSiteAllowed(request: FastifyRequest, allowSameSite: boolean): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === undefined) return true;
  if (site === 'same-origin' || site === 'none') return true;
  if (site === 'same-site') return allowSameSite;
  // 'cross-site', or a value the spec does not define.
  return false;
}

/**
 * OWASP CSRF Cheat Sheet, "Verifying Origin With Standard Headers": an Origin
 * that is present must be this site's own (scheme from request.protocol, so
 * X-Forwarded-Proto counts under trustProxy; host from Host) or one listed.
 * 'null' (sandboxed frames, some redirects, file:) is refused: it names no
 * site we could trust.
 */
export function originAllowed(request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const given = normalise(origin);
  if (given === null) return false;
  return given === normalise(`${request.protocol}://${request.host}`) || allowed.has(given);
}

function normalise(origin: string): string | null {
  if (origin === 'null') return null;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** allowedOrigins as given → exact origins; refuses anything that is not scheme://host[:port]. */
export function parseAllowedOrigins(value: unknown): Set<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw new KitError('RAMPART_ERR_CSRF_OPTIONS', 'kitCsrf: allowedOrigins must be an array of origins like "https://admin.example.com"');
  return new Set(
    value.map((origin: unknown, i) => {
      const parsed = typeof origin === 'string' ? normalise(origin) : null;
      if (parsed === null || parsed !== origin) {
        throw new KitError('RAMPART_ERR_CSRF_OPTIONS', `kitCsrf: allowedOrigins[${i}] must be an origin: scheme://host[:port] in lower case, no path or trailing slash (e.g. "https://admin.example.com")`);
      }
      return parsed;
    }),
  );
}

/** The token from the x-csrf-token header, else from the _csrf field of a parsed (urlencoded or JSON) body. */
export function tokenFrom(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string' && header !== '') return header;
  const body: unknown = request.body;
  if (typeof body === 'object' && body !== null) {
    const field = (body as Record<string, unknown>)._csrf;
    if (typeof field === 'string' && field !== '') return field;
  }
  return undefined;
}
