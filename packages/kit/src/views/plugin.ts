// kitViews: app-wide (fastify-plugin, so every route and the 404 handler see
// it) request.cspNonce and reply.html(page, status).
import fp from 'fastify-plugin';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { KitError } from '../errors.ts';
import { SafeHtml } from './html.ts';
import { installCspNonce } from './nonce.ts';

declare module 'fastify' {
  interface FastifyReply {
    /** Sends a page made with html`…` as text/html; charset=utf-8. */
    html(page: SafeHtml, status?: number): FastifyReply;
  }
}

const plugin: FastifyPluginCallback = function kitViews(fastify, _options, done) {
  installCspNonce(fastify);
  fastify.decorateReply('html', function html(this: FastifyReply, page: SafeHtml, status?: number): FastifyReply {
    // A string would be sent unescaped; only html`…` output is trusted here.
    if (!SafeHtml.is(page)) throw new KitError('RAMPART_ERR_VIEW_NOT_SAFE', 'reply.html() takes the result of html`…`, not a string');
    if (status !== undefined) this.code(status);
    return this.type('text/html; charset=utf-8').send(page.toString());
  });
  done();
};

export const kitViews = fp(plugin, { fastify: '5.x', name: '@rampart/kit/views' });
