// kitSecurityHeaders: app-wide (fastify-plugin) response headers set in
// onRequest, so that they are on every answer, the 404 handler's and the
// error handler's included. A route that needs another value sets the header
// itself (reply.header) or removes it (reply.removeHeader); the plugin never
// overwrites a later choice.
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
  fastify.addHook('onSend', function removePoweredBy(_request, reply, payload, next) {
    // Fastify sends none, but a plugin or a copied header might: it only helps an attacker pick exploits.
    reply.removeHeader('x-powered-by');
    next(null, payload);
  });
  done();
};

export const kitSecurityHeaders = fp(plugin, { fastify: '5.x', name: '@rampart/kit/security-headers' });
