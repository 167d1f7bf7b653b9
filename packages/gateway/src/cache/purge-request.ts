// `POST /cache/purge?…` on the admin listener: which stored responses a
// purge names. A URL is turned into the resource key the route that serves
// it would have built (its host and query options), so that purging the URL
// a client requested removes exactly what that request was served from.
import type { RouteConfig } from '../config/load.ts';
import { normalizeTarget } from '../http1/path.ts';
import type { PurgeTarget } from './edge-cache.ts';
import { CacheKey } from './key.ts';

/** The route that serves `target` on `host` ('' when the purge gave only a path). */
export type RouteFor = (host: string, target: string) => RouteConfig | null;

const KINDS = ['url', 'prefix', 'tag', 'all'] as const;
const USAGE = 'give exactly one of url=http://host/path?query (or /path?query when the route\'s cache key has no host), prefix=http://host/path, tag=<name>, all=1';

/** The purge a query string asks for, or a message saying what is wrong with it (400). */
export function purgeTarget(params: URLSearchParams, routeFor: RouteFor): PurgeTarget | string {
  const given = KINDS.filter((k) => params.has(k));
  if (given.length !== 1) return given.length === 0 ? `nothing to purge: ${USAGE}` : `more than one of ${given.join(', ')}: ${USAGE}`;
  const kind = given[0]!;
  if (params.getAll(kind).length > 1) return `${kind} is given twice: ${USAGE}`;
  const value = params.get(kind)!;
  switch (kind) {
    case 'all':
      return value === '1' || value === 'true' ? { kind: 'all' } : `all must be 1 (got ${JSON.stringify(value)})`;
    case 'tag': {
      const tag = value.trim();
      if (tag === '' || tag.length > 256) return 'tag must be a name of 1 to 256 characters';
      return { kind: 'tag', tag };
    }
    case 'url':
    case 'prefix': {
      const parsed = parseTarget(value);
      if (typeof parsed === 'string') return `${kind}: ${parsed}`;
      const route = routeFor(parsed.host ?? '', parsed.target);
      if (route === null || !route.cache) return `${kind}: no route with cache enabled serves ${value}`;
      const key = new CacheKey(route.cache.key);
      if (parsed.host === null && key.hasHost) return `${kind}: the cache key of route ${route.label} includes the host; give a full URL such as http://example.com${parsed.target}`;
      const host = parsed.host ?? '';
      if (kind === 'url') return { kind: 'uri', uri: key.uri(host, parsed.target) };
      // A prefix is matched as written: its query (if any) is not normalised.
      const uri = key.uri(host, '/');
      return { kind: 'prefix', prefix: uri.slice(0, -1) + parsed.target };
    }
    default:
      return USAGE;
  }
}

function parseTarget(value: string): { host: string | null; target: string } | string {
  if (value.startsWith('/')) {
    if (/[\s#]/.test(value)) return 'a path has no spaces or fragment';
    return { host: null, target: normalizeTarget(value) };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL or a path: ${JSON.stringify(value)}`;
  }
  // The cache key has no scheme: a TLS terminator in front may have seen https.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http:// and https:// URLs (got ${url.protocol})`;
  return { host: url.host.toLowerCase(), target: normalizeTarget(url.pathname + url.search) };
}
