// docs/config.md and docs/rampart.schema.json are generated from the config
// schema; these tests fail when the committed files are stale or when the
// examples they show stop loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../packages/gateway/src/config/load.ts';
import { middlewareRegistry } from '../../packages/gateway/src/middleware/registry.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const script = path.join(root, 'scripts/gen-config-docs.ts');

async function gen(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the committed docs match the config schema (npm run docs)', async () => {
  const { code, stderr } = await gen('--check');
  assert.equal(code, 0, stderr);
});

test('--check exits 1 and names the file when the docs are stale', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-docs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal((await gen('--dir', dir)).code, 0);
  assert.equal((await gen('--check', '--dir', dir)).code, 0);
  await appendFile(path.join(dir, 'config.md'), '\nhand edit\n');
  const stale = await gen('--check', '--dir', dir);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /config\.md/);
  assert.doesNotMatch(stale.stderr, /schema\.json/);
  assert.match(stale.stderr, /npm run docs/);
});

const markdown = await readFile(path.join(root, 'docs/config.md'), 'utf8');

function yamlBlockAfter(heading: string): string {
  const at = markdown.indexOf(`\n## ${heading}\n`);
  assert.notEqual(at, -1, `section ${heading}`);
  const m = /```yaml\n([\s\S]*?)```/.exec(markdown.slice(at));
  assert.ok(m, `a yaml block in ${heading}`);
  return m[1]!;
}

test('the minimal example of the docs (the brief\'s shape) loads', () => {
  const config = parseConfig(yamlBlockAfter('Minimal example'), 'minimal.yaml');
  assert.equal(config.listen.port, 8080);
  assert.equal(config.upstreams.get('app')!.servers.length, 2);
});

test('the full example of the docs loads and shows every documented key', () => {
  const text = yamlBlockAfter('Full example');
  assert.match(text, /^# yaml-language-server: \$schema=/);
  // Placed beside an app that has a migrations folder, as database.migrations expects.
  const beside = path.join(root, 'apps', 'flights', 'full.yaml');
  const config = parseConfig(text, beside);
  assert.equal(config.database?.migrations.length, 2);
  assert.equal(config.routes[0]!.middleware[0]!.name, 'headers');
  // Uncommenting the optional keys still loads.
  const uncommented = text.replace(/^(\s*)# (host|maxBodyBytes): /gm, '$1$2: ');
  assert.equal(parseConfig(uncommented, beside).routes[0]!.host, 'www.example.com');
  for (const key of ['upstreams.<name>.keepAlive.maxIdle', 'routes[].path', 'limits.headersTimeout', 'routes[].middleware[].headers.response.set']) {
    assert.ok(markdown.includes(`| \`${key}\` |`), `docs list ${key}`);
  }
  assert.match(markdown, /# yaml-language-server: \$schema=\.\.\/docs\/rampart\.schema\.json/);
});

interface JsonSchema {
  $schema?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  maxProperties?: number;
}

test('the editor schema is draft-07 JSON Schema with defaults optional and middleware options inlined', async () => {
  const text = await readFile(path.join(root, 'docs/rampart.schema.json'), 'utf8');
  const schema = JSON.parse(text) as JsonSchema;
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(schema.required, ['upstreams', 'routes'], 'keys with defaults are not required in the editor');
  const upstream = Object.values(schema.properties!.upstreams!.patternProperties!)[0]!;
  // `servers` defaults to [] so that `run:` alone is an upstream; the loader requires one of the two.
  assert.equal(upstream.required, undefined);
  assert.deepEqual(upstream.properties!.run!.required, ['command']);
  assert.deepEqual(upstream.properties!.run!.properties!.autoscale!.required, ['max']);
  const items = schema.properties!.routes!.items!.properties!.middleware!.items!;
  assert.deepEqual(Object.keys(items.properties!), [...middlewareRegistry.keys()]);
  assert.equal(items.maxProperties, 1);
  // No TypeBox internals leak into the file.
  assert.doesNotMatch(text, /TypeBox|\[Kind\]/);
});
