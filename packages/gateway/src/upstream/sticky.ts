// Sticky sessions: a cookie that pins a client to one server, as HAProxy's
// `cookie` and Traefik's sticky cookie do, but signed. The value names the
// server by an opaque token (an HMAC of its URL, so no address leaks), carries
// an expiry, and is signed with HMAC-SHA256 so a client cannot pin itself to a
// server of its choosing (or spread a load test over chosen servers). Keys
// come from the environment, newest first: new cookies are signed with the
// newest, older keys still verify, so keys rotate without unpinning anyone.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const STICKY_KEYS_ENV = 'RAMPART_STICKY_KEYS';
const SIG_BYTES = 16;

export interface StickyOptions {
  readonly cookie: string;
  readonly ttlMs: number;
  /** Newest first; at least one. */
  readonly keys: readonly Buffer[];
  readonly now?: () => number;
}

export class StickyCookies {
  readonly cookie: string;
  readonly #ttlMs: number;
  readonly #keys: readonly Buffer[];
  readonly #now: () => number;
  /** Per key: server URL → token, so verification maps a token back without recomputing. */
  readonly #tokens = new Map<Buffer, Map<string, string>>();

  constructor(options: StickyOptions) {
    if (options.keys.length === 0) throw new TypeError('sticky cookies need at least one key');
    this.cookie = options.cookie;
    this.#ttlMs = options.ttlMs;
    this.#keys = options.keys;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Keys from `RAMPART_STICKY_KEYS` (comma-separated, newest first, each at
   * least 32 characters), or null when unset.
   */
  static keysFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer[] | null {
    const raw = env[STICKY_KEYS_ENV];
    if (raw === undefined || raw.trim() === '') return null;
    const keys = raw.split(',').map((k) => k.trim()).filter((k) => k !== '');
    for (const k of keys) {
      if (k.length < 32) throw new TypeError(`${STICKY_KEYS_ENV}: each key needs at least 32 characters (got one of ${k.length})`);
    }
    return keys.map((k) => Buffer.from(k, 'utf8'));
  }

  /** A random key for this process only: stickiness then ends with the process. */
  static ephemeralKey(): Buffer {
    return randomBytes(32);
  }

  /** The server URL a valid cookie pins to, if it is among `servers`; null otherwise. */
  verify(cookieHeader: string | undefined, servers: readonly string[]): string | null {
    const value = cookieHeader === undefined ? null : readCookie(cookieHeader, this.cookie);
    if (value === null) return null;
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [token, expiry, signature] = parts as [string, string, string];
    if (!/^\d{1,13}$/.test(expiry) || Number(expiry) < this.#now()) return null;
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== SIG_BYTES) return null;
    for (const key of this.#keys) {
      const expected = sign(key, `${token}.${expiry}`);
      if (!timingSafeEqual(given, expected)) continue;
      for (const url of servers) if (this.#token(key, url) === token) return url;
      return null;
    }
    return null;
  }

  /** A Set-Cookie value pinning the client to `serverUrl`. */
  issue(serverUrl: string, secure: boolean): string {
    const key = this.#keys[0]!;
    const token = this.#token(key, serverUrl);
    const expiry = String(this.#now() + this.#ttlMs);
    const signature = sign(key, `${token}.${expiry}`).toString('base64url');
    const maxAge = Math.floor(this.#ttlMs / 1000);
    return `${this.cookie}=${token}.${expiry}.${signature}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  #token(key: Buffer, url: string): string {
    let perKey = this.#tokens.get(key);
    if (!perKey) {
      perKey = new Map();
      this.#tokens.set(key, perKey);
    }
    let token = perKey.get(url);
    if (token === undefined) {
      token = createHmac('sha256', key).update(`server:${url}`).digest('base64url').slice(0, 16);
      perKey.set(url, token);
    }
    return token;
  }
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, SIG_BYTES);
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4: `a=1; b=2`); the first wins. */
export function readCookie(header: string, name: string): string | null {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return null;
}
