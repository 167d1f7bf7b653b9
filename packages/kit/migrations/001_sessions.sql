-- Server-side sessions (kitSessions with postgresSessionStore) and the
-- revocation list of client-side sessions (kitCookieSessions with
-- postgresRevocationStore).

-- Keyed by SHA-256 of the session id, never the id itself: a copy of this
-- table does not hand out live sessions.
create table kit_sessions (
  id_hash      text primary key,
  data         jsonb not null,
  created_at   timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at   timestamptz not null
);
create index kit_sessions_expires_at on kit_sessions (expires_at);

-- Session ids (jti) of sealed cookies that were destroyed or regenerated
-- before their absolute expiry; kept until that expiry, then pruned.
create table kit_session_revocations (
  jti        text primary key,
  expires_at timestamptz not null
);
create index kit_session_revocations_expires_at on kit_session_revocations (expires_at);
