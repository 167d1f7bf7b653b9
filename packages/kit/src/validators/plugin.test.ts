// kitEtag against a listening Fastify, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { kitEtag, type KitEtagOptions } from './plugin.ts';
import { kitViews, html } from '../views/index.ts';
import { kitSessions, memorySessionStore } from '../sessions/index.ts';
import { KitError } from '../errors.ts';

async function start(options?: KitEtagOptions, routes?: (app: FastifyInstance) => void) {
  const app = Fastify();
  await app.register(kitViews);
  await app.register(kitEtag, options ?? {});
  let version = 1;
  app.get('/page', (_request, reply) => reply.header('vary', 'Accept-Language').html(html`<p>version ${version}</p>`));
  app.post('/bump', (_request, reply) => {
    version++;
    return reply.html(html`<p>now ${version}</p>`);
  });
  app.get('/own-etag', (_request, reply) => reply.header('etag', 'W/"v7"').header('cache-control', 'private, max-age=60').html(html`<p>own</p>`));
  app.get('/json', () => ({ a: 1 }));
  app.get('/missing', (_request, reply) => reply.html(html`<p>nothing here</p>`, 404));
  app.get('/cookie', (_request, reply) => reply.header('set-cookie', 'a=b; Path=/; HttpOnly').html(html`<p>with a cookie</p>`));
  app.get('/stream', (_request, reply) => reply.type('text/html; charset=utf-8').send(Readable.from(['<p>', 'streamed', '</p>'])));
  routes?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}`, port };
}

/** A request over node:http, to see exactly which header fields and bytes came back. */
function raw(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an HTML 200 gets a strong ETag from its content and Cache-Control: no-cache; the tag follows the content', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const first = await fetch(`${base}/page`);
  const etag = first.headers.get('etag') ?? '';
  assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  assert.equal((await fetch(`${base}/page`)).headers.get('etag'), etag, 'same bytes, same tag');
  await fetch(`${base}/bump`, { method: 'POST' });
  assert.notEqual((await fetch(`${base}/page`)).headers.get('etag'), etag, 'new bytes, new tag');
});

test('If-None-Match that matches → 304 with no body; ETag, Cache-Control, Vary and Date kept; no Content-Type or Content-Length', async (t) => {
  const { app, port } = await start();
  t.after(() => app.close());
  const full = await raw(port, '/page');
  const etag = full.headers.etag ?? '';
  const res = await raw(port, '/page', { 'if-none-match': etag });
  assert.equal(res.status, 304);
  assert.equal(res.body, '');
  assert.equal(res.headers.etag, etag);
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.equal(res.headers.vary, 'Accept-Language');
  assert.ok(res.headers.date);
  assert.equal(res.headers['content-type'], undefined);
  assert.equal(res.headers['content-length'], undefined);
  assert.equal(res.headers['transfer-encoding'], undefined);
});

test('If-None-Match: *, a list holding the tag and a weak form of it all match; another tag or a malformed value gets the 200', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const etag = (await fetch(`${base}/page`)).headers.get('etag') ?? '';
  for (const value of ['*', `"other", ${etag}`, `W/${etag}`]) {
    assert.equal((await fetch(`${base}/page`, { headers: { 'if-none-match': value } })).status, 304, value);
  }
  for (const value of ['"other"', etag.slice(0, -1), 'garbage', `${etag} ${etag}`]) {
    const res = await fetch(`${base}/page`, { headers: { 'if-none-match': value } });
    assert.equal(res.status, 200, value);
    assert.match(await res.text(), /version 1/);
  }
});

test('HEAD: the same ETag and Content-Length as GET, no body; a matching HEAD gets a 304', async (t) => {
  const { app, port } = await start();
  t.after(() => app.close());
  const get = await raw(port, '/page');
  const head = await raw(port, '/page', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers.etag, get.headers.etag);
  assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.body)));
  const notModified = await raw(port, '/page', { 'if-none-match': get.headers.etag ?? '' }, 'HEAD');
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.etag, get.headers.etag);
  // RFC 9110 §8.6: a Content-Length on a 304 must be the 200's.
  assert.ok(notModified.headers['content-length'] === undefined || notModified.headers['content-length'] === String(Buffer.byteLength(get.body)));
});

test('a route that set its own ETag and Cache-Control keeps them, and its ETag is the one compared', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(`${base}/own-etag`);
  assert.equal(res.headers.get('etag'), 'W/"v7"');
  assert.equal(res.headers.get('cache-control'), 'private, max-age=60');
  assert.equal((await fetch(`${base}/own-etag`, { headers: { 'if-none-match': '"v7"' } })).status, 304);
});

test('left alone: other content types (by default), other statuses, unsafe methods and streams', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const json = await fetch(`${base}/json`);
  assert.equal(json.headers.get('etag'), null);
  assert.equal(json.headers.get('cache-control'), null);
  const missing = await fetch(`${base}/missing`, { headers: { 'if-none-match': '*' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('etag'), null);
  const post = await fetch(`${base}/bump`, { method: 'POST', headers: { 'if-none-match': '*' } });
  assert.equal(post.status, 200);
  assert.equal(post.headers.get('etag'), null);
  const stream = await fetch(`${base}/stream`, { headers: { 'if-none-match': '*' } });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('etag'), null);
  assert.equal(await stream.text(), '<p>streamed</p>');
});

test('contentTypes and cacheControl are configurable', async (t) => {
  const { app, base } = await start({ contentTypes: ['application/json', 'text/html'], cacheControl: 'private, no-cache' });
  t.after(() => app.close());
  const json = await fetch(`${base}/json`);
  const etag = json.headers.get('etag') ?? '';
  assert.match(etag, /^"/);
  assert.equal(json.headers.get('cache-control'), 'private, no-cache');
  assert.equal((await fetch(`${base}/json`, { headers: { 'if-none-match': etag } })).status, 304);
  const off = await start({ cacheControl: false });
  t.after(() => off.app.close());
  assert.equal((await fetch(`${off.base}/page`)).headers.get('cache-control'), null);
});

test('a response that sets a cookie is never a 304, even when the tag matches; it keeps its ETag', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const first = await fetch(`${base}/cookie`);
  const etag = first.headers.get('etag') ?? '';
  assert.match(etag, /^"/);
  const again = await fetch(`${base}/cookie`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 200);
  assert.match(await again.text(), /with a cookie/);
  assert.equal(again.headers.getSetCookie().length, 1);
});

test('the session cookie counts too: registered after kitSessions, a page that starts a session gets a 200', async (t) => {
  const app = Fastify();
  await app.register(kitViews);
  await app.register(kitSessions, { store: memorySessionStore() });
  await app.register(kitEtag);
  app.get('/start', (request, reply) => {
    request.session.set('seen', true);
    return reply.html(html`<p>hello</p>`);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/start`, { headers: { 'if-none-match': '*' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.getSetCookie().length, 1);
});

test('registered before kitSessions, the app refuses to start: it could not see the session cookie', async () => {
  const app = Fastify();
  await app.register(kitEtag);
  await app.register(kitSessions, { store: memorySessionStore() });
  await assert.rejects(async () => {
    await app.ready();
  }, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_ETAG_ORDER');
  await app.close();
});

test('bad options are refused at registration with RAMPART_ERR_ETAG_OPTIONS', async () => {
  const bad: unknown[] = [{ contentTypes: [] }, { contentTypes: ['text/html; charset=utf-8'] }, { contentTypes: 'text/html' }, { contentTypes: [42] }, { cacheControl: 'no-cache\r\nSet-Cookie: a=b' }, { cacheControl: '' }, { cacheControl: 3 }];
  for (const options of bad) {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(kitEtag, options as KitEtagOptions);
      },
      (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_ETAG_OPTIONS',
      JSON.stringify(options),
    );
    await app.close();
  }
});
