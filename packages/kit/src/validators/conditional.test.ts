import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ifNoneMatchMatches, parseIfNoneMatch } from './conditional.ts';
import { strongEtag } from './etag.ts';

test('If-None-Match lists are scanned, not split: an opaque-tag may hold a comma', () => {
  assert.deepEqual(parseIfNoneMatch('"a", W/"b",  "c,d"'), ['"a"', '"b"', '"c,d"']);
  assert.deepEqual(parseIfNoneMatch(' , "a" ,, '), ['"a"'], 'empty list elements are allowed (RFC 9110 §5.6.1.2)');
  assert.equal(parseIfNoneMatch('*'), '*');
  assert.equal(parseIfNoneMatch(' * '), '*');
});

test('malformed If-None-Match values parse as null (no precondition to act on)', () => {
  for (const bad of ['', 'abc', '"unterminated', '"a" "b"', '"a";', 'W/', 'w/"lower-case w is not weak"', '"a b"', '"a\u0001"', '*, "a"', '"a", *']) {
    assert.equal(parseIfNoneMatch(bad), null, JSON.stringify(bad));
  }
});

test('weak comparison: W/ on either side does not matter; the opaque-tag must be equal', () => {
  assert.equal(ifNoneMatchMatches('"x"', '"x"'), true);
  assert.equal(ifNoneMatchMatches('W/"x"', '"x"'), true);
  assert.equal(ifNoneMatchMatches('"x"', 'W/"x"'), true);
  assert.equal(ifNoneMatchMatches('"X"', '"x"'), false, 'case-sensitive');
  assert.equal(ifNoneMatchMatches('"y", "x"', '"x"'), true);
  assert.equal(ifNoneMatchMatches(['"y"', '"x"'], '"x"'), true, 'repeated fields are one list');
  assert.equal(ifNoneMatchMatches('"y"', '"x"'), false);
  assert.equal(ifNoneMatchMatches('*', '"anything"'), true);
  assert.equal(ifNoneMatchMatches(undefined, '"x"'), false);
  assert.equal(ifNoneMatchMatches('x', '"x"'), false, 'an unquoted tag is not an entity-tag');
});

test('strongEtag: 128 bits of SHA-256 in base64url, quoted; same bytes same tag, string or Buffer', () => {
  const tag = strongEtag('<p>hello</p>');
  assert.match(tag, /^"[A-Za-z0-9_-]{22}"$/);
  assert.equal(strongEtag(Buffer.from('<p>hello</p>')), tag);
  assert.notEqual(strongEtag('<p>hello!</p>'), tag);
});
