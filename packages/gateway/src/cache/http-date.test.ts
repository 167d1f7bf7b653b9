import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHttpDate, parseHttpDate } from './http-date.ts';

const T = Date.UTC(1994, 10, 6, 8, 49, 37);

test('the three HTTP-date forms (RFC 9110 §5.6.7) are read, case-insensitively', () => {
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), T);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2020, 0, 1)), T);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), T);
  assert.equal(parseHttpDate('sun, 06 nov 1994 08:49:37 gmt'), T);
});

test('anything else is not a date: Expires: 0, numbers, other zones, impossible days', () => {
  for (const value of ['0', '-1', '1994', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 06 Nov 1994 08:49:37 +0000', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Xyz, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', '', 'now']) {
    assert.equal(parseHttpDate(value), undefined, value);
  }
  assert.equal(parseHttpDate(undefined), undefined);
});

test('a two-digit year more than 50 years ahead is in the past century', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(new Date(parseHttpDate('Monday, 01-Jan-80 00:00:00 GMT', now)!).getUTCFullYear(), 1980);
  assert.equal(parseHttpDate('Thursday, 01-Jan-7x 00:00:00 GMT', now), undefined);
  assert.equal(new Date(parseHttpDate('Tuesday, 01-Jan-30 00:00:00 GMT', now)!).getUTCFullYear(), 2030);
});

test('formatHttpDate writes IMF-fixdate that parses back', () => {
  assert.equal(formatHttpDate(T), 'Sun, 06 Nov 1994 08:49:37 GMT');
  const now = Date.UTC(2030, 11, 31, 23, 59, 59);
  assert.equal(parseHttpDate(formatHttpDate(now)), now);
});
