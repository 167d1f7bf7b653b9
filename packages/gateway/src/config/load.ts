// Reads, validates and resolves a configuration file. Every problem in the file
// is collected and reported together, each with the file, its line, the key
// path and the reason, so one edit-reload cycle fixes them all.
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { ConfigSchema, type RawConfig } from './schema.ts';
import { applyDefaults } from './defaults.ts';
import { parseDuration, parseListen, parseServerUrl, type ListenAddress, type ServerAddress } from './parse-values.ts';
import { middlewareRegistry } from '../middleware/registry.ts';
import type { MiddlewareSpec } from '../middleware/types.ts';

export interface ServerConfig extends ServerAddress {
  /** Stable id within its upstream: its position, as a string. */
  readonly id: string;
}

export interface UpstreamConfig {
  readonly name: string;
  readonly servers: readonly ServerConfig[];
  readonly balance: 'random' | 'round-robin' | 'least-connections';
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAlive: { readonly maxIdle: number; readonly idleTimeoutMs: number };
}

export interface RouteConfig {
  readonly index: number;
  readonly path: string;
  /** Lower-case; a leading `*.` matches any subdomain. */
  readonly host: string | undefined;
  readonly upstream: string;
  readonly maxBodyBytes: number;
  readonly retryNonIdempotent: boolean;
  readonly middleware: readonly MiddlewareSpec[];
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
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  readonly routes: readonly RouteConfig[];
}

export async function loadConfigFile(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = '<config>'): GatewayConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: pos ? `line ${pos.line}, column ${pos.col}` : '', message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'the file must hold a YAML mapping (listen, upstreams, routes, ...)' }]);
  }
  const withDefaults = applyDefaults(ConfigSchema, raw);
  const located = (segments: (string | number)[], message: string): ConfigProblem => {
    const node = doc.getIn(segments, true);
    const offset = isNode(node) ? node.range?.[0] : undefined;
    const where = offset === undefined ? '' : ` (line ${lines.linePos(offset).line})`;
    return { path: keyPath(segments) + where, message };
  };

  const problems = schemaProblems(withDefaults, located);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const resolved = resolve(withDefaults as RawConfig, file, located, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return resolved;
}

type Locate = (segments: (string | number)[], message: string) => ConfigProblem;

function keyPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

function schemaProblems(value: unknown, locate: Locate): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(ConfigSchema, value)) {
    const segments = error.path
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const key = segments.join('/');
    // TypeBox reports a union failure and then its branches; the first says it best.
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(locate(segments, describe(error.schema, error.message, error.value, segments)));
  }
  return problems;
}

function describe(schema: TSchema, message: string, value: unknown, segments: (string | number)[]): string {
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  if (message === 'Unexpected property') {
    const name = String(segments.at(-1));
    const parent = parentKeys(segments.slice(0, -1));
    const near = parent.find((k) => editDistance(k, name) <= 2);
    return `unknown key${near ? `; did you mean ${near}?` : ''}${parent.length ? ` Allowed here: ${parent.join(', ')}` : ''}`;
  }
  if (message === 'Expected required property') return 'is required';
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf) {
    if (anyOf.every((s) => 'const' in s)) return `must be one of: ${anyOf.map((s) => String(s.const)).join(', ')}${got}`;
    if (anyOf.some((s) => typeof s.pattern === 'string' && s.pattern.includes('ms|s|m|h'))) {
      return `must be a duration: milliseconds, or a string such as 500ms, 10s, 2m${got}`;
    }
    return `${schema.description ?? 'has the wrong type'}${got}`;
  }
  return `${message.replace(/^Expected/, 'expected')}${got}`;
}

function parentKeys(segments: (string | number)[]): string[] {
  let schema: TSchema | undefined = ConfigSchema;
  for (const s of segments) {
    if (!schema) return [];
    if (typeof s === 'number') schema = schema.items as TSchema | undefined;
    else if (schema.properties) schema = (schema.properties as Record<string, TSchema>)[s];
    else if (schema.patternProperties) schema = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
    else return [];
  }
  return schema?.properties ? Object.keys(schema.properties as object) : [];
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

const IMPLEMENTED_BALANCE = new Set(['random', 'round-robin', 'least-connections']);

function resolve(raw: RawConfig, file: string, locate: Locate, problems: ConfigProblem[]): GatewayConfig {
  const listen = parseListen(raw.listen);
  if (typeof listen === 'string') problems.push(locate(['listen'], listen));
  let admin: ListenAddress | null = null;
  if (raw.admin !== false) {
    const parsed = parseListen(raw.admin);
    if (typeof parsed === 'string') problems.push(locate(['admin'], parsed));
    else admin = parsed;
  }

  let trustedProxies: BlockList | null = null;
  raw.trustedProxies.forEach((entry, i) => {
    trustedProxies ??= new BlockList();
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      problems.push(locate(['trustedProxies', i], `not an IP address or CIDR range: ${JSON.stringify(entry)}`));
      return;
    }
    trustedProxies.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  });

  const upstreams = new Map<string, UpstreamConfig>();
  for (const [name, u] of Object.entries(raw.upstreams)) {
    const servers: ServerConfig[] = [];
    u.servers.forEach((s, i) => {
      const parsed = parseServerUrl(s);
      if (typeof parsed === 'string') problems.push(locate(['upstreams', name, 'servers', i], parsed));
      else servers.push({ ...parsed, id: String(i) });
    });
    if (!IMPLEMENTED_BALANCE.has(u.balance)) {
      problems.push(locate(['upstreams', name, 'balance'], `${u.balance} is not available in this version; use one of: ${[...IMPLEMENTED_BALANCE].join(', ')}`));
    }
    if (u.sticky) problems.push(locate(['upstreams', name, 'sticky'], 'sticky sessions are not available in this version; set false'));
    upstreams.set(name, {
      name,
      servers,
      balance: u.balance as UpstreamConfig['balance'],
      connectTimeoutMs: parseDuration(u.connectTimeout),
      headersTimeoutMs: parseDuration(u.headersTimeout),
      idleTimeoutMs: parseDuration(u.idleTimeout),
      keepAlive: { maxIdle: u.keepAlive.maxIdle, idleTimeoutMs: parseDuration(u.keepAlive.idleTimeout) },
    });
  }

  const routeKeys = new Map<string, number>();
  const routes: RouteConfig[] = raw.routes.map((r, i) => {
    if (!upstreams.has(r.upstream)) {
      const known = [...upstreams.keys()].join(', ') || 'none';
      problems.push(locate(['routes', i, 'upstream'], `no upstream named ${JSON.stringify(r.upstream)} (defined: ${known})`));
    }
    if (r.cache) problems.push(locate(['routes', i, 'cache'], 'the edge cache is not available in this version; set false'));
    const host = r.host?.toLowerCase();
    const key = `${host ?? ''} ${r.path}`;
    const dup = routeKeys.get(key);
    if (dup !== undefined) problems.push(locate(['routes', i, 'path'], `same host and path as routes[${dup}]; the second would never match`));
    routeKeys.set(key, i);
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
        const known = [...middlewareRegistry.keys()].join(', ') || 'none in this version';
        problems.push(locate(['routes', i, 'middleware', j, name], `unknown middleware (available: ${known})`));
        return;
      }
      const options = applyDefaults(factory.options, entry[name] ?? {});
      for (const error of Value.Errors(factory.options, options)) {
        problems.push(locate(['routes', i, 'middleware', j, name, ...error.path.split('/').slice(1)], error.message));
      }
      middleware.push({ name, options });
    });
    return {
      index: i,
      path: r.path,
      host,
      upstream: r.upstream,
      maxBodyBytes: r.maxBodyBytes ?? raw.limits.maxBodyBytes,
      retryNonIdempotent: r.retryNonIdempotent,
      middleware,
    };
  });

  return {
    file,
    listen: typeof listen === 'string' ? { host: undefined, port: 0 } : listen,
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
    upstreams,
    routes,
  };
}
