// Dot-segment removal before routing (RFC 3986 §5.2.4), with `%2e` read as a
// dot: a route must see the path the upstream server will act on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTarget } from './path.ts';

const cases: [string, string][] = [
  ['/a/../b', '/b'],
  ['/a/%2e%2e/b', '/b'],
  ['/a/%2E%2e/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/./b', '/a/b'],
  ['/a/%2e/b', '/a/b'],
  ['/public/../admin', '/admin'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/..', '/'],
  ['/..', '/'],
  ['/../..', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/%2e%2e/%2e%2e/etc', '/etc'],
  ['/.', '/'],
  ['//a/../b', '//b'],
];

for (const [input, expected] of cases) {
  test(`${input} → ${expected}`, () => {
    assert.equal(normalizeTarget(input), expected);
  });
}

test('the query is untouched, dots and all', () => {
  assert.equal(normalizeTarget('/a/../b?x=/../y&z=%2e%2e'), '/b?x=/../y&z=%2e%2e');
  assert.equal(normalizeTarget('/a?/../b'), '/a?/../b');
  assert.equal(normalizeTarget('/a/..?q'), '/?q');
});

test('segments that only contain dots are not dot-segments', () => {
  for (const target of ['/.well-known/acme', '/a/.../b', '/a/..b/c', '/a/b..', '/a%2eb/c', '/v1.2/x']) {
    assert.equal(normalizeTarget(target), target);
  }
});

test('a path without dot-segments comes back as the same string', () => {
  const target = '/a/b/c?d=1';
  assert.equal(normalizeTarget(target), target);
});
