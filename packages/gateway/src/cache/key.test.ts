import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheKey, normaliseHost } from './key.ts';

const key = (options: Partial<ConstructorParameters<typeof CacheKey>[0]> = {}) =>
  new CacheKey({ host: true, query: 'sorted', ignoreParams: [], headers: [], cookies: [], ...options });

test('the resource key is host + path + sorted query; default port and case do not split it', () => {
  const k = key();
  assert.equal(k.uri('example.com', '/a'), 'example.com/a');
  assert.equal(k.uri('example.com:80', '/a?b=2&a=1'), 'example.com/a?a=1&b=2');
  assert.equal(k.uri('Example.COM', '/a?'), 'example.com/a');
  assert.equal(k.uri('example.com:8080', '/a'), 'example.com:8080/a');
  assert.equal(normaliseHost('[::1]:80'), '[::1]');
});

test('sorting is by name and stable: repeated parameters keep their order', () => {
  const k = key();
  assert.equal(k.uri('h', '/?b=1&a=2&a=1'), 'h/?a=2&a=1&b=1');
  assert.notEqual(k.uri('h', '/?a=1&a=2'), k.uri('h', '/?a=2&a=1'));
  assert.equal(k.uri('h', '/?a=1&&b=2&'), 'h/?a=1&b=2', 'empty parameters are dropped');
});

test('query modes: as-sent keeps bytes and order; ignore drops the query; ignoreParams globs drop parameters', () => {
  assert.equal(key({ query: 'as-sent' }).uri('h', '/p?b=2&a=1'), 'h/p?b=2&a=1');
  assert.equal(key({ query: 'ignore' }).uri('h', '/p?b=2&a=1'), 'h/p');
  const k = key({ ignoreParams: ['utm_*', 'fbclid'] });
  assert.equal(k.uri('h', '/p?utm_source=x&id=3&fbclid=y&utm_medium=z'), 'h/p?id=3');
  assert.equal(k.uri('h', '/p?utm_source=x'), 'h/p');
  assert.equal(k.uri('h', '/p?UTM_source=x'), 'h/p?UTM_source=x', 'parameter names are case-sensitive');
  assert.equal(key({ query: 'as-sent', ignoreParams: ['x'] }).uri('h', '/p?z=1&x=2&a=3'), 'h/p?z=1&a=3');
});

test('without the host, every host shares one key per path', () => {
  const k = key({ host: false });
  assert.equal(k.uri('a.example', '/p'), '*/p');
  assert.equal(k.uri('b.example', '/p'), '*/p');
  assert.equal(k.hasHost, false);
});

test('key headers and cookies select variants; absent differs from empty; the part is empty without them', () => {
  assert.equal(key().part(['accept-language', 'de'], 'lang=de'), '');
  const k = key({ headers: ['accept-language'], cookies: ['lang'] });
  const de = k.part(['accept-language', 'de'], 'a=1; lang=de');
  assert.notEqual(de, k.part(['accept-language', 'fr'], 'lang=de'));
  assert.notEqual(de, k.part(['accept-language', 'de'], 'lang=fr'));
  assert.equal(de, k.part(['accept-language', 'DE'], 'lang=de; b=2'), 'Accept-Language is normalised like Vary');
  assert.notEqual(k.part([], undefined), k.part(['accept-language', ''], 'lang='));
});
