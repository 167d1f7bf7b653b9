// RFC 9111 §4.4: a non-error response to an unsafe method invalidates the
// target URI and the same-origin Location / Content-Location, every variant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

function app(postStatus: number, location: Record<string, string> = {}) {
  return setup((req, res, n) => {
    if (req.method !== 'GET') {
      res.writeHead(postStatus, { 'content-type': 'text/plain', ...location });
      res.end('done');
      return;
    }
    cacheable(res, `n${n}`, { vary: 'accept-language' });
  });
}

test('POST, PUT, DELETE and unknown methods with a 2xx/3xx invalidate the target URI, every variant', async (t) => {
  const c = await app(200);
  t.after(() => c.close());
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'M-SEARCH']) {
    await c.get('/r?b=2&a=1', { 'accept-language': 'de' });
    await c.get('/r?a=1&b=2', { 'accept-language': 'fr' });
    assert.match((await c.get('/r?a=1&b=2', { 'accept-language': 'de' })).cacheStatus, /hit/);
    const changed = await c.get('/r?b=2&a=1', {}, method);
    assert.match(changed.cacheStatus, /fwd=method/);
    assert.doesNotMatch((await c.get('/r?a=1&b=2', { 'accept-language': 'de' })).cacheStatus, /hit/, method);
    assert.doesNotMatch((await c.get('/r?a=1&b=2', { 'accept-language': 'fr' })).cacheStatus, /hit/, method);
  }
});

test('an error response invalidates nothing; safe methods never do', async (t) => {
  const c = await app(500);
  t.after(() => c.close());
  await c.get('/k');
  await c.get('/k', {}, 'POST');
  await c.get('/k', {}, 'OPTIONS');
  assert.match((await c.get('/k')).cacheStatus, /hit/);
});

test('same-origin Location and Content-Location are invalidated; another host\'s are not', async (t) => {
  const c = await app(303, { location: '/target', 'content-location': 'http://127.0.0.1/other' });
  t.after(() => c.close());
  // Stored under the Host the client sent: 127.0.0.1 (port 80 is the default, dropped from the key).
  const host = { host: '127.0.0.1' };
  for (const path of ['/target', '/other', '/form']) await c.get(path, host);
  await c.get('/form', host, 'POST');
  for (const path of ['/target', '/other', '/form']) assert.doesNotMatch((await c.get(path, host)).cacheStatus, /hit/, path);

  const d = await app(201, { location: 'http://elsewhere.example/target' });
  t.after(() => d.close());
  await d.get('/target', host);
  await d.get('/form', host, 'POST');
  assert.match((await d.get('/target', host)).cacheStatus, /hit/, 'a Location on another host is left alone');
});
