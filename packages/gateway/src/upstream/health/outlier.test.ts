import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { OutlierDetector, type EjectReason, type FailureKind, type OutlierOptions } from './outlier.ts';

interface Log {
  readonly events: string[];
  readonly ejections: { id: string; until: number; reason: EjectReason }[];
}

/** A detector on mocked setTimeout and Date (starting at 0), with its callbacks logged. */
function detector(t: TestContext, ids: string[], options: OutlierOptions = {}): OutlierDetector & Log {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const events: string[] = [];
  const ejections: Log['ejections'] = [];
  const d = new OutlierDetector({
    onEject: (id, until, reason) => (events.push(`eject ${id}`), ejections.push({ id, until, reason })),
    onReturn: (id) => events.push(`return ${id}`),
    onOverflow: (id, kind) => events.push(`overflow ${id} ${kind}`),
    ...options,
  });
  for (const id of ids) d.add(id);
  t.after(() => d.stop());
  return Object.assign(d, { events, ejections });
}

function fail(d: OutlierDetector, id: string, times: number, kind: FailureKind = 'connect'): void {
  for (let i = 0; i < times; i++) d.failure(id, kind);
}

test('five failures in a row eject a server for the base time; four do not', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 4);
  assert.equal(d.isEjected('a'), false);
  assert.equal(d.get('a')!.consecutiveFailures, 4);
  d.failure('a', 'reset');
  assert.equal(d.isEjected('a'), true);
  assert.deepEqual(d.ejections, [{ id: 'a', until: 30_000, reason: { kind: 'reset', consecutive: 5, ejections: 1, durationMs: 30_000 } }]);
  assert.deepEqual(d.get('a'), { id: 'a', ejected: true, ejectedUntil: 30_000, ejections: 1, consecutiveFailures: 0 });
  assert.equal(d.ejectedCount, 1);
  assert.equal(d.isEjected('b'), false);
});

test('a success resets the count of failures in a row', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 4);
  d.success('a');
  fail(d, 'a', 4);
  d.response('a', 404); // any response below 500 is a success
  fail(d, 'a', 4);
  assert.equal(d.isEjected('a'), false);
  assert.deepEqual(d.events, []);
});

test('connect errors, resets and timeouts count together', (t) => {
  const d = detector(t, ['a', 'b'], { consecutiveFailures: 3 });
  d.failure('a', 'connect');
  d.failure('a', 'timeout');
  d.failure('a', 'reset');
  assert.equal(d.isEjected('a'), true);
});

test('5xx: a success by default (the server answered); a failure with consecutive5xx', (t) => {
  const off = detector(t, ['a', 'b'], { consecutiveFailures: 3 });
  fail(off, 'a', 2);
  off.response('a', 503); // resets the connect failures
  fail(off, 'a', 2);
  fail(off, 'a', 10, '5xx');
  assert.equal(off.isEjected('a'), false);
  assert.equal(off.get('a')!.consecutiveFailures, 0);

  const on = new OutlierDetector({ consecutiveFailures: 3, consecutive5xx: true, timers: false });
  on.add('a');
  on.add('b');
  on.failure('a', 'connect');
  on.response('a', 500);
  on.response('a', 599);
  assert.equal(on.isEjected('a'), true);
  on.response('b', 502);
  on.response('b', 200);
  on.response('b', 502);
  on.response('b', 502);
  assert.equal(on.isEjected('b'), false);
});

test('each ejection lasts base × times ejected, capped at the max', (t) => {
  const d = detector(t, ['a', 'b'], { baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 35_000, consecutiveFailures: 1 });
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    d.failure('a', 'connect'); // fails again the moment it is back
    const { until, reason } = d.ejections.at(-1)!;
    durations.push(reason.durationMs);
    t.mock.timers.tick(until - Date.now());
    assert.equal(d.isEjected('a'), false);
  }
  assert.deepEqual(durations, [10_000, 20_000, 30_000, 35_000, 35_000]);
  assert.deepEqual(d.ejections.map((e) => e.reason.ejections), [1, 2, 3, 4, 4]);
});

test('an ejected server returns by itself when its time is up, not before', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 5);
  t.mock.timers.tick(29_999);
  assert.equal(d.isEjected('a'), true);
  assert.deepEqual(d.events, ['eject a']);
  t.mock.timers.tick(1);
  assert.equal(d.isEjected('a'), false);
  assert.deepEqual(d.events, ['eject a', 'return a']);
  assert.equal(d.ejectedCount, 0);
  assert.equal(d.get('a')!.consecutiveFailures, 0, 'it returns with a clean count');
});

test('servers ejected at different times return in order on one timer', (t) => {
  const d = detector(t, ['a', 'b', 'c', 'd']);
  fail(d, 'a', 5);
  t.mock.timers.tick(10_000);
  fail(d, 'b', 5);
  t.mock.timers.tick(20_000);
  assert.deepEqual(d.events, ['eject a', 'eject b', 'return a']);
  t.mock.timers.tick(10_000);
  assert.deepEqual(d.events, ['eject a', 'eject b', 'return a', 'return b']);
});

test('with timers off, servers return only on tick(now)', () => {
  let now = 1000;
  const returned: string[] = [];
  const d = new OutlierDetector({ timers: false, now: () => now, onReturn: (id) => returned.push(id) });
  d.add('a');
  d.add('b');
  fail(d, 'a', 5);
  assert.equal(d.get('a')!.ejectedUntil, 31_000);
  now = 40_000;
  assert.equal(d.isEjected('a'), true, 'time passing alone returns nothing');
  d.tick(30_999);
  assert.equal(d.isEjected('a'), true);
  d.tick();
  assert.deepEqual(returned, ['a']);
});

test('maxEjectionPercent: an ejection that would pass the share is skipped and reported', (t) => {
  const d = detector(t, ['a', 'b', 'c', 'd']); // 50% of 4 is 2
  fail(d, 'a', 5);
  fail(d, 'b', 5, 'timeout');
  fail(d, 'c', 5, 'reset');
  assert.deepEqual(d.events, ['eject a', 'eject b', 'overflow c reset']);
  assert.equal(d.isEjected('c'), false);
  assert.equal(d.ejectedCount, 2);
  // Room frees when a returns; c's next failure ejects it.
  t.mock.timers.tick(30_000);
  d.failure('c', 'connect');
  assert.deepEqual(d.events.slice(3), ['return a', 'return b', 'eject c']);
});

test('maxEjectionPercent on small upstreams: 1 of 2 or 3 servers, none of 1; 100 allows all', (t) => {
  const three = detector(t, ['a', 'b', 'c']);
  for (const id of ['a', 'b', 'c']) fail(three, id, 5);
  assert.equal(three.ejectedCount, 1);
  const two = new OutlierDetector({ timers: false });
  two.add('a');
  two.add('b');
  fail(two, 'a', 5);
  fail(two, 'b', 5);
  assert.equal(two.ejectedCount, 1);
  const one = new OutlierDetector({ timers: false });
  one.add('a');
  fail(one, 'a', 5);
  assert.equal(one.ejectedCount, 0);
  const all = new OutlierDetector({ timers: false, maxEjectionPercent: 100 });
  for (const id of ['a', 'b', 'c']) {
    all.add(id);
    fail(all, id, 5);
  }
  assert.equal(all.ejectedCount, 3);
  const none = new OutlierDetector({ timers: false, maxEjectionPercent: 0 });
  none.add('a');
  none.add('b');
  fail(none, 'a', 5);
  assert.equal(none.ejectedCount, 0);
});

test('the ejection count decays by one per decay interval in service', (t) => {
  const d = detector(t, ['a', 'b'], { consecutiveFailures: 1, baseEjectionTimeMs: 1000, maxEjectionTimeMs: 100_000, decayIntervalMs: 10_000 });
  d.failure('a', 'connect');
  t.mock.timers.tick(1000);
  d.failure('a', 'connect');
  t.mock.timers.tick(2000);
  d.failure('a', 'connect');
  t.mock.timers.tick(3000); // back with a count of 3
  assert.equal(d.get('a')!.ejections, 3);
  t.mock.timers.tick(9_999);
  assert.equal(d.get('a')!.ejections, 3);
  t.mock.timers.tick(1);
  assert.equal(d.get('a')!.ejections, 2);
  t.mock.timers.tick(10_000);
  assert.equal(d.get('a')!.ejections, 1);
  d.failure('a', 'connect'); // 20 s in service: 3 − 2, plus this one
  assert.equal(d.ejections.at(-1)!.reason.durationMs, 2000);
  t.mock.timers.tick(2000);
  t.mock.timers.tick(60_000);
  assert.equal(d.get('a')!.ejections, 0);
  d.failure('a', 'connect');
  assert.equal(d.ejections.at(-1)!.reason.durationMs, 1000, 'fully decayed: back to the base time');
});

test('the count stops growing once the ejection time is capped, so it decays in max/base intervals', (t) => {
  const d = detector(t, ['a', 'b'], { consecutiveFailures: 1, baseEjectionTimeMs: 1000, maxEjectionTimeMs: 3000, decayIntervalMs: 10_000 });
  for (let i = 0; i < 10; i++) {
    d.failure('a', 'connect');
    t.mock.timers.tick(3000);
  }
  assert.equal(d.get('a')!.ejections, 3);
  t.mock.timers.tick(30_000);
  assert.equal(d.get('a')!.ejections, 0);
});

test('results that arrive while a server is ejected neither extend nor end its ejection', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 5);
  fail(d, 'a', 50);
  d.success('a');
  d.response('a', 200);
  assert.equal(d.isEjected('a'), true);
  assert.equal(d.ejections.length, 1);
  t.mock.timers.tick(30_000);
  assert.equal(d.isEjected('a'), false);
});

test('uneject() returns a server at once (a passing active check) and keeps its count', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 5);
  t.mock.timers.tick(1000);
  d.uneject('a');
  assert.equal(d.isEjected('a'), false);
  assert.deepEqual(d.events, ['eject a', 'return a']);
  assert.equal(d.get('a')!.ejections, 1);
  t.mock.timers.tick(29_000);
  assert.deepEqual(d.events, ['eject a', 'return a'], 'the old timer returns nothing twice');
  d.uneject('b'); // not ejected: nothing happens
  d.uneject('a'); // no longer ejected: nothing happens
  assert.deepEqual(d.events, ['eject a', 'return a']);
});

test('remove() forgets a server without onReturn and frees its share; unknown ids are ignored', (t) => {
  const d = detector(t, ['a', 'b', 'c', 'd']);
  fail(d, 'a', 5);
  fail(d, 'b', 5);
  d.remove('a');
  assert.equal(d.has('a'), false);
  assert.equal(d.ejectedCount, 1);
  fail(d, 'c', 5); // 2 of 3 is past 50%
  assert.equal(d.isEjected('c'), false);
  d.add('e');
  fail(d, 'c', 1); // 2 of 4 is within it
  assert.equal(d.isEjected('c'), true);
  t.mock.timers.tick(60_000);
  assert.deepEqual(d.events, ['eject a', 'eject b', 'overflow c connect', 'eject c', 'return b', 'return c']);
  fail(d, 'ghost', 10);
  d.success('ghost');
  assert.equal(d.get('ghost'), undefined);
  d.remove('ghost');
});

test('add() of a tracked server keeps its state', (t) => {
  const d = detector(t, ['a', 'b']);
  fail(d, 'a', 5);
  d.add('a');
  assert.equal(d.isEjected('a'), true);
});

test('stop() clears the timer; nothing is reported afterwards', (t) => {
  const d = detector(t, ['a', 'b', 'c', 'd']);
  fail(d, 'a', 5);
  d.stop();
  t.mock.timers.tick(1_000_000);
  fail(d, 'b', 5);
  d.tick();
  d.uneject('a');
  assert.deepEqual(d.events, ['eject a']);
});

test('the options are checked when the detector is built', () => {
  assert.throws(() => new OutlierDetector({ consecutiveFailures: 0 }), /consecutiveFailures/);
  assert.throws(() => new OutlierDetector({ baseEjectionTimeMs: 0 }), /baseEjectionTimeMs/);
  assert.throws(() => new OutlierDetector({ baseEjectionTimeMs: 10, maxEjectionTimeMs: 5 }), /maxEjectionTimeMs/);
  assert.throws(() => new OutlierDetector({ maxEjectionPercent: 101 }), /maxEjectionPercent/);
  assert.throws(() => new OutlierDetector({ decayIntervalMs: 0 }), /decayIntervalMs/);
});
