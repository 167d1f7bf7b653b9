// What the stores' tests share: a StoredResponse with a small text body
// named after its variant, fresh for an hour; a seeded random sequence.
import type { StoredResponse } from '../../packages/gateway/src/cache/store.ts';

export const HOUR = 3_600_000;

export function storedResponse(variant: string, overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    status: 200,
    reason: 'OK',
    headers: ['content-type', 'text/plain', 'etag', `"${variant}"`],
    body: Buffer.from(`body of ${variant}`),
    requestTime: Date.now() - 20,
    responseTime: Date.now() - 10,
    variant,
    vary: [],
    tags: [],
    removeAt: Date.now() + HOUR,
    ...overrides,
  };
}

/** mulberry32: the same sequence of operations on every run. */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
