// kitSessions: server-side sessions. The cookie carries only a random id;
// the data lives in a SessionStore shared by every instance of the app.
//
// Request path: onRequest loads the record named by the cookie (a malformed,
// unknown or expired id is a fresh, empty session, never an error) →
// handlers use request.session → onSend saves when changed, touches when the
// idle clock needs moving, or clears the cookie after destroy().
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { KitError } from '../errors.ts';
import { createSessionId, hashSessionId, isSessionId } from './session-id.ts';
import { RequestSession, type LoadedSession, type SessionBackend } from './session.ts';
import { isSessionStore, type SessionStore } from './store.ts';
import { createCookiePolicy, ensureCookiePlugin, resolveTiming, type CommonSessionOptions } from './options.ts';

export interface KitSessionsOptions extends CommonSessionOptions {
  store: SessionStore;
}

async function kitSessionsPlugin(fastify: FastifyInstance, options: KitSessionsOptions): Promise<void> {
  const store = options?.store;
  if (!isSessionStore(store)) {
    throw new KitError('RAMPART_ERR_SESSION_OPTIONS', 'kitSessions: give a store: memorySessionStore(), postgresSessionStore(db) or redisSessionStore(url)');
  }
  const timing = resolveTiming(options, 'kitSessions');
  const cookie = createCookiePolicy(options, 'rampart.sid', 'kitSessions');
  await ensureCookiePlugin(fastify);

  const backend: SessionBackend = {
    newId: createSessionId,
    discard: (id) => store.destroy(hashSessionId(id)),
  };

  fastify.decorateRequest('session', null as never);

  fastify.addHook('onRequest', async function loadSession(request) {
    const id = cookie.read(request);
    const now = timing.clock();
    let loaded: LoadedSession | null = null;
    if (isSessionId(id)) {
      const record = await store.get(hashSessionId(id));
      if (record && timing.isLive(record.createdAt, record.lastSeenAt, now)) loaded = { id, ...record };
    }
    request.session = new RequestSession(backend, timing.clock, loaded);
  });

  fastify.addHook('onSend', async function saveSession(request, reply, payload) {
    const session = request.session;
    if (!(session instanceof RequestSession)) return payload;
    const now = timing.clock();
    const action = session.pending(now, timing.touchInterval);
    const id = session.id;
    const ttl = timing.ttl(session.createdAt, now);
    switch (action) {
      case 'none':
        break;
      case 'clear':
        cookie.clear(request, reply);
        break;
      case 'save':
      case 'touch':
        if (id === null) break;
        if (ttl <= 0) {
          // Reached its absolute end during this request.
          await store.destroy(hashSessionId(id));
          cookie.clear(request, reply);
          break;
        }
        if (action === 'save') await store.set(hashSessionId(id), { data: session.data(), createdAt: session.createdAt, lastSeenAt: now }, ttl);
        else await store.touch(hashSessionId(id), now, ttl);
        session.saved(now);
        cookie.write(request, reply, id, ttl);
        break;
    }
    return payload;
  });
}

/**
 * Server-side sessions on request.session. Registered with fastify-plugin,
 * so the decoration and hooks apply app-wide. Register before the routes.
 */
export const kitSessions = fp(kitSessionsPlugin, { name: '@rampart/kit/sessions', fastify: '5.x' });
