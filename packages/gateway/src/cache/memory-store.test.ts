import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCacheStore, sizeOf } from './memory-store.ts';
import type { StoredResponse } from './store.ts';

let clock = 1_000_000;
const now = () => clock;

function response(body: string | Buffer, options: Partial<StoredResponse> = {}): StoredResponse {
  return {
    status: 200,
    reason: 'OK',
    headers: ['content-type', 'text/plain'],
    body: typeof body === 'string' ? Buffer.from(body) : body,
    requestTime: clock,
    responseTime: clock,
    variant: '',
    vary: [],
    tags: [],
    removeAt: clock + 60_000,
    ...options,
  };
}

test('lookup answers synchronously: every unexpired variant, most recently stored first', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 1 << 16, now });
  assert.deepEqual(store.lookup('h/a'), []);
  store.put('h/a', response('1', { variant: 'x' }));
  store.put('h/a', response('2', { variant: 'y' }));
  store.put('h/a', response('3', { variant: 'x' }));
  const found: readonly StoredResponse[] = store.lookup('h/a');
  assert.ok(!(found instanceof Promise), 'not a promise');
  assert.deepEqual(found.map((r) => r.body.toString()), ['3', '2']);
  assert.equal(store.stats().entries, 2);
});

test('expired variants (removeAt passed) are never returned and their bytes are released', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 1 << 16, now });
  store.put('h/a', response('old', { variant: 'a', removeAt: clock + 10 }));
  store.put('h/a', response('new', { variant: 'b', removeAt: clock + 1000 }));
  store.put('h/b', response('past', { removeAt: clock - 1 }));
  assert.deepEqual(store.lookup('h/b'), [], 'stored already expired: not kept');
  clock += 100;
  assert.deepEqual(store.lookup('h/a').map((r) => r.body.toString()), ['new']);
  assert.equal(store.stats().entries, 1);
  clock += 1000;
  assert.deepEqual(store.lookup('h/a'), []);
  assert.deepEqual(store.stats(), { kind: 'memory', entries: 0, bytes: 0, maxBytes: 1 << 20, evictions: 0 });
});

test('bounded in bytes: the least recently used resources are evicted and counted', () => {
  const body = Buffer.alloc(1000);
  const one = sizeOf('h/0', response(body));
  const store = new MemoryCacheStore({ maxBytes: one * 3 + 10, maxObjectBytes: 4096, now });
  store.put('h/0', response(body));
  store.put('h/1', response(body));
  store.put('h/2', response(body));
  store.lookup('h/0'); // h/1 is now the least recently used
  store.put('h/3', response(body));
  assert.equal(store.lookup('h/1').length, 0);
  assert.equal(store.lookup('h/0').length, 1);
  assert.equal(store.lookup('h/2').length, 1);
  assert.equal(store.lookup('h/3').length, 1);
  const stats = store.stats();
  assert.equal(stats.evictions, 1);
  assert.ok(stats.bytes! <= stats.maxBytes!);
  assert.equal(stats.entries, 3);
});

test('bodies over maxObjectBytes are not stored, and do not leave an older copy of that variant behind', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 10, now });
  store.put('h/a', response('small'));
  store.put('h/a', response('much too large for it'));
  assert.deepEqual(store.lookup('h/a'), []);
});

test('update keeps the body and replaces headers, times and tags; a gone variant is a no-op', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 1 << 16, now });
  store.put('h/a', response('body', { variant: 'v', tags: ['t1'] }));
  store.update('h/a', 'v', { headers: ['etag', '"2"'], requestTime: 5, responseTime: 6, removeAt: clock + 99_000, tags: ['t2'] });
  store.update('h/a', 'missing', { headers: [], requestTime: 0, responseTime: 0, removeAt: clock + 1, tags: [] });
  store.update('h/none', 'v', { headers: [], requestTime: 0, responseTime: 0, removeAt: clock + 1, tags: [] });
  const [r] = store.lookup('h/a');
  assert.equal(r!.body.toString(), 'body');
  assert.deepEqual(r!.headers, ['etag', '"2"']);
  assert.equal(r!.responseTime, 6);
  assert.deepEqual(store.purgeTag('t1'), { purged: 0 });
  assert.deepEqual(store.purgeTag('t2'), { purged: 1 });
});

test('purges: exact uri only, prefix, tag across uris, everything; counts variants', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 1 << 16, now });
  store.put('h/x', response('1', { variant: 'a', tags: ['red'] }));
  store.put('h/x', response('2', { variant: 'b' }));
  store.put('h/x?y', response('3', { tags: ['red', 'blue'] }));
  store.put('h/xyz', response('4'));
  store.put('g/x', response('5', { tags: ['blue'] }));
  assert.deepEqual(store.purgeUri('h/x?'), { purged: 0 });
  assert.deepEqual(store.purgeTag('red'), { purged: 2 });
  assert.equal(store.lookup('h/x').length, 1, 'the variant without the tag stays');
  assert.deepEqual(store.purgeUri('h/x'), { purged: 1 });
  assert.equal(store.lookup('h/xyz').length, 1, 'purgeUri is not a prefix match');
  assert.deepEqual(store.purgePrefix('h/'), { purged: 1 });
  assert.equal(store.lookup('g/x').length, 1);
  assert.deepEqual(store.purgeAll(), { purged: 1 });
  assert.deepEqual(store.stats().bytes, 0);
  assert.deepEqual(store.purgeTag('blue'), { purged: 0 });
});

test('a caller holding a lookup result keeps what it saw when the store changes', () => {
  const store = new MemoryCacheStore({ maxBytes: 1 << 20, maxObjectBytes: 1 << 16, now });
  store.put('h/a', response('1', { variant: 'a' }));
  const seen = store.lookup('h/a');
  store.put('h/a', response('2', { variant: 'b' }));
  store.purgeUri('h/a');
  assert.deepEqual(seen.map((r) => r.body.toString()), ['1']);
});

test('refuses a bound that is not positive', () => {
  assert.throws(() => new MemoryCacheStore({ maxBytes: 0, maxObjectBytes: 1 }), RangeError);
});
