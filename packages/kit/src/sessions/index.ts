// Sessions: server-side (kitSessions + a SessionStore) or sealed in the
// cookie (kitCookieSessions + a RevocationStore), one request.session API.
// See docs/kit/sessions.md.
export type { Session } from './session.ts';
export type { CommonSessionOptions } from './options.ts';
export { kitSessions, type KitSessionsOptions } from './kit-sessions.ts';
export { kitCookieSessions, type KitCookieSessionsOptions } from './kit-cookie-sessions.ts';
export type { SessionStore, SessionRecord } from './store.ts';
export { memorySessionStore, type MemorySessionStoreOptions } from './memory-store.ts';
export { postgresSessionStore, type PostgresSessionStoreOptions } from './postgres-store.ts';
export { redisSessionStore } from './redis-store.ts';
export { memoryRevocationStore, postgresRevocationStore, redisRevocationStore, type RevocationStore } from './revocation.ts';
