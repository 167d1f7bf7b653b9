import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, loadConfigFile } from './load.ts';
import { ConfigError, type ConfigProblem } from '../errors.ts';

const UPSTREAMS = `upstreams:
  app:
    servers: ["http://127.0.0.1:3001"]
`;
const ROUTES = `routes:
  - path: /
    upstream: app
`;
const VALID = UPSTREAMS + ROUTES;

/** Parses `text`, expects a ConfigError, and returns its problems. */
function problemsOf(text: string, file = 'rampart.yaml'): readonly ConfigProblem[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG');
    assert.equal(err.file, file);
    for (const p of err.problems) assert.ok(err.message.includes(`${file}: ${p.path || '(root)'}: ${p.message}`), 'every problem is in the message with the file and key path');
    return err.problems;
  }
  assert.fail('the config was accepted');
}

/** The one problem of `text`, which must be at `path` (and on `line` when given). */
function oneProblem(text: string, path: string, line?: number): string {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  const p = problems[0]!;
  assert.equal(p.path, line === undefined ? path : `${path} (line ${line})`);
  return p.message;
}

test('the minimal shape of the brief loads', () => {
  const config = parseConfig(
    `listen: 8080                      # or "127.0.0.1:8080"
admin: 127.0.0.1:9901
upstreams:
  app:
    servers: [ "http://127.0.0.1:3001", "http://127.0.0.1:3002" ]   # existing servers, or:
    # run: { command: "node server.js", instances: 3 }
    balance: round-robin
    sticky: false
    health: { path: /healthz }
routes:
  - path: /
    upstream: app
    cache: false
`,
    'brief.yaml',
  );
  assert.deepEqual(config.listen, { host: undefined, port: 8080 });
  assert.deepEqual(config.admin, { host: '127.0.0.1', port: 9901 });
  const app = config.upstreams.get('app')!;
  assert.deepEqual(
    app.servers.map((s) => [s.id, s.url, s.host, s.port]),
    [
      ['0', 'http://127.0.0.1:3001', '127.0.0.1', 3001],
      ['1', 'http://127.0.0.1:3002', '127.0.0.1', 3002],
    ],
  );
  assert.equal(app.balance, 'round-robin');
  assert.equal(config.routes.length, 1);
  assert.equal(config.routes[0]!.upstream, 'app');
  assert.equal(config.file, 'brief.yaml');
});

test('defaults are applied to every key left out', () => {
  const config = parseConfig(VALID);
  assert.deepEqual(config.listen, { host: undefined, port: 8080 });
  assert.deepEqual(config.admin, { host: '127.0.0.1', port: 9901 });
  assert.equal(config.trustedProxies, null);
  assert.deepEqual(config.limits, {
    maxHeaderBytes: 16384,
    maxHeaders: 100,
    maxBodyBytes: 10485760,
    maxConnections: 10000,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 30_000,
    keepAliveTimeoutMs: 60_000,
    maxRequestsPerConnection: 0,
  });
  assert.equal(config.shutdownGraceMs, 30_000);
  assert.deepEqual(config.log, { level: 'info', access: true });
  const app = config.upstreams.get('app')!;
  assert.equal(app.balance, 'round-robin');
  assert.equal(app.connectTimeoutMs, 5000);
  assert.equal(app.headersTimeoutMs, 60_000);
  assert.equal(app.idleTimeoutMs, 60_000);
  assert.deepEqual(app.keepAlive, { maxIdle: 1024, idleTimeoutMs: 30_000 });
  const route = config.routes[0]!;
  assert.equal(route.host, undefined);
  assert.equal(route.maxBodyBytes, 10485760, 'a route inherits limits.maxBodyBytes');
  assert.equal(route.retryNonIdempotent, false);
  assert.deepEqual(route.middleware, []);
});

test('values in their human forms are resolved', () => {
  const config = parseConfig(`listen: "[::1]:8081"
admin: false
trustedProxies: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"]
limits: { headersTimeout: 1.5s, bodyTimeout: 250, keepAliveTimeout: 2m }
shutdownGrace: 1h
upstreams:
  app:
    servers: ["http://localhost:3001", "http://[::1]:3002", "http://example.com"]
    keepAlive: { idleTimeout: 500ms }
routes:
  - path: /api
    host: API.Example.com
    upstream: app
    maxBodyBytes: 1024
`);
  assert.deepEqual(config.listen, { host: '::1', port: 8081 });
  assert.equal(config.admin, null);
  assert.equal(config.limits.headersTimeoutMs, 1500);
  assert.equal(config.limits.bodyTimeoutMs, 250);
  assert.equal(config.limits.keepAliveTimeoutMs, 120_000);
  assert.equal(config.shutdownGraceMs, 3_600_000);
  const trusted = config.trustedProxies!;
  assert.ok(trusted.check('10.1.2.3', 'ipv4'));
  assert.ok(trusted.check('192.168.1.7', 'ipv4'));
  assert.ok(!trusted.check('192.168.1.8', 'ipv4'));
  assert.ok(trusted.check('fd00::1', 'ipv6'));
  const servers = config.upstreams.get('app')!.servers;
  assert.deepEqual(
    servers.map((s) => [s.host, s.port, s.authority]),
    [
      ['localhost', 3001, 'localhost:3001'],
      ['::1', 3002, '[::1]:3002'],
      ['example.com', 80, 'example.com'],
    ],
  );
  assert.equal(config.upstreams.get('app')!.keepAlive.idleTimeoutMs, 500);
  assert.equal(config.routes[0]!.host, 'api.example.com');
  assert.equal(config.routes[0]!.maxBodyBytes, 1024);
});

test('an unknown key is refused with a did-you-mean and the keys allowed there', () => {
  const top = oneProblem(`lisen: 8080\n${VALID}`, 'lisen', 1);
  assert.match(top, /^unknown key; did you mean listen\?/);
  assert.match(top, /Allowed here: listen, admin, /);
  const nested = oneProblem(`${UPSTREAMS}    balanse: random\n${ROUTES}`, 'upstreams.app.balanse', 4);
  assert.match(nested, /did you mean balance\?/);
  const deep = oneProblem(`${UPSTREAMS}    keepAlive: { maxidle: 3 }\n${ROUTES}`, 'upstreams.app.keepAlive.maxidle', 4);
  assert.match(deep, /did you mean maxIdle\?/);
  const far = oneProblem(`${VALID}extra: 1\n`, 'extra', 7);
  assert.doesNotMatch(far, /did you mean/);
  assert.match(oneProblem(`${VALID}    colour: red\n`, 'routes[0].colour', 7), /^unknown key/);
});

test('a value of the wrong type is refused with what was expected and what came', () => {
  assert.equal(oneProblem(`upstreams:\n  app:\n    servers: "http://127.0.0.1:3001"\n${ROUTES}`, 'upstreams.app.servers', 3), 'expected array (got "http://127.0.0.1:3001")');
  assert.equal(oneProblem(`${VALID}    retryNonIdempotent: yes\n`, 'routes[0].retryNonIdempotent', 7), 'expected boolean (got "yes")');
  assert.equal(oneProblem(`${VALID}    cache: yes\n`, 'routes[0].cache', 7), 'must be true, false, or { key, heuristic, bypassCookies, allowSetCookie, staleIfDown } (got "yes")');
  assert.match(oneProblem(`limits: { maxHeaders: many }\n${VALID}`, 'limits.maxHeaders', 1), /^expected integer \(got "many"\)/);
  assert.match(oneProblem(`limits: { maxHeaderBytes: 10 }\n${VALID}`, 'limits.maxHeaderBytes', 1), /1024 \(got 10\)/);
  assert.equal(oneProblem(`limits: 5\n${VALID}`, 'limits', 1), 'expected object (got 5)');
  assert.equal(oneProblem(`log: { level: verbose }\n${VALID}`, 'log.level', 1), 'must be one of: fatal, error, warn, info, debug, trace, silent (got "verbose")');
  assert.match(oneProblem(`${UPSTREAMS}routes:\n  - path: api\n    upstream: app\n`, 'routes[0].path', 5), /match '\^\/' \(got "api"\)/);
  assert.match(oneProblem(`upstreams:\n  app:\n    servers: []\n${ROUTES}`, 'upstreams.app.servers', 3), /^is empty: list at least one server that already runs, or have `rampart up` start them with `run:/);
  assert.match(oneProblem(`${UPSTREAMS}routes: []\n`, 'routes', 4), /length to be greater or equal to 1/);
});

test('required sections that are missing are named', () => {
  const problems = problemsOf('listen: 8080\n');
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['upstreams', 'is required'],
      ['routes', 'is required'],
    ],
  );
  assert.match(oneProblem(`upstreams:\n  app:\n    balance: random\n${ROUTES}`, 'upstreams.app.servers'), /^is required: list at least one server that already runs, or have `rampart up` start them with `run:/);
});

test('a bad duration says what a duration looks like', () => {
  const problems = problemsOf(`limits: { headersTimeout: 10 sec }\nshutdownGrace: -1\n${UPSTREAMS}    connectTimeout: 5 days\n${ROUTES}`);
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['limits.headersTimeout (line 1)', 'must be a duration: milliseconds, or a string such as 500ms, 10s, 2m (got "10 sec")'],
      ['shutdownGrace (line 2)', 'must be a duration: milliseconds, or a string such as 500ms, 10s, 2m (got -1)'],
      ['upstreams.app.connectTimeout (line 6)', 'must be a duration: milliseconds, or a string such as 500ms, 10s, 2m (got "5 days")'],
    ],
  );
});

test('a bad listen or admin address is refused', () => {
  assert.equal(oneProblem(`listen: "localhost:99999"\n${VALID}`, 'listen', 1), 'port 99999 is out of range 0-65535');
  assert.equal(oneProblem(`listen: 70000\n${VALID}`, 'listen', 1), 'must be a port or host:port (got 70000)');
  assert.equal(oneProblem(`listen: true\n${VALID}`, 'listen', 1), 'must be a port or host:port (got true)');
  assert.equal(oneProblem(`listen: "nowhere"\n${VALID}`, 'listen', 1), 'must be a port or host:port (got "nowhere")');
  assert.equal(oneProblem(`admin: "nope"\n${VALID}`, 'admin', 1), 'must be a port or host:port (got "nope")');
  assert.equal(oneProblem(`admin: true\n${VALID}`, 'admin', 1), 'must be a port, host:port, or false (got true)');
});

test('a bad server URL is refused with the reason', () => {
  const problems = problemsOf(`upstreams:
  app:
    servers:
      - https://127.0.0.1:3001
      - http://127.0.0.1:3001/app
      - 127.0.0.1:3001
      - ftp://127.0.0.1
      - http://user:pw@127.0.0.1:3001
      - http://127.0.0.1:3001/?q=1
${ROUTES}`);
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['upstreams.app.servers[0] (line 4)', 'https:// servers are not supported yet; use http://'],
      ['upstreams.app.servers[1] (line 5)', 'a server URL has no path, query or fragment (got "http://127.0.0.1:3001/app")'],
      ['upstreams.app.servers[2] (line 6)', 'not a URL: "127.0.0.1:3001" (expected http://host:port)'],
      ['upstreams.app.servers[3] (line 7)', 'unsupported scheme ftp: (expected http://host:port)'],
      ['upstreams.app.servers[4] (line 8)', 'a server URL carries no credentials'],
      ['upstreams.app.servers[5] (line 9)', 'a server URL has no path, query or fragment (got "http://127.0.0.1:3001/?q=1")'],
    ],
  );
});

test('an upstream name outside the allowed characters is refused', () => {
  const message = oneProblem(`upstreams:\n  "my app":\n    servers: ["http://127.0.0.1:1"]\nroutes:\n  - path: /\n    upstream: "my app"\n`, 'upstreams["my app"]', 3);
  assert.match(message, /"my app" is not a valid name here/);
});

test('a route to an unknown upstream lists the upstreams defined', () => {
  assert.equal(oneProblem(`${UPSTREAMS}routes:\n  - path: /\n    upstream: ap\n`, 'routes[0].upstream', 6), 'no upstream named "ap"; did you mean app? (defined: app)');
  assert.equal(oneProblem(`${UPSTREAMS}routes:\n  - path: /\n    upstream: backend\n`, 'routes[0].upstream', 6), 'no upstream named "backend" (defined: app)');
});

test('a duplicate route is refused; host case does not make it different', () => {
  assert.equal(
    oneProblem(`${UPSTREAMS}routes:\n  - { path: /api, upstream: app }\n  - { path: /api, upstream: app }\n`, 'routes[1].path', 6),
    'same host and path as routes[0]; the second would never match',
  );
  assert.match(
    oneProblem(`${UPSTREAMS}routes:\n  - { path: /, host: A.example, upstream: app }\n  - { path: /, host: a.example, upstream: app }\n`, 'routes[1].path', 6),
    /same host and path as routes\[0\]/,
  );
  // Same path on another host, or another path: both fine.
  parseConfig(`${UPSTREAMS}routes:\n  - { path: /, host: a.example, upstream: app }\n  - { path: /, upstream: app }\n  - { path: /a, upstream: app }\n`);
});

test('a route host with a port is refused: matching ignores ports', () => {
  assert.match(oneProblem(`${UPSTREAMS}routes:\n  - { path: /, host: "example.com:8080", upstream: app }\n`, 'routes[0].host', 5), /has no port/);
});

test('every balance method, sticky and weighted servers load', () => {
  assert.match(oneProblem(`${UPSTREAMS}    balance: fastest\n${ROUTES}`, 'upstreams.app.balance', 4), /^must be one of: random, round-robin, .*ewma \(got "fastest"\)$/);
  for (const method of ['random', 'round-robin', 'least-connections', 'weighted-round-robin', 'p2c', 'hash', 'ewma']) {
    assert.equal(parseConfig(`${UPSTREAMS}    balance: ${method}\n${ROUTES}`).upstreams.get('app')!.balance, method);
  }
  const app = parseConfig(`${UPSTREAMS}    sticky: { cookie: sid, ttl: 10m }\n    hashKey: header:X-User\n${ROUTES}`).upstreams.get('app')!;
  assert.deepEqual(app.sticky, { cookie: 'sid', ttlMs: 600_000 });
  assert.deepEqual(app.hashKey, { kind: 'header', name: 'x-user' });
  assert.deepEqual(app.outlier, { consecutiveFailures: 5, consecutive5xx: false, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 300_000, maxEjectionPercent: 50 });
  const weighted = parseConfig(`upstreams:\n  app:\n    servers: [{ url: "http://127.0.0.1:1", weight: 3 }, "http://127.0.0.1:2"]\n${ROUTES}`).upstreams.get('app')!;
  assert.deepEqual(weighted.servers.map((s) => s.weight), [3, 1]);
  assert.match(oneProblem(`upstreams:\n  app:\n    servers: ["http://127.0.0.1:1", "http://127.0.0.1:1/"]\n${ROUTES}`, 'upstreams.app.servers[1]', 3), /same server as servers\[0\]/);
});

test('a YAML syntax error names its line and column', () => {
  const problems = problemsOf(`upstreams:\n  app:\n    servers: ["http://127.0.0.1:1"]\n  bad\n${ROUTES}`);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'line 4, column 3');
  assert.match(problems[0]!.message, /map/i);
  const dup = problemsOf(`${UPSTREAMS}${UPSTREAMS}${ROUTES}`);
  assert.equal(dup[0]!.path, 'line 4, column 1');
  assert.match(dup[0]!.message, /unique/);
  const flow = problemsOf(`upstreams:\n  app:\n    servers: ["http://127.0.0.1:1"\n${ROUTES}`);
  assert.match(flow[0]!.path, /^line \d+, column \d+$/);
});

test('an empty file and a file that is not a mapping are refused', () => {
  for (const text of ['', '\n\n', '# only a comment\n']) {
    assert.deepEqual(problemsOf(text), [{ path: '', message: 'the file is empty; it must hold a YAML mapping with at least upstreams and routes' }]);
  }
  assert.match(problemsOf('- listen: 8080\n')[0]!.message, /must hold a YAML mapping .*not a list/);
  assert.match(problemsOf('listen 8080\n')[0]!.message, /must hold a YAML mapping .*not a string/);
  assert.match(problemsOf('42\n')[0]!.message, /not a number/);
});

test('trustedProxies entries must be addresses or CIDR ranges', () => {
  const problems = problemsOf(`trustedProxies:\n  - 10.0.0.0/33\n  - 1.2.3.4\n  - "::1/129"\n  - proxy.local\n  - 10.0.0.0/x\n${VALID}`);
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['trustedProxies[0] (line 2)', 'not an IP address or CIDR range: "10.0.0.0/33"'],
      ['trustedProxies[2] (line 4)', 'not an IP address or CIDR range: "::1/129"'],
      ['trustedProxies[3] (line 5)', 'not an IP address or CIDR range: "proxy.local"'],
      ['trustedProxies[4] (line 6)', 'not an IP address or CIDR range: "10.0.0.0/x"'],
    ],
  );
});

test('middleware: an unknown name, bad options and misshapen entries are refused at load', () => {
  const problems = problemsOf(`${VALID}    middleware:
      - header: {}
      - gzip: {}
      - headers: { request: { sett: {} } }
      - headers: { response: { set: { "bad name": x }, remove: [1] } }
      - headers: { request: { set: { x-a: "line\\nbreak" } } }
      - { headers: {}, other: {} }
      - headers: 5
`);
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['routes[0].middleware[0].header (line 8)', 'unknown middleware; did you mean headers? (available: headers)'],
      ['routes[0].middleware[1].gzip (line 9)', 'unknown middleware (available: headers)'],
      ['routes[0].middleware[2].headers.request.sett (line 10)', 'unknown key; did you mean set? Allowed here: set, remove'],
      ['routes[0].middleware[3].headers.response.set["bad name"] (line 11)', `"bad name" is not a valid name here (it must match ^[!#$%&'*+.^_\`|~0-9A-Za-z-]+$)`],
      ['routes[0].middleware[3].headers.response.remove[0] (line 11)', 'expected string (got 1)'],
      ['routes[0].middleware[4].headers.request.set.x-a (line 12)', `expected string to match '^[\\t\\x20-\\x7e\\x80-\\xff]*$' (got "line\\nbreak")`],
      ['routes[0].middleware[5] (line 13)', 'each entry names exactly one middleware: `{ <name>: <options> }`'],
      ['routes[0].middleware[6].headers (line 14)', 'expected object (got 5)'],
    ],
  );
});

test('middleware: framing and hop-by-hop fields cannot be set or removed (validate step)', () => {
  const problems = problemsOf(`${VALID}    middleware:
      - headers:
          request: { set: { Content-Length: "0" }, remove: [transfer-encoding] }
          response: { set: { connection: close } }
`);
  assert.deepEqual(
    problems.map((p) => p.path),
    ['routes[0].middleware[0].headers.request.set.Content-Length (line 9)', 'routes[0].middleware[0].headers.request.remove[0] (line 9)', 'routes[0].middleware[0].headers.response.set.connection (line 10)'],
  );
  assert.match(problems[0]!.message, /set by the gateway itself/);
});

test('middleware: options get their defaults and a bare name means all defaults', () => {
  const config = parseConfig(`${VALID}    middleware:
      - headers:
      - headers: { response: { remove: [server] } }
`);
  assert.deepEqual(config.routes[0]!.middleware, [
    { name: 'headers', options: { request: { set: {}, remove: [] }, response: { set: {}, remove: [] } } },
    { name: 'headers', options: { request: { set: {}, remove: [] }, response: { set: {}, remove: ['server'] } } },
  ]);
});

test('every problem of a file is reported at once, schema and semantic ones together', () => {
  const problems = problemsOf(`listen: "x"
trustedProxies: [nope]
upstreams:
  app:
    servers: ["https://a"]
  api:
    servers: ["http://a:1"]
    balanse: random
routes:
  - { path: /, upstream: b }
  - { path: /x, upstream: app, cache: maybe }
`);
  assert.deepEqual(
    problems.map((p) => p.path.replace(/ \(line \d+\)$/, '')),
    // Schema problems first; then each part the schema accepted is checked further.
    ['upstreams.api.balanse', 'routes[1].cache', 'listen', 'trustedProxies[0]', 'upstreams.app.servers[0]', 'routes[0].upstream'],
  );
});

test('a misshapen section does not hide the problems of the others, nor add noise', () => {
  const problems = problemsOf(`limits: ~\nupstreams: [a]\nroutes:\n  - { path: /, upstream: app }\n`);
  assert.deepEqual(
    problems.map((p) => p.path.replace(/ \(line \d+\)$/, '')),
    ['limits', 'upstreams'],
    'no "unknown upstream" for routes when upstreams itself is wrong',
  );
});

test('loadConfigFile names the file it read, and a file it cannot read', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-load-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = path.join(dir, 'good.yaml');
  await writeFile(good, VALID);
  assert.equal((await loadConfigFile(good)).file, good);
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, `${VALID}    cache: 3\n`);
  await assert.rejects(loadConfigFile(bad), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, bad);
    assert.match(err.message, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: routes\\[0\\]\\.cache \\(line 7\\): must be true, false`));
    return true;
  });
  await assert.rejects(loadConfigFile(path.join(dir, 'missing.yaml')), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.problems[0]!.message, /^cannot read the file: ENOENT/);
    return true;
  });
});

test('cache: true on a route takes every default; the store section defaults to a 256 MiB memory store', () => {
  const config = parseConfig(`${VALID}    cache: true\n`);
  assert.deepEqual(config.routes[0]!.cache, {
    key: { host: true, query: 'sorted', ignoreParams: [], headers: [], cookies: [] },
    heuristic: false,
    bypassCookies: ['*sid', '*session*'],
    allowSetCookie: false,
    staleIfDownMs: 3_600_000,
  });
  assert.deepEqual(config.cache, { store: 'memory', maxBytes: 256 * 1024 ** 2, maxObjectBytes: 8 * 1024 ** 2, redis: null });
  assert.equal(parseConfig(VALID).routes[0]!.cache, null, 'off by default');
  assert.equal(parseConfig(`${VALID}    cache: false\n`).routes[0]!.cache, null);
});

test('route cache options are resolved: key options, lower-cased key headers, durations', () => {
  const config = parseConfig(
    `${VALID}    cache:\n      key: { host: false, query: ignore, ignoreParams: [utm_*], headers: [Accept-Language], cookies: [lang] }\n      heuristic: true\n      bypassCookies: []\n      allowSetCookie: true\n      staleIfDown: 0\n`,
  );
  assert.deepEqual(config.routes[0]!.cache, {
    key: { host: false, query: 'ignore', ignoreParams: ['utm_*'], headers: ['accept-language'], cookies: ['lang'] },
    heuristic: true,
    bypassCookies: [],
    allowSetCookie: true,
    staleIfDownMs: 0,
  });
  // Unset keys of a partial object take their defaults.
  const partial = parseConfig(`${VALID}    cache: { key: { query: as-sent } }\n`).routes[0]!.cache!;
  assert.equal(partial.key.query, 'as-sent');
  assert.equal(partial.key.host, true);
  assert.deepEqual(partial.bypassCookies, ['*sid', '*session*']);
});

test('bad route cache options are refused with their key path', () => {
  assert.match(oneProblem(`${VALID}    cache: { key: { query: random } }\n`, 'routes[0].cache.key.query', 7), /must be one of: sorted, as-sent, ignore/);
  assert.match(oneProblem(`${VALID}    cache: { staleIfDown: forever }\n`, 'routes[0].cache.staleIfDown', 7), /must be a duration/);
  assert.match(oneProblem(`${VALID}    cache: { key: { headers: ["bad header"] } }\n`, 'routes[0].cache.key.headers[0]', 7), /expected string to match/);
  assert.match(oneProblem(`${VALID}    cache: { key: { headers: [a, A] } }\n`, 'routes[0].cache.key.headers[1]', 7), /listed twice/);
  assert.match(oneProblem(`${VALID}    cache: { key: { ignoreParams: ["a=b"] } }\n`, 'routes[0].cache.key.ignoreParams[0]', 7), /no &, = or #/);
  assert.match(oneProblem(`${VALID}    cache: { ttl: 5 }\n`, 'routes[0].cache.ttl', 7), /unknown key/);
  assert.match(oneProblem(`${VALID}    cache: ~\n`, 'routes[0].cache', 7), /must be true, false, or/);
});

test('cache store sizes accept bytes and units; bad sizes and limits are refused with their key path', () => {
  const sized = parseConfig(`cache: { maxBytes: 64MB, maxObjectBytes: 512KiB }\n${VALID}`).cache;
  assert.equal(sized.maxBytes, 64_000_000);
  assert.equal(sized.maxObjectBytes, 512 * 1024);
  assert.equal(parseConfig(`cache: { maxBytes: 1048576, maxObjectBytes: "1.5 KB" }\n${VALID}`).cache.maxObjectBytes, 1500);
  assert.equal(parseConfig(`cache: { maxBytes: 2GiB }\n${VALID}`).cache.maxBytes, 2 * 1024 ** 3);
  assert.match(oneProblem(`cache: { maxBytes: lots }\n${VALID}`, 'cache.maxBytes', 1), /must be a size/);
  assert.match(oneProblem(`cache: { maxBytes: 8M }\n${VALID}`, 'cache.maxBytes', 1), /must be a size/);
  assert.match(oneProblem(`cache: { maxBytes: 0 }\n${VALID}`, 'cache.maxBytes', 1), /must be a size/);
  assert.match(oneProblem(`cache: { maxBytes: -5 }\n${VALID}`, 'cache.maxBytes', 1), /must be a size/);
  assert.match(oneProblem(`cache: { maxBytes: 1MiB, maxObjectBytes: 2MiB }\n${VALID}`, 'cache.maxObjectBytes', 1), /must not exceed cache.maxBytes/);
  assert.match(oneProblem(`cache: { store: disk }\n${VALID}`, 'cache.store', 1), /must be one of: memory, redis/);
  assert.match(oneProblem(`cache: { size: 1 }\n${VALID}`, 'cache.size', 1), /unknown key/);
});

test('the redis store needs a URL without a password; the password comes from an environment variable', () => {
  const config = parseConfig(`cache: { store: redis, redis: { url: "redis://127.0.0.1:6379/2", passwordEnv: REDIS_PASSWORD } }\n${VALID}`);
  assert.deepEqual(config.cache.redis, { url: 'redis://127.0.0.1:6379/2', passwordEnv: 'REDIS_PASSWORD', keyPrefix: 'rampart:cache:' });
  assert.equal(config.cache.store, 'redis');
  assert.match(oneProblem(`cache: { store: redis }\n${VALID}`, 'cache.store', 1), /cache\.redis\.url is not set/);
  const withPassword = oneProblem(`cache: { store: redis, redis: { url: "redis://:hunter2@127.0.0.1:6379" } }\n${VALID}`, 'cache.redis.url', 1);
  assert.match(withPassword, /holds a password/);
  assert.doesNotMatch(withPassword, /hunter2/, 'the password is not repeated in the message');
  assert.match(oneProblem(`cache: { redis: { url: "http://127.0.0.1:6379" } }\n${VALID}`, 'cache.redis.url', 1), /expected string to match/);
  assert.match(oneProblem(`cache: { redis: { url: "redis://127.0.0.1:6379/x" } }\n${VALID}`, 'cache.redis.url', 1), /database number/);
  assert.match(oneProblem(`cache: { redis: { url: "redis://h", passwordEnv: "1BAD" } }\n${VALID}`, 'cache.redis.passwordEnv', 1), /expected string to match/);
});
