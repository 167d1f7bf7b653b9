// The CSP nonce of a request, shared by kitViews (which puts it on inline
// <script>/<style>) and kitSecurityHeaders (which names it in the policy).
// Whichever of the two is registered first installs it; the other finds the
// decorator and leaves it alone, so their order does not matter.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** 16 random bytes, base64, new for every request (CSP Level 3 §6.7.2.3 asks for at least 128 bits). */
    cspNonce: string;
  }
}

export function installCspNonce(fastify: FastifyInstance): void {
  if (fastify.hasRequestDecorator('cspNonce')) return;
  fastify.decorateRequest('cspNonce', '');
  fastify.addHook('onRequest', function assignCspNonce(request, _reply, done) {
    request.cspNonce = randomBytes(16).toString('base64');
    done();
  });
}
