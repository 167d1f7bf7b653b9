// Login that does not tell whether an account exists (OWASP ASVS 5.0 6.3.8:
// "valid users cannot be deduced from ... error messages, HTTP response codes,
// or different response times"). The cost of a login is one argon2
// verification whether or not the account exists: a missing account is
// verified against a dummy hash with the same parameters. Both failures give
// the same null, so the caller has nothing to tell apart either.
import { defaultPasswordHasher, type PasswordHasher } from '../passwords/hasher.ts';

export interface AuthenticateOptions<U extends { passwordHash: string }> {
  /** What the user typed as their email or username, as is. */
  login: string;
  password: string;
  /** The account for this login, or null. Its lookup should cost the same either way (an indexed query does). */
  findUser: (login: string) => Promise<U | null>;
  /**
   * Called after a successful login whose stored hash was made with other
   * parameters: store newHash. Awaited; a throw fails the login, so catch
   * inside if the login should go on without the upgrade.
   */
  onRehash?: (user: U, newHash: string) => Promise<void>;
  /** Default: the hasher of hashPassword (OWASP defaults). */
  hasher?: PasswordHasher;
}

/** The user when the password is right; null for a wrong password and for an unknown login alike. */
export async function authenticate<U extends { passwordHash: string }>(options: AuthenticateOptions<U>): Promise<U | null> {
  const hasher = options.hasher ?? defaultPasswordHasher;
  const user = await options.findUser(options.login);
  // undefined too: a JavaScript caller's lookup may well return it.
  if (user === null || user === undefined) {
    await hasher.verifyDummy(options.password);
    return null;
  }
  const { ok, needsRehash } = await hasher.verify(user.passwordHash, options.password);
  if (!ok) return null;
  if (needsRehash && options.onRehash !== undefined) await options.onRehash(user, await hasher.hash(options.password));
  return user;
}
