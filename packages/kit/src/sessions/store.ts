// The contract between kitSessions and where its records live. One interface,
// several implementations (memory, PostgreSQL, Redis), one behaviour test
// suite run over all of them (stores.test.ts).

/** What a store keeps for one session. Times are milliseconds since the epoch, from the plugin's clock. */
export interface SessionRecord {
  /** The session's values; JSON only. */
  data: Record<string, unknown>;
  /** When the session (or its current id) began: the absolute timeout runs from here. */
  createdAt: number;
  /** The last request that touched it: the idle timeout runs from here. */
  lastSeenAt: number;
}

/**
 * Records are keyed by the SHA-256 of the session id (`idHash`), never by the
 * id itself. `ttlMs` is relative so that a store checks expiry on its own
 * clock (PostgreSQL's now(), Redis' PX); the plugin also checks the
 * timeouts from the record, so store expiry only reclaims space.
 */
export interface SessionStore {
  get(idHash: string): Promise<SessionRecord | null>;
  /** Creates or replaces the record. */
  set(idHash: string, record: SessionRecord, ttlMs: number): Promise<void>;
  /** Moves lastSeenAt and the expiry of an existing record; never creates one, never changes data. */
  touch(idHash: string, lastSeenAt: number, ttlMs: number): Promise<void>;
  destroy(idHash: string): Promise<void>;
  /** Stops timers and closes connections the store opened itself. */
  close(): Promise<void>;
}

export function isSessionStore(value: unknown): value is SessionStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return ['get', 'set', 'touch', 'destroy', 'close'].every((m) => typeof s[m] === 'function');
}

/** Parses a stored record's JSON; anything not shaped like a record reads as absent. */
export function parseRecord(json: string): SessionRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { data, createdAt, lastSeenAt } = value as Record<string, unknown>;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  if (typeof createdAt !== 'number' || typeof lastSeenAt !== 'number') return null;
  return { data: data as Record<string, unknown>, createdAt, lastSeenAt };
}
