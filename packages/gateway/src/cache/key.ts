// The cache key of a route (its `cache.key` options). Two parts:
// - the resource key `uri`: `<host><path>?<query>` (host `*` when the key
//   leaves it out), the unit of purges and invalidation (store.ts);
// - the route's own secondary key: chosen request headers and cookies, which
//   select a variant like Vary does, but decided by the operator.
// Built for the hit path: a target without a query costs one concatenation.
import type { RouteCacheConfig } from '../config/load.ts';
import type { HeaderList } from '../middleware/types.ts';
import { readCookie } from '../upstream/sticky.ts';
import { compileGlobs } from './glob.ts';
import { combinedValue, normaliseValue } from './vary.ts';

export type KeyOptions = RouteCacheConfig['key'];

export class CacheKey {
  readonly #host: boolean;
  readonly #query: KeyOptions['query'];
  readonly #ignore: RegExp | null;
  readonly #headers: readonly string[];
  readonly #cookies: readonly string[];

  constructor(options: KeyOptions) {
    this.#host = options.host;
    this.#query = options.query;
    // Parameter names are case-sensitive (RFC 3986 leaves them to the application).
    this.#ignore = compileGlobs(options.ignoreParams, false);
    this.#headers = options.headers;
    this.#cookies = options.cookies;
  }

  get hasHost(): boolean {
    return this.#host;
  }

  /** The resource key of a request to `host` (lower-case, as parsed) for `target` (origin-form). */
  uri(host: string, target: string): string {
    const authority = this.#host ? normaliseHost(host) : '*';
    const q = target.indexOf('?');
    if (q === -1) return authority + target;
    const path = target.slice(0, q);
    const query = this.#normaliseQuery(target.slice(q + 1));
    return query === '' ? authority + path : `${authority}${path}?${query}`;
  }

  #normaliseQuery(query: string): string {
    if (this.#query === 'ignore' || query === '') return '';
    if (this.#query === 'as-sent' && this.#ignore === null) return query;
    let params = query.split('&').filter((p) => p !== '');
    const ignore = this.#ignore;
    if (ignore !== null) {
      params = params.filter((p) => {
        const eq = p.indexOf('=');
        return !ignore.test(eq === -1 ? p : p.slice(0, eq));
      });
    }
    // Sorted by name only: a stable sort keeps `a=1&a=2` apart from
    // `a=2&a=1`, whose order an application may read.
    if (this.#query === 'sorted') params.sort(byName);
    return params.join('&');
  }

  /** The route's secondary key for this request: '' when the key names no headers or cookies. */
  part(headers: HeaderList, cookieHeader: string | undefined): string {
    if (this.#headers.length === 0 && this.#cookies.length === 0) return '';
    let out = '';
    for (const name of this.#headers) out += '\nh:' + name + '=' + normaliseValue(name, combinedValue(headers, name));
    for (const name of this.#cookies) {
      const value = cookieHeader === undefined ? null : readCookie(cookieHeader, name);
      out += '\nc:' + name + '=' + (value === null ? '\u0000' : value);
    }
    return out;
  }
}

function byName(a: string, b: string): number {
  const ea = a.indexOf('=');
  const eb = b.indexOf('=');
  const na = ea === -1 ? a : a.slice(0, ea);
  const nb = eb === -1 ? b : b.slice(0, eb);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** `Example.com:80` and `example.com` are one origin for plain HTTP (RFC 9110 §4.2.3). */
export function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith(':80') ? lower.slice(0, -3) : lower;
}
