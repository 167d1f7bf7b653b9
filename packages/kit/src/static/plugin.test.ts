// kitStatic against a listening Fastify, over real sockets, on a folder made
// for the test.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { kitStatic, type KitStaticOptions } from './plugin.ts';
import { kitSecurityHeaders } from '../security-headers/index.ts';
import { KitError } from '../errors.ts';

const CSS = 'body { color: #123; }\n';
const dir = await mkdtemp(path.join(os.tmpdir(), 'kit-static-'));
after(() => rm(dir, { recursive: true, force: true }));
await mkdir(path.join(dir, 'js'));
await mkdir(path.join(dir, '.git'));
await writeFile(path.join(dir, 'app.css'), CSS);
await writeFile(path.join(dir, 'js', 'app.min.js'), 'console.log(1);\n');
await writeFile(path.join(dir, 'LICENSE'), 'MIT\n');
await writeFile(path.join(dir, 'data.bin'), Buffer.from([0, 1, 2, 3]));
await writeFile(path.join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
await writeFile(path.join(dir, '.env'), 'SECRET=1\n');
await writeFile(path.join(dir, '.git', 'config'), '[core]\n');
await symlink('/etc/hostname', path.join(dir, 'link.txt'));

const hex = (text: string | Buffer) => createHash('sha256').update(text).digest('hex').slice(0, 8);

async function start(options: Partial<KitStaticOptions> = {}) {
  const app = Fastify();
  await app.register(kitSecurityHeaders);
  await app.register(kitStatic, { root: dir, ...options });
  app.get('/', () => 'home');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, port, base: `http://127.0.0.1:${port}` };
}

/** Sends `requestLine` as it is on a fresh socket and returns the status and raw head. */
function rawRequest(port: number, target: string): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: text.split('\r\n\r\n')[0] ?? '' }));
  });
}

test('assetUrl gives the fingerprinted URL; it is served immutable with a strong ETag, the plain URL with no-cache and the same ETag', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const url = app.assetUrl('app.css');
  assert.equal(url, `/static/app.${hex(CSS)}.css`);
  assert.equal(app.assetUrl('/app.css'), url, 'a leading slash is fine');
  const fingerprinted = await fetch(base + url);
  assert.equal(fingerprinted.status, 200);
  assert.equal(await fingerprinted.text(), CSS);
  assert.equal(fingerprinted.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal(fingerprinted.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const etag = fingerprinted.headers.get('etag') ?? '';
  assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
  assert.equal(fingerprinted.headers.get('x-content-type-options'), 'nosniff');
  assert.doesNotMatch(fingerprinted.headers.get('content-security-policy') ?? '', /nonce/, 'a year-long public response carries no nonce');

  const plain = await fetch(`${base}/static/app.css`);
  assert.equal(plain.status, 200);
  assert.equal(await plain.text(), CSS);
  assert.equal(plain.headers.get('cache-control'), 'no-cache');
  assert.equal(plain.headers.get('etag'), etag);
  assert.equal((await fetch(`${base}${url}?v=anything`)).status, 200, 'a query string does not matter');
});

test('subfolders, names with dots, no extension, unknown types', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const js = app.assetUrl('js/app.min.js');
  assert.equal(js, `/static/js/app.min.${hex('console.log(1);\n')}.js`);
  assert.equal((await fetch(base + js)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  const license = app.assetUrl('LICENSE');
  assert.equal(license, `/static/LICENSE.${hex('MIT\n')}`);
  assert.equal((await fetch(base + license)).headers.get('content-type'), 'application/octet-stream');
  assert.equal((await fetch(base + app.assetUrl('data.bin'))).headers.get('content-type'), 'application/octet-stream');
  assert.equal((await fetch(base + app.assetUrl('logo.svg'))).headers.get('content-type'), 'image/svg+xml');
  const custom = await start({ types: { bin: 'application/x-custom' } });
  t.after(() => custom.app.close());
  assert.equal((await fetch(`${custom.base}/static/data.bin`)).headers.get('content-type'), 'application/x-custom');
});

test('If-None-Match → 304 on both URLs; HEAD → headers and Content-Length without a body; HEAD with a match → 304', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const url = app.assetUrl('app.css');
  const etag = (await fetch(base + url)).headers.get('etag') ?? '';
  for (const target of [url, '/static/app.css']) {
    const res = await fetch(base + target, { headers: { 'if-none-match': etag } });
    assert.equal(res.status, 304, target);
    assert.equal(res.headers.get('etag'), etag);
    assert.equal(res.headers.get('content-type'), null);
    assert.equal(await res.text(), '');
  }
  assert.equal((await fetch(base + url, { headers: { 'if-none-match': '"stale"' } })).status, 200);
  const head = await fetch(base + url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(CSS)));
  assert.equal(head.headers.get('etag'), etag);
  assert.equal(await head.text(), '');
  const head304 = await fetch(base + url, { method: 'HEAD', headers: { 'if-none-match': etag } });
  assert.equal(head304.status, 304);
  assert.equal(await head304.text(), '');
});

test('an old fingerprint redirects (307, no-store) to the current one; a fingerprint-shaped name of no file is a 404', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(`${base}/static/app.0badcafe.css`, { redirect: 'manual' });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get('location'), app.assetUrl('app.css'));
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const nested = await fetch(`${base}/static/js/app.min.deadbeef.js`, { redirect: 'manual' });
  assert.equal(nested.headers.get('location'), app.assetUrl('js/app.min.js'));
  for (const target of ['/static/app.0badcafe.js', '/static/nope.0badcafe.css', '/static/app.0BADCAFE.css', '/static/app.0badcaf.css', '/static/app.xyzxyzxy.css']) {
    assert.equal((await fetch(base + target, { redirect: 'manual' })).status, 404, target);
  }
});

test('only the files listed at registration: no traversal, no encoded slash, no NUL, no dotfile, no symlink, nothing added later', async (t) => {
  const { app, port, base } = await start();
  t.after(() => app.close());
  const refused = [
    '/static/../package.json',
    '/static/..%2f..%2fetc%2fpasswd',
    '/static/%2e%2e/%2e%2e/etc/passwd',
    '/static/js%2Fapp.min.js',
    '/static/js/../app.css',
    '/static/app.css%00',
    '/static/app.css%00.png',
    '/static/.env',
    '/static/.git/config',
    '/static/link.txt',
    '/static/',
    '/static',
    '/static//app.css',
    '/static/APP.CSS',
  ];
  for (const target of refused) {
    const res = await rawRequest(port, target);
    assert.equal(res.status, 404, target);
  }
  // A NUL byte in the request line never reaches the app: Node's parser refuses it.
  assert.equal((await rawRequest(port, '/static/app.css\u0000')).status, 400);
  await writeFile(path.join(dir, 'later.css'), 'p {}');
  t.after(() => rm(path.join(dir, 'later.css')));
  assert.equal((await fetch(`${base}/static/later.css`)).status, 404);
  assert.throws(() => app.assetUrl('later.css'), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_STATIC_UNKNOWN');
  assert.throws(() => app.assetUrl('../package.json'), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_STATIC_UNKNOWN');
  assert.equal((await fetch(`${base}/`)).status, 200, 'other routes are untouched');
});

test('a prefix of your own', async (t) => {
  const { app, base } = await start({ prefix: '/assets/v1', hashLength: 12 });
  t.after(() => app.close());
  const url = app.assetUrl('app.css');
  assert.equal(url, `/assets/v1/app.${createHash('sha256').update(CSS).digest('hex').slice(0, 12)}.css`);
  assert.equal((await fetch(base + url)).status, 200);
  assert.equal((await fetch(`${base}/static/app.css`)).status, 404);
});

test('bad options are refused at registration with RAMPART_ERR_STATIC_OPTIONS and what to change', async () => {
  const file = path.join(dir, 'app.css');
  const cases: [Partial<KitStaticOptions>, RegExp][] = [
    [{ root: undefined }, /give the folder/],
    [{ root: path.join(dir, 'missing') }, /does not exist/],
    [{ root: file }, /is not a folder/],
    [{ prefix: 'static' }, /prefix/],
    [{ prefix: '/static/' }, /prefix/],
    [{ prefix: '/st atic' }, /prefix/],
    [{ hashLength: 4 }, /hashLength/],
    [{ hashLength: 8.5 }, /hashLength/],
    [{ maxBytes: 10 }, /maxBytes/],
    [{ maxFiles: 2 }, /maxFiles/],
    [{ types: { '.css': 'text/css' } }, /extension/],
    [{ types: { css: 'text/css\r\nx: y' } }, /Content-Type/],
  ];
  for (const [options, message] of cases) {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(kitStatic, { root: dir, ...options });
      },
      (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_STATIC_OPTIONS' && message.test(err.message),
      JSON.stringify(options),
    );
    await app.close();
  }
  const twice = Fastify();
  await twice.register(kitStatic, { root: dir });
  await assert.rejects(
    async () => {
      await twice.register(kitStatic, { root: dir, prefix: '/other' });
    },
    (err: unknown) => err instanceof KitError && /registered twice/.test(err.message),
  );
  await twice.close();
});
