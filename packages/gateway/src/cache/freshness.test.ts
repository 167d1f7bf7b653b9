import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageSeconds, computeFreshness, currentAgeMs } from './freshness.ts';
import { formatHttpDate } from './http-date.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (headers: string[], times: { request?: number; response?: number; status?: number } = {}) =>
  computeFreshness({ status: times.status ?? 200, headers, requestTime: times.request ?? NOW, responseTime: times.response ?? NOW }, false);

test('lifetime: s-maxage wins over max-age, which wins over Expires − Date', () => {
  const date = formatHttpDate(NOW);
  const expires = formatHttpDate(NOW + 100_000);
  assert.equal(at(['cache-control', 'max-age=10, s-maxage=20', 'date', date, 'expires', expires]).lifetimeMs, 20_000);
  assert.equal(at(['cache-control', 'max-age=10', 'date', date, 'expires', expires]).lifetimeMs, 10_000);
  assert.equal(at(['date', date, 'expires', expires]).lifetimeMs, 100_000);
});

test('Expires without Date counts from when the response arrived; an invalid or doubled Expires is already expired', () => {
  assert.equal(at(['expires', formatHttpDate(NOW + 30_000)]).lifetimeMs, 30_000);
  assert.equal(at(['expires', '0']).lifetimeMs, 0);
  assert.equal(at(['expires', formatHttpDate(NOW + 30_000), 'expires', formatHttpDate(NOW + 60_000)]).lifetimeMs, 0);
  assert.equal(at(['expires', formatHttpDate(NOW - 30_000)]).lifetimeMs, 0);
  assert.equal(at(['expires', '0']).explicit, true, 'an invalid Expires is still explicit: no heuristic');
});

test('heuristic freshness only when asked: 10% of Date − Last-Modified, at most a day, for cacheable codes or public', () => {
  const headers = ['date', formatHttpDate(NOW), 'last-modified', formatHttpDate(NOW - 1_000_000)];
  assert.equal(at(headers).lifetimeMs, 0);
  const h = (status: number, extra: string[] = []) => computeFreshness({ status, headers: [...headers, ...extra], requestTime: NOW, responseTime: NOW }, true);
  assert.equal(h(200).lifetimeMs, 100_000);
  assert.equal(h(302).lifetimeMs, 0, '302 is not heuristically cacheable');
  assert.equal(h(302, ['cache-control', 'public']).lifetimeMs, 100_000);
  const old = computeFreshness({ status: 200, headers: ['date', formatHttpDate(NOW), 'last-modified', formatHttpDate(NOW - 365 * 86_400_000)], requestTime: NOW, responseTime: NOW }, true);
  assert.equal(old.lifetimeMs, 86_400_000);
});

test('age (§4.2.3): the larger of apparent age and Age + response delay, plus time in the cache', () => {
  // Upstream says Age: 10, the exchange took 2 s, and the Date is 1 s behind the arrival.
  const f = at(['age', '10', 'date', formatHttpDate(NOW - 1000), 'cache-control', 'max-age=60'], { request: NOW - 2000 });
  assert.equal(f.initialAgeMs, 12_000);
  assert.equal(currentAgeMs(f, NOW + 5000), 17_000);
  // A Date far in the past dominates a small Age.
  const skewed = at(['age', '1', 'date', formatHttpDate(NOW - 30_000)]);
  assert.equal(skewed.initialAgeMs, 30_000);
  // A Date in the future (clock skew) is not a negative age.
  assert.equal(at(['date', formatHttpDate(NOW + 30_000)]).initialAgeMs, 0);
  assert.equal(currentAgeMs(f, NOW - 10_000), 12_000, 'a clock going back adds nothing negative');
});

test('Age values: the first list member; anything but digits is ignored; huge is clamped', () => {
  assert.equal(ageSeconds('10, 20'), 10);
  for (const bad of ['-1', '1.5', '0x10', 'abc', '', ' ']) assert.equal(ageSeconds(bad), 0, bad);
  assert.equal(ageSeconds('99999999999999'), 2 ** 31);
});

test('stale permissions: must-revalidate, proxy-revalidate and no-cache forbid stale; s-maxage forbids what the response did not grant; Authorization needs public/must-revalidate/s-maxage', () => {
  assert.equal(at(['cache-control', 'max-age=1, must-revalidate']).noStale, true);
  assert.equal(at(['cache-control', 'max-age=1, proxy-revalidate']).noStale, true);
  assert.equal(at(['cache-control', 'no-cache']).noStale, true);
  assert.equal(at(['cache-control', 'max-age=1']).noStale, false);
  assert.equal(at(['cache-control', 's-maxage=1']).sharedRevalidate, true);
  assert.equal(at(['cache-control', 'max-age=1']).authorizationOk, false);
  for (const cc of ['public, max-age=1', 'must-revalidate', 's-maxage=5']) assert.equal(at(['cache-control', cc]).authorizationOk, true, cc);
});

test('validators and dates are read; an invalid Date falls back to the arrival time', () => {
  const f = at(['etag', '"x"', 'last-modified', formatHttpDate(NOW - 5000), 'date', 'yesterday']);
  assert.equal(f.etag, '"x"');
  assert.equal(f.lastModifiedMs, NOW - 5000);
  assert.equal(f.dateMs, NOW);
});
