// The edge cache's shared store: stored responses in Redis, so that every
// gateway pointed at one Redis serves, revalidates and purges the same
// responses. Semantics are the memory store's (test/cache/store-conformance
// .test.ts runs one suite on both); what differs is failure: Redis can go
// away, so lookups then resolve as misses and puts are dropped, never an
// error that fails a client's request.
//
// Keys, under `keyPrefix` (P):
//   P r:<uri>   hash, one per resource: per variant v the fields
//               m<v> (status, reason, variant, vary: JSON), h<v> (headers,
//               times, removeAt, tags: JSON; what a 304 replaces, RFC 9111
//               §4.3.4), b<v> (the body, raw bytes), x<v> (msgpack
//               [seq, removeAt, tags], what the scripts read); `#` counts
//               puts, for "most recently stored first". PEXPIREAT is the
//               latest removeAt of its variants, so Redis drops a resource no
//               rule can use; an expired variant next to a living one is
//               removed by the next script that touches the resource.
//   P t:<tag>   sorted set: exactly the uris with a variant carrying the
//               tag (purge by tag), scored by the latest removeAt among them;
//               a uri leaves it with its last such variant, expired members
//               are trimmed whenever the tag is stored again, and the set's
//               PEXPIREAT is its latest score.
//   P i:uris    sorted set of every uri, all scored 0: purge by prefix is a
//               lexicographic range (ZRANGE BYLEX), O(log N + matched), with
//               no glob pattern to escape and no walk over the whole keyspace
//               as SCAN would need.
//   P i:exp     sorted set of every uri scored by its hash's expiry: each put
//               sweeps a few uris that are due, so index members whose hash
//               Redis expired or evicted do not pile up.
// The two i: keys have no TTL: under `maxmemory-policy volatile-lru` Redis
// never evicts them. Any index may still be lost (allkeys-lru, a FLUSH, an
// operator), so a variant counts as stored only while every index a purge
// would search for it still lists it; one that lost an index is deleted
// instead of returned, and a purge can never miss a variant a lookup finds.
//
// Every operation is one Lua script, atomic in Redis: a put racing a purge
// ends either before it (purged) or after it (kept, with its index entries),
// never half-indexed. Needs Redis 7.0 (PEXPIRETIME) and a standalone server or
// a Sentinel-managed primary: the scripts derive keys they were not passed,
// which Redis Cluster forbids.
import { Redis } from 'ioredis';
import { cacheStoreError, type RampartError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import type { CacheStore, CacheStoreStats, PurgeResult, StoredResponse } from './store.ts';

export interface RedisCacheStoreOptions {
  /** `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS). */
  readonly url: string;
  /** Overrides a password in `url`; never logged nor put in an error message. */
  readonly password?: string;
  /** Every key this store writes starts with it (`rampart:cache:`); purgeAll removes exactly the keys under it. */
  readonly keyPrefix: string;
  /** Responses with a larger body are not stored (and remove an older copy of their variant). */
  readonly maxObjectBytes: number;
  readonly logger?: Logger;
  /** How long `connect()` keeps trying before it rejects. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** A command without a reply in this time fails (a lookup becomes a miss). Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Epoch milliseconds, for expiry by removeAt. Default Date.now. */
  readonly now?: () => number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
/** Index members checked for expiry by each put (see P i:exp). */
const SWEEP_PER_PUT = 16;
/** Uris a purge script removes per call, so one purge never blocks Redis for long. */
const PURGE_BATCH = 200;
/** Keys per SCAN step of purgeAll. */
const SCAN_COUNT = 500;
/** A purge gives up after this many batches (2 million uris) rather than chase a writer forever. */
const MAX_PURGE_BATCHES = 10_000;
/** At most one line per kind of failure in this interval. */
const LOG_INTERVAL_MS = 30_000;
/** Uris whose bad data has been logged; forgotten when full. */
const MAX_LOGGED_BAD = 1024;

// Shared by every script. P is the key prefix (ARGV[1]), NOW the caller's
// clock (ARGV[2]): removeAt comes from the gateway's clock, so expiry is
// judged by it too. ZSCORE and friends return false for nil (RESP2 mapping).
const LUA_COMMON = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local URIS = P .. 'i:uris'
local EXP = P .. 'i:exp'
local KINDS = { m = true, h = true, b = true, x = true }

local function decodeInfo(raw)
  if type(raw) ~= 'string' then return nil end
  local ok, info = pcall(cmsgpack.unpack, raw)
  if not ok or type(info) ~= 'table' or type(info[1]) ~= 'number' or type(info[2]) ~= 'number' or type(info[3]) ~= 'table' then return nil end
  for _, tag in ipairs(info[3]) do
    if type(tag) ~= 'string' then return nil end
  end
  return info
end

-- Groups hash fields by variant: { v = name, n = fields present, x, [m, h, b] }.
local function group(flat, step)
  local byName, list = {}, {}
  for i = 1, #flat, step do
    local field = flat[i]
    local kind = string.sub(field, 1, 1)
    if KINDS[kind] then
      local name = string.sub(field, 2)
      local e = byName[name]
      if not e then
        e = { v = name, n = 0 }
        byName[name] = e
        list[#list + 1] = e
      end
      e.n = e.n + 1
      if step == 2 then e[kind] = flat[i + 1] end
    end
  end
  return byName, list
end

-- The variants of a hash without their bodies (HKEYS, then HMGET of x<v>).
local function variantsOf(key)
  local byName, list = group(redis.call('HKEYS', key), 1)
  if #list > 0 then
    local fields = {}
    for i, e in ipairs(list) do fields[i] = 'x' .. e.v end
    local raw = redis.call('HMGET', key, unpack(fields))
    for i, e in ipairs(list) do e.x = raw[i] end
  end
  return byName, list
end

-- 'ok', 'expired', 'orphan' (an index lost it) or 'corrupt'; sets e.info when decodable.
local function judge(uri, e, indexed)
  e.info = decodeInfo(e.x)
  if e.n ~= 4 or not e.info then return 'corrupt' end
  if e.info[2] <= NOW then return 'expired' end
  if not indexed then return 'orphan' end
  for _, tag in ipairs(e.info[3]) do
    if not redis.call('ZSCORE', P .. 't:' .. tag, uri) then return 'orphan' end
  end
  return 'ok'
end

local function drop(key, e)
  redis.call('HDEL', key, 'm' .. e.v, 'h' .. e.v, 'b' .. e.v, 'x' .. e.v)
end

-- Deletes the variants no lookup may return: the living ones, the deleted
-- ones, and how many of those were corrupt.
local function prune(key, uri, list)
  local indexed = redis.call('ZSCORE', URIS, uri)
  local alive, dead, corrupt = {}, {}, 0
  for _, e in ipairs(list) do
    local verdict = judge(uri, e, indexed)
    if verdict == 'ok' then
      alive[#alive + 1] = e
    else
      drop(key, e)
      dead[#dead + 1] = e
      if verdict == 'corrupt' then corrupt = corrupt + 1 end
    end
  end
  return alive, dead, corrupt
end

-- Takes uri out of the tag sets of variants that went, unless a variant that
-- stays carries the tag too: a tag set lists exactly the uris it can purge.
local function unlist(uri, gone, kept)
  local keep = {}
  for _, e in ipairs(kept) do
    for _, tag in ipairs(e.info[3]) do keep[tag] = true end
  end
  for _, e in ipairs(gone) do
    if e.info then
      for _, tag in ipairs(e.info[3]) do
        if not keep[tag] then
          redis.call('ZREM', P .. 't:' .. tag, uri)
          keep[tag] = true
        end
      end
    end
  end
end

local function forget(key, uri)
  redis.call('DEL', key)
  redis.call('ZREM', URIS, uri)
  redis.call('ZREM', EXP, uri)
end

-- After a change: the hash lives until its last variant's removeAt, or goes.
local function settle(key, uri, alive)
  if #alive == 0 then return forget(key, uri) end
  local last = 0
  for _, e in ipairs(alive) do
    if e.info[2] > last then last = e.info[2] end
  end
  local at = string.format('%d', math.ceil(last))
  redis.call('PEXPIREAT', key, at)
  redis.call('ZADD', EXP, at, uri)
end

local function extendTo(key, removeAt)
  local current = redis.call('PEXPIRETIME', key)
  if current < 0 or current < removeAt then
    redis.call('PEXPIREAT', key, string.format('%d', math.ceil(removeAt)))
  end
end

-- GT keeps a member's score the latest removeAt of any variant that carries
-- the tag, so trimming expired members never unlists a living variant.
local function indexTag(tag, uri, removeAt)
  local key = P .. 't:' .. tag
  redis.call('ZADD', key, 'GT', string.format('%d', math.ceil(removeAt)), uri)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  extendTo(key, removeAt)
end

-- Removes a whole resource and its index entries; the living variants it had.
local function purgeOne(key, uri)
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'hash' then
    if kind ~= 'none' then redis.call('DEL', key) end
    redis.call('ZREM', URIS, uri)
    redis.call('ZREM', EXP, uri)
    return 0
  end
  local _, list = variantsOf(key)
  local indexed = redis.call('ZSCORE', URIS, uri)
  local n = 0
  -- Judge every variant before unlisting any: variants share tag sets.
  for _, e in ipairs(list) do
    if judge(uri, e, indexed) == 'ok' then n = n + 1 end
  end
  unlist(uri, list, {})
  forget(key, uri)
  return n
end

local function sweep(limit)
  local due = redis.call('ZRANGE', EXP, '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, limit)
  for _, uri in ipairs(due) do
    local key = P .. 'r:' .. uri
    if redis.call('TYPE', key)['ok'] ~= 'hash' then
      redis.call('ZREM', URIS, uri)
      redis.call('ZREM', EXP, uri)
    else
      local _, list = variantsOf(key)
      local alive, dead = prune(key, uri, list)
      unlist(uri, dead, alive)
      settle(key, uri, alive)
    end
  end
end
`;

// ARGV: P, now, uri → 'ok' | 'foreign', corrupt count, then m, h, b per
// variant, most recently stored first. One round trip on the hit path.
const LOOKUP = `${LUA_COMMON}
local uri = ARGV[3]
local key = P .. 'r:' .. uri
local flat = redis.pcall('HGETALL', key)
if flat.err then return { 'foreign', 0 } end
if #flat == 0 then return { 'ok', 0 } end
local _, list = group(flat, 2)
local alive, dead, corrupt = prune(key, uri, list)
if #dead > 0 then
  unlist(uri, dead, alive)
  settle(key, uri, alive)
end
table.sort(alive, function(a, b) return a.info[1] > b.info[1] end)
local out = { 'ok', corrupt }
for _, e in ipairs(alive) do
  out[#out + 1] = e.m
  out[#out + 1] = e.h
  out[#out + 1] = e.b
end
return out`;

// ARGV: P, now, uri, variant, m, h, body, removeAt, tags… → variants stored.
const PUT = `${LUA_COMMON}
local uri, variant = ARGV[3], ARGV[4]
local removeAt = tonumber(ARGV[8])
local key = P .. 'r:' .. uri
local kind = redis.call('TYPE', key)['ok']
if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', key) end
local byName, list = variantsOf(key)
local same = byName[variant]
local others = {}
for _, e in ipairs(list) do
  if e ~= same then others[#others + 1] = e end
end
local alive, dead = prune(key, uri, others)
if same then
  same.info = decodeInfo(same.x)
  drop(key, same)
  dead[#dead + 1] = same
end
local kept = alive
if removeAt > NOW then
  local tags = {}
  for i = 9, #ARGV do tags[#tags + 1] = ARGV[i] end
  local seq = redis.call('HINCRBY', key, '#', 1)
  local info = { seq, removeAt, tags }
  redis.call('HSET', key, 'm' .. variant, ARGV[5], 'h' .. variant, ARGV[6], 'b' .. variant, ARGV[7], 'x' .. variant, cmsgpack.pack(info))
  redis.call('ZADD', URIS, 0, uri)
  for _, tag in ipairs(tags) do indexTag(tag, uri, removeAt) end
  kept = { { info = info } }
  for _, e in ipairs(alive) do kept[#kept + 1] = e end
end
unlist(uri, dead, kept)
settle(key, uri, kept)
sweep(${SWEEP_PER_PUT})
return #kept`;

// ARGV: P, now, uri, variant, h, removeAt, tags… → 1 when updated, 0 when gone.
const UPDATE = `${LUA_COMMON}
local uri, variant = ARGV[3], ARGV[4]
local removeAt = tonumber(ARGV[6])
local key = P .. 'r:' .. uri
if redis.call('TYPE', key)['ok'] ~= 'hash' then return 0 end
local _, list = variantsOf(key)
local alive, dead = prune(key, uri, list)
local target = nil
for i, e in ipairs(alive) do
  if e.v == variant then target = i end
end
if target == nil then
  if #dead > 0 then
    unlist(uri, dead, alive)
    settle(key, uri, alive)
  end
  return 0
end
local e = alive[target]
-- The old tags go as if with a variant that left.
dead[#dead + 1] = { info = e.info }
local updated = 0
if removeAt <= NOW then
  drop(key, e)
  table.remove(alive, target)
else
  local tags = {}
  for i = 7, #ARGV do tags[#tags + 1] = ARGV[i] end
  e.info = { e.info[1], removeAt, tags }
  redis.call('HSET', key, 'h' .. variant, ARGV[5], 'x' .. variant, cmsgpack.pack(e.info))
  for _, tag in ipairs(tags) do indexTag(tag, uri, removeAt) end
  updated = 1
end
unlist(uri, dead, alive)
settle(key, uri, alive)
return updated`;

// ARGV: P, now, uri → variants removed.
const PURGE_URI = `${LUA_COMMON}
return purgeOne(P .. 'r:' .. ARGV[3], ARGV[3])`;

// ARGV: P, now, prefix, limit → { removed, done }. Uris sort bytewise, so the
// ones starting with the prefix are one run from '[prefix' on.
const PURGE_PREFIX = `${LUA_COMMON}
local prefix, limit = ARGV[3], tonumber(ARGV[4])
-- Something else in the index's place: purgeAll's SCAN removes it.
if redis.call('TYPE', URIS)['ok'] ~= 'zset' then return { 0, 1 } end
local uris = redis.call('ZRANGE', URIS, '[' .. prefix, '+', 'BYLEX', 'LIMIT', 0, limit)
local n, done = 0, #uris < limit
for _, uri in ipairs(uris) do
  if string.sub(uri, 1, #prefix) ~= prefix then
    done = true
    break
  end
  n = n + purgeOne(P .. 'r:' .. uri, uri)
end
return { n, done and 1 or 0 }`;

// ARGV: P, now, tag, limit → { removed, done }. Removes only the variants
// carrying the tag; other variants of the same uri stay.
const PURGE_TAG = `${LUA_COMMON}
local tag, limit = ARGV[3], tonumber(ARGV[4])
local tagKey = P .. 't:' .. tag
local uris = redis.call('ZRANGE', tagKey, 0, limit - 1)
local n = 0
for _, uri in ipairs(uris) do
  local key = P .. 'r:' .. uri
  if redis.call('TYPE', key)['ok'] == 'hash' then
    local _, list = variantsOf(key)
    local indexed = redis.call('ZSCORE', URIS, uri)
    local keep, gone = {}, {}
    for _, e in ipairs(list) do
      local verdict = judge(uri, e, indexed)
      local carries = false
      if e.info then
        for _, t in ipairs(e.info[3]) do
          if t == tag then carries = true end
        end
      end
      if verdict == 'ok' and not carries then
        keep[#keep + 1] = e
      else
        if verdict == 'ok' then n = n + 1 end
        gone[#gone + 1] = e
      end
    end
    -- Judged all before dropping any: variants share tag sets.
    for _, e in ipairs(gone) do drop(key, e) end
    unlist(uri, gone, keep)
    settle(key, uri, keep)
  end
  redis.call('ZREM', tagKey, uri)
end
return { n, #uris < limit and 1 or 0 }`;

// ARGV: P, now, key… (from SCAN) → variants removed. Resources go as in
// purgeUri, anything else under P (tag sets, foreign keys) is deleted; the
// two indexes stay (unless something else sits in their place), emptied
// entry by entry, so a put that lands during the purge keeps its entries.
const PURGE_KEYS = `${LUA_COMMON}
local n = 0
local resource = P .. 'r:'
for _, index in ipairs({ URIS, EXP }) do
  local kind = redis.call('TYPE', index)['ok']
  if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', index) end
end
for i = 3, #ARGV do
  local key = ARGV[i]
  if string.sub(key, 1, #P) ~= P or key == URIS or key == EXP then
    -- Outside the prefix (never touched), or an index (kept, see above).
  elseif string.sub(key, 1, #resource) == resource then
    n = n + purgeOne(key, string.sub(key, #resource + 1))
  else
    redis.call('DEL', key)
  end
end
return n`;

type ScriptArg = string | Buffer | number;
type ScriptCall = (...args: ScriptArg[]) => Promise<unknown>;

interface Scripts {
  readonly lookup: ScriptCall;
  readonly put: ScriptCall;
  readonly update: ScriptCall;
  readonly purgeUri: ScriptCall;
  readonly purgePrefix: ScriptCall;
  readonly purgeTag: ScriptCall;
  readonly purgeKeys: ScriptCall;
}

/** The CacheStore contract on Redis, shared by every gateway that points at the same server and key prefix. */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';
  readonly #client: Redis;
  readonly #scripts: Scripts;
  readonly #prefix: string;
  readonly #maxObjectBytes: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #connectTimeoutMs: number;
  /** The URL without its password, for logs and error messages. */
  readonly #safeUrl: string;
  readonly #secrets: string[];
  /** Has been connected at least once. */
  #connected = false;
  /** connect() is waiting and reports a failed first connection itself. */
  #connecting = false;
  #lost = false;
  #closed = false;
  readonly #lastLog = new Map<string, { at: number; suppressed: number }>();
  readonly #loggedBad = new Set<string>();

  /** Starts connecting in the background; `connect()` waits for it. */
  constructor(options: RedisCacheStoreOptions) {
    const url = parseRedisUrl(options.url);
    if (typeof options.keyPrefix !== 'string' || options.keyPrefix === '') {
      // An empty prefix would make purgeAll empty the whole database.
      throw cacheStoreError('RedisCacheStore: keyPrefix must be a non-empty string, such as "rampart:cache:"');
    }
    if (!Number.isSafeInteger(options.maxObjectBytes) || options.maxObjectBytes <= 0) {
      throw cacheStoreError('RedisCacheStore: maxObjectBytes must be a positive integer');
    }
    this.#prefix = options.keyPrefix;
    this.#maxObjectBytes = options.maxObjectBytes;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#secrets = [options.password, url.password, safeDecode(url.password)].filter((s): s is string => !!s);
    url.password = '';
    this.#safeUrl = url.href;

    this.#client = new Redis(options.url, {
      ...(options.password === undefined ? {} : { password: options.password }),
      // A request must not wait for Redis: while it is unreachable commands
      // fail at once (a miss, a dropped put) instead of queueing, and one in
      // flight when the connection drops fails instead of being resent later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      connectTimeout: this.#connectTimeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: 'rampart-cache',
    });
    this.#scripts = defineScripts(this.#client);
    this.#client.on('ready', () => this.#onReady());
    // Without an 'error' listener a lost connection is an uncaught exception.
    this.#client.on('error', (err: Error) => this.#onDown(err.message));
    this.#client.on('close', () => this.#onDown('connection closed'));
  }

  /** Resolves once Redis answers; rejects with RAMPART_ERR_CACHE_STORE when it does not within `connectTimeoutMs`. */
  static async connect(options: RedisCacheStoreOptions): Promise<RedisCacheStore> {
    const store = new RedisCacheStore(options);
    store.#connecting = true;
    try {
      await store.#whenReady();
      await store.#checkVersion();
    } catch (err) {
      await store.close();
      throw err;
    } finally {
      store.#connecting = false;
    }
    return store;
  }

  async lookup(uri: string): Promise<readonly StoredResponse[]> {
    if (!this.#usable()) return [];
    let reply: unknown;
    try {
      reply = await this.#scripts.lookup(this.#prefix, this.#now(), uri);
    } catch (err) {
      this.#failed('lookup', err);
      return [];
    }
    return this.#decodeLookup(uri, reply);
  }

  async put(uri: string, response: StoredResponse): Promise<void> {
    if (!this.#usable()) return;
    // What cannot be kept still replaces: a removeAt of 0 makes the script
    // delete the older copy of this variant and store nothing (as the memory
    // store does), so a lookup never finds what this response superseded.
    const keep = response.body.length <= this.#maxObjectBytes && Number.isFinite(response.removeAt);
    try {
      await this.#scripts.put(
        this.#prefix,
        this.#now(),
        uri,
        response.variant,
        keep ? JSON.stringify([response.status, response.reason, response.variant, response.vary]) : '',
        keep ? encodeMutable(response) : '',
        keep ? response.body : '',
        keep ? Math.ceil(response.removeAt) : 0,
        ...(keep ? response.tags : []),
      );
    } catch (err) {
      this.#failed('put', err);
    }
  }

  async update(uri: string, variant: string, changes: Pick<StoredResponse, 'headers' | 'requestTime' | 'responseTime' | 'removeAt' | 'tags'>): Promise<void> {
    if (!Number.isFinite(changes.removeAt) || !this.#usable()) return;
    try {
      await this.#scripts.update(this.#prefix, this.#now(), uri, variant, encodeMutable(changes), Math.ceil(changes.removeAt), ...changes.tags);
    } catch (err) {
      this.#failed('update', err);
    }
  }

  // Purges reject when Redis cannot be reached: a purge that silently did
  // nothing would leave every gateway serving what the operator removed.
  async purgeUri(uri: string): Promise<PurgeResult> {
    const purged = await this.#purging('purgeUri', () => this.#scripts.purgeUri(this.#prefix, this.#now(), uri));
    return { purged: Number(purged) };
  }

  purgePrefix(prefix: string): Promise<PurgeResult> {
    return this.#batches('purgePrefix', () => this.#scripts.purgePrefix(this.#prefix, this.#now(), prefix, PURGE_BATCH));
  }

  purgeTag(tag: string): Promise<PurgeResult> {
    return this.#batches('purgeTag', () => this.#scripts.purgeTag(this.#prefix, this.#now(), tag, PURGE_BATCH));
  }

  async purgeAll(): Promise<PurgeResult> {
    // The index finds every resource at once; SCAN then finds what no index
    // lists (tag sets, resources an index lost, foreign keys under the prefix).
    let { purged } = await this.purgePrefix('');
    const match = `${escapeGlob(this.#prefix)}*`;
    let cursor = '0';
    for (let step = 0; step < MAX_PURGE_BATCHES * 10; step++) {
      const [next, keys] = await this.#purging('purgeAll', () => this.#client.scanBuffer(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
      if (keys.length > 0) purged += Number(await this.#purging('purgeAll', () => this.#scripts.purgeKeys(this.#prefix, this.#now(), ...keys)));
      cursor = next.toString();
      if (cursor === '0') break;
    }
    return { purged };
  }

  stats(): CacheStoreStats {
    return { kind: 'redis', entries: null, bytes: null, maxBytes: null, evictions: 0 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.quit();
    } catch {
      // Not connected: nothing to say goodbye to.
      this.#client.disconnect();
    }
  }

  #usable(): boolean {
    // Failing here costs nothing; ioredis would build and reject a command.
    return !this.#closed && this.#client.status === 'ready';
  }

  async #batches(what: string, run: () => Promise<unknown>): Promise<PurgeResult> {
    let purged = 0;
    for (let batch = 0; batch < MAX_PURGE_BATCHES; batch++) {
      const [n, done] = (await this.#purging(what, run)) as [number, number];
      purged += Number(n);
      if (Number(done) === 1) return { purged };
    }
    this.#logger?.warn({ cache: this.#safeUrl, purged }, `cache store: ${what} stopped after ${MAX_PURGE_BATCHES} batches; writers keep adding matching entries`);
    return { purged };
  }

  async #purging<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw cacheStoreError(`cache store: ${what} after close()`);
    try {
      return await run();
    } catch (err) {
      const reason = this.#redact(err instanceof Error ? err.message : String(err));
      throw cacheStoreError(`cache store: ${what} failed on Redis at ${this.#safeUrl}: ${reason}`);
    }
  }

  #decodeLookup(uri: string, reply: unknown): StoredResponse[] {
    if (!Array.isArray(reply) || reply.length < 2) {
      this.#bad(uri, 'unexpected reply from the lookup script');
      return [];
    }
    const status = String(reply[0]);
    if (status === 'foreign') {
      this.#bad(uri, 'a key that is not a hash sits where this resource belongs; it is ignored until a put replaces it');
      return [];
    }
    if (Number(reply[1]) > 0) this.#bad(uri, `${Number(reply[1])} incomplete or corrupt variant(s) removed`);
    const found: StoredResponse[] = [];
    for (let i = 2; i + 2 < reply.length; i += 3) {
      const response = decodeVariant(reply[i], reply[i + 1], reply[i + 2]);
      if (response === null) this.#bad(uri, 'a variant with unreadable metadata is ignored');
      else found.push(response);
    }
    return found;
  }

  #whenReady(): Promise<void> {
    if (this.#client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      let lastError = 'no answer';
      const onError = (err: Error) => {
        lastError = err.message;
      };
      const finish = (err: RampartError | null) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        this.#client.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => finish(null);
      const timer = setTimeout(() => {
        finish(cacheStoreError(`could not connect to the cache's Redis at ${this.#safeUrl} within ${this.#connectTimeoutMs} ms: ${this.#redact(lastError)}`));
      }, this.#connectTimeoutMs);
      this.#client.on('ready', onReady);
      this.#client.on('error', onError);
    });
  }

  async #checkVersion(): Promise<void> {
    const info = await this.#client.info('server');
    const match = /^redis_version:(\d+)\.(\d+)/m.exec(info);
    if (match !== null && Number(match[1]) < 7) {
      throw cacheStoreError(`the cache's Redis at ${this.#safeUrl} is version ${match[1]}.${match[2]}; the Redis store needs 7.0 or newer`);
    }
  }

  #onReady(): void {
    if (this.#lost && this.#connected) this.#logger?.info({ cache: this.#safeUrl }, 'cache store: connected to Redis again');
    this.#connected = true;
    this.#lost = false;
  }

  #onDown(reason: string): void {
    // One line per outage, not one per reconnection attempt or request.
    if (this.#closed || this.#lost) return;
    this.#lost = true;
    if (this.#connecting) return;
    const what = this.#connected ? 'lost the connection to Redis' : 'cannot reach Redis';
    this.#logger?.warn({ cache: this.#safeUrl, reason: this.#redact(reason) }, `cache store: ${what}; lookups are misses and responses are not stored until it is back`);
  }

  #failed(what: string, err: unknown): void {
    // An outage is logged once by #onDown, not once per request.
    if (this.#closed || this.#lost || this.#client.status !== 'ready') return;
    this.#rateLimited(what, `cache store: ${what} failed; served without the cache`, err instanceof Error ? err.message : String(err));
  }

  #bad(uri: string, reason: string): void {
    if (this.#loggedBad.has(uri)) return;
    if (this.#loggedBad.size >= MAX_LOGGED_BAD) this.#loggedBad.clear();
    this.#loggedBad.add(uri);
    this.#logger?.warn({ cache: this.#safeUrl, uri, reason }, 'cache store: bad data in Redis treated as a miss');
  }

  #rateLimited(kind: string, message: string, reason: string): void {
    const now = Date.now();
    const last = this.#lastLog.get(kind);
    if (last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#lastLog.set(kind, { at: now, suppressed: 0 });
    this.#logger?.warn({ cache: this.#safeUrl, reason: this.#redact(reason), ...(suppressed ? { suppressed } : {}) }, message);
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.replaceAll(secret, '[redacted]');
    return out;
  }
}

function defineScripts(client: Redis): Scripts {
  // defineCommand sends EVALSHA, and the script itself only the first time a
  // connection needs it: one round trip per call. The *Buffer variants keep
  // bodies as bytes.
  const define = (name: string, lua: string): ScriptCall => {
    client.defineCommand(name, { lua, numberOfKeys: 0 });
    const call = (client as unknown as Record<string, ScriptCall>)[`${name}Buffer`]!;
    return call.bind(client);
  };
  return {
    lookup: define('rampartCacheLookup', LOOKUP),
    put: define('rampartCachePut', PUT),
    update: define('rampartCacheUpdate', UPDATE),
    purgeUri: define('rampartCachePurgeUri', PURGE_URI),
    purgePrefix: define('rampartCachePurgePrefix', PURGE_PREFIX),
    purgeTag: define('rampartCachePurgeTag', PURGE_TAG),
    purgeKeys: define('rampartCachePurgeKeys', PURGE_KEYS),
  };
}

function encodeMutable(r: Pick<StoredResponse, 'headers' | 'requestTime' | 'responseTime' | 'removeAt' | 'tags'>): string {
  return JSON.stringify([r.headers, r.requestTime, r.responseTime, r.removeAt, r.tags]);
}

function decodeVariant(m: unknown, h: unknown, body: unknown): StoredResponse | null {
  if (!Buffer.isBuffer(m) || !Buffer.isBuffer(h) || !Buffer.isBuffer(body)) return null;
  let fixed: unknown;
  let mutable: unknown;
  try {
    fixed = JSON.parse(m.toString('utf8'));
    mutable = JSON.parse(h.toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(fixed) || !Array.isArray(mutable)) return null;
  const [status, reason, variant, vary] = fixed as unknown[];
  const [headers, requestTime, responseTime, removeAt, tags] = mutable as unknown[];
  if (!Number.isInteger(status) || typeof reason !== 'string' || typeof variant !== 'string' || !isStrings(vary)) return null;
  if (!isStrings(headers) || headers.length % 2 !== 0 || !isStrings(tags)) return null;
  if (typeof requestTime !== 'number' || typeof responseTime !== 'number' || typeof removeAt !== 'number') return null;
  return { status: status as number, reason, headers, body, requestTime, responseTime, variant, vary, tags, removeAt };
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** A SCAN MATCH pattern that matches `text` literally (Redis glob: `\` escapes the next character). */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseRedisUrl(text: string): URL {
  let url: URL | null = null;
  try {
    url = typeof text === 'string' ? new URL(text) : null;
  } catch {
    // reported below, without echoing a URL that may hold a password
  }
  if (url === null || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw cacheStoreError('RedisCacheStore: url must be a redis:// or rediss:// URL with a host');
  }
  return url;
}
