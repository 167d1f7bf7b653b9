import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertHits } from './cache-check.ts';

describe('cache runs', () => {
  it('refuses a measured run in which more than one request in a thousand reached the backend', () => {
    assert.doesNotThrow(() => assertHits('nginx', 50_000, 0));
    assert.doesNotThrow(() => assertHits('nginx', 50_000, 50));
    assert.throws(() => assertHits('varnish', 50_000, 51), /NOT A CACHE RUN: 51 of 50000 requests reached the backend through varnish/);
  });
});
