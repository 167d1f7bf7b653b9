// /account/api-keys: the logged-in user's keys. A new key is shown once, on
// the answer to the POST that made it; the store keeps only its hash.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KitError, type ApiKeyStore } from '@rampart/kit';
import { API_KEY_CREATE_BODY, API_KEY_ID_PARAMS } from '../schemas.ts';
import { pageContext } from '../context.ts';
import { apiKeysPage } from '../views/account.ts';
import { notFoundPage } from '../views/errors.ts';

function loginFirst(request: FastifyRequest, reply: FastifyReply): FastifyReply | null {
  return request.viewer === null ? reply.redirect('/login?next=%2Faccount%2Fapi-keys', 303) : null;
}

export function apiKeyRoutes(app: FastifyInstance, store: ApiKeyStore): void {
  app.get('/account/api-keys', async function listKeys(request, reply) {
    const viewer = request.viewer;
    if (viewer === null) return loginFirst(request, reply);
    return reply.html(apiKeysPage(pageContext(request), await store.list(String(viewer.id))));
  });

  app.post<{ Body: { name: string; scopes: string[] } }>('/account/api-keys', { schema: { body: API_KEY_CREATE_BODY } }, async function createKey(request, reply) {
    const viewer = request.viewer;
    if (viewer === null) return loginFirst(request, reply);
    const name = request.body.name.trim();
    if (name === '') return reply.html(apiKeysPage(pageContext(request), await store.list(String(viewer.id)), undefined, 'Give the key a name.'), 400);
    const issued = await store.issue({ ownerId: String(viewer.id), name, scopes: request.body.scopes });
    reply.header('cache-control', 'no-store');
    return reply.html(apiKeysPage(pageContext(request), await store.list(String(viewer.id)), { key: issued.key, name }), 201);
  });

  app.post<{ Params: { id: string } }>('/account/api-keys/:id/revoke', { schema: { params: API_KEY_ID_PARAMS } }, async function revokeKey(request, reply) {
    const viewer = request.viewer;
    if (viewer === null) return loginFirst(request, reply);
    try {
      // ownerId: a key id from the URL only revokes a key of this user.
      await store.revoke(request.params.id, { ownerId: String(viewer.id) });
    } catch (err) {
      if (err instanceof KitError && err.code === 'RAMPART_ERR_API_KEY_NOT_FOUND') return reply.html(notFoundPage(pageContext(request), request.url), 404);
      throw err;
    }
    return reply.redirect('/account/api-keys', 303);
  });
}
