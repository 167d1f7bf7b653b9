// The flights app: every plugin of the kit is wired here, in the order the
// request meets them, and nowhere else.
//
//   onRequest   x-served-by · nonce + security headers · session · API key
//   preParsing  form bodies (@fastify/formbody)
//   preHandler  CSRF check on unsafe methods (not /api) · viewer from the session
//               · the stored page for an anonymous request (kitCache, `/`)
//   handler     routes/*.ts, rendering views/*.ts with html`…`;
//               /static/* from public/ (kitStatic, fingerprinted)
//   onSend      session saved · strong ETag, 304 (kitEtag) · page stored (kitCache)
//               · CSP without a nonce on pages marked public
//   errors      404 page (path escaped) · error handler (no stack, no SQL)
import path from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import type { Db } from '@rampart/data';
import {
  createApiKeyStore,
  createCache,
  createResetTokens,
  kitApiKeys,
  kitCache,
  kitCsrf,
  kitEtag,
  kitSecurityHeaders,
  kitSessions,
  kitStatic,
  kitViews,
  memoryCacheStore,
  postgresBroadcast,
  type Cache,
  type SessionStore,
} from '@rampart/kit';
import { installViewer, pageContext } from './context.ts';
import { findUserByEmail, findUserById, recordReset } from './queries/users.ts';
import { accountRoutes } from './routes/account.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { apiRoutes } from './routes/api.ts';
import { healthRoutes } from './routes/health.ts';
import { pageRoutes } from './routes/pages.ts';
import { errorPage, notFoundPage } from './views/errors.ts';
import { createLoggerOptions } from './logging.ts';

/** The secrets buildApp needs, by name: pass loadSecrets({ names: SECRET_NAMES }). */
export const SECRET_NAMES = ['RESET_SECRET'] as const;

export interface BuildAppOptions {
  db: Db;
  sessionStore: SessionStore;
  secrets: Record<string, string>;
  /** Sent as x-served-by on every response, so a test (or you) can see which instance answered. */
  instanceId: string;
  /** false, true (info) or pino options; redaction of credentials is always added. Default false. */
  logger?: boolean | Record<string, unknown>;
  /** Fastify's two log lines per request (default true). server.ts turns them off unless LOG_REQUESTS=1: the gateway logs every request. */
  requestLogging?: boolean;
  /** Whose X-Forwarded-* to believe. Default 'loopback': the rampart gateway on the same host. */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** Origin for links in e-mails (password reset). Default http://localhost:8080. */
  publicUrl?: string;
  /**
   * The app cache (the board). Default: a memory store in this process, with
   * invalidations shared with the other instances through PostgreSQL
   * LISTEN/NOTIFY on `db`; closed with the app. One given here (a Redis
   * store) is left open: its owner closes it.
   */
  cache?: Cache;
}

const RESET_TTL_MS = 30 * 60_000;
const PUBLIC_DIR = path.join(import.meta.dirname, '..', 'public');

/** A memory store per instance, kept consistent by invalidations sent through the database every instance shares. */
export function createFlightsCache(db: Db, onError?: (err: Error) => void): Cache {
  return createCache({
    store: memoryCacheStore({ maxBytes: 32 * 1024 * 1024 }),
    broadcast: postgresBroadcast(db, { channel: 'flights_cache', onError }),
    prefix: 'flights:',
    onError,
  });
}

const CACHE_READY_MS = 5000;

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

function secret(secrets: Record<string, string>, name: (typeof SECRET_NAMES)[number]): string {
  const value = secrets[name];
  if (value === undefined || value.length < 32) {
    throw new Error(`buildApp: secrets.${name} is missing or shorter than 32 characters; load it with loadSecrets({ names: SECRET_NAMES })`);
  }
  return value;
}

function isApi(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { db } = options;
  const resetSecret = secret(options.secrets, 'RESET_SECRET');
  const publicUrl = (options.publicUrl ?? 'http://localhost:8080').replace(/\/+$/, '');
  const app = Fastify({
    logger: createLoggerOptions(options.logger ?? false),
    trustProxy: options.trustProxy ?? 'loopback',
    // Behind rampart the gateway's access log has one line per request;
    // two more per request (and per health check) from every instance are noise.
    logController: new LogController({ disableRequestLogging: options.requestLogging === false }),
    // Forms and API bodies here are a few hundred bytes.
    bodyLimit: 64 * 1024,
  });

  app.addHook('onRequest', function servedBy(_request, reply, done) {
    reply.header('x-served-by', options.instanceId);
    done();
  });

  const cache = options.cache ?? createFlightsCache(db, (err) => app.log.warn({ err }, 'app cache'));
  if (options.cache === undefined) app.addHook('onClose', () => cache.close());
  // Until the broadcast listens, the cache is bypassed (correct, but every
  // board view runs the query): start with it listening when the database answers.
  if (!(await settlesWithin(cache.ready(), CACHE_READY_MS))) app.log.warn(`app cache: invalidations not heard yet after ${CACHE_READY_MS} ms; the cache is bypassed until they are`);

  await app.register(kitSecurityHeaders);
  await app.register(kitViews);
  await app.register(kitStatic, { root: PUBLIC_DIR, prefix: '/static' });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(kitSessions, { store: options.sessionStore, secure: 'auto', idleTimeout: 30 * 60_000, absoluteTimeout: 12 * 3_600_000 });
  await app.register(kitCsrf);
  // After the sessions: it must see their Set-Cookie (never a 304 with a cookie).
  await app.register(kitEtag);
  const apiKeys = createApiKeyStore(db);
  await app.register(kitApiKeys, { store: apiKeys });
  installViewer(app, db);
  await app.register(kitCache, { cache, cacheStatus: 'flights' });

  const resets = createResetTokens({
    secret: resetSecret,
    ttlMs: RESET_TTL_MS,
    findUserByLogin: async (login) => toResetAccount(await findUserByEmail(db, login)),
    findUserById: async (id) => (/^[0-9]{1,10}$/.test(id) ? toResetAccount(await findUserById(db, Number(id))) : null),
    send: async (user, token) => {
      await recordReset(db, {
        userId: user.numericId,
        token,
        expiresAt: new Date(Date.now() + RESET_TTL_MS),
        email: {
          to: user.email,
          subject: 'Choose a new password',
          body: `Someone asked to reset the password of your flights account. To choose a new one, open\n\n${publicUrl}/password-reset/confirm?token=${encodeURIComponent(token)}\n\nwithin 30 minutes. If it was not you, ignore this message: nothing has changed.`,
        },
      });
    },
    // Never given the token; the error is logged without the request body.
    onError: (err) => app.log.error({ err }, 'password reset: could not send the link'),
  });

  healthRoutes(app, db);
  pageRoutes(app, db, cache);
  accountRoutes(app, { db, resets });
  apiKeyRoutes(app, apiKeys);
  apiRoutes(app, db, cache);

  app.setNotFoundHandler(function notFound(request, reply) {
    if (isApi(request.url)) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such API route.' });
    let shown = request.url.split('?')[0] ?? '/';
    try {
      shown = decodeURIComponent(shown);
    } catch {
      // Malformed percent-encoding: show it as it came.
    }
    return reply.html(notFoundPage(pageContext(request), shown), 404);
  });

  app.setErrorHandler(function handleError(error: FastifyError, request, reply) {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: error.code, status }, 'request refused');
    if (isApi(request.url)) {
      // Fastify's error format. A 4xx message (which field failed which rule)
      // helps the client; a 5xx one could hold SQL or internals, so it is replaced.
      const body = status >= 500 ? { statusCode: status, error: 'Internal Server Error', message: 'Something went wrong on our side.' } : { statusCode: status, code: error.code, error: httpError(status), message: error.message };
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    }
    // The error may have come before the viewer was known: the page does not show the login state.
    return reply.html(errorPage({ viewer: null, csrfToken: () => '', asset: (name) => app.assetUrl(name) }, status), status);
  });

  return app;
}

function httpError(status: number): string {
  return status === 400 ? 'Bad Request' : status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Error';
}

function toResetAccount(user: { id: number; email: string; passwordHash: string } | null) {
  return user === null ? null : { id: String(user.id), numericId: user.id, email: user.email, passwordHash: user.passwordHash };
}
