// createCache: the app cache. get / set / delete / wrap / fragment over a
// CacheStore, with tags, single-flight and, across processes, locks (shared
// stores) or an invalidation broadcast (memory stores).
//
// A read is current when the entry exists, has not expired, and each of its
// tags still has the version recorded with it. wrap() records the versions
// read *before* fn runs: an invalidation that lands while fn reads the
// database makes the stored entry stale at once, instead of caching data
// from before the change under the version from after it.
//
// Keys in the store: <prefix>v:<key> (values), <prefix>f:<key> (fragments),
// <prefix>r:<key> (kitCache's responses); tags <prefix>t:<tag>; locks
// <prefix>l:<entry key>. Values and fragments live apart so that a value put
// with set() can never come back out of fragment() as trusted markup.
import { setTimeout as sleep } from 'node:timers/promises';
import { KitError } from '../errors.ts';
import { raw, SafeHtml } from '../views/html.ts';
import type { CacheBroadcast } from './broadcast.ts';
import { isCacheStore, type CacheStore, type TagVersion } from './store.ts';
import { toJson } from './value.ts';

export interface CacheOptions {
  store: CacheStore;
  /** Put before every key and tag in the store, so that apps (or versions of one) sharing a Redis do not meet. Default 'cache:'. */
  prefix?: string;
  /** Milliseconds an entry lives when a call gives no ttl. Default 300 000 (5 minutes). */
  ttl?: number;
  /** Invalidations to and from other processes, for a store they do not share (memoryCacheStore): postgresBroadcast(db). */
  broadcast?: CacheBroadcast;
  /** Single-flight across processes, for stores with locks (Redis): how long a lock lives, and how long others wait for its holder's value before computing it themselves. Defaults 5000 ms each. */
  lock?: { ttl?: number; wait?: number };
  /** A store that failed inside wrap()/fragment() (the value is computed and served anyway); get/set/delete/invalidateTags reject instead. */
  onError?: (err: Error, context: { op: string; key?: string }) => void;
  /** Milliseconds since the epoch, for the Age of kitCache's stored responses. Default Date.now. */
  clock?: () => number;
}

export interface EntryOptions {
  /** Milliseconds. Default the cache's ttl. */
  ttl?: number;
  /** Tags: invalidateTags() of any of them makes the entry stale, in every process. */
  tags?: readonly string[];
}

/** Given to wrap()'s and fragment()'s fn: lower `ttl` when the value knows it goes out of date sooner (0: do not store). */
export interface EntryControl {
  ttl: number;
}

const MAX_KEY = 1024;
const MAX_TAG = 256;
const MAX_TAGS = 64;
const MAX_TTL = 30 * 24 * 3_600_000;

function invalid(code: 'OPTIONS' | 'KEY', message: string): never {
  throw new KitError(`RAMPART_ERR_CACHE_${code}`, `cache: ${message}`);
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) invalid('KEY', `a key is a string of 1 to ${MAX_KEY} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
  return key;
}

export function checkTtl(ttl: unknown, where: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL) invalid('OPTIONS', `${where} must be milliseconds, more than 0 and at most 30 days, got ${String(ttl)}`);
  return Math.ceil(ttl);
}

export function checkTags(tags: unknown): readonly string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) invalid('OPTIONS', `tags must be an array of at most ${MAX_TAGS} strings`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG) invalid('OPTIONS', `a tag is a string of 1 to ${MAX_TAG} characters, got ${JSON.stringify(tag)}`);
  }
  return [...new Set(tags as string[])];
}

/** Reads and writes of one namespace of the store, for createCache's own methods and kitCache. */
export interface Namespace {
  /** The entry's JSON when it is current, else undefined. Store errors reject. */
  read(key: string): Promise<string | undefined>;
  /** Tag versions now, to pass to write() once the value is computed. */
  snapshot(tags: readonly string[]): Promise<TagVersion[]>;
  /** Stores unless the broadcast was down or reset since `snapshot`; true when stored. */
  write(key: string, json: string, ttl: number, versions: TagVersion[], since: number): Promise<boolean>;
  /** A number that changes whenever entries of this process may have been missed (see `since`). */
  epoch(): number;
  /** True while the store must not be trusted (the broadcast is disconnected). */
  bypassed(): boolean;
  /** The cache's clock. */
  now(): number;
  /** The cache's default ttl. */
  ttl(): number;
}

export const NAMESPACE = Symbol('rampart.cache.namespace');

export class Cache {
  readonly #store: CacheStore;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #broadcast: CacheBroadcast | undefined;
  readonly #lockTtl: number;
  readonly #lockWait: number;
  readonly #onError: NonNullable<CacheOptions['onError']>;
  readonly #clock: () => number;
  readonly #flights = new Map<string, Promise<string>>();
  #epoch = 0;

  constructor(options: CacheOptions) {
    if (!isCacheStore(options?.store)) invalid('OPTIONS', 'createCache needs a store: memoryCacheStore() or redisCacheStore(url)');
    const prefix = options.prefix ?? 'cache:';
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9:_.-]{0,64}$/.test(prefix)) invalid('OPTIONS', `prefix must be up to 64 letters, digits and : _ . -, got ${JSON.stringify(prefix)}`);
    this.#store = options.store;
    this.#prefix = prefix;
    this.#ttl = checkTtl(options.ttl ?? 300_000, 'ttl');
    this.#lockTtl = checkTtl(options.lock?.ttl ?? 5000, 'lock.ttl');
    this.#lockWait = checkTtl(options.lock?.wait ?? 5000, 'lock.wait');
    this.#onError = options.onError ?? (() => {});
    this.#clock = options.clock ?? Date.now;
    this.#broadcast = options.broadcast;
    this.#broadcast?.subscribe({
      invalidate: (tags) => {
        // Only tags of this cache's prefix: apps may share a channel.
        const mine = tags.filter((t) => t.startsWith(`${this.#prefix}t:`));
        if (mine.length > 0) this.#store.invalidateTags(mine).catch((err: unknown) => this.#fail(err, 'invalidate (broadcast)'));
      },
      reset: () => {
        this.#epoch++;
        this.#store.clear?.().catch((err: unknown) => this.#fail(err, 'clear (broadcast reconnected)'));
      },
    });
  }

  /**
   * Resolves once the broadcast hears other processes' invalidations (at
   * once without a broadcast). Until then the cache is bypassed: reads miss
   * and nothing is stored, so it is safe not to wait, only slower.
   */
  async ready(): Promise<void> {
    await this.#broadcast?.ready?.();
  }

  /** The store's kind: 'memory' or 'redis'. */
  get kind(): string {
    return this.#store.kind;
  }

  /** The value, a fresh copy; undefined when absent, expired or invalidated. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const json = await this.#ns('v').read(checkKey(key));
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  /**
   * Stores a JSON value (RAMPART_ERR_CACHE_VALUE otherwise). Its tags'
   * versions are read now: if the value was computed before an invalidation
   * that lands in between, prefer wrap(), which reads them before computing.
   */
  async set(key: string, value: unknown, options: EntryOptions | number = {}): Promise<void> {
    const ns = this.#ns('v');
    const { ttl, tags } = this.#entryOptions(options);
    const json = toJson(value);
    const since = ns.epoch();
    await ns.write(checkKey(key), json, ttl, await ns.snapshot(tags), since);
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(this.#key('v', checkKey(key)));
  }

  /**
   * The cached value of `key`, or fn's result, stored for next time.
   * Concurrent calls for one key in this process run fn once and all get
   * its result (or its error: nothing is cached then); with a store that has
   * locks (Redis) other processes wait for it too, up to lock.wait.
   * `wrap(key, ttl, fn)` and `wrap(key, { ttl, tags }, fn)`.
   */
  async wrap<T>(key: string, options: EntryOptions | number, fn: (entry: EntryControl) => T | Promise<T>): Promise<T> {
    const json = await this.#through('v', checkKey(key), this.#entryOptions(options), fn, toJson);
    return JSON.parse(json) as T;
  }

  /**
   * A piece of a page, cached: fn must return html`…` (SafeHtml), whose holes
   * were escaped when it was rendered; it comes back as SafeHtml, inserted by
   * html`…` as it is. Anything else is refused (RAMPART_ERR_CACHE_FRAGMENT):
   * a string would come back as trusted markup. Keep request-specific
   * secrets (CSRF tokens, the CSP nonce) out of fragments: they would be
   * served to everyone.
   */
  async fragment(key: string, options: EntryOptions | number, fn: (entry: EntryControl) => SafeHtml | Promise<SafeHtml>): Promise<SafeHtml> {
    const json = await this.#through('f', checkKey(key), this.#entryOptions(options), fn, function fragmentJson(value: unknown): string {
      if (!SafeHtml.is(value)) throw new KitError('RAMPART_ERR_CACHE_FRAGMENT', 'cache.fragment: fn must return html`…` (SafeHtml), not a string or anything else: a string would be inserted unescaped when it comes back');
      return JSON.stringify(value.toString());
    });
    const markup: unknown = JSON.parse(json);
    // Only fragment() writes this namespace; anything else was put there behind the cache's back.
    if (typeof markup !== 'string') throw new KitError('RAMPART_ERR_CACHE_FRAGMENT', `cache.fragment: the stored entry of ${JSON.stringify(key)} is not markup; something other than fragment() wrote to the store`);
    return raw(markup);
  }

  /**
   * Makes every entry with any of these tags stale, here and (through the
   * store, or the broadcast) in every process. O(1) per tag.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const names = checkTags(tags).map((t) => this.#tag(t));
    if (names.length === 0) return;
    await this.#store.invalidateTags(names);
    await this.#broadcast?.publish(names);
  }

  /** Closes the store and the broadcast. */
  async close(): Promise<void> {
    await Promise.all([this.#store.close(), this.#broadcast?.close()]);
  }

  /** For kitCache: reads and writes of one namespace. */
  [NAMESPACE](name: 'r'): Namespace {
    return this.#ns(name);
  }

  #key(ns: string, key: string): string {
    return `${this.#prefix}${ns}:${key}`;
  }

  #tag(tag: string): string {
    return `${this.#prefix}t:${tag}`;
  }

  #fail(err: unknown, op: string, key?: string): void {
    this.#onError(err instanceof Error ? err : new Error(String(err)), { op, key });
  }

  #entryOptions(options: EntryOptions | number): { ttl: number; tags: readonly string[] } {
    if (typeof options === 'number') return { ttl: checkTtl(options, 'ttl'), tags: [] };
    if (typeof options !== 'object' || options === null) invalid('OPTIONS', 'options must be a ttl in milliseconds or { ttl, tags }');
    return { ttl: options.ttl === undefined ? this.#ttl : checkTtl(options.ttl, 'ttl'), tags: checkTags(options.tags) };
  }

  #bypassed(): boolean {
    return this.#broadcast !== undefined && !this.#broadcast.connected;
  }

  #ns(ns: 'v' | 'f' | 'r'): Namespace {
    const store = this.#store;
    return {
      read: async (key) => {
        if (this.#bypassed()) return undefined;
        const entry = await store.get(this.#key(ns, key));
        if (entry === null) return undefined;
        if (entry.tags.length > 0) {
          const now = await store.tagVersions(entry.tags.map(([tag]) => tag));
          if (entry.tags.some(([, version], i) => now[i] !== version)) return undefined;
        }
        return entry.value;
      },
      snapshot: async (tags) => {
        const names = tags.map((t) => this.#tag(t));
        const versions = await store.tagVersions(names);
        return names.map((name, i): TagVersion => [name, versions[i] ?? 0]);
      },
      write: async (key, json, ttl, versions, since) => {
        // Entries computed while invalidations could be missed are not kept.
        if (this.#bypassed() || since !== this.#epoch) return false;
        await store.set(this.#key(ns, key), { value: json, tags: versions }, ttl);
        return true;
      },
      epoch: () => this.#epoch,
      bypassed: () => this.#bypassed(),
      now: () => this.#clock(),
      ttl: () => this.#ttl,
    };
  }

  /** One flight per store key in this process; the JSON text is shared, each caller parses its own copy. */
  #through<T>(ns: 'v' | 'f', key: string, options: { ttl: number; tags: readonly string[] }, fn: (entry: EntryControl) => T | Promise<T>, encode: (value: unknown) => string): Promise<string> {
    const full = this.#key(ns, key);
    const pending = this.#flights.get(full);
    if (pending !== undefined) return pending;
    const flight = this.#load(ns, key, options, fn, encode);
    this.#flights.set(full, flight);
    const forget = () => {
      if (this.#flights.get(full) === flight) this.#flights.delete(full);
    };
    flight.then(forget, forget);
    return flight;
  }

  async #load<T>(ns: 'v' | 'f', key: string, options: { ttl: number; tags: readonly string[] }, fn: (entry: EntryControl) => T | Promise<T>, encode: (value: unknown) => string): Promise<string> {
    const space = this.#ns(ns);
    const full = this.#key(ns, key);
    const cached = await this.#tryRead(space, key);
    if (cached !== undefined) return cached;

    // Tag versions before fn reads anything (see the top of this file).
    const since = space.epoch();
    let versions: TagVersion[] | null = null;
    try {
      versions = await space.snapshot(options.tags);
    } catch (err) {
      this.#fail(err, 'tag versions', key);
    }

    const store = this.#store;
    let token: string | null = null;
    const lockKey = `${this.#prefix}l:${full}`;
    if (versions !== null && store.lock !== undefined && !space.bypassed()) {
      const waited = await this.#waitForLock(space, key, lockKey);
      if (waited.value !== undefined) return waited.value;
      token = waited.token;
    }

    try {
      const entry: EntryControl = { ttl: options.ttl };
      const json = encode(await fn(entry));
      const ttl = entry.ttl;
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) invalid('OPTIONS', `entry.ttl set by fn must be milliseconds ≥ 0, got ${String(ttl)}`);
      if (versions !== null && ttl > 0) {
        try {
          await space.write(key, json, Math.min(Math.ceil(ttl), MAX_TTL), versions, since);
        } catch (err) {
          this.#fail(err, 'set', key);
        }
      }
      return json;
    } finally {
      if (token !== null) await store.unlock?.(lockKey, token).catch((err: unknown) => this.#fail(err, 'unlock', key));
    }
  }

  async #tryRead(space: Namespace, key: string): Promise<string | undefined> {
    try {
      return await space.read(key);
    } catch (err) {
      this.#fail(err, 'get', key);
      return undefined;
    }
  }

  /**
   * Single-flight across processes: take the lock, or wait for the value its
   * holder stores, re-trying the lock as we go (a holder that died leaves it
   * to expire after lock.ttl). Past lock.wait, compute without it.
   */
  async #waitForLock(space: Namespace, key: string, lockKey: string): Promise<{ value?: string; token: string | null }> {
    const store = this.#store;
    // Real time, not the injectable clock: this loop sleeps for real.
    const deadline = performance.now() + this.#lockWait;
    let pause = 5;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      let token: string | null;
      try {
        token = (await store.lock?.(lockKey, this.#lockTtl)) ?? null;
      } catch (err) {
        this.#fail(err, 'lock', key);
        return { token: null };
      }
      if (token !== null) {
        // The previous holder may have stored the value and unlocked between our read and our lock.
        if (attempt > 0) {
          const value = await this.#tryRead(space, key);
          if (value !== undefined) {
            await store.unlock?.(lockKey, token).catch((err: unknown) => this.#fail(err, 'unlock', key));
            return { value, token: null };
          }
        }
        return { token };
      }
      if (performance.now() >= deadline) return { token: null };
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
      const value = await this.#tryRead(space, key);
      if (value !== undefined) return { value, token: null };
    }
    return { token: null };
  }
}

/** The app cache over `store`; see CacheOptions. */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
