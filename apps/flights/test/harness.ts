// One flights app on a fresh PostgreSQL for one test file: migrate the kit
// and the app, seed a small schedule, listen on 127.0.0.1:0.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Db } from '@rampart/data';
import { startTestPostgres } from '@rampart/data/testing';
import { postgresSessionStore, type Cache } from '@rampart/kit';
import { buildApp } from '../src/app.ts';
import { migrateFlights } from '../src/migrations.ts';
import { seed } from '../src/seed.ts';

export interface Flights {
  readonly base: string;
  readonly url: string;
  readonly db: Db;
  readonly app: FastifyInstance;
  stop(): Promise<void>;
}

export function testSecrets(): Record<string, string> {
  return { RESET_SECRET: randomBytes(32).toString('base64') };
}

export async function startFlights(options: { flights?: number; logger?: boolean | Record<string, unknown>; cache?: (db: Db) => Cache } = {}): Promise<Flights> {
  const pg = await startTestPostgres();
  const store = postgresSessionStore(pg.db);
  let app: FastifyInstance | undefined;
  try {
    await migrateFlights(pg.db);
    await seed(pg.db, { flights: options.flights ?? 2000 });
    app = await buildApp({ db: pg.db, sessionStore: store, secrets: testSecrets(), instanceId: 'test-1', logger: options.logger ?? false, cache: options.cache?.(pg.db) });
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app?.close();
    await store.close();
    await pg.stop();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  const running = app;
  return {
    base: `http://127.0.0.1:${port}`,
    url: pg.url,
    db: pg.db,
    app: running,
    async stop() {
      await running.close();
      await store.close();
      await pg.stop();
    },
  };
}

/**
 * Another instance of the app on the same database, as `rampart up` runs
 * three: its own Fastify, session store and (unless given) app cache.
 */
export async function startInstance(flights: Flights, options: { instanceId: string; cache?: Cache }): Promise<{ base: string; app: FastifyInstance; stop(): Promise<void> }> {
  const store = postgresSessionStore(flights.db);
  const app = await buildApp({ db: flights.db, sessionStore: store, secrets: testSecrets(), instanceId: options.instanceId, cache: options.cache });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app.close();
    await store.close();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    app,
    async stop() {
      await app.close();
      await store.close();
    },
  };
}

/** A browser-like client: keeps cookies, does not follow redirects, finds CSRF tokens in forms. */
export class Browser {
  readonly base: string;
  readonly #cookies = new Map<string, string>();

  constructor(base: string) {
    this.base = base;
  }

  cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#cookies.size > 0) headers['cookie'] = this.cookieHeader();
    let body: string | undefined;
    if (init.form !== undefined) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.base + path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  /** GETs `formPage`, takes the CSRF token of its form and POSTs `form` with it to `action`. */
  async submit(formPage: string, action: string, form: Record<string, string | string[]>): Promise<Response> {
    const page = await (await this.get(formPage)).text();
    const token = csrfTokenOf(page);
    if (token === undefined) throw new Error(`no CSRF token on ${formPage}`);
    return this.request(action, { form: { ...form, _csrf: token } });
  }
}

/** The app's log lines as written (pino: one JSON object per line), for startFlights({ logger: { level, stream } }). */
export function captureLogs(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(line);
      done();
    },
  });
  return { lines, stream };
}

export function csrfTokenOf(page: string): string | undefined {
  return /name="_csrf" value="([^"]*)"/.exec(page)?.[1];
}

/** Polls until check() is truthy or the deadline passes. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
