import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeNotModified, noneMatchMatches, notModified, notModifiedHeaders } from './conditional.ts';
import { formatHttpDate } from './http-date.ts';
import { ifRangeHolds, selectRange } from './range.ts';

const NOW = Date.UTC(2026, 0, 1);

test('If-None-Match: weak comparison, lists, *, commas inside tags', () => {
  assert.equal(noneMatchMatches('"a"', '"a"'), true);
  assert.equal(noneMatchMatches('W/"a"', '"a"'), true);
  assert.equal(noneMatchMatches('"a"', 'W/"a"'), true);
  assert.equal(noneMatchMatches('"x", "a"', '"a"'), true);
  assert.equal(noneMatchMatches('"a,b"', '"a,b"'), true);
  assert.equal(noneMatchMatches('"a"', '"b"'), false);
  assert.equal(noneMatchMatches('*', undefined), true);
  assert.equal(noneMatchMatches('"a"', undefined), false);
});

test('If-Modified-Since is compared with Last-Modified, else Date; ignored when If-None-Match is present or the date is invalid', () => {
  const f = { etag: '"v"', lastModifiedMs: NOW - 10_000, dateMs: NOW };
  assert.equal(notModified({ ifNoneMatch: undefined, ifModifiedSince: formatHttpDate(NOW - 10_000) }, f, NOW), true);
  assert.equal(notModified({ ifNoneMatch: undefined, ifModifiedSince: formatHttpDate(NOW - 20_000) }, f, NOW), false);
  assert.equal(notModified({ ifNoneMatch: '"other"', ifModifiedSince: formatHttpDate(NOW) }, f, NOW), false, 'If-None-Match decides alone');
  assert.equal(notModified({ ifNoneMatch: undefined, ifModifiedSince: 'garbage' }, f, NOW), false);
  assert.equal(notModified({ ifNoneMatch: undefined, ifModifiedSince: formatHttpDate(NOW) }, { etag: undefined, lastModifiedMs: undefined, dateMs: NOW }, NOW), true);
});

test('a 304 made from a stored response carries only the fields RFC 9110 §15.4.5 lists', () => {
  const out = notModifiedHeaders(['content-type', 'text/html', 'etag', '"a"', 'cache-control', 'max-age=5', 'x-custom', '1', 'vary', 'accept', 'date', 'd']);
  assert.deepEqual(out, ['etag', '"a"', 'cache-control', 'max-age=5', 'vary', 'accept', 'date', 'd']);
});

test('a 304 updates stored fields (§3.2) except framing and Vary; the old Age goes', () => {
  const stored = ['content-type', 'text/plain', 'x-a', 'old', 'x-a', 'old2', 'etag', '"1"', 'age', '50', 'vary', 'accept', 'content-length', '3'];
  const merged = mergeNotModified(stored, ['x-a', 'new', 'x-b', 'b', 'content-length', '0', 'vary', 'x-evil', 'content-type', 'text/html']);
  assert.deepEqual(merged, ['etag', '"1"', 'vary', 'accept', 'content-length', '3', 'x-a', 'new', 'x-b', 'b', 'content-type', 'text/html']);
  assert.deepEqual(mergeNotModified(['age', '9', 'x', '1'], ['age', '2']), ['x', '1', 'age', '2']);
});

test('ranges: one satisfiable range, suffixes, open ends; several or unreadable ranges get the whole body', () => {
  assert.deepEqual(selectRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(selectRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(selectRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(selectRange('bytes=50-500', 100), { kind: 'partial', start: 50, end: 99 });
  assert.deepEqual(selectRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(selectRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  for (const r of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-1', 'bytes=x-y', 'bytes=-', 'garbage']) assert.deepEqual(selectRange(r, 100), { kind: 'full' }, r);
});

test('If-Range: a strong ETag must match exactly; a date only a strong Last-Modified', () => {
  const f = { etag: '"a"', lastModifiedMs: NOW - 10_000, dateMs: NOW };
  assert.equal(ifRangeHolds('"a"', f, NOW), true);
  assert.equal(ifRangeHolds('"b"', f, NOW), false);
  assert.equal(ifRangeHolds('W/"a"', f, NOW), false);
  assert.equal(ifRangeHolds(formatHttpDate(NOW - 10_000), f, NOW), true);
  assert.equal(ifRangeHolds(formatHttpDate(NOW - 10_000), { ...f, dateMs: NOW - 10_000 }, NOW), false, 'modified within the second of Date: weak');
  assert.equal(ifRangeHolds('"a"', { ...f, etag: 'W/"a"' }, NOW), false);
});
