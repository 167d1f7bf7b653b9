// Reads, validates and resolves a configuration file. Every problem in the file
// is collected and reported together, each with the file, its line, the key
// path and the reason, so one edit-reload cycle fixes them all.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BlockList, isIP } from 'node:net';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { ConfigSchema, IMPLEMENTED_BALANCE_METHODS, RouteCacheSchema, type RawConfig, type RawRouteCache, type RawRun } from './schema.ts';
import type { BalanceMethod } from '../upstream/balancer/index.ts';
import { applyDefaults } from './defaults.ts';
import { resolveDatabase, type DatabaseConfig } from './database.ts';
import { parseDuration, parseListen, parseServerUrl, parseSize, type ListenAddress, type ServerAddress } from './parse-values.ts';
import { middlewareRegistry } from '../middleware/registry.ts';
import type { MiddlewareSpec } from '../middleware/types.ts';

export interface ServerConfig extends ServerAddress {
  /** Stable id within its upstream: its position, as a string. */
  readonly id: string;
  readonly weight: number;
}

export type HashKey = { readonly kind: 'ip' | 'path' } | { readonly kind: 'header' | 'cookie'; readonly name: string };

export interface HealthConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly slowStartMs: number;
  readonly expectStatus: readonly (readonly [number, number])[];
  readonly jitter: number;
}

export interface OutlierConfig {
  readonly consecutiveFailures: number;
  readonly consecutive5xx: boolean;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** `run.autoscale`: the Kubernetes HPA's knobs that rampart exposes. */
export interface AutoscaleConfig {
  readonly min: number;
  readonly max: number;
  readonly target: number;
  readonly windowMs: number;
  readonly intervalMs: number;
}

/** `run:`: instances that `rampart up` starts, watches and scales. */
export interface RunConfig {
  readonly command: string | readonly string[];
  /** How many run (at start, with autoscale). */
  readonly instances: number;
  /** Absolute: resolved against the config file's folder. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** undefined: ready once the port accepts connections. */
  readonly healthPath: string | undefined;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
  /** null: a fixed number of instances. */
  readonly autoscale: AutoscaleConfig | null;
}

export interface UpstreamConfig {
  readonly name: string;
  /** Servers listed in the file; instances of `run` join at run time. */
  readonly servers: readonly ServerConfig[];
  /** null: only the listed servers. */
  readonly run: RunConfig | null;
  readonly balance: BalanceMethod;
  readonly hashKey: HashKey;
  /** null: no affinity cookie. */
  readonly sticky: { readonly cookie: string; readonly ttlMs: number } | null;
  /** null: no heartbeat; every server counts as healthy unless passive checks say otherwise. */
  readonly health: HealthConfig | null;
  /** null: passive health off. */
  readonly outlier: OutlierConfig | null;
  readonly panicThreshold: number;
  readonly retries: { readonly attempts: number; readonly budgetPercent: number; readonly minConcurrency: number };
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAlive: { readonly maxIdle: number; readonly idleTimeoutMs: number };
}

/** A route's `cache:` options, resolved (docs/cache.md). */
export interface RouteCacheConfig {
  readonly key: {
    readonly host: boolean;
    readonly query: 'sorted' | 'as-sent' | 'ignore';
    readonly ignoreParams: readonly string[];
    /** Lower-case field names. */
    readonly headers: readonly string[];
    readonly cookies: readonly string[];
  };
  readonly heuristic: boolean;
  readonly bypassCookies: readonly string[];
  readonly allowSetCookie: boolean;
  /** 0: never serve stale because the upstream is down. */
  readonly staleIfDownMs: number;
}

/** The top-level `cache:` section: the store every cached route shares. */
export interface CacheStoreConfig {
  readonly store: 'memory' | 'redis';
  readonly maxBytes: number;
  readonly maxObjectBytes: number;
  /** Set when the file has `cache.redis` (required with `store: redis`). */
  readonly redis: { readonly url: string; readonly passwordEnv: string | undefined; readonly keyPrefix: string } | null;
}

export interface RouteConfig {
  readonly index: number;
  /** `host` + `path` (`api.example.com/v1`, or just `/v1`): the route's name in logs and metrics. */
  readonly label: string;
  readonly path: string;
  /** Lower-case; a leading `*.` matches any subdomain. */
  readonly host: string | undefined;
  readonly upstream: string;
  readonly maxBodyBytes: number;
  readonly retryNonIdempotent: boolean;
  readonly middleware: readonly MiddlewareSpec[];
  /** null (or absent, in a RouteConfig built by hand): the route is not cached. */
  readonly cache?: RouteCacheConfig | null;
}

export interface GatewayConfig {
  readonly file: string;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress | null;
  readonly trustedProxies: BlockList | null;
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxHeaders: number;
    readonly maxBodyBytes: number;
    readonly maxConnections: number;
    readonly headersTimeoutMs: number;
    readonly bodyTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxRequestsPerConnection: number;
  };
  readonly shutdownGraceMs: number;
  readonly log: { readonly level: string; readonly access: boolean };
  /** null: no `database:` section; `rampart up` starts no PostgreSQL. */
  readonly database: DatabaseConfig | null;
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  readonly routes: readonly RouteConfig[];
  readonly cache: CacheStoreConfig;
}

/** A problem a `run:` check found, at a key path under `upstreams.<name>.run`. */
export interface RunProblem {
  readonly key: readonly (string | number)[];
  readonly message: string;
}

/** Checks what the schema cannot know about a `run:` block (can its command run here?). */
export type RunCheck = (run: RunConfig) => readonly RunProblem[];

export interface ParseOptions {
  /**
   * `refuse`: a `run:` upstream or a `database:` section is a problem
   * (`rampart gateway` starts no processes). A function: `run:` blocks are accepted when it finds no
   * problem (`rampart up`, `rampart check`). Default: accepted as written.
   */
  readonly run?: 'refuse' | RunCheck;
}

/** Which command starts processes, for the message that refuses `run:`. */
const runRefused = (file: string) =>
  `\`rampart gateway\` starts no app servers: run this file with \`rampart up -c ${file}\`, which starts the instances of \`run:\` and the gateway together, or list servers that already run under \`servers:\``;

export async function loadConfigFile(file: string, options: ParseOptions = {}): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, options);
}

export function parseConfig(text: string, file = '<config>', options: ParseOptions = {}): GatewayConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        // linePos is only filled in with prettyErrors, whose multi-line
        // excerpt does not fit a one-line problem; the offset is always there.
        const pos = lines.linePos(e.pos[0]);
        return { path: `line ${pos.line}, column ${pos.col}`, message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || raw === undefined) {
    throw new ConfigError(file, [{ path: '', message: 'the file is empty; it must hold a YAML mapping with at least upstreams and routes' }]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    throw new ConfigError(file, [{ path: '', message: `the file must hold a YAML mapping (listen, upstreams, routes, ...), not ${got}` }]);
  }
  const withDefaults = applyDefaults(ConfigSchema, raw);
  const located = (segments: (string | number)[], message: string): ConfigProblem => {
    const node = doc.getIn(segments, true);
    const offset = isNode(node) ? node.range?.[0] : undefined;
    const where = offset === undefined ? '' : ` (line ${lines.linePos(offset).line})`;
    return { path: keyPath(segments) + where, message };
  };

  const bad: (string | number)[][] = [];
  const problems = schemaProblems(ConfigSchema, withDefaults, [], located, bad);
  // Every part the schema accepts is resolved even when others are wrong, so
  // that one run reports every problem of the file: a part is resolved when
  // no schema problem lies at, above or below it.
  const clean = (segments: (string | number)[]) => !bad.some((b) => b.every((s, i) => i >= segments.length || s === segments[i]));
  const written: Written = (segments) => doc.hasIn(segments);
  const resolved = resolve(withDefaults as RawConfig, file, located, problems, clean, options, written);
  if (resolved === null || problems.length > 0) throw new ConfigError(file, problems);
  return resolved;
}

type Locate = (segments: (string | number)[], message: string) => ConfigProblem;
/** Whether the file itself has a value at this path (before defaults were filled in). */
type Written = (segments: (string | number)[]) => boolean;

function keyPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    // A name with a dot or a space would read as two keys.
    else if (!/^[A-Za-z0-9_-]+$/.test(s)) out += `[${JSON.stringify(s)}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/**
 * Problems of `value` against `root`, located under `prefix` in the file (a
 * middleware's options are checked against its own schema, under its entry).
 */
function schemaProblems(root: TSchema, value: unknown, prefix: (string | number)[], locate: Locate, bad: (string | number)[][] = []): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(root, value)) {
    const segments = error.path
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const key = segments.join('/');
    // TypeBox reports a union failure and then its branches; the first says it best.
    if (seen.has(key)) continue;
    seen.add(key);
    bad.push(segments);
    // `false | { … }` given a mapping: the mapping's own problems, each at its
    // key (`routes[0].cache.key.query`), say more than "must be false or an object".
    const branch = objectBranch(error.schema, error.value);
    if (branch !== undefined) {
      const inner = schemaProblems(branch, error.value, [...prefix, ...segments], locate);
      if (inner.length > 0) {
        problems.push(...inner);
        continue;
      }
    }
    problems.push(locate([...prefix, ...segments], describe(root, error.schema, error.message, error.value, segments)));
  }
  return problems;
}

/** The one object branch of a union, when `value` is a mapping that only that branch could accept. */
function objectBranch(schema: TSchema, value: unknown): TSchema | undefined {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const objects = anyOf.filter((b) => b.type === 'object' && b.properties !== undefined);
  return objects.length === 1 ? objects[0] : undefined;
}

function describe(root: TSchema, schema: TSchema, message: string, value: unknown, segments: (string | number)[]): string {
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  if (message === 'Unexpected property') {
    const name = String(segments.at(-1));
    const parent = schemaAt(root, segments.slice(0, -1));
    const pattern = parent?.patternProperties ? Object.keys(parent.patternProperties as object)[0] : undefined;
    if (pattern !== undefined) return `${JSON.stringify(name)} is not a valid name here (it must match ${pattern})`;
    const allowed = parent?.properties ? Object.keys(parent.properties as object) : [];
    const near = allowed.find((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= 2);
    return `unknown key${near ? `; did you mean ${near}?` : ''}${allowed.length ? ` Allowed here: ${allowed.join(', ')}` : ''}`;
  }
  if (message === 'Expected required property') return 'is required';
  if (typeof schema.errorMessage === 'string') return `${schema.errorMessage}${got}`;
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf) {
    if (anyOf.every((s) => 'const' in s)) return `must be one of: ${anyOf.map((s) => String(s.const)).join(', ')}${got}`;
    return `has the wrong type${got}`;
  }
  return `${message.replace(/^Expected/, 'expected')}${got}`;
}

function schemaAt(root: TSchema, segments: (string | number)[]): TSchema | undefined {
  let schema: TSchema | undefined = root;
  for (const s of segments) {
    if (!schema) return undefined;
    if (typeof s === 'number') schema = schema.items as TSchema | undefined;
    else if (schema.properties && s in (schema.properties as object)) schema = (schema.properties as Record<string, TSchema>)[s];
    else if (schema.patternProperties) schema = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
    else return undefined;
  }
  return schema;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

const IMPLEMENTED_BALANCE = new Set<string>(IMPLEMENTED_BALANCE_METHODS);

type Clean = (segments: (string | number)[]) => boolean;

/**
 * Turns the validated file into the gateway's config and checks what a schema
 * cannot say. Parts the schema refused are skipped (their problem is already
 * listed); the result is only used when no problem at all was found.
 */
function resolve(raw: RawConfig, file: string, locate: Locate, problems: ConfigProblem[], clean: Clean, options: ParseOptions, written: Written): GatewayConfig | null {
  let listen: ListenAddress = { host: undefined, port: 0 };
  if (clean(['listen'])) {
    const parsed = parseListen(raw.listen);
    if (typeof parsed === 'string') problems.push(locate(['listen'], parsed));
    else listen = parsed;
  }
  let admin: ListenAddress | null = null;
  if (raw.admin !== false && clean(['admin'])) {
    const parsed = parseListen(raw.admin);
    if (typeof parsed === 'string') problems.push(locate(['admin'], parsed));
    else admin = parsed;
  }

  let trustedProxies: BlockList | null = null;
  if (clean(['trustedProxies'])) {
    raw.trustedProxies.forEach((entry, i) => {
      trustedProxies ??= new BlockList();
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address);
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
      if (family === 0 || !Number.isInteger(bits) || bits > (family === 6 ? 128 : 32)) {
        problems.push(locate(['trustedProxies', i], `not an IP address or CIDR range: ${JSON.stringify(entry)}`));
        return;
      }
      trustedProxies.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
    });
  }

  let database: DatabaseConfig | null = null;
  if (raw.database !== undefined && clean(['database'])) {
    if (options.run === 'refuse') problems.push(locate(['database'], `\`rampart gateway\` starts no database: run this file with \`rampart up -c ${file}\`, which starts PostgreSQL, applies the migrations and then the instances`));
    database = resolveDatabase(raw.database, file, locate, problems);
  }

  const cache = clean(['cache']) ? resolveCacheStore(raw.cache, locate, problems) : null;

  const upstreams = new Map<string, UpstreamConfig>();
  // null: the upstreams section itself is missing or misshapen, so routes cannot be checked against it.
  const upstreamNames = raw.upstreams !== null && typeof raw.upstreams === 'object' && !Array.isArray(raw.upstreams) ? Object.keys(raw.upstreams) : null;
  for (const name of upstreamNames ?? []) {
    if (!clean(['upstreams', name])) continue;
    const upstream = resolveUpstream(name, raw.upstreams[name]!, file, locate, problems, options, written);
    upstreams.set(name, upstream);
  }

  const routes: RouteConfig[] = [];
  const routeKeys = new Map<string, number>();
  if (Array.isArray(raw.routes)) {
    raw.routes.forEach((r, i) => {
      if (!clean(['routes', i])) return;
      const route = resolveRoute(r, i, clean(['limits']) ? raw.limits.maxBodyBytes : 0, upstreamNames, locate, problems);
      const key = `${route.host ?? ''} ${route.path}`;
      const dup = routeKeys.get(key);
      if (dup !== undefined) problems.push(locate(['routes', i, 'path'], `same host and path as routes[${dup}]; the second would never match`));
      routeKeys.set(key, i);
      routes.push(route);
    });
  }
  if (problems.length > 0 || cache === null) return null;

  return {
    file,
    listen,
    admin,
    trustedProxies,
    limits: {
      maxHeaderBytes: raw.limits.maxHeaderBytes,
      maxHeaders: raw.limits.maxHeaders,
      maxBodyBytes: raw.limits.maxBodyBytes,
      maxConnections: raw.limits.maxConnections,
      headersTimeoutMs: parseDuration(raw.limits.headersTimeout),
      bodyTimeoutMs: parseDuration(raw.limits.bodyTimeout),
      keepAliveTimeoutMs: parseDuration(raw.limits.keepAliveTimeout),
      maxRequestsPerConnection: raw.limits.maxRequestsPerConnection,
    },
    shutdownGraceMs: parseDuration(raw.shutdownGrace),
    log: raw.log,
    database,
    upstreams,
    routes,
    cache,
  };
}

function resolveCacheStore(c: RawConfig['cache'], locate: Locate, problems: ConfigProblem[]): CacheStoreConfig {
  const maxBytes = parseSize(c.maxBytes);
  const maxObjectBytes = parseSize(c.maxObjectBytes);
  if (maxBytes < 1) problems.push(locate(['cache', 'maxBytes'], 'must be at least 1 byte'));
  if (maxObjectBytes < 1) problems.push(locate(['cache', 'maxObjectBytes'], 'must be at least 1 byte'));
  else if (maxObjectBytes > maxBytes) problems.push(locate(['cache', 'maxObjectBytes'], `must not exceed cache.maxBytes (${maxBytes} bytes), or no response that large could be stored`));
  let redis: CacheStoreConfig['redis'] = null;
  if (c.redis !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(c.redis.url);
    } catch {
      problems.push(locate(['cache', 'redis', 'url'], 'not a URL (expected redis://host:port/db)'));
    }
    if (url !== null) {
      // A password in a config file ends up in version control and in logs.
      if (url.password !== '') problems.push(locate(['cache', 'redis', 'url'], 'holds a password: remove it from the URL and name an environment variable that holds it in cache.redis.passwordEnv'));
      else if (url.hostname === '') problems.push(locate(['cache', 'redis', 'url'], 'has no host (expected redis://host:port/db)'));
      else if (!/^\/?\d*$/.test(url.pathname)) problems.push(locate(['cache', 'redis', 'url'], `the path must be a database number (got ${JSON.stringify(url.pathname)})`));
    }
    redis = { url: c.redis.url, passwordEnv: c.redis.passwordEnv, keyPrefix: c.redis.keyPrefix };
  }
  if (c.store === 'redis' && redis === null) problems.push(locate(['cache', 'store'], 'is redis, but cache.redis.url is not set: add cache: { redis: { url: redis://host:port/db } }'));
  return { store: c.store, maxBytes, maxObjectBytes, redis };
}

function resolveRouteCache(raw: boolean | RawRouteCache, i: number, locate: Locate, problems: ConfigProblem[]): RouteCacheConfig | null {
  if (raw === false) return null;
  // `true` is the object with every default.
  const options = raw === true ? (applyDefaults(RouteCacheSchema, {}) as RawRouteCache) : raw;
  const at = ['routes', i, 'cache'];
  options.key.ignoreParams.forEach((p, j) => {
    if (/[&=#]/.test(p)) problems.push(locate([...at, 'key', 'ignoreParams', j], `a parameter name has no &, = or # (got ${JSON.stringify(p)})`));
  });
  const headers = options.key.headers.map((h) => h.toLowerCase());
  headers.forEach((h, j) => {
    if (headers.indexOf(h) !== j) problems.push(locate([...at, 'key', 'headers', j], `${h} is listed twice`));
  });
  return {
    key: { host: options.key.host, query: options.key.query, ignoreParams: options.key.ignoreParams, headers, cookies: options.key.cookies },
    heuristic: options.heuristic,
    bypassCookies: options.bypassCookies,
    allowSetCookie: options.allowSetCookie,
    staleIfDownMs: parseDuration(options.staleIfDown),
  };
}

function resolveUpstream(name: string, u: RawConfig['upstreams'][string], file: string, locate: Locate, problems: ConfigProblem[], options: ParseOptions, written: Written): UpstreamConfig {
  const servers: ServerConfig[] = [];
  const seen = new Map<string, number>();
  u.servers.forEach((s, i) => {
    const url = typeof s === 'string' ? s : s.url;
    const at = typeof s === 'string' ? ['upstreams', name, 'servers', i] : ['upstreams', name, 'servers', i, 'url'];
    const parsed = parseServerUrl(url);
    if (typeof parsed === 'string') {
      problems.push(locate(at, parsed));
      return;
    }
    const dup = seen.get(parsed.url);
    if (dup !== undefined) problems.push(locate(at, `the same server as servers[${dup}]`));
    seen.set(parsed.url, i);
    servers.push({ ...parsed, id: String(i), weight: typeof s === 'string' ? 1 : s.weight });
  });
  if (!IMPLEMENTED_BALANCE.has(u.balance)) {
    problems.push(locate(['upstreams', name, 'balance'], `${u.balance} is not available in this version; use one of: ${[...IMPLEMENTED_BALANCE].join(', ')}`));
  }
  const [kind, keyName] = u.hashKey.split(':') as [string, string | undefined];
  const hashKey: HashKey = kind === 'header' || kind === 'cookie' ? { kind, name: keyName!.toLowerCase() } : { kind: kind === 'path' ? 'path' : 'ip' };
  const sticky = u.sticky === false ? null : u.sticky === true ? { cookie: 'rampart_sticky', ttlMs: 3_600_000 } : { cookie: u.sticky.cookie, ttlMs: parseDuration(u.sticky.ttl) };
  let run: RunConfig | null = null;
  if (u.run !== undefined) {
    const at = ['upstreams', name, 'run'];
    if (options.run === 'refuse') problems.push(locate(at, runRefused(file)));
    run = resolveRun(u.run, u.health?.path, file, at, locate, problems);
    if (typeof options.run === 'function') for (const p of options.run(run)) problems.push(locate([...at, ...p.key], p.message));
  } else if (u.servers.length === 0) {
    const at = ['upstreams', name, 'servers'];
    const what = written(at) ? 'is empty' : 'is required';
    problems.push(locate(at, `${what}: list at least one server that already runs, or have \`rampart up\` start them with \`run: { command: ... }\` instead`));
  }
  const h = u.health;
  const health: HealthConfig | null =
    h === undefined
      ? null
      : {
          path: h.path,
          intervalMs: parseDuration(h.interval ?? '2s'),
          timeoutMs: parseDuration(h.timeout ?? '1s'),
          rise: h.rise ?? 2,
          fall: h.fall ?? 3,
          slowStartMs: parseDuration(h.slowStart ?? '0s'),
          expectStatus: statusRanges(h.expectStatus ?? '200-399'),
          jitter: h.jitter ?? 0.1,
        };
  const o = u.outlier;
  const outlier: OutlierConfig | null =
    o === false
      ? null
      : {
          consecutiveFailures: o.consecutiveFailures,
          consecutive5xx: o.consecutive5xx,
          baseEjectionTimeMs: parseDuration(o.baseEjectionTime),
          maxEjectionTimeMs: parseDuration(o.maxEjectionTime),
          maxEjectionPercent: o.maxEjectionPercent,
        };
  return {
    name,
    servers,
    run,
    balance: u.balance,
    hashKey,
    sticky,
    health,
    outlier,
    panicThreshold: u.panicThreshold,
    retries: u.retries,
    connectTimeoutMs: parseDuration(u.connectTimeout),
    headersTimeoutMs: parseDuration(u.headersTimeout),
    idleTimeoutMs: parseDuration(u.idleTimeout),
    keepAlive: { maxIdle: u.keepAlive.maxIdle, idleTimeoutMs: parseDuration(u.keepAlive.idleTimeout) },
  };
}

function resolveRoute(r: RawConfig['routes'][number], i: number, maxBodyBytes: number, upstreamNames: string[] | null, locate: Locate, problems: ConfigProblem[]): RouteConfig {
  if (upstreamNames !== null && !upstreamNames.includes(r.upstream)) {
    const near = upstreamNames.find((k) => editDistance(k, r.upstream) <= 2);
    problems.push(locate(['routes', i, 'upstream'], `no upstream named ${JSON.stringify(r.upstream)}${near ? `; did you mean ${near}?` : ''} (defined: ${upstreamNames.join(', ') || 'none'})`));
  }
  const cache = resolveRouteCache(r.cache, i, locate, problems);
  const host = r.host?.toLowerCase();
  // Matching ignores the request's port, so a host with one would never match.
  if (host !== undefined && /:\d*$/.test(host) && !/^\[[^\]]*\]$/.test(host)) {
    problems.push(locate(['routes', i, 'host'], `a route host has no port (got ${JSON.stringify(r.host)}); the port of a request is ignored when matching`));
  }
  const middleware: MiddlewareSpec[] = [];
  r.middleware.forEach((entry, j) => {
    const names = Object.keys(entry);
    if (names.length !== 1) {
      problems.push(locate(['routes', i, 'middleware', j], 'each entry names exactly one middleware: `{ <name>: <options> }`'));
      return;
    }
    const name = names[0]!;
    const factory = middlewareRegistry.get(name);
    if (!factory) {
      const available = [...middlewareRegistry.keys()];
      const near = available.find((k) => editDistance(k, name) <= 2);
      problems.push(locate(['routes', i, 'middleware', j, name], `unknown middleware${near ? `; did you mean ${near}?` : ''} (available: ${available.join(', ') || 'none in this version'})`));
      return;
    }
    // `- headers:` with nothing after it means the defaults, as `{}` would.
    const options = applyDefaults(factory.options, entry[name] ?? {});
    const at = ['routes', i, 'middleware', j, name];
    const found = schemaProblems(factory.options, options, at, locate);
    if (found.length === 0 && factory.validate) {
      for (const p of factory.validate(options as never)) found.push(locate([...at, ...p.path], p.message));
    }
    problems.push(...found);
    middleware.push({ name, options });
  });
  return {
    index: i,
    label: `${host ?? ''}${r.path}`,
    path: r.path,
    host,
    upstream: r.upstream,
    maxBodyBytes: r.maxBodyBytes ?? maxBodyBytes,
    retryNonIdempotent: r.retryNonIdempotent,
    middleware,
    cache,
  };
}

/** Variables rampart sets for each instance; a value in the file would be silently overridden. */
const RESERVED_ENV = new Set(['PORT', 'RAMPART_INSTANCE_ID']);

/** Smallest autoscale interval: below it the in-flight samples are too few to mean anything. */
const MIN_AUTOSCALE_INTERVAL_MS = 10;

function resolveRun(r: RawRun, healthPath: string | undefined, file: string, at: (string | number)[], locate: Locate, problems: ConfigProblem[]): RunConfig {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(r.env)) {
    if (RESERVED_ENV.has(key)) problems.push(locate([...at, 'env', key], `is set by rampart for each instance (${key === 'PORT' ? 'the port it must listen on' : 'its id'}); remove it`));
    env[key] = String(value);
  }
  const startTimeoutMs = parseDuration(r.startTimeout);
  if (startTimeoutMs <= 0) problems.push(locate([...at, 'startTimeout'], 'must be longer than 0'));
  const stopGraceMs = parseDuration(r.stopGrace);
  if (stopGraceMs <= 0) problems.push(locate([...at, 'stopGrace'], 'must be longer than 0 (an instance needs time to finish its requests)'));
  let autoscale: AutoscaleConfig | null = null;
  let instances = r.instances ?? 2;
  const a = r.autoscale;
  if (a !== undefined) {
    autoscale = { min: a.min, max: a.max, target: a.target, windowMs: parseDuration(a.window), intervalMs: parseDuration(a.interval) };
    if (a.max < a.min) problems.push(locate([...at, 'autoscale', 'max'], `must be at least min (${a.min}), got ${a.max}`));
    if (autoscale.intervalMs < MIN_AUTOSCALE_INTERVAL_MS) problems.push(locate([...at, 'autoscale', 'interval'], `must be at least ${MIN_AUTOSCALE_INTERVAL_MS}ms`));
    instances = r.instances ?? a.min;
    if (r.instances !== undefined && a.max >= a.min && (r.instances < a.min || r.instances > a.max)) {
      problems.push(locate([...at, 'instances'], `must be within autoscale.min and autoscale.max (${a.min}-${a.max}), got ${r.instances}; leave it out to start with min`));
    }
  }
  // Returned even with problems (the file is refused anyway), so that the
  // caller's run check reports its problems in the same pass.
  return {
    command: r.command,
    instances,
    // '<config>' (a config given as text) has no folder: the working directory stands in.
    cwd: path.resolve(path.dirname(file), r.cwd ?? '.'),
    env,
    healthPath: r.healthPath ?? healthPath,
    startTimeoutMs,
    stopGraceMs,
    autoscale,
  };
}

/** `200-399,404` → [[200, 399], [404, 404]]; the schema has checked the syntax. */
function statusRanges(text: string): [number, number][] {
  return text.split(',').map((part) => {
    const [low, high] = part.split('-').map((n) => Number(n.trim())) as [number, number | undefined];
    return [low, high ?? low];
  });
}
