export { createCache, Cache, type CacheOptions, type EntryOptions, type EntryControl } from './cache.ts';
export { memoryCacheStore, type MemoryCacheStoreOptions } from './memory-store.ts';
export { redisCacheStore } from './redis-store.ts';
export { postgresBroadcast, type CacheBroadcast, type BroadcastSubscriber, type PostgresBroadcastOptions } from './broadcast.ts';
export { kitCache, type KitCacheOptions, type RouteCacheConfig } from './route-cache.ts';
export type { CacheStore, StoredEntry, TagVersion } from './store.ts';
