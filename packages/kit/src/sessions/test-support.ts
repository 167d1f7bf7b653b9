// Helpers for the session and CSRF tests (not exported from the package).
import path from 'node:path';
import { migrate } from '@rampart/data';
import { startTestPostgres, type TestPostgres } from '@rampart/data/testing';

export const KIT_MIGRATIONS = path.join(import.meta.dirname, '..', '..', 'migrations');

/** A fresh PostgreSQL with the kit's migrations applied. */
export async function postgresWithKitTables(): Promise<TestPostgres> {
  const pg = await startTestPostgres();
  try {
    await migrate(pg.db, [KIT_MIGRATIONS]);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  return pg;
}

/** Polls until check() is true; fails after the deadline instead of sleeping a fixed time. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags map to ''. */
  attributes: Map<string, string>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    attributes.set((i < 0 ? attr : attr.slice(0, i)).toLowerCase(), i < 0 ? '' : attr.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The Set-Cookie headers of a response (inject or fetch), parsed. */
export function setCookies(headers: Record<string, unknown> | Headers): SetCookie[] {
  if (headers instanceof Headers) return headers.getSetCookie().map(parseSetCookie);
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((h) => parseSetCookie(String(h)));
}
