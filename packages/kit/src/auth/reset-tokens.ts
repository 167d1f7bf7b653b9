// Password reset without account enumeration (OWASP ASVS 5.0 6.3.8, OWASP
// Forgot Password Cheat Sheet: "return a consistent message for both existent
// and non-existent accounts" and "ensure that responses return in a consistent
// amount of time ... by using asynchronous calls").
//
// request(login) returns at once and does nothing for the login before the
// caller has answered: the lookup, the token and the email run afterwards, off
// the response path. The answer is therefore the same bytes after the same
// work for every login, instead of a padded delay that only hides what is
// shorter than the padding.
//
// Tokens are stateless: id, expiry and an HMAC over them and the account's
// current password hash. Setting a new password changes the hash (new salt),
// which ends every token issued before: single use without a table.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KitError } from '../errors.ts';

export interface ResetAccount {
  id: string;
  passwordHash: string;
}

export interface ResetTokensOptions<U extends ResetAccount> {
  /** At least 32 characters, e.g. from loadSecrets(); keep it apart from the session secret. */
  secret: string;
  /** How long a token works. Default 30 minutes. */
  ttlMs?: number;
  /** The account for what was typed in the "forgot password" form, or null. */
  findUserByLogin: (login: string) => Promise<U | null>;
  /** The account the token names, or null. */
  findUserById: (id: string) => Promise<U | null>;
  /** Sends the link with the token (email, …). Only called for an account that exists. */
  send: (user: U, token: string) => Promise<void>;
  /** Failures of the work after the answer (lookup, send): nobody awaits it. Never given the token. */
  onError: (error: unknown) => void;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

export interface ResetTokens<U extends ResetAccount> {
  /** Starts a reset for a login after the current answer; returns at once, the same way for every login. */
  request(login: string): void;
  /** A token for this account now (request() uses it; also for an admin-initiated reset). */
  issue(user: U): string;
  /** The account when the token is intact, unexpired and made with its current password hash; otherwise null. */
  verify(token: string): Promise<U | null>;
}

const TOKEN = /^([A-Za-z0-9_-]{1,256})\.([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/;

export function createResetTokens<U extends ResetAccount>(options: ResetTokensOptions<U>): ResetTokens<U> {
  if (typeof options.secret !== 'string' || options.secret.length < 32) {
    throw new KitError('RAMPART_ERR_RESET_OPTIONS', 'createResetTokens: secret must be at least 32 characters; load it with loadSecrets({ names: [\'RESET_SECRET\'] })');
  }
  const ttlMs = options.ttlMs ?? 30 * 60_000;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 60_000 || ttlMs > 24 * 3_600_000) {
    throw new KitError('RAMPART_ERR_RESET_OPTIONS', `createResetTokens: ttlMs must be an integer from 60000 (1 min) to 86400000 (24 h), got ${String(ttlMs)}`);
  }
  for (const name of ['findUserByLogin', 'findUserById', 'send', 'onError'] as const) {
    if (typeof options[name] !== 'function') throw new KitError('RAMPART_ERR_RESET_OPTIONS', `createResetTokens: ${name} must be a function`);
  }
  const now = options.now ?? Date.now;
  // A key of its own, so the same secret used elsewhere (by mistake) cannot
  // mint reset tokens from another feature's MACs (RFC 5869 §3.2, "info").
  const key = Buffer.from(hkdfSync('sha256', options.secret, Buffer.alloc(0), 'rampart password reset v1', 32));

  function mac(idPart: string, expires: string, passwordHash: string): Buffer {
    return createHmac('sha256', key).update(`${idPart}.${expires}.`).update(passwordHash).digest();
  }

  function issue(user: U): string {
    const idPart = Buffer.from(user.id, 'utf8').toString('base64url');
    const expires = String(Math.ceil((now() + ttlMs) / 1000));
    return `${idPart}.${expires}.${mac(idPart, expires, user.passwordHash).toString('base64url')}`;
  }

  async function verify(token: string): Promise<U | null> {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (match === null) return null;
    const [, idPart = '', expires = '', given = ''] = match;
    if (Number(expires) * 1000 <= now()) return null;
    const user = await options.findUserById(Buffer.from(idPart, 'base64url').toString('utf8'));
    if (user === null || user === undefined) return null;
    return timingSafeEqual(mac(idPart, expires, user.passwordHash), Buffer.from(given, 'base64url')) ? user : null;
  }

  async function deliver(login: string): Promise<void> {
    const user = await options.findUserByLogin(login);
    if (user === null || user === undefined) return;
    await options.send(user, issue(user));
  }

  function request(login: string): void {
    // setImmediate runs after the promise jobs that let the route's handler
    // return and Fastify write the answer: the per-account work starts only
    // once the response is on its way.
    setImmediate(function resetAfterResponse() {
      deliver(login).catch(function reportResetFailure(err: unknown) {
        try {
          options.onError(err);
        } catch {
          // onError itself failed: nothing left to tell, and a throw here
          // would end the process.
        }
      });
    });
  }

  return { request, issue, verify };
}
