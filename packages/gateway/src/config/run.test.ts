// `run:` upstreams in the config: defaults, what is refused and how it is
// said (key path, line, reason), and the per-command policy (`rampart
// gateway` refuses run:, `rampart up` checks its commands).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ParseOptions } from './load.ts';
import { ConfigError, type ConfigProblem } from '../errors.ts';

const ROUTES = `routes:
  - path: /
    upstream: app
`;

function withRun(run: string, extra = ''): string {
  return `upstreams:\n  app:\n    run: ${run}\n${extra}${ROUTES}`;
}

function problemsOf(text: string, options?: ParseOptions): readonly ConfigProblem[] {
  try {
    parseConfig(text, '/srv/site/rampart.yaml', options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('the config was accepted');
}

test('the brief\'s run: shapes load, with their defaults', () => {
  const fixed = parseConfig(withRun('{ command: "node server.js", instances: 3 }', '    health: { path: /healthz }\n'), '/srv/site/rampart.yaml').upstreams.get('app')!;
  assert.deepEqual(fixed.servers, []);
  assert.deepEqual(fixed.run, {
    command: 'node server.js',
    instances: 3,
    cwd: '/srv/site',
    env: {},
    healthPath: '/healthz',
    startTimeoutMs: 30_000,
    stopGraceMs: 10_000,
    autoscale: null,
  });
  const scaled = parseConfig(withRun('{ command: "node server.js", autoscale: { min: 2, max: 8 } }'), '/srv/site/rampart.yaml').upstreams.get('app')!.run!;
  assert.equal(scaled.instances, 2, 'starts with min');
  assert.equal(scaled.healthPath, undefined, 'no health path: ready once the port accepts');
  assert.deepEqual(scaled.autoscale, { min: 2, max: 8, target: 10, windowMs: 60_000, intervalMs: 1_000 });
  const plain = parseConfig(withRun('{ command: [node, server.js] }'), '/srv/site/rampart.yaml').upstreams.get('app')!.run!;
  assert.equal(plain.instances, 2);
  assert.deepEqual(plain.command, ['node', 'server.js']);
});

test('every run: key is read: cwd relative to the config file, env as text, healthPath over health.path, durations', () => {
  const run = parseConfig(
    withRun(
      '{ command: "./server", instances: 1, cwd: app, env: { NODE_ENV: production, WORKERS: 4, DEBUG: false }, healthPath: /ready, startTimeout: 5s, stopGrace: 1500, autoscale: { min: 1, max: 3, target: 4.5, window: 30s, interval: 250ms } }',
      '    health: { path: /healthz }\n',
    ),
    '/srv/site/rampart.yaml',
  ).upstreams.get('app')!.run!;
  assert.deepEqual(run, {
    command: './server',
    instances: 1,
    cwd: '/srv/site/app',
    env: { NODE_ENV: 'production', WORKERS: '4', DEBUG: 'false' },
    healthPath: '/ready',
    startTimeoutMs: 5_000,
    stopGraceMs: 1_500,
    autoscale: { min: 1, max: 3, target: 4.5, windowMs: 30_000, intervalMs: 250 },
  });
});

test('run: as a bare command line says what it must be', () => {
  const problems = problemsOf(withRun('node server.js'));
  assert.deepEqual(problems, [{ path: 'upstreams.app.run (line 3)', message: 'must be a mapping such as { command: "node server.js", instances: 2 } (got "node server.js")' }]);
});

test('servers and run together: both kinds serve the upstream', () => {
  const u = parseConfig(withRun('{ command: "node server.js" }', '    servers: ["http://127.0.0.1:3001"]\n')).upstreams.get('app')!;
  assert.equal(u.servers.length, 1);
  assert.ok(u.run !== null);
});

test('an upstream with neither servers nor run is refused at servers', () => {
  for (const [upstream, path, what] of [['{}', 'upstreams.app.servers', 'is required'], ['{ servers: [] }', 'upstreams.app.servers (line 2)', 'is empty'], ['{ balance: random }', 'upstreams.app.servers', 'is required']] as const) {
    const problems = problemsOf(`upstreams:\n  app: ${upstream}\n${ROUTES}`);
    assert.deepEqual(problems.map((p) => p.path), [path], upstream);
    assert.equal(problems[0]!.message, `${what}: list at least one server that already runs, or have \`rampart up\` start them with \`run: { command: ... }\` instead`);
  }
});

test('bad run: blocks: every problem with its key path and line', () => {
  const cases: [string, string, RegExp][] = [
    ['{ instances: 3 }', 'upstreams.app.run.command', /^is required$/],
    ['{ command: "" }', 'upstreams.app.run.command', /must be a command line \(a string\) or an argv list of strings/],
    ['{ command: [] }', 'upstreams.app.run.command', /must be a command line/],
    ['{ command: 42 }', 'upstreams.app.run.command', /must be a command line/],
    ['{ command: x, instance: 3 }', 'upstreams.app.run.instance', /unknown key; did you mean instances\?/],
    ['{ command: x, instances: 0 }', 'upstreams.app.run.instances', /expected integer to be greater or equal to 1|≥ 1|greater/],
    ['{ command: x, instances: 1000 }', 'upstreams.app.run.instances', /less or equal to 256|256/],
    ['{ command: x, healthPath: healthz }', 'upstreams.app.run.healthPath', /pattern|\//],
    ['{ command: x, startTimeout: soon }', 'upstreams.app.run.startTimeout', /must be a duration/],
    ['{ command: x, stopGrace: 0 }', 'upstreams.app.run.stopGrace', /must be longer than 0/],
    ['{ command: x, startTimeout: 0ms }', 'upstreams.app.run.startTimeout', /must be longer than 0/],
    ['{ command: x, env: { PORT: 3000 } }', 'upstreams.app.run.env.PORT', /is set by rampart for each instance \(the port it must listen on\); remove it/],
    ['{ command: x, env: { RAMPART_INSTANCE_ID: a } }', 'upstreams.app.run.env.RAMPART_INSTANCE_ID', /is set by rampart for each instance/],
    ['{ command: x, env: { "BAD-NAME": a } }', 'upstreams.app.run.env.BAD-NAME', /not a valid name here/],
    ['{ command: x, env: [] }', 'upstreams.app.run.env', /must map variable names to strings/],
    ['{ command: x, autoscale: true }', 'upstreams.app.run.autoscale', /must be a mapping: \{ min, max, target, window, interval \}/],
    ['{ command: x, env: { LIST: [1] } }', 'upstreams.app.run.env.LIST', /must be a string \(numbers and booleans are taken as text\)/],
    ['{ command: x, autoscale: { min: 1 } }', 'upstreams.app.run.autoscale.max', /^is required$/],
    ['{ command: x, autoscale: { min: 4, max: 2 } }', 'upstreams.app.run.autoscale.max', /must be at least min \(4\), got 2/],
    ['{ command: x, autoscale: { min: 0, max: 2 } }', 'upstreams.app.run.autoscale.min', /greater or equal to 1|1/],
    ['{ command: x, autoscale: { max: 2, target: 0 } }', 'upstreams.app.run.autoscale.target', /greater than 0|0/],
    ['{ command: x, autoscale: { max: 2, interval: 1ms } }', 'upstreams.app.run.autoscale.interval', /must be at least 10ms/],
    ['{ command: x, autoscale: { max: 2, windw: 5s } }', 'upstreams.app.run.autoscale.windw', /unknown key; did you mean window\?/],
    ['{ command: x, instances: 9, autoscale: { min: 1, max: 4 } }', 'upstreams.app.run.instances', /must be within autoscale.min and autoscale.max \(1-4\), got 9; leave it out to start with min/],
  ];
  for (const [run, path, message] of cases) {
    const problems = problemsOf(withRun(run));
    // A key that is missing has no line of its own.
    const p = problems.find((q) => q.path === path || q.path.startsWith(`${path} (line`));
    assert.ok(p, `${run}: expected a problem at ${path}, got ${JSON.stringify(problems)}`);
    assert.match(p.message, message, run);
  }
});

test('run: "refuse" (rampart gateway) says to use rampart up, at the run key', () => {
  const problems = problemsOf(withRun('{ command: "node server.js" }'), { run: 'refuse' });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'upstreams.app.run (line 3)');
  assert.equal(
    problems[0]!.message,
    '`rampart gateway` starts no app servers: run this file with `rampart up -c /srv/site/rampart.yaml`, which starts the instances of `run:` and the gateway together, or list servers that already run under `servers:`',
  );
  // Upstreams without run: are unaffected.
  assert.equal(parseConfig(`upstreams:\n  app: { servers: ["http://127.0.0.1:1"] }\n${ROUTES}`, 'x.yaml', { run: 'refuse' }).upstreams.size, 1);
});

test('a run check (rampart up) adds its problems under the run key', () => {
  const seen: unknown[] = [];
  const problems = problemsOf(withRun('{ command: "nope --x" }'), {
    run: (run) => {
      seen.push(run.command);
      return [{ key: ['command'], message: 'program "nope" not found' }];
    },
  });
  assert.deepEqual(seen, ['nope --x']);
  assert.deepEqual(problems, [{ path: 'upstreams.app.run.command (line 3)', message: 'program "nope" not found' }]);
});
