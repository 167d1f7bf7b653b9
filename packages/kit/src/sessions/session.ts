// request.session: the one API of both session plugins (server-side records
// and sealed cookies). What differs between them is behind SessionBackend.
import { KitError } from '../errors.ts';

export interface Session {
  /** The id the session is (or will be) saved under; null while the session was never written. */
  readonly id: string | null;
  get<T = unknown>(key: string): T | undefined;
  /** Values must survive JSON; set the value again after changing an object in place. `undefined` deletes. */
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** A new id with the same data; the old id stops working at once. Call at login and at any privilege change. */
  regenerate(): Promise<void>;
  /** Ends the session on the server and clears the cookie. */
  destroy(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** From kitSessions or kitCookieSessions (app-wide). */
    session: Session;
  }
}

export interface SessionBackend {
  newId(): string;
  /** Makes an id that was handed out unusable: deletes its record, or revokes the sealed cookie's jti. */
  discard(id: string, createdAt: number): Promise<void>;
  /** Throws a KitError when the session could no longer be saved (a sealed cookie over the size limit). */
  check?(session: RequestSession): void;
}

export interface LoadedSession {
  id: string;
  data: Record<string, unknown>;
  createdAt: number;
  lastSeenAt: number;
}

export class RequestSession implements Session {
  readonly #backend: SessionBackend;
  readonly #clock: () => number;
  readonly #data: Map<string, unknown>;
  #id: string | null;
  #createdAt: number;
  #lastSeenAt: number;
  /** The id has a live record (server-side) or a cookie the browser holds. */
  #issued: boolean;
  #changed = false;
  #cleared = false;

  constructor(backend: SessionBackend, clock: () => number, loaded: LoadedSession | null) {
    this.#backend = backend;
    this.#clock = clock;
    const now = clock();
    // A Map, not an object: keys like "__proto__" from a stored record stay plain keys.
    this.#data = new Map(loaded ? Object.entries(loaded.data) : []);
    this.#id = loaded?.id ?? null;
    this.#createdAt = loaded?.createdAt ?? now;
    this.#lastSeenAt = loaded?.lastSeenAt ?? now;
    this.#issued = loaded !== null;
  }

  get id(): string | null {
    return this.#id;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    if (value === undefined) return this.delete(key);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new KitError('RAMPART_ERR_SESSION_VALUE', `session value for ${JSON.stringify(key)} is not JSON-serialisable; store plain data`, { cause: err });
    }
    if (json === undefined) throw new KitError('RAMPART_ERR_SESSION_VALUE', `session value for ${JSON.stringify(key)} is not JSON-serialisable; store plain data`);
    const had = this.#data.has(key);
    const before = this.#data.get(key);
    this.#data.set(key, value);
    try {
      this.#backend.check?.(this);
    } catch (err) {
      if (had) this.#data.set(key, before);
      else this.#data.delete(key);
      throw err;
    }
    this.#written();
  }

  delete(key: string): void {
    if (this.#data.delete(key)) this.#written();
  }

  async regenerate(): Promise<void> {
    // OWASP Session Management Cheat Sheet, "Renew the Session ID After Any
    // Privilege Level Change": the id an attacker may have planted (session
    // fixation) dies here, the data moves to a fresh id.
    if (this.#id !== null && this.#issued) await this.#backend.discard(this.#id, this.#createdAt);
    this.#id = this.#backend.newId();
    this.#createdAt = this.#lastSeenAt = this.#clock();
    this.#issued = false;
    this.#changed = true;
  }

  async destroy(): Promise<void> {
    if (this.#id !== null && this.#issued) await this.#backend.discard(this.#id, this.#createdAt);
    this.#data.clear();
    this.#id = null;
    this.#issued = false;
    this.#changed = false;
    this.#cleared = true;
  }

  // The members below are for the plugins; request.session is typed as Session.

  get createdAt(): number {
    return this.#createdAt;
  }

  get lastSeenAt(): number {
    return this.#lastSeenAt;
  }

  data(): Record<string, unknown> {
    return Object.fromEntries(this.#data);
  }

  /** Saves even without a change (a cookie sealed with an older key is sealed again with the newest). */
  markChanged(): void {
    if (this.#id !== null) this.#changed = true;
  }

  /** What the response has to do about this session. */
  pending(now: number, touchInterval: number): 'save' | 'touch' | 'clear' | 'none' {
    if (this.#changed) return 'save';
    if (this.#cleared) return 'clear';
    if (this.#issued && now - this.#lastSeenAt >= touchInterval) return 'touch';
    return 'none';
  }

  saved(now: number): void {
    this.#lastSeenAt = now;
    this.#issued = true;
    this.#changed = false;
    this.#cleared = false;
  }

  #written(): void {
    // The id is fixed at the first write, not at save, so that the CSRF
    // token (bound to the id) can be rendered in the same response.
    this.#id ??= this.#backend.newId();
    this.#changed = true;
  }
}
