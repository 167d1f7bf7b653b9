// Who is asking: request.viewer is the logged-in user (from the session's
// userId) or null, resolved once per request before the handler.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '@rampart/data';
import { findUserById } from './queries/users.ts';
import type { PageContext, Viewer } from './views/layout.ts';

declare module 'fastify' {
  interface FastifyRequest {
    viewer: Viewer | null;
  }
}

export const SESSION_USER = 'userId';

export function installViewer(app: FastifyInstance, db: Db): void {
  app.decorateRequest('viewer', null);
  app.addHook('preHandler', async function loadViewer(request, reply) {
    const id = request.session.get(SESSION_USER);
    if (typeof id !== 'number') return;
    const user = await findUserById(db, id);
    // A session of a deleted account is just logged out.
    if (user === null) {
      request.session.delete(SESSION_USER);
      return;
    }
    request.viewer = { id: user.id, email: user.email };
    // Pages for a logged-in user are that user's: no shared cache may keep
    // them (private), and they hold a CSRF token and the address, which the
    // browser's own cache would keep after logout on a shared computer
    // (no-store, OWASP Session Management Cheat Sheet).
    reply.header('cache-control', 'private, no-store');
  });
}

export function pageContext(request: FastifyRequest): PageContext {
  return { viewer: request.viewer ?? null, csrfToken: () => request.csrfToken(), asset: (name) => request.server.assetUrl(name) };
}

/**
 * `next` after login: a path on this site only. Anything that a browser
 * could read as another origin (`//evil`, `/\evil`, `https://evil`, a
 * control character that URL parsing drops) is refused: no open redirect
 * (OWASP Unvalidated Redirects Cheat Sheet).
 */
export function localPath(next: string | undefined): string | null {
  if (next === undefined || next === '' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return null;
  const base = 'http://flights.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return null;
  }
  if (url.origin !== base) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
