// What kitSessions and kitCookieSessions share: timeouts and the cookie.
// Options are checked when the plugin is registered, never mid-request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { KitError } from '../errors.ts';

export interface CommonSessionOptions {
  /** Default 'rampart.sid' (kitSessions) or 'rampart.session' (kitCookieSessions); '__Host-' is put in front when the cookie is Secure. */
  cookieName?: string;
  /** 'auto' (default): Secure and the __Host- prefix when request.protocol is https (with trustProxy, X-Forwarded-Proto counts). */
  secure?: 'auto' | boolean;
  /** Ends a session after this long without a request, in ms. Default 30 min. */
  idleTimeout?: number;
  /** Ends a session this long after it began (or was regenerated), however active, in ms. Default 12 h. */
  absoluteTimeout?: number;
  /** Default 'lax'. */
  sameSite?: 'lax' | 'strict';
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
}

export interface Timing {
  readonly clock: () => number;
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  /** How stale lastSeenAt may get before a request writes it again. */
  readonly touchInterval: number;
  isLive(createdAt: number, lastSeenAt: number, now: number): boolean;
  /** Time left: the nearer of the idle and the absolute deadline. */
  ttl(createdAt: number, now: number): number;
}

function fail(who: string, message: string): never {
  throw new KitError('RAMPART_ERR_SESSION_OPTIONS', `${who}: ${message}`);
}

/** For error messages: a value's text when it is a primitive, its type otherwise. */
export function shown(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    default:
      return typeof value;
  }
}

function positive(who: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(who, `${name} must be a positive number of milliseconds, got ${shown(value)}`);
  return value;
}

export function resolveTiming(options: CommonSessionOptions, who: string): Timing {
  // OWASP Session Management Cheat Sheet, "Session Expiration": both an idle
  // and an absolute timeout, enforced on the server (here: from the record or
  // the sealed payload, whatever the cookie's Max-Age says).
  const idleTimeout = positive(who, 'idleTimeout', options.idleTimeout, 30 * 60_000);
  const absoluteTimeout = positive(who, 'absoluteTimeout', options.absoluteTimeout, 12 * 3_600_000);
  if (idleTimeout > absoluteTimeout) fail(who, `idleTimeout (${idleTimeout}) is longer than absoluteTimeout (${absoluteTimeout})`);
  if (options.clock !== undefined && typeof options.clock !== 'function') fail(who, 'clock must be a function returning milliseconds since the epoch');
  const clock = options.clock ?? Date.now;
  // At most one write per minute per session for activity alone, so that a
  // busy page does not turn every request into a store write.
  const touchInterval = Math.min(60_000, Math.floor(idleTimeout / 2));
  return {
    clock,
    idleTimeout,
    absoluteTimeout,
    touchInterval,
    isLive: (createdAt, lastSeenAt, now) => now - lastSeenAt < idleTimeout && now - createdAt < absoluteTimeout,
    ttl: (createdAt, now) => Math.min(idleTimeout, createdAt + absoluteTimeout - now),
  };
}

export interface CookiePolicy {
  /** The cookie's name for this request: with the __Host- prefix when Secure. */
  nameFor(request: FastifyRequest): string;
  read(request: FastifyRequest): string | undefined;
  write(request: FastifyRequest, reply: FastifyReply, value: string, ttlMs: number): void;
  clear(request: FastifyRequest, reply: FastifyReply): void;
  /** The longest name the cookie can have, for size checks. */
  readonly longestName: string;
}

// RFC 6265 §4.1.1: a cookie-name is an HTTP token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function createCookiePolicy(options: CommonSessionOptions, defaultName: string, who: string): CookiePolicy {
  const base = options.cookieName ?? defaultName;
  if (typeof base !== 'string' || !TOKEN.test(base)) fail(who, `cookieName must be an HTTP token (letters, digits, !#$%&'*+-.^_\`|~), got ${JSON.stringify(base)}`);
  if (/^__(host|secure)-/i.test(base)) fail(who, 'give cookieName without the __Host-/__Secure- prefix; it is added when the cookie is Secure');
  const secure = options.secure ?? 'auto';
  if (secure !== 'auto' && typeof secure !== 'boolean') fail(who, `secure must be 'auto', true or false, got ${String(secure)}`);
  const sameSite = options.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict') fail(who, `sameSite must be 'lax' or 'strict', got ${String(sameSite)}`);

  const isSecure = (request: FastifyRequest) => (secure === 'auto' ? request.protocol === 'https' : secure);
  // RFC 6265bis §4.1.3 (cookie name prefixes): a __Host- cookie must be Secure, Path=/ and have no
  // Domain, so a sibling subdomain or a plain-HTTP response cannot set or
  // overwrite it (cookie tossing, session fixation through a subdomain).
  const nameFor = (request: FastifyRequest) => (isSecure(request) ? `__Host-${base}` : base);
  const attributes = (request: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite, secure: isSecure(request) });

  return {
    longestName: `__Host-${base}`,
    nameFor,
    read(request) {
      // request.cookies is null when the app registered @fastify/cookie with hook: false.
      const cookies = request.cookies ?? (request.headers.cookie ? request.server.parseCookie(request.headers.cookie) : {});
      return cookies[nameFor(request)];
    },
    write(request, reply, value, ttlMs) {
      // Max-Age follows the nearer timeout, so the browser drops the cookie
      // about when the server would refuse it anyway.
      const maxAge = Math.max(1, Math.ceil(ttlMs / 1000));
      appendSetCookie(request, reply, nameFor(request), value, { ...attributes(request), maxAge });
    },
    clear(request, reply) {
      appendSetCookie(request, reply, nameFor(request), '', { ...attributes(request), maxAge: 0, expires: new Date(0) });
    },
  };
}

// Written as a header rather than through reply.setCookie: @fastify/cookie
// (11.x) flushes its queue in its own onSend hook, which runs before ours, and
// when the app registered it with hook: false that hook never marks itself
// as run, so a cookie queued afterwards is silently dropped. Fastify appends
// repeated Set-Cookie headers, so other cookies are unaffected.
function appendSetCookie(request: FastifyRequest, reply: FastifyReply, name: string, value: string, options: Record<string, unknown>): void {
  void reply.header('set-cookie', request.server.serializeCookie(name, value, options));
}

/** Registers @fastify/cookie unless the app already has (e.g. with its own options). */
export async function ensureCookiePlugin(fastify: FastifyInstance): Promise<void> {
  if (!fastify.hasReplyDecorator('setCookie')) await fastify.register(fastifyCookie);
}
