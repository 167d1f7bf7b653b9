// The gateway's edge cache as a whole: the store (opened once from the
// top-level `cache:` section and kept across reloads while its settings stay
// the same), and what every cached route shares through reloads: in-flight
// fetches, hit-for-miss marks, counters. Routes get their layer from here.
import type { CacheStoreConfig, GatewayConfig, RouteConfig } from '../config/load.ts';
import { cacheConfig, cacheUnavailable } from '../errors.ts';
import type { Middleware } from '../middleware/types.ts';
import type { Logger } from '../observability/log.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { createCacheLayer, type CacheShared } from './cache-middleware.ts';
import { Coalescer } from './coalescer.ts';
import { CacheCounters } from './counters.ts';
import { MemoryCacheStore } from './memory-store.ts';
import type { CacheStore, CacheStoreStats, PurgeResult } from './store.ts';

/** Retries of a Redis store that could not connect, from the first to the longest wait. */
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export type PurgeTarget = { readonly kind: 'uri'; readonly uri: string } | { readonly kind: 'prefix'; readonly prefix: string } | { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'all' };

export class EdgeCache implements CacheShared {
  readonly coalescer = new Coalescer();
  readonly counters = new CacheCounters();
  readonly logger: Logger;
  readonly #now: () => number;
  #config: CacheStoreConfig | null = null;
  #store: CacheStore | null = null;
  /** Settings of #store, to tell whether a reload changes it. */
  #settings: string | null = null;
  /** The settings a store is being opened for (Redis connects asynchronously); a newer reload supersedes it. */
  #opening: string | null = null;
  #retry: NodeJS.Timeout | null = null;
  #retryMs = RETRY_FIRST_MS;
  #closed = false;

  constructor(logger: Logger, now: () => number = Date.now) {
    this.logger = logger;
    this.#now = now;
  }

  store(): CacheStore | null {
    return this.#store;
  }

  maxObjectBytes(): number {
    return this.#config?.maxObjectBytes ?? 0;
  }

  now(): number {
    return this.#now();
  }

  /** The route's cache layer, or null when the route is not cached. */
  layer(route: RouteConfig, upstream: Upstream): Middleware | null {
    if (!route.cache) return null;
    return createCacheLayer({
      route,
      cache: route.cache,
      shared: this,
      // Servers in rotation: a server ramping up after slow start counts, one draining or unhealthy does not.
      upstreamDown: () => !upstream.servers.some((s) => s.state === 'ready'),
      stickyCookie: upstream.config.sticky?.cookie ?? null,
    });
  }

  /**
   * At start: opens the store when a route caches. A Redis store that cannot
   * connect does not stop the gateway: cached routes forward every request
   * (`Cache-Status: rampart; fwd=bypass; detail=store-unavailable`) and the
   * connection is retried with backoff. A missing password variable is a
   * configuration error and does stop it.
   */
  async open(config: GatewayConfig): Promise<void> {
    this.#config = config.cache;
    if (!config.routes.some((r) => r.cache)) return;
    const settings = settingsOf(config.cache);
    this.#opening = settings;
    if (config.cache.store === 'memory') {
      this.#swap(createMemoryStore(config.cache), settings);
      return;
    }
    const password = passwordFor(config.cache);
    await this.#openRedis(config.cache, password, settings);
  }

  /**
   * At reload: the store stays when its settings did not change (entries
   * survive the reload); otherwise a new one takes over once it is open and
   * the old one is closed. Never throws: a store that cannot be opened is
   * logged and the running one stays.
   */
  reconfigure(config: GatewayConfig): void {
    this.#config = config.cache;
    if (!config.routes.some((r) => r.cache)) {
      this.#opening = null;
      this.#stopRetry();
      if (this.#store !== null) this.#swap(null, null);
      return;
    }
    const settings = settingsOf(config.cache);
    if (settings === this.#settings && this.#store !== null) {
      this.#opening = null;
      this.#stopRetry();
      return;
    }
    if (settings === this.#opening) return;
    this.#opening = settings;
    this.#stopRetry();
    if (config.cache.store === 'memory') {
      this.#swap(createMemoryStore(config.cache), settings);
      return;
    }
    let password: string | undefined;
    try {
      password = passwordFor(config.cache);
    } catch (err) {
      this.logger.error({ err }, 'the new cache store cannot be opened; the current one stays');
      this.#opening = null;
      return;
    }
    void this.#openRedis(config.cache, password, settings);
  }

  async #openRedis(config: CacheStoreConfig, password: string | undefined, settings: string): Promise<void> {
    const redis = config.redis!;
    try {
      // Loaded only when asked for, so the memory path never loads ioredis.
      const { RedisCacheStore } = await import('./redis-store.ts');
      const store = await RedisCacheStore.connect({ url: redis.url, password, keyPrefix: redis.keyPrefix, maxObjectBytes: config.maxObjectBytes, logger: this.logger });
      if (this.#closed || this.#opening !== settings) {
        await store.close();
        return;
      }
      this.#retryMs = RETRY_FIRST_MS;
      this.#swap(store, settings);
      this.logger.info({ store: 'redis', keyPrefix: redis.keyPrefix }, 'cache store connected');
    } catch (err) {
      if (this.#closed || this.#opening !== settings) return;
      this.logger.error({ err, retryInMs: this.#retryMs }, 'the Redis cache store is unreachable; cached routes forward every request until it connects');
      this.#retry = setTimeout(() => {
        this.#retry = null;
        void this.#openRedis(config, password, settings);
      }, this.#retryMs);
      this.#retry.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    }
  }

  #swap(store: CacheStore | null, settings: string | null): void {
    const previous = this.#store;
    this.#store = store;
    this.#settings = settings;
    this.#opening = null;
    if (previous !== null && previous !== store) {
      previous.close().catch((err: unknown) => this.logger.warn({ err }, 'closing the previous cache store failed'));
    }
  }

  #stopRetry(): void {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    this.#retryMs = RETRY_FIRST_MS;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#opening = null;
    this.#stopRetry();
    const store = this.#store;
    this.#store = null;
    await store?.close();
  }

  async purge(target: PurgeTarget): Promise<PurgeResult> {
    const store = this.#store;
    if (store === null) throw cacheUnavailable();
    switch (target.kind) {
      case 'uri':
        this.coalescer.invalidate(target.uri);
        return store.purgeUri(target.uri);
      case 'prefix':
        return store.purgePrefix(target.prefix);
      case 'tag':
        return store.purgeTag(target.tag);
      case 'all':
        return store.purgeAll();
      default:
        return target satisfies never;
    }
  }

  stats(): { store: CacheStoreStats | null; inflight: number; routes: Record<string, Record<string, number>> } {
    const routes: Record<string, Record<string, number>> = {};
    for (const [label, c] of this.counters.entries()) routes[label] = { ...c };
    return { store: this.#store?.stats() ?? null, inflight: this.coalescer.size, routes };
  }
}

function createMemoryStore(config: CacheStoreConfig): MemoryCacheStore {
  return new MemoryCacheStore({ maxBytes: config.maxBytes, maxObjectBytes: config.maxObjectBytes });
}

/** What decides the store: another store, size or Redis server means another store. */
function settingsOf(config: CacheStoreConfig): string {
  return config.store === 'memory'
    ? JSON.stringify(['memory', config.maxBytes, config.maxObjectBytes])
    : JSON.stringify(['redis', config.redis, config.maxObjectBytes]);
}

function passwordFor(config: CacheStoreConfig): string | undefined {
  const name = config.redis?.passwordEnv;
  if (name === undefined) return undefined;
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw cacheConfig(`cache.redis.passwordEnv names ${name}, which is not set in the environment: set it to the Redis password, or remove passwordEnv`);
  }
  return value;
}
