// `database:` in the config: defaults, folders relative to the file or inside
// an installed package, and what is refused with which key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type ParseOptions } from './load.ts';
import { ConfigError, type ConfigProblem } from '../errors.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const TAIL = `upstreams:
  app:
    servers: [ "http://127.0.0.1:3001" ]
routes:
  - path: /
    upstream: app
`;

function problemsOf(text: string, file: string, options?: ParseOptions): readonly ConfigProblem[] {
  try {
    parseConfig(text, file, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('the config was accepted');
}

test('database: defaults, relative and package folders', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-dbconf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'migrations'));
  // A file inside the repository, so that @rampart/kit resolves from node_modules.
  const file = path.join(REPO, 'apps', 'flights', 'rampart-test.yaml');
  const config = parseConfig(`database:\n  migrations: [ "@rampart/kit/migrations", ${JSON.stringify(path.join(dir, 'migrations'))} ]\n  setup: node seed.ts\n${TAIL}`, file);
  assert.deepEqual(config.database, {
    embeddedDir: path.join(REPO, 'apps', 'flights', '.rampart', 'postgres'),
    embeddedPort: 0,
    migrations: [path.join(REPO, 'packages', 'kit', 'migrations'), path.join(dir, 'migrations')],
    setup: 'node seed.ts',
    cwd: path.join(REPO, 'apps', 'flights'),
    env: 'DATABASE_URL',
  });
  assert.equal(parseConfig(TAIL, file).database, null);
});

test('database: a missing folder, an unknown package and an unknown key are each one located problem', () => {
  const file = path.join(REPO, 'apps', 'flights', 'rampart-test.yaml');
  const problems = problemsOf(`database:\n  migrations: [ ./nope, "@rampart/nothing-here/migrations" ]\n  embeded: {}\n${TAIL}`, file);
  const byPath = new Map(problems.map((p) => [p.path.replace(/ \(line \d+\)$/, ''), p.message]));
  assert.match(byPath.get('database.embeded') ?? '', /unknown key; did you mean embedded\?/);
  // The schema problem marks the whole section, so its folders are not resolved in the same pass.
  const folders = problemsOf(`database:\n  migrations: [ ./nope, "@rampart/nothing-here/migrations" ]\n${TAIL}`, file);
  assert.deepEqual(
    folders.map((p) => p.path),
    ['database.migrations[0] (line 2)', 'database.migrations[1] (line 2)'],
  );
  assert.match(folders[0]!.message, /^no such folder: .*apps\/flights\/nope$/);
  assert.match(folders[1]!.message, /neither a folder relative to the config file nor a folder of an installed package.*npm install @rampart\/nothing-here/);
});

test('database: env may not take a name rampart sets per instance', () => {
  const problems = problemsOf(`database:\n  env: PORT\n${TAIL}`, '/srv/site/rampart.yaml');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /PORT is set by rampart for each instance/);
});

test('rampart gateway refuses database: (it starts no processes)', () => {
  const problems = problemsOf(`database: {}\n${TAIL}`, '/srv/site/rampart.yaml', { run: 'refuse' });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'database (line 1)');
  assert.match(problems[0]!.message, /starts no database: run this file with `rampart up/);
});
