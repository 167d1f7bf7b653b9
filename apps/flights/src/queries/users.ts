// Accounts, password resets and the e-mail outbox. Emails compare
// case-insensitively through the lower(email) unique index.
import { createHash } from 'node:crypto';
import { sql, type Db, type Queryable } from '@rampart/data';

export interface UserRow {
  id: number;
  email: string;
  passwordHash: string;
}

const USER_COLUMNS = sql`id::int as id, email, password_hash as "passwordHash"`;

export function findUserByEmail(db: Queryable, email: string): Promise<UserRow | null> {
  return db.maybeOne<UserRow>(sql`select ${USER_COLUMNS} from users where lower(email) = lower(${email})`);
}

export function findUserById(db: Queryable, id: number): Promise<UserRow | null> {
  return db.maybeOne<UserRow>(sql`select ${USER_COLUMNS} from users where id = ${id}`);
}

/** The new account's id, or null when the email is taken (the caller must not say so). */
export async function createUser(db: Queryable, email: string, passwordHash: string): Promise<number | null> {
  const row = await db.maybeOne<{ id: number }>(sql`
    insert into users (email, password_hash) values (${email}, ${passwordHash})
    on conflict ((lower(email))) do nothing
    returning id::int as id`);
  return row?.id ?? null;
}

export async function setPasswordHash(db: Queryable, userId: number, passwordHash: string): Promise<void> {
  await db.query(sql`update users set password_hash = ${passwordHash} where id = ${userId}`);
}

export async function queueEmail(db: Queryable, email: { to: string; subject: string; body: string }): Promise<void> {
  await db.query(sql`insert into outbox_emails (recipient, subject, body) values (${email.to}, ${email.subject}, ${email.body})`);
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Records a reset token by its hash and queues the e-mail with the link, in one transaction. */
export async function recordReset(db: Db, input: { userId: number; token: string; expiresAt: Date; email: { to: string; subject: string; body: string } }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(sql`insert into password_resets (token_hash, user_id, expires_at) values (${tokenHash(input.token)}, ${input.userId}, ${input.expiresAt})`);
    await queueEmail(tx, input.email);
  });
}

/** The token is recorded for this user, unused and unexpired. */
export async function isResetOpen(db: Queryable, userId: number, token: string): Promise<boolean> {
  const row = await db.maybeOne(sql`
    select 1 from password_resets
    where token_hash = ${tokenHash(token)} and user_id = ${userId} and used_at is null and expires_at > now()`);
  return row !== null;
}

/**
 * Sets the new password when the token is recorded for this user, unused and
 * unexpired; marks it used and drops the user's other open resets. false when
 * the token was not usable (used in the meantime, for instance).
 */
export async function completeReset(db: Db, input: { userId: number; token: string; passwordHash: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const used = await tx.query(sql`
      update password_resets set used_at = now()
      where token_hash = ${tokenHash(input.token)} and user_id = ${input.userId} and used_at is null and expires_at > now()`);
    if (used.rowCount !== 1) return false;
    await tx.query(sql`delete from password_resets where user_id = ${input.userId} and used_at is null`);
    await setPasswordHash(tx, input.userId, input.passwordHash);
    return true;
  });
}
