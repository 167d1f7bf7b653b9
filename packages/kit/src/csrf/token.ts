// CSRF tokens bound to the session: token = HMAC-SHA256(secret, session id),
// with a random secret kept in the session itself.
//
// Why this and not a bare synchroniser token: the token changes by itself
// when session.regenerate() changes the id at login, so a token seen (or
// planted along with a fixated session) before login is worthless after it
// (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern" and the
// HMAC-based variant). No server-wide secret to configure, and it works the
// same for server-side and sealed-cookie sessions: the secret never leaves
// the server, or leaves only inside the encrypted cookie.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Session } from '../sessions/index.ts';

/** The session key holding the per-session secret (reserved). */
export const CSRF_SECRET_KEY = 'rampart.csrf';

function derive(secret: string, id: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url');
}

/** The token for this session; writes a secret into the session the first time (which saves it). */
export function tokenFor(session: Session): string {
  let secret = session.get<unknown>(CSRF_SECRET_KEY);
  if (typeof secret !== 'string') {
    secret = randomBytes(32).toString('base64url');
    session.set(CSRF_SECRET_KEY, secret);
  }
  // The first write gave the session its id.
  return derive(secret as string, session.id ?? '');
}

/** False without a session secret or id, so a session-less request never passes. */
export function verifyToken(session: Session, token: string): boolean {
  const secret = session.get<unknown>(CSRF_SECRET_KEY);
  if (typeof secret !== 'string' || session.id === null) return false;
  const expected = Buffer.from(derive(secret, session.id));
  const given = Buffer.from(token);
  // timingSafeEqual needs equal lengths; the length of a valid token is public.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
