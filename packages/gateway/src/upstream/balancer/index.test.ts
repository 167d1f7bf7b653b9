// The contract every method keeps, run once per method (one test body against
// several implementations, as undici's tests do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer, BALANCE_METHODS, type BalanceMethod } from './index.ts';
import { seededRandom } from './seeded-random.ts';

const server = (id: string, weight = 1) => ({ id, weight, inflight: 0 });
const make = (method: BalanceMethod) => createBalancer<ReturnType<typeof server>>(method, { random: seededRandom(7), now: () => 0 });

for (const method of BALANCE_METHODS) {
  test(`${method}: no servers, no pick`, () => {
    const b = make(method);
    assert.equal(b.pick(), null);
    b.update([server('a')]);
    b.update([]);
    assert.equal(b.pick(), null);
    assert.equal(b.pick({ key: 'k' }), null);
  });

  test(`${method}: one server takes every request, with or without a key`, () => {
    const b = make(method);
    const a = server('a', 3);
    b.update([a]);
    for (let i = 0; i < 20; i++) assert.equal(b.pick(i % 2 ? { key: `k${i}` } : undefined), a);
  });

  test(`${method}: picks only servers of the current set`, () => {
    const b = make(method);
    const [a, c, d] = [server('a'), server('c', 2), server('d')];
    b.update([a, server('b'), c]);
    b.update([a, c, d]);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(b.pick({ key: `k${i}` })!.id);
    assert.deepEqual([...seen].sort(), ['a', 'c', 'd']);
  });

  test(`${method}: update refuses weights that are not finite numbers > 0, and duplicate ids`, () => {
    const b = make(method);
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => b.update([server('a'), server('b', weight)]), RangeError);
    }
    assert.throws(() => b.update([server('a'), server('a')]), /appears twice/);
  });

  test(`${method}: feedback about a server that has left the set is ignored`, () => {
    const b = make(method);
    const gone = server('gone');
    b.update([gone, server('b')]);
    b.update([server('b')]);
    assert.doesNotThrow(() => b.observe?.(gone, 12, true));
    assert.equal(b.pick()!.id, 'b');
  });
}

test('an unknown method is refused', () => {
  assert.throws(() => createBalancer('fastest' as BalanceMethod), /unknown method fastest/);
});
