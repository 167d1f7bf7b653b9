import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { kitViews } from './plugin.ts';
import { html } from './html.ts';

async function start() {
  const app = Fastify();
  await app.register(kitViews);
  app.get('/', (request, reply) => reply.html(html`<script nonce="${request.cspNonce}">1</script><p>${(request.query as { q?: string }).q}</p>`));
  app.get('/teapot', (_request, reply) => reply.html(html`<p>short and stout</p>`, 418));
  app.get('/string', (_request, reply) => reply.html('<p>x</p>' as never));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}` };
}

test('reply.html sends text/html; charset=utf-8 with the status given, escaped', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(`${base}/?q=${encodeURIComponent('<script>alert(1)</script>')}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const body = await res.text();
  assert.match(body, /<p>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/);
  const teapot = await fetch(`${base}/teapot`);
  assert.equal(teapot.status, 418);
  assert.equal(await teapot.text(), '<p>short and stout</p>');
});

test('request.cspNonce is 16 random bytes in base64, new for every request', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const nonces = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const body = await (await fetch(base)).text();
    const nonce = /nonce="([^"]+)"/.exec(body)?.[1] ?? '';
    assert.equal(Buffer.from(nonce, 'base64').length, 16);
    nonces.add(nonce);
  }
  assert.equal(nonces.size, 20);
});

test('reply.html refuses a plain string: it would go out unescaped', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(`${base}/string`);
  assert.equal(res.status, 500);
  assert.doesNotMatch(await res.text(), /<p>x<\/p>/);
});
