// kitCookieSessions: the whole session sealed (AES-256-GCM) in the cookie,
// so no store read is needed for the data, plus a server-side revocation
// list so that logout really ends a session.
//
// @fastify/secure-session has no revocation: a copied cookie stays valid
// until it expires, whatever the user did (logout, password change). Here
// every sealed session carries a random jti; destroy() and regenerate() list
// it in a RevocationStore shared by all instances, and a listed jti is
// refused even though the cookie still decrypts.
import fp from 'fastify-plugin';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { KitError } from '../errors.ts';
import { RequestSession, type LoadedSession, type SessionBackend } from './session.ts';
import { createSealer, parseKeys } from './seal.ts';
import { isRevocationStore, type RevocationStore } from './revocation.ts';
import { createCookiePolicy, ensureCookiePlugin, resolveTiming, type CommonSessionOptions } from './options.ts';

export interface KitCookieSessionsOptions extends CommonSessionOptions {
  /** 32-byte keys as base64/base64url, newest first: all open cookies, only the newest seals. */
  keys: string[];
  /** Where destroyed and regenerated sessions are listed: memoryRevocationStore() for one instance, postgres/redis for several. */
  revocations: RevocationStore;
}

// RFC 6265bis, Set-Cookie parsing: a user agent ignores a cookie whose name
// plus value is over 4096 octets, which would silently drop the session.
const MAX_COOKIE_BYTES = 4096;

interface Payload {
  j: string;
  c: number;
  s: number;
  d: Record<string, unknown>;
}

function parsePayload(plaintext: string): Payload | null {
  try {
    const p = JSON.parse(plaintext) as Partial<Payload> | null;
    if (typeof p !== 'object' || p === null) return null;
    if (typeof p.j !== 'string' || typeof p.c !== 'number' || typeof p.s !== 'number') return null;
    if (typeof p.d !== 'object' || p.d === null || Array.isArray(p.d)) return null;
    return p as Payload;
  } catch {
    return null;
  }
}

async function kitCookieSessionsPlugin(fastify: FastifyInstance, options: KitCookieSessionsOptions): Promise<void> {
  const sealer = createSealer(parseKeys(options?.keys));
  const revocations = options.revocations;
  if (!isRevocationStore(revocations)) {
    throw new KitError('RAMPART_ERR_SESSION_OPTIONS', 'kitCookieSessions: give revocations: memoryRevocationStore() (one instance), postgresRevocationStore(db) or redisRevocationStore(url)');
  }
  const timing = resolveTiming(options, 'kitCookieSessions');
  const cookie = createCookiePolicy(options, 'rampart.session', 'kitCookieSessions');
  await ensureCookiePlugin(fastify);

  const payloadOf = (session: RequestSession, lastSeenAt: number): string =>
    JSON.stringify({ j: session.id ?? '', c: session.createdAt, s: lastSeenAt, d: session.data() } satisfies Payload);

  const backend: SessionBackend = {
    // 128 bits: unguessable, so one user's revocation cannot collide with another's session.
    newId: () => randomBytes(16).toString('base64url'),
    async discard(jti, createdAt) {
      const left = createdAt + timing.absoluteTimeout - timing.clock();
      if (left > 0) await revocations.revoke(jti, left);
    },
    check(session) {
      const bytes = Buffer.byteLength(payloadOf(session, session.lastSeenAt));
      const size = cookie.longestName.length + 1 + sealer.sealedLength(bytes);
      if (size > MAX_COOKIE_BYTES) {
        throw new KitError('RAMPART_ERR_SESSION_TOO_LARGE', `kitCookieSessions: the sealed session would be ${size} bytes, over the ${MAX_COOKIE_BYTES}-byte cookie limit; keep less in the session or use kitSessions with a store`);
      }
    },
  };

  fastify.decorateRequest('session', null as never);

  fastify.addHook('onRequest', async function openSession(request) {
    const value = cookie.read(request);
    const now = timing.clock();
    const opened = value === undefined ? null : sealer.unseal(value, cookie.nameFor(request));
    const payload = opened && parsePayload(opened.plaintext);
    let loaded: LoadedSession | null = null;
    if (payload && timing.isLive(payload.c, payload.s, now) && !(await revocations.isRevoked(payload.j))) {
      loaded = { id: payload.j, data: payload.d, createdAt: payload.c, lastSeenAt: payload.s };
    }
    const session = new RequestSession(backend, timing.clock, loaded);
    if (loaded && opened && opened.keyIndex > 0) session.markChanged();
    request.session = session;
  });

  // Synchronous: sealing needs no I/O (revocation happens in destroy/regenerate).
  fastify.addHook('onSend', function sealSession(request, reply, payload, done) {
    const session = request.session;
    if (!(session instanceof RequestSession)) return done(null, payload);
    const now = timing.clock();
    const action = session.pending(now, timing.touchInterval);
    const ttl = timing.ttl(session.createdAt, now);
    switch (action) {
      case 'none':
        break;
      case 'clear':
        cookie.clear(request, reply);
        break;
      case 'save':
      case 'touch':
        if (session.id === null) break;
        if (ttl <= 0) {
          cookie.clear(request, reply);
          break;
        }
        try {
          backend.check?.(session);
        } catch (err) {
          return done(err as Error);
        }
        cookie.write(request, reply, sealer.seal(payloadOf(session, now), cookie.nameFor(request)), ttl);
        session.saved(now);
        break;
    }
    done(null, payload);
  });
}

/**
 * Client-side sessions on request.session (same API as kitSessions).
 * Registered with fastify-plugin: app-wide. Register before the routes.
 */
export const kitCookieSessions = fp(kitCookieSessionsPlugin, { name: '@rampart/kit/cookie-sessions', fastify: '5.x' });
