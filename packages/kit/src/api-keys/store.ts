// API keys in PostgreSQL (table kit_api_keys, migration 002_api_keys.sql).
// The key is returned once, by issue() and rotate(); the table keeps its
// SHA-256 only. verify() finds the row by the key's prefix and compares the
// hashes in constant time; a malformed, unknown, expired or revoked key is
// null, all alike, so a caller cannot leak which one it was.
import { timingSafeEqual } from 'node:crypto';
import { sql, type Queryable } from '@rampart/data';
import { KitError } from '../errors.ts';
import { generateKey, hashKey, keyPrefix } from './key.ts';

export interface ApiKeyIdentity {
  id: string;
  ownerId: string;
  scopes: string[];
}

export interface IssuedApiKey {
  id: string;
  /** The full key: show it once, it cannot be read back. */
  key: string;
  prefix: string;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface IssueApiKeyOptions {
  ownerId: string;
  name: string;
  scopes: string[];
  /** null or absent: no expiry. */
  expiresAt?: Date | null;
}

export interface RotateApiKeyOptions {
  /** How long the old key keeps working. Default 24 h. */
  overlapMs?: number;
  /** Expiry of the new key. Default: the old key's lifetime again from now, or none if it had none. */
  expiresAt?: Date | null;
  /** When set, only a key of this owner is rotated (pass it when the id comes from a request). */
  ownerId?: string;
}

export interface ApiKeyStore {
  issue(options: IssueApiKeyOptions): Promise<IssuedApiKey>;
  verify(key: string): Promise<ApiKeyIdentity | null>;
  rotate(id: string, options?: RotateApiKeyOptions): Promise<IssuedApiKey>;
  /** Idempotent for a revoked key; RAMPART_ERR_API_KEY_NOT_FOUND for an unknown one (or another owner's). */
  revoke(id: string, options?: { ownerId?: string }): Promise<void>;
  /** Every key of the owner, revoked and expired ones included, oldest first; never the key itself. */
  list(ownerId: string): Promise<ApiKeyInfo[]>;
}

export interface ApiKeyStoreOptions {
  /** Default () => new Date(); tests move it. */
  now?: () => Date;
  /** last_used_at is written when it is older than this. Default 60 000 ms: not a write per request. */
  lastUsedIntervalMs?: number;
}

export type ApiKeyDb = Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 6749 §3.3 scope-token: printable ASCII except space, " and \.
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const DAY_MS = 24 * 3_600_000;

interface Row {
  id: string;
  owner_id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

function inputError(message: string): KitError {
  return new KitError('RAMPART_ERR_API_KEY_INPUT', message);
}

function notFound(id: string): KitError {
  return new KitError('RAMPART_ERR_API_KEY_NOT_FOUND', `no live API key with id ${JSON.stringify(id)} for this owner; list the owner's keys to find its id, or issue a new key`);
}

function checkText(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) throw inputError(`${what} must be a non-empty string of at most 200 characters`);
  return value;
}

function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
    throw inputError('scopes must be an array of RFC 6749 scope tokens (printable ASCII, no spaces, quotes or backslashes), e.g. ["flights:read"]');
  }
  return [...new Set(scopes)];
}

function checkExpiry(expiresAt: unknown, now: Date): Date | null {
  if (expiresAt === undefined || expiresAt === null) return null;
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt <= now) throw inputError('expiresAt must be a Date in the future, or null for no expiry');
  return expiresAt;
}

function isLive(row: Pick<Row, 'revoked_at' | 'expires_at'>, now: Date): boolean {
  return row.revoked_at === null && (row.expires_at === null || row.expires_at > now);
}

export function createApiKeyStore(db: ApiKeyDb, options: ApiKeyStoreOptions = {}): ApiKeyStore {
  const now = options.now ?? (() => new Date());
  const lastUsedIntervalMs = options.lastUsedIntervalMs ?? 60_000;
  if (!Number.isSafeInteger(lastUsedIntervalMs) || lastUsedIntervalMs < 0) throw inputError('createApiKeyStore: lastUsedIntervalMs must be a non-negative integer');

  async function insert(tx: Queryable, row: { ownerId: string; name: string; scopes: string[]; createdAt: Date; expiresAt: Date | null }): Promise<IssuedApiKey> {
    // 64-bit prefixes collide about once in 4 billion keys; the unique
    // constraint turns that into a retry instead of an ambiguous lookup.
    for (let attempt = 0; ; attempt++) {
      const { key, prefix, hash } = generateKey();
      const inserted = await tx.maybeOne<{ id: string }>(sql`
        insert into kit_api_keys (owner_id, name, prefix, key_hash, scopes, created_at, expires_at)
        values (${row.ownerId}, ${row.name}, ${prefix}, ${hash}, ${row.scopes}, ${row.createdAt}, ${row.expiresAt})
        on conflict (prefix) do nothing
        returning id::text`);
      if (inserted !== null) return { id: inserted.id, key, prefix };
      if (attempt === 3) throw new KitError('RAMPART_ERR_API_KEY_PREFIX', 'could not find a free API key prefix after 4 attempts; the random source is broken');
    }
  }

  async function issue(input: IssueApiKeyOptions): Promise<IssuedApiKey> {
    const createdAt = now();
    return insert(db, {
      ownerId: checkText('ownerId', input.ownerId),
      name: checkText('name', input.name),
      scopes: checkScopes(input.scopes),
      createdAt,
      expiresAt: checkExpiry(input.expiresAt, createdAt),
    });
  }

  async function verify(key: string): Promise<ApiKeyIdentity | null> {
    const prefix = keyPrefix(key);
    if (prefix === null) return null;
    const row = await db.maybeOne<Row>(sql`
      select id::text, owner_id, key_hash, scopes, expires_at, revoked_at, last_used_at
      from kit_api_keys where prefix = ${prefix}`);
    if (row === null || !timingSafeEqual(hashKey(key), row.key_hash)) return null;
    const at = now();
    if (!isLive(row, at)) return null;
    if (row.last_used_at === null || at.getTime() - row.last_used_at.getTime() >= lastUsedIntervalMs) {
      await db.query(sql`update kit_api_keys set last_used_at = ${at} where id = ${row.id}::uuid and (last_used_at is null or last_used_at < ${at})`);
    }
    return { id: row.id, ownerId: row.owner_id, scopes: row.scopes };
  }

  async function rotate(id: string, rotation: RotateApiKeyOptions = {}): Promise<IssuedApiKey> {
    const overlapMs = rotation.overlapMs ?? DAY_MS;
    if (!Number.isSafeInteger(overlapMs) || overlapMs < 0) throw inputError('overlapMs must be a non-negative integer of milliseconds');
    if (typeof id !== 'string' || !UUID.test(id)) throw notFound(String(id));
    const at = now();
    const requested = rotation.expiresAt === undefined ? undefined : checkExpiry(rotation.expiresAt, at);
    return db.transaction(async (tx) => {
      // FOR UPDATE: two rotations of one key at once make one successor, and
      // the second sees the first's shortened expiry.
      const old = await tx.maybeOne<Row>(sql`
        select id::text, owner_id, name, scopes, created_at, expires_at, revoked_at
        from kit_api_keys where id = ${id}::uuid for update`);
      if (old === null || !isLive(old, at) || (rotation.ownerId !== undefined && old.owner_id !== rotation.ownerId)) throw notFound(id);
      const lifetime = old.expires_at === null ? null : old.expires_at.getTime() - old.created_at.getTime();
      const expiresAt = requested !== undefined ? requested : lifetime === null ? null : new Date(at.getTime() + lifetime);
      const issued = await insert(tx, { ownerId: old.owner_id, name: old.name, scopes: old.scopes, createdAt: at, expiresAt });
      const overlapEnd = new Date(at.getTime() + overlapMs);
      if (old.expires_at === null || old.expires_at > overlapEnd) {
        await tx.query(sql`update kit_api_keys set expires_at = ${overlapEnd} where id = ${id}::uuid`);
      }
      return issued;
    });
  }

  async function revoke(id: string, options: { ownerId?: string } = {}): Promise<void> {
    if (typeof id !== 'string' || !UUID.test(id)) throw notFound(String(id));
    const owner = options.ownerId ?? null;
    const row = await db.maybeOne<{ id: string }>(sql`
      update kit_api_keys set revoked_at = coalesce(revoked_at, ${now()})
      where id = ${id}::uuid and (${owner}::text is null or owner_id = ${owner}::text)
      returning id::text`);
    if (row === null) throw notFound(id);
  }

  async function list(ownerId: string): Promise<ApiKeyInfo[]> {
    const rows = await db.many<Row>(sql`
      select id::text, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at
      from kit_api_keys where owner_id = ${checkText('ownerId', ownerId)} order by created_at, seq`);
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
    }));
  }

  return { issue, verify, rotate, revoke, list };
}
