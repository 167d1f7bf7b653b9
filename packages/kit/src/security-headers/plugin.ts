// kitSecurityHeaders: app-wide (fastify-plugin) response headers set in
// onRequest, so that they are on every answer, the 404 handler's and the
// error handler's included. A route that needs another value sets the header
// itself (reply.header) or removes it (reply.removeHeader); the plugin never
// overwrites a later choice.
//
// The CSP nonce must be new for every response. A response that a shared
// cache may store and serve again (public, s-maxage, max-age or Expires,
// and not private, no-store or no-cache) would hand one nonce to everyone
// who gets the stored copy, so such responses carry the policy without
// nonce sources: no inline script or style runs on them at all, and none
// of the app's own nonces is ever published. This is checked in onSend,
// once the route has set its Cache-Control.
import fp from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';
import { installCspNonce } from '../views/nonce.ts';
import { compileSecurityHeaders, type SecurityHeadersOptions } from './options.ts';

const plugin: FastifyPluginCallback<SecurityHeadersOptions> = function kitSecurityHeaders(fastify, options, done) {
  let compiled: ReturnType<typeof compileSecurityHeaders>;
  try {
    compiled = compileSecurityHeaders(options);
  } catch (err) {
    done(err as Error);
    return;
  }
  const { always, https, csp } = compiled;
  installCspNonce(fastify);
  fastify.addHook('onRequest', function setSecurityHeaders(request, reply, next) {
    // request.protocol follows X-Forwarded-Proto only when trustProxy allows
    // the peer, so a client cannot ask for HSTS on plain HTTP by itself.
    const secure = request.protocol === 'https';
    for (const [name, value] of always) reply.header(name, value);
    if (secure) for (const [name, value] of https) reply.header(name, value);
    if (csp !== null) reply.header(csp.name, (secure ? csp.https : csp.http).join(`'nonce-${request.cspNonce}'`));
    next();
  });
  fastify.addHook('onSend', function finishSecurityHeaders(request, reply, payload, next) {
    // Fastify sends none, but a plugin or a copied header might: it only helps an attacker pick exploits.
    reply.removeHeader('x-powered-by');
    if (csp !== null && sharedCacheable(reply.getHeader('cache-control'), reply.hasHeader('expires'))) {
      const secure = request.protocol === 'https';
      // Only the policy this plugin set: a route that wrote its own keeps it.
      if (reply.getHeader(csp.name) === (secure ? csp.https : csp.http).join(`'nonce-${request.cspNonce}'`)) {
        reply.header(csp.name, secure ? csp.shared.https : csp.shared.http);
        if ((typeof payload === 'string' || Buffer.isBuffer(payload)) && request.cspNonce !== '' && payload.includes(request.cspNonce)) {
          request.log.warn({ url: request.url }, 'security headers: a response marked for shared caches uses the CSP nonce; it is sent without one, so its inline scripts and styles will not run');
        }
      }
    }
    next(null, payload);
  });
  done();
};

/**
 * True when a shared cache may store the response and serve it again without
 * asking the origin (RFC 9111 §3, §4.2.1): public, s-maxage, a max-age above
 * 0 or an Expires field, and none of private, no-store, no-cache.
 */
export function sharedCacheable(cacheControl: unknown, hasExpires: boolean): boolean {
  const text = Array.isArray(cacheControl) ? cacheControl.join(',') : typeof cacheControl === 'string' ? cacheControl : '';
  const directives = new Map<string, string>();
  for (const part of text.toLowerCase().split(',')) {
    const [name = '', value = ''] = part.split('=', 2).map((x) => x.trim());
    if (name !== '') directives.set(name, value.replace(/^"|"$/g, ''));
  }
  if (directives.has('private') || directives.has('no-store') || directives.has('no-cache')) return false;
  const maxAge = Number(directives.get('max-age') ?? '0');
  return directives.has('public') || directives.has('s-maxage') || maxAge > 0 || hasExpires;
}

export const kitSecurityHeaders = fp(plugin, { fastify: '5.x', name: '@rampart/kit/security-headers' });
