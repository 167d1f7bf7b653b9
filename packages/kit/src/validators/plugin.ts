// kitEtag: validators for generated responses. A GET or HEAD answered 200
// with a string or Buffer body of a configured type (HTML by default) gets a
// strong ETag from its content, `Cache-Control: no-cache` when the route set
// none (store it, but ask before each use: RFC 9111 §5.2.2.4), and a 304 when
// the request's If-None-Match matches (RFC 9110 §13.1.2). The page is still
// rendered; what is saved is the transfer, and with no-cache a browser or a
// shared cache asks every time, so the page is never out of date.
//
// App-wide (fastify-plugin). Register it after kitSessions/kitCookieSessions
// and @fastify/cookie: onSend hooks run in registration order, and this one
// must see the Set-Cookie they add (see below).
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KitError } from '../errors.ts';
import { strongEtag } from './etag.ts';
import { ifNoneMatchMatches, toNotModified } from './conditional.ts';

export interface KitEtagOptions {
  /** Media types (without parameters) that get an ETag. Default ['text/html']. */
  contentTypes?: readonly string[];
  /** Cache-Control for those responses when the route set none. Default 'no-cache'; false leaves it out. */
  cacheControl?: string | false;
}

/**
 * The 200 body a reply had before kitEtag turned it into a 304, for the
 * per-route cache, whose onSend runs after this one: a 304 to one client is
 * still a complete response worth storing for the next.
 */
export const bodyBefore304 = new WeakMap<FastifyReply, string | Buffer>();

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

function invalid(message: string): never {
  throw new KitError('RAMPART_ERR_ETAG_OPTIONS', `kitEtag: ${message}`);
}

function mediaType(header: unknown): string {
  const value: unknown = Array.isArray(header) ? (header as unknown[])[0] : header;
  if (typeof value !== 'string') return '';
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function resolve(options: KitEtagOptions): { types: Set<string>; cacheControl: string | false } {
  const list = options.contentTypes ?? ['text/html'];
  if (!Array.isArray(list) || list.length === 0) invalid('contentTypes must be a non-empty array of media types such as "text/html"');
  const types = new Set<string>();
  for (const type of list) {
    if (typeof type !== 'string' || !MEDIA_TYPE.test(type.toLowerCase())) invalid(`contentTypes: ${JSON.stringify(type)} is not a media type such as "text/html" (no parameters)`);
    types.add(type.toLowerCase());
  }
  const cacheControl = options.cacheControl ?? 'no-cache';
  if (cacheControl !== false && (typeof cacheControl !== 'string' || cacheControl.trim() === '' || /[\r\n\0]/.test(cacheControl))) {
    invalid('cacheControl must be a Cache-Control value such as "no-cache" (no CR, LF or NUL), or false');
  }
  return { types, cacheControl };
}

function kitEtagPlugin(fastify: FastifyInstance, options: KitEtagOptions, done: (err?: Error) => void): void {
  let resolved: ReturnType<typeof resolve>;
  try {
    resolved = resolve(options ?? {});
  } catch (err) {
    done(err as Error);
    return;
  }
  const { types, cacheControl } = resolved;

  // A 304 may carry Set-Cookie (RFC 9110 §15.4.5 does not forbid it), but a
  // shared cache that refreshes its stored response from a 304 (RFC 9111
  // §4.3.4) could then hand one visitor's cookie to everyone, and caches
  // differ on it. A response that sets a cookie is about one client anyway
  // (a session starts or is renewed), so it always goes out in full. That
  // needs the Set-Cookie of the session and cookie plugins, added in their
  // own onSend hooks, before this one runs: refuse to start otherwise.
  const before = { session: fastify.hasRequestDecorator('session'), cookie: fastify.hasReplyDecorator('setCookie') };
  fastify.addHook('onReady', function checkEtagOrder(ready) {
    if ((!before.session && fastify.hasRequestDecorator('session')) || (!before.cookie && fastify.hasReplyDecorator('setCookie'))) {
      ready(new KitError('RAMPART_ERR_ETAG_ORDER', 'kitEtag: register it after kitSessions/kitCookieSessions and @fastify/cookie, so that it sees the Set-Cookie they add (a response that sets a cookie is never answered 304)'));
      return;
    }
    ready();
  });

  fastify.addHook('onSend', function etagResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown, next: (err: null, payload?: unknown) => void) {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return next(null, payload);
    // Streams are left alone: hashing would mean buffering them.
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return next(null, payload);
    if (!types.has(mediaType(reply.getHeader('content-type')))) return next(null, payload);
    let etag = reply.getHeader('etag');
    // A route that chose its own validator (a version number, a weak tag) keeps it.
    if (typeof etag !== 'string') {
      etag = strongEtag(payload);
      reply.header('etag', etag);
    }
    if (cacheControl !== false && !reply.hasHeader('cache-control')) reply.header('cache-control', cacheControl);
    if (reply.hasHeader('set-cookie')) return next(null, payload);
    if (!ifNoneMatchMatches(request.headers['if-none-match'], etag)) return next(null, payload);
    bodyBefore304.set(reply, payload);
    next(null, toNotModified(request, reply, payload));
  });
  done();
}

/**
 * Strong ETags, a default Cache-Control and 304 answers for generated
 * responses (HTML by default). App-wide; register after the session plugins.
 */
export const kitEtag = fp(kitEtagPlugin, { fastify: '5.x', name: '@rampart/kit/etag' });
