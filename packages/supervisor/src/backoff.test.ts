import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

test('the delay doubles from the base up to the cap', () => {
  const ceilings = Array.from({ length: 12 }, (_, n) => backoffDelay(n, DEFAULT_BACKOFF, () => 1));
  assert.deepEqual(ceilings, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
  assert.equal(backoffDelay(5000, DEFAULT_BACKOFF, () => 1), 30_000, 'no overflow after a long crash loop');
});

test('jitter keeps each delay between half its ceiling and the ceiling', () => {
  assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0), 400);
  assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5), 600);
  for (let n = 0; n < 10; n++) {
    const ceiling = Math.min(30_000, 100 * 2 ** n);
    const d = backoffDelay(n, DEFAULT_BACKOFF);
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${n}: ${d} not in [${ceiling / 2}, ${ceiling}]`);
  }
});
