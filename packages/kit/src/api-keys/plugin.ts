// kitApiKeys: app-wide (fastify-plugin). In onRequest it reads the key from
// `Authorization: Bearer <key>` (RFC 6750 §2.1) and sets request.apiKey to the
// key's identity, or null. Never from a cookie: a browser would attach one to
// cross-site requests (CSRF); never from the query string: URLs end up in logs
// and Referer headers (RFC 6750 §2.3, §5.3).
//
// requireApiKey(scope?) is the route's gate, as a preHandler:
//   no Bearer credential       → 401, WWW-Authenticate: Bearer realm="api"
//   a credential that fails    → 401, … error="invalid_token"
//   the scope is not granted   → 403, … error="insufficient_scope", scope="…"
// (RFC 6750 §3 and §3.1: no error code when no credential was sent.)
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KitError } from '../errors.ts';
import { SCOPE_TOKEN, type ApiKeyIdentity, type ApiKeyStore } from './store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified API key of this request, or null (set by kitApiKeys). */
    apiKey: ApiKeyIdentity | null;
  }
}

export interface KitApiKeysOptions {
  store: Pick<ApiKeyStore, 'verify'>;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme name is
// case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

function kitApiKeysPlugin(fastify: FastifyInstance, options: KitApiKeysOptions, done: (err?: Error) => void): void {
  const store = options?.store;
  if (typeof store?.verify !== 'function') {
    done(new KitError('RAMPART_ERR_API_KEY_OPTIONS', 'kitApiKeys: give a store: app.register(kitApiKeys, { store: createApiKeyStore(db) })'));
    return;
  }
  fastify.decorateRequest('apiKey', null);
  fastify.addHook('onRequest', async function verifyApiKey(request) {
    const token = bearerToken(request.headers.authorization);
    request.apiKey = token === null ? null : await store.verify(token);
  });
  done();
}

export const kitApiKeys = fp(kitApiKeysPlugin, { fastify: '5.x', name: '@rampart/kit/api-keys' });

const REALM = 'Bearer realm="api"';

/** A preHandler that lets the request through only with a valid key (holding `scope`, when given). */
export function requireApiKey(scope?: string): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  if (scope !== undefined && (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope))) {
    throw new KitError('RAMPART_ERR_API_KEY_INPUT', `requireApiKey: ${JSON.stringify(scope)} is not an RFC 6749 scope token (printable ASCII, no spaces, quotes or backslashes)`);
  }
  return async function requireApiKeyHandler(request, reply) {
    const identity = request.apiKey;
    if (identity === undefined) {
      throw new KitError('RAMPART_ERR_API_KEY_OPTIONS', 'requireApiKey: register kitApiKeys on the app before routes that use requireApiKey');
    }
    if (identity === null) {
      const sent = BEARER_SCHEME.test(request.headers.authorization ?? '');
      // Returning the reply tells Fastify the hook answered (async hooks).
      return reply
        .code(401)
        .header('www-authenticate', sent ? `${REALM}, error="invalid_token"` : REALM)
        .send(
          sent
            ? { statusCode: 401, error: 'Unauthorized', code: 'invalid_token', message: 'The API key is malformed, unknown, expired or revoked.' }
            : { statusCode: 401, error: 'Unauthorized', message: 'This endpoint needs an API key: send it as Authorization: Bearer <key>.' },
        );
    }
    if (scope !== undefined && !identity.scopes.includes(scope)) {
      return reply
        .code(403)
        .header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${scope}"`)
        .send({ statusCode: 403, error: 'Forbidden', code: 'insufficient_scope', scope, message: `This API key lacks the scope "${scope}".` });
    }
    return undefined;
  };
}
