// kitCache: whole GET responses of the routes that ask for it, stored in the
// app cache and served to anonymous requests without running the handler.
//
//   app.get('/', { config: { cache: { ttl: 30_000, tags: ['board'] } } }, handler)
//
// Request path of such a route (route-level hooks, after the app's own):
//   preHandler  anonymous? key? → hit: the stored response (Age, Cache-Status:
//               app; hit), 304 if If-None-Match matches its ETag; the handler
//               does not run. Miss: tag versions noted, the handler runs.
//   onSend      a 200 with a string/Buffer body, no Set-Cookie, not private or
//               no-store, without this request's CSP nonce in it → stored for
//               min(ttl, s-maxage) (Cache-Status: app; fwd=uri-miss; stored).
//
// It is a cache in front of the handler inside the origin, so it only obeys
// what the response says to shared caches: private and no-store keep it out,
// s-maxage shortens it. no-cache and max-age speak to browsers and the edge.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { KitError } from '../errors.ts';
import { ifNoneMatchMatches, toNotModified } from '../validators/conditional.ts';
import { bodyBefore304 } from '../validators/plugin.ts';
import { Cache, NAMESPACE, checkTags, checkTtl, type Namespace } from './cache.ts';
import type { TagVersion } from './store.ts';

export interface RouteCacheConfig {
  /** Milliseconds the response is kept; a response's `s-maxage` lowers it. Default the cache's ttl. */
  ttl?: number;
  /** Tags: cache.invalidateTags() of one of them drops the stored response. */
  tags?: readonly string[];
  /**
   * The key of a request; null: neither served from nor stored in the cache.
   * Default: the path and query as sent. Give one when the query has
   * parameters the route ignores (each distinct query is an entry) or when
   * the response varies (a response with Vary is stored only with a key).
   */
  key?: (request: FastifyRequest) => string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** kitCache: store this route's GET responses for anonymous requests. */
    cache?: RouteCacheConfig;
  }
}

export interface KitCacheOptions {
  cache: Cache;
  /**
   * Requests that may be answered from, and stored in, the cache. Default: no
   * Cookie and no Authorization header. A request with a cookie may have a
   * session, and its page that session's CSRF token or user.
   */
  anonymous?: (request: FastifyRequest) => boolean;
  /** Identifier in the Cache-Status header (RFC 9211); false sends none. Default 'app'. */
  cacheStatus?: string | false;
  /** Responses that could not be stored or read (a store error). */
  onError?: (err: Error, request: FastifyRequest) => void;
}

interface StoredResponse {
  /** When it was stored (the cache's clock), for Age. */
  at: number;
  headers: [string, string][];
  body: string;
  base64: boolean;
}

interface Pending {
  key: string;
  versions: TagVersion[];
  since: number;
  ttl: number;
  keyed: boolean;
}

// Header fields kept with a stored response: what describes the
// representation and its caching. Set-Cookie never (such responses are not
// stored); security headers, the CSP nonce and x-served-by are set anew for
// every request by their own hooks.
const KEPT = ['content-type', 'cache-control', 'etag', 'last-modified', 'expires', 'vary', 'content-language', 'content-location', 'cache-tag', 'surrogate-key'];

function invalid(message: string): never {
  throw new KitError('RAMPART_ERR_CACHE_OPTIONS', message);
}

function defaultAnonymous(request: FastifyRequest): boolean {
  return request.headers.cookie === undefined && request.headers.authorization === undefined;
}

function defaultKey(request: FastifyRequest): string {
  return request.url;
}

/** Cache-Control directives, lower-cased, with their values (RFC 9111 §5.2). */
function directives(header: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const text = Array.isArray(header) ? header.join(',') : typeof header === 'string' ? header : '';
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name !== '') out.set(name, eq === -1 ? '' : part.slice(eq + 1).trim().replace(/^"|"$/g, ''));
  }
  return out;
}

function decode(json: string): StoredResponse | null {
  try {
    const value = JSON.parse(json) as Partial<StoredResponse>;
    if (typeof value.at !== 'number' || !Array.isArray(value.headers) || typeof value.body !== 'string' || typeof value.base64 !== 'boolean') return null;
    return value as StoredResponse;
  } catch {
    return null;
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function kitCachePlugin(fastify: FastifyInstance, options: KitCacheOptions, done: (err?: Error) => void): void {
  try {
    setUp(fastify, options);
  } catch (err) {
    done(err as Error);
    return;
  }
  done();
}

function setUp(fastify: FastifyInstance, options: KitCacheOptions): void {
  if (!(options?.cache instanceof Cache)) invalid('kitCache: give the cache: app.register(kitCache, { cache: createCache({ store }) })');
  const anonymous = options.anonymous ?? defaultAnonymous;
  if (typeof anonymous !== 'function') invalid('kitCache: anonymous must be a function (request) => boolean');
  const name = options.cacheStatus ?? 'app';
  if (name !== false && (typeof name !== 'string' || !/^[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*$/.test(name))) invalid('kitCache: cacheStatus must be a token such as "app" (RFC 9211 §2), or false');
  const onError = options.onError ?? ((err: Error, request: FastifyRequest) => request.log.warn({ err }, 'kitCache: the cache store failed; served without it'));
  const space: Namespace = options.cache[NAMESPACE]('r');
  const pending = new WeakMap<FastifyRequest, Pending>();

  const status = (reply: FastifyReply, params: string) => {
    if (name !== false) reply.header('cache-status', `${name}; ${params}`);
  };

  function routeHooks(config: RouteCacheConfig, where: string) {
    if (typeof config !== 'object' || config === null) invalid(`${where}: config.cache must be { ttl?, tags?, key? }`);
    let ttl: number;
    let tags: readonly string[];
    try {
      ttl = config.ttl === undefined ? space.ttl() : checkTtl(config.ttl, 'ttl');
      tags = checkTags(config.tags);
    } catch (err) {
      invalid(`${where}: config.cache: ${(err as Error).message.replace(/^cache: /, '')}`);
    }
    if (config.key !== undefined && typeof config.key !== 'function') invalid(`${where}: config.cache.key must be a function (request) => string | null`);
    const keyOf = config.key ?? defaultKey;
    const keyed = config.key !== undefined;

    async function serveCached(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
      if (!anonymous(request) || space.bypassed()) {
        status(reply, 'fwd=bypass');
        return undefined;
      }
      const key = keyOf(request);
      if (key === null) {
        status(reply, 'fwd=bypass');
        return undefined;
      }
      if (typeof key !== 'string' || key === '' || key.length > 1024) throw new KitError('RAMPART_ERR_CACHE_KEY', `${where}: config.cache.key returned ${typeof key === 'string' ? `a string of ${key.length} characters` : typeof key}; return 1 to 1024 characters or null`);
      let json: string | undefined;
      try {
        json = await space.read(key);
      } catch (err) {
        onError(err as Error, request);
        status(reply, 'fwd=bypass');
        return undefined;
      }
      const stored = json === undefined ? null : decode(json);
      if (stored !== null) return replay(request, reply, stored);
      let versions: TagVersion[];
      const since = space.epoch();
      try {
        versions = await space.snapshot(tags);
      } catch (err) {
        onError(err as Error, request);
        status(reply, 'fwd=bypass');
        return undefined;
      }
      pending.set(request, { key, versions, since, ttl, keyed });
      status(reply, 'fwd=uri-miss');
      return undefined;
    }

    return { serveCached };
  }

  function replay(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse): FastifyReply {
    const body = stored.base64 ? Buffer.from(stored.body, 'base64') : stored.body;
    reply.code(200);
    for (const [header, value] of stored.headers) reply.header(header, value);
    // RFC 9111 §5.1: how long it has been in this cache, so that a cache
    // after this one (the edge) counts it against the response's freshness.
    reply.header('age', String(Math.max(0, Math.floor((space.now() - stored.at) / 1000))));
    status(reply, 'hit');
    const etag = reply.getHeader('etag');
    if (typeof etag === 'string' && !reply.hasHeader('set-cookie') && ifNoneMatchMatches(request.headers['if-none-match'], etag)) {
      return reply.send(toNotModified(request, reply, body) ?? undefined);
    }
    return reply.send(body);
  }

  async function storeResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const state = pending.get(request);
    if (state === undefined) return payload;
    pending.delete(request);
    // A 304 for this client (kitEtag) still came from a full 200 worth keeping.
    const body = reply.statusCode === 304 ? bodyBefore304.get(reply) : reply.statusCode === 200 ? payload : undefined;
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) return payload;
    if (reply.hasHeader('set-cookie')) return payload;
    const cc = directives(reply.getHeader('cache-control'));
    if (cc.has('private') || cc.has('no-store')) return payload;
    if (reply.hasHeader('vary') && !state.keyed) return payload;
    // A page that uses this request's nonce would hand it to every later
    // visitor, whose CSP carries another one: its inline scripts would be
    // blocked and the nonce would be public. Not stored.
    const nonce = (request as { cspNonce?: unknown }).cspNonce;
    if (typeof nonce === 'string' && nonce !== '' && body.includes(nonce)) {
      request.log.warn({ url: request.url }, 'kitCache: not stored: the response contains the CSP nonce (keep inline scripts out of cached pages)');
      return payload;
    }
    let ttl = state.ttl;
    const sMaxAge = cc.get('s-maxage');
    if (sMaxAge !== undefined && /^[0-9]+$/.test(sMaxAge)) ttl = Math.min(ttl, Number(sMaxAge) * 1000);
    if (ttl <= 0) return payload;
    const headers: [string, string][] = [];
    for (const header of KEPT) {
      const value = reply.getHeader(header);
      if (typeof value === 'string' || typeof value === 'number') headers.push([header, String(value)]);
      else if (Array.isArray(value)) headers.push([header, value.join(', ')]);
    }
    const stored: StoredResponse = { at: space.now(), headers, body: typeof body === 'string' ? body : body.toString('base64'), base64: typeof body !== 'string' };
    try {
      if (await space.write(state.key, JSON.stringify(stored), ttl, state.versions, state.since)) status(reply, 'fwd=uri-miss; stored');
    } catch (err) {
      onError(err as Error, request);
    }
    return payload;
  }

  fastify.addHook('onRoute', function cacheRoute(route: RouteOptions) {
    const config = route.config?.cache;
    if (config === undefined) return;
    const methods = asArray(route.method);
    const where = `${methods.join(',')} ${route.url}`;
    if (!methods.every((m) => m === 'GET' || m === 'HEAD')) invalid(`${where}: config.cache is for GET routes (and their HEAD)`);
    const { serveCached } = routeHooks(config, where);
    route.preHandler = [...asArray(route.preHandler), serveCached];
    // First of the route's onSend hooks: before Fastify's HEAD handling
    // drops the body of a HEAD response.
    route.onSend = [storeResponse, ...asArray(route.onSend)];
  });
}

/**
 * Per-route caching of whole GET responses for anonymous requests:
 * `config: { cache: { ttl, tags, key } }` on a route. App-wide; register it
 * before the routes (it sees routes through onRoute).
 */
export const kitCache = fp(kitCachePlugin, { fastify: '5.x', name: '@rampart/kit/cache' });
