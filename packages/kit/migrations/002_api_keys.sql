-- API keys (createApiKeyStore, kitApiKeys). A key is `rk_<prefix>_<secret>`:
-- the prefix finds the row, the SHA-256 of the whole key proves it. The key
-- itself is never stored, so a copy of this table authenticates nobody.

create table kit_api_keys (
  id           uuid primary key default gen_random_uuid(),
  -- Insertion order: ids are random and two keys can share created_at (a rotation).
  seq          bigint generated always as identity,
  owner_id     text not null,
  name         text not null,
  -- 16 hex characters (64 random bits), shown in lists and logs to tell keys apart.
  prefix       text not null unique,
  key_hash     bytea not null check (octet_length(key_hash) = 32),
  scopes       text[] not null default '{}',
  created_at   timestamptz not null default now(),
  -- null: no expiry. A rotated key gets the end of its overlap here.
  expires_at   timestamptz,
  revoked_at   timestamptz,
  -- Written at most once a minute per key, not on every request.
  last_used_at timestamptz
);
create index kit_api_keys_owner_id on kit_api_keys (owner_id, created_at, seq);
