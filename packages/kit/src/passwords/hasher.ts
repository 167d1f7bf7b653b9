// argon2id password hashing (OWASP ASVS 5.0 11.4.2; OWASP Password Storage
// Cheat Sheet, "Argon2id"). The defaults are the cheat sheet's first
// configuration, m=19456 KiB (19 MiB), t=2, p=1; weaker settings are refused
// when the hasher is built, not discovered at login.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import { KitError } from '../errors.ts';
import { formatArgon2, LIMITS, parseArgon2, type Argon2Parameters } from './phc.ts';

export interface PasswordHasherOptions {
  /** KiB of memory per hash. Default 19456 (19 MiB). */
  memoryCost?: number;
  /** Passes over the memory. Default 2. */
  timeCost?: number;
  /** Lanes. Default 1. */
  parallelism?: number;
}

export interface PasswordVerification {
  /** The password matches the stored hash. */
  ok: boolean;
  /**
   * Hash the password again and store the new hash: the stored one was made
   * with other parameters or another Argon2 variant. Only ever true together
   * with ok, so that acting on it can never store a wrong password's hash.
   */
  needsRehash: boolean;
}

export interface PasswordHasher {
  readonly parameters: Readonly<Argon2Parameters>;
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<PasswordVerification>;
  /** True when `hash` was not made by this hasher with its current parameters. */
  needsRehash(hash: string): boolean;
  /**
   * Spends exactly what verify() spends on a hash with the current
   * parameters, against a hash that no password matches: for a login whose
   * account does not exist (ASVS 5.0 6.3.8).
   */
  verifyDummy(password: string): Promise<void>;
}

export const PASSWORD_HASH_DEFAULTS: Readonly<Argon2Parameters> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

// The cheat sheet's equivalent argon2id settings (memory KiB, passes): a
// configuration must reach at least one of them in both dimensions.
const OWASP_MINIMUMS: ReadonlyArray<readonly [number, number]> = [
  [47104, 1],
  [19456, 2],
  [12288, 3],
  [9216, 4],
  [7168, 5],
];

const VERSION = 0x13;
const SALT_BYTES = 16; // RFC 9106 §3.1 recommends 128 bits of salt
const HASH_BYTES = 32;

function resolve(options: PasswordHasherOptions): Argon2Parameters {
  const parameters = { ...PASSWORD_HASH_DEFAULTS, ...options };
  for (const key of ['memoryCost', 'timeCost', 'parallelism'] as const) {
    const value = parameters[key];
    const range = LIMITS[key];
    if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
      throw new KitError('RAMPART_ERR_PASSWORD_PARAMS', `createPasswordHasher: ${key} must be an integer from ${range.min} to ${range.max}, got ${String(value)}`);
    }
  }
  const { memoryCost, timeCost, parallelism } = parameters;
  if (!OWASP_MINIMUMS.some(([m, t]) => memoryCost >= m && timeCost >= t)) {
    throw new KitError(
      'RAMPART_ERR_PASSWORD_PARAMS',
      `createPasswordHasher: memoryCost ${memoryCost} KiB with timeCost ${timeCost} is below the OWASP Password Storage Cheat Sheet's argon2id minimums (m=47104,t=1 / m=19456,t=2 / m=12288,t=3 / m=9216,t=4 / m=7168,t=5); raise one of them`,
    );
  }
  if (memoryCost < 8 * parallelism) {
    throw new KitError('RAMPART_ERR_PASSWORD_PARAMS', `createPasswordHasher: memoryCost must be at least 8 KiB per lane (${8 * parallelism} for parallelism ${parallelism})`);
  }
  return Object.freeze({ memoryCost, timeCost, parallelism });
}

// NIST SP 800-63B §5.1.1.2: apply NFKC before hashing, so that the same
// password typed on two keyboards (composed "é" or e + U+0301) is the same
// secret. No other change: no trimming, no case folding (ASVS 5.0 6.2.8).
function normalize(password: string): string {
  return password.normalize('NFKC');
}

async function argon2Raw(password: string, parts: Argon2Parameters & { type: 'argon2d' | 'argon2i' | 'argon2id'; version: number; salt: Buffer; hashLength: number }): Promise<Buffer> {
  return argon2.hash(normalize(password), {
    raw: true,
    type: argon2[parts.type],
    version: parts.version,
    memoryCost: parts.memoryCost,
    timeCost: parts.timeCost,
    parallelism: parts.parallelism,
    salt: parts.salt,
    hashLength: parts.hashLength,
  });
}

export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const parameters = resolve(options);
  // A well-formed hash with the current parameters and random bytes for both
  // salt and digest: verifying against it costs a real verification, yet no
  // password can match it (a 2^-256 chance), and making it costs nothing, so
  // the first unknown login is not slower than the next ones.
  const dummy = formatArgon2({ type: 'argon2id', version: VERSION, ...parameters, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) });

  async function hash(password: string): Promise<string> {
    if (typeof password !== 'string') throw new KitError('RAMPART_ERR_PASSWORD_INPUT', 'hashPassword: the password must be a string');
    const salt = randomBytes(SALT_BYTES);
    const digest = await argon2Raw(password, { type: 'argon2id', version: VERSION, ...parameters, salt, hashLength: HASH_BYTES });
    return formatArgon2({ type: 'argon2id', version: VERSION, ...parameters, salt, hash: digest });
  }

  function needsRehash(stored: string): boolean {
    const parts = parseArgon2(stored);
    return (
      parts === null ||
      parts.type !== 'argon2id' ||
      parts.version !== VERSION ||
      parts.memoryCost !== parameters.memoryCost ||
      parts.timeCost !== parameters.timeCost ||
      parts.parallelism !== parameters.parallelism
    );
  }

  async function verify(stored: string, password: string): Promise<PasswordVerification> {
    const parts = parseArgon2(stored);
    if (parts === null || typeof password !== 'string') {
      // A corrupt or foreign hash answers like a wrong password, after the
      // same work, instead of a throw (a 500 and a faster answer both tell
      // an attacker something).
      await verifyDummy(typeof password === 'string' ? password : '');
      return { ok: false, needsRehash: false };
    }
    const digest = await argon2Raw(password, { ...parts, hashLength: parts.hash.length });
    const ok = timingSafeEqual(digest, parts.hash);
    return { ok, needsRehash: ok && needsRehash(stored) };
  }

  async function verifyDummy(password: string): Promise<void> {
    await verify(dummy, password);
  }

  return { parameters, hash, verify, needsRehash, verifyDummy };
}

export const defaultPasswordHasher: PasswordHasher = createPasswordHasher();

/** argon2id with the OWASP defaults (m=19456 KiB, t=2, p=1); a PHC string. */
export function hashPassword(password: string): Promise<string> {
  return defaultPasswordHasher.hash(password);
}

/** Checks a password against a stored hash; a malformed hash is { ok: false }, never a throw. */
export function verifyPassword(hash: string, password: string): Promise<PasswordVerification> {
  return defaultPasswordHasher.verify(hash, password);
}
