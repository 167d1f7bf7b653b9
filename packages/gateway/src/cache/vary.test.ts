import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseValue, parseVary, varyPart } from './vary.ts';

test('Vary names are lower-cased, merged across field lines, sorted and deduplicated', () => {
  assert.deepEqual(parseVary(['vary', 'Accept-Encoding, X-Foo', 'vary', 'x-foo,  Accept']), ['accept', 'accept-encoding', 'x-foo']);
  assert.deepEqual(parseVary(['content-type', 'text/plain']), []);
  assert.deepEqual(parseVary(['vary', '']), []);
});

test('Vary: * anywhere varies on everything; a name that is not a token makes the field unreadable', () => {
  assert.equal(parseVary(['vary', 'accept, *']), '*');
  assert.equal(parseVary(['vary', 'accept', 'vary', '*']), '*');
  assert.equal(parseVary(['vary', 'a b']), null);
  assert.equal(parseVary(['vary', 'x@y']), null);
});

test('request values are normalised: OWS, several field lines as one list, Accept-family order and case', () => {
  const part = (headers: string[], names: string[]) => varyPart(headers, names);
  assert.equal(part(['x-foo', '1,2'], ['x-foo']), part(['x-foo', '1, 2'], ['x-foo']));
  assert.equal(part(['x-foo', '1', 'x-foo', '2'], ['x-foo']), part(['x-foo', '1, 2'], ['x-foo']));
  assert.equal(part(['accept-encoding', 'gzip, br'], ['accept-encoding']), part(['accept-encoding', 'BR,gzip'], ['accept-encoding']));
  assert.notEqual(part(['x-foo', '2, 1'], ['x-foo']), part(['x-foo', '1, 2'], ['x-foo']), 'order of an unknown list may matter');
  assert.notEqual(part(['x-foo', 'A'], ['x-foo']), part(['x-foo', 'a'], ['x-foo']), 'case of an unknown field may matter');
});

test('an absent field matches only absence, never an empty value', () => {
  assert.notEqual(varyPart([], ['x-foo']), varyPart(['x-foo', ''], ['x-foo']));
  assert.equal(varyPart([], ['x-foo']), varyPart(['other', 'x'], ['x-foo']));
  assert.equal(normaliseValue('x', '  a  '), 'a');
});
