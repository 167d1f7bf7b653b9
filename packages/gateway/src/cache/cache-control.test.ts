import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DELTA_SECONDS, parseRequestCacheControl, parseResponseCacheControl, pragmaNoCache } from './cache-control.ts';

test('response directives: names case-insensitive, quoted arguments accepted, unknown ones ignored', () => {
  const d = parseResponseCacheControl('Public, MAX-AGE="60", s-maxage=30, x-ext="a,b", stale-while-revalidate=5, stale-if-error=7');
  assert.equal(d.public, true);
  assert.equal(d.maxAge, 60);
  assert.equal(d.sMaxAge, 30);
  assert.equal(d.staleWhileRevalidate, 5);
  assert.equal(d.staleIfError, 7);
  assert.equal(d.noStore, false);
});

test('an unusable max-age makes the response stale (0), never fresh', () => {
  for (const value of ['max-age=-1', 'max-age=1.5', 'max-age=abc', 'max-age=', 'max-age', 'max-age=60x', 'max-age="60', 'max-age=60 junk', 'max-age=+5']) {
    assert.equal(parseResponseCacheControl(value).maxAge, 0, value);
  }
});

test('duplicate freshness directives that disagree make the response stale; equal ones count once', () => {
  assert.equal(parseResponseCacheControl('max-age=60, max-age=3600').maxAge, 0);
  assert.equal(parseResponseCacheControl('max-age=60, max-age=60').maxAge, 60);
  assert.equal(parseResponseCacheControl('s-maxage=1, s-maxage=2').sMaxAge, 0);
});

test('huge delta-seconds are clamped to 2^31 (RFC 9111 §1.2.2)', () => {
  assert.equal(parseResponseCacheControl('max-age=99999999999999999999999').maxAge, MAX_DELTA_SECONDS);
});

test('directives that take no argument count with one; qualified private and no-cache count as unqualified', () => {
  const d = parseResponseCacheControl('no-store=1, private="set-cookie", no-cache="x, y", must-revalidate, proxy-revalidate, must-understand');
  assert.equal(d.noStore, true);
  assert.equal(d.private, true);
  assert.equal(d.noCache, true);
  assert.equal(d.mustRevalidate, true);
  assert.equal(d.proxyRevalidate, true);
  assert.equal(d.mustUnderstand, true);
});

test('a quoted argument may hold commas without ending the directive', () => {
  const d = parseResponseCacheControl('no-cache="a, b, max-age=5", max-age=9');
  assert.equal(d.noCache, true);
  assert.equal(d.maxAge, 9);
});

test('garbage never throws and grants nothing', () => {
  for (const value of ['', ',,,', '=', '"', '=5', 'max-age=5,,,', '\u0000\u00ff', 'stale-while-revalidate=x', '  ,  public  ,  ']) {
    const d = parseResponseCacheControl(value);
    assert.notEqual(d.staleWhileRevalidate, NaN);
  }
  assert.equal(parseResponseCacheControl('stale-while-revalidate=x').staleWhileRevalidate, undefined);
  assert.equal(parseResponseCacheControl('stale-if-error=-3').staleIfError, undefined);
  assert.equal(parseResponseCacheControl(undefined).maxAge, undefined);
});

test('request directives: max-stale without a value accepts any staleness; bad values are read conservatively', () => {
  assert.equal(parseRequestCacheControl('max-stale').maxStale, Infinity);
  assert.equal(parseRequestCacheControl('max-stale=10').maxStale, 10);
  assert.equal(parseRequestCacheControl('max-stale=x').maxStale, undefined, 'an unreadable max-stale allows no stale response');
  assert.equal(parseRequestCacheControl('max-age=x').maxAge, 0, 'an unreadable max-age revalidates');
  assert.equal(parseRequestCacheControl('min-fresh=x').minFresh, undefined);
  const d = parseRequestCacheControl('No-Cache, no-store, only-if-cached, min-fresh=5, stale-if-error=30');
  assert.deepEqual([d.noCache, d.noStore, d.onlyIfCached, d.minFresh, d.staleIfError], [true, true, true, 5, 30]);
});

test('Pragma: no-cache is recognised among other tokens', () => {
  assert.equal(pragmaNoCache('no-cache'), true);
  assert.equal(pragmaNoCache('x, No-Cache'), true);
  assert.equal(pragmaNoCache('nocache'), false);
});
