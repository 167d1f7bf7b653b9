// kitCsrf: every state-changing request must prove it comes from this site.
//
// Request path, for methods other than GET, HEAD and OPTIONS, on every route
// unless it sets `config: { csrf: false }`:
//   onRequest     Sec-Fetch-Site, then Origin: refused before the body is read;
//   preValidation the token (x-csrf-token header or _csrf form field) against
//                 the session, after the body is parsed.
// A failure is a 403 with a short text/plain body naming the check.
// Defence in depth (OWASP CSRF Prevention Cheat Sheet): Fetch Metadata and
// Origin stop what browsers label, the token stops the rest; SameSite=Lax
// on the session cookie is a further layer, not the defence.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KitError } from '../errors.ts';
import { FAILURE_TEXT, fetchSiteAllowed, originAllowed, parseAllowedOrigins, tokenFrom, type CsrfFailure } from './checks.ts';
import { tokenFor, verifyToken } from './token.ts';

export interface KitCsrfOptions {
  /** Other origins allowed to send state-changing requests, exactly as browsers send Origin: 'https://admin.example.com'. Default none. */
  allowedOrigins?: string[];
  /** Accept Sec-Fetch-Site: same-site (a sibling subdomain). Default false: a sibling can be less trusted than this app. */
  allowSameSite?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A token for this session, for a hidden _csrf field or the x-csrf-token header (kitCsrf). */
    csrfToken(): string;
  }
  interface FastifyContextConfig {
    /** false turns kitCsrf off for this route (e.g. a webhook authenticated another way). */
    csrf?: boolean;
  }
}

// RFC 9110 §9.2.1: safe methods. They are never checked, so they must never
// change state.
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function checked(request: FastifyRequest): boolean {
  return !SAFE.has(request.method) && request.routeOptions.config.csrf !== false;
}

function refuse(request: FastifyRequest, reply: FastifyReply, failure: CsrfFailure): FastifyReply {
  request.log.info({ csrf: failure }, 'csrf check failed');
  return reply.code(403).type('text/plain; charset=utf-8').send(FAILURE_TEXT[failure]);
}

function kitCsrfPlugin(fastify: FastifyInstance, options: KitCsrfOptions, done: (err?: Error) => void): void {
  try {
    setUp(fastify, options ?? {});
  } catch (err) {
    return done(err as Error);
  }
  done();
}

function setUp(fastify: FastifyInstance, options: KitCsrfOptions): void {
  const allowed = parseAllowedOrigins(options.allowedOrigins);
  const allowSameSite = options.allowSameSite ?? false;
  if (typeof allowSameSite !== 'boolean') throw new KitError('RAMPART_ERR_CSRF_OPTIONS', 'kitCsrf: allowSameSite must be true or false');
  if (!fastify.hasRequestDecorator('session')) {
    throw new KitError('RAMPART_ERR_CSRF_OPTIONS', 'kitCsrf: register kitSessions or kitCookieSessions first; the token is bound to the session');
  }

  fastify.decorateRequest('csrfToken', function csrfToken(this: FastifyRequest): string {
    return tokenFor(this.session);
  });

  fastify.addHook('onRequest', async function csrfHeaders(request, reply) {
    if (!checked(request)) return;
    if (!fetchSiteAllowed(request, allowSameSite)) return refuse(request, reply, 'fetch-metadata');
    if (!originAllowed(request, allowed)) return refuse(request, reply, 'origin');
  });

  fastify.addHook('preValidation', async function csrfTokenCheck(request, reply) {
    if (!checked(request)) return;
    const token = tokenFrom(request);
    if (token === undefined) return refuse(request, reply, 'token-missing');
    if (!verifyToken(request.session, token)) return refuse(request, reply, 'token-invalid');
  });
}

/**
 * CSRF protection app-wide (fastify-plugin). Register after kitSessions or
 * kitCookieSessions and before the routes; register @fastify/formbody for
 * HTML forms so the _csrf field is parsed.
 */
export const kitCsrf = fp(kitCsrfPlugin, { name: '@rampart/kit/csrf', fastify: '5.x' });
