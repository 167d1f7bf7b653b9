// RFC 9111 §4.1: Vary. A stored response serves only requests whose
// Vary-named fields match (after normalisation); variants coexist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, cacheable } from './harness.ts';

test('variants per Vary value coexist; each request gets its own', async (t) => {
  const c = await setup((req, res) => cacheable(res, `lang ${req.headers['accept-language'] ?? 'none'}`, { vary: 'Accept-Language' }));
  t.after(() => c.close());
  assert.equal((await c.get('/v', { 'accept-language': 'de' })).body, 'lang de');
  const fr = await c.get('/v', { 'accept-language': 'fr' });
  assert.equal(fr.body, 'lang fr');
  assert.match(fr.cacheStatus, /fwd=vary-miss/);
  const none = await c.get('/v');
  assert.equal(none.body, 'lang none');
  assert.equal(c.count('/v'), 3);
  for (const [lang, body] of [['de', 'lang de'], ['fr', 'lang fr']] as const) {
    const hit = await c.get('/v', { 'accept-language': lang });
    assert.equal(hit.body, body);
    assert.match(hit.cacheStatus, /hit/);
  }
  assert.equal((await c.get('/v')).body, 'lang none', 'absent matches absent');
  assert.equal(c.count('/v'), 3);
});

test('values are normalised: case and order of Accept-Encoding members, whitespace, several field lines', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { vary: 'accept-encoding, x-list' }));
  t.after(() => c.close());
  await c.get('/n', { 'accept-encoding': 'gzip, br', 'x-list': 'a, b' });
  const same = await c.get('/n', { 'accept-encoding': 'BR,gzip', 'x-list': ['a', 'b'] });
  assert.match(same.cacheStatus, /hit/);
  const other = await c.get('/n', { 'accept-encoding': 'gzip', 'x-list': 'a,b' });
  assert.match(other.cacheStatus, /fwd=vary-miss/);
});

test('Vary names are case-insensitive and may span several field lines', async (t) => {
  const c = await setup((_req, res, n) => {
    res.setHeader('vary', ['X-ONE', 'x-two']);
    cacheable(res, `n${n}`);
  });
  t.after(() => c.close());
  await c.get('/m', { 'x-one': '1', 'x-two': '2' });
  assert.match((await c.get('/m', { 'x-one': '1', 'x-two': '2' })).cacheStatus, /hit/);
  assert.match((await c.get('/m', { 'x-one': '1', 'x-two': '3' })).cacheStatus, /vary-miss/);
});

test('Vary: * is never used for a later request', async (t) => {
  const c = await setup((_req, res, n) => cacheable(res, `n${n}`, { vary: '*' }));
  t.after(() => c.close());
  await c.get('/star');
  const second = await c.get('/star');
  assert.equal(second.body, 'n2');
  assert.match(second.cacheStatus, /detail=vary-star/);
});
