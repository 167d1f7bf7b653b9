// `rampart purge`, the command line over the admin listener's POST /cache/purge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, rampart } from '../helpers/cli.ts';
import { cacheable, setup } from './harness.ts';

test('rampart purge --url / --prefix / --tag / --all remove what they name; the next request misses', async (t) => {
  const c = await setup((req, res) => cacheable(res, `body of ${req.url}`, { 'cache-tag': req.url!.startsWith('/news') ? 'news' : 'other' }));
  t.after(() => c.close());
  const admin = c.gw.adminUrl.replace('http://', '');
  const fill = async (...paths: string[]) => {
    for (const p of paths) await c.get(p);
    for (const p of paths) assert.match((await c.get(p)).cacheStatus, /hit/, `${p} is stored`);
  };
  await fill('/a', '/news/1', '/news/2', '/docs/x', '/docs/y');

  const one = await rampart(['purge', '--admin', admin, '--url', `http://127.0.0.1:${c.gw.port}/a`]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /1 stored response removed/);
  assert.match((await c.get('/a')).cacheStatus, /fwd=uri-miss/);

  const tag = await rampart(['purge', '--admin', admin, '--tag', 'news']);
  assert.match(tag.stdout, /2 stored responses removed/);
  assert.match((await c.get('/news/1')).cacheStatus, /fwd=uri-miss/);
  assert.match((await c.get('/docs/x')).cacheStatus, /hit/, 'other tags stay');

  const prefix = await rampart(['purge', '--admin', admin, '--prefix', `http://127.0.0.1:${c.gw.port}/docs/`]);
  assert.match(prefix.stdout, /2 stored responses removed/);
  assert.match((await c.get('/docs/y')).cacheStatus, /fwd=uri-miss/);

  const all = await rampart(['purge', '--admin', admin, '--all']);
  assert.equal(all.code, 0, all.stderr);
  assert.match((await c.get('/a')).cacheStatus, /fwd=uri-miss/);
});

test('rampart purge finds the admin listener in the config file, and says clearly what is wrong', async (t) => {
  const c = await setup((_req, res) => cacheable(res, 'x'));
  t.after(() => c.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rampart-purge-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'rampart.yaml');
  const adminPort = new URL(c.gw.adminUrl).port;
  await writeFile(file, `listen: 0\nadmin: 127.0.0.1:${adminPort}\nupstreams:\n  app: { servers: ["http://127.0.0.1:1"] }\nroutes:\n  - { path: /, upstream: app, cache: true }\n`);
  await c.get('/x');
  const fromFile = await rampart(['purge', '-c', file, '--all']);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stdout, /1 stored response removed/);

  const none = await rampart(['purge', '--admin', admin(c.gw.adminUrl)]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /exactly one of --url, --prefix, --tag, --all/);

  const bad = await rampart(['purge', '--admin', admin(c.gw.adminUrl), '--url', 'not a url']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /400/);

  const port = await freePort();
  const closed = await rampart(['purge', '--admin', `127.0.0.1:${port}`, '--all']);
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, new RegExp(`cannot reach the admin listener at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
});

function admin(url: string): string {
  return url.replace('http://', '');
}
