import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDEMPOTENT_METHODS, RetryBudget, isRetryable, type FailurePhase } from './retry-budget.ts';

const PHASES: FailurePhase[] = ['connect', 'reset-before-response', 'timeout', 'response'];
const ask = (method: string, phase: FailurePhase, extra: { bodyStreamed?: boolean; route?: boolean } = {}) =>
  isRetryable({ method, phase, bodyStreamed: extra.bodyStreamed ?? false, routeAllowsNonIdempotent: extra.route ?? false });

test('idempotent methods are retried on a connect failure or a reset before any response byte', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) {
    assert.ok(IDEMPOTENT_METHODS.has(method));
    assert.equal(ask(method, 'connect'), true, `${method} connect`);
    assert.equal(ask(method, 'reset-before-response'), true, `${method} reset`);
  }
});

test('never after a timeout or once a response has begun, whatever the method or route', () => {
  for (const method of ['GET', 'PUT', 'POST'])
    for (const phase of ['timeout', 'response'] as const) assert.equal(ask(method, phase, { route: true }), false, `${method} ${phase}`);
});

test('never when the request body was already streamed upstream', () => {
  for (const phase of PHASES) {
    assert.equal(ask('PUT', phase, { bodyStreamed: true }), false);
    assert.equal(ask('POST', phase, { bodyStreamed: true, route: true }), false);
  }
});

test('POST, PATCH and other non-idempotent methods only where the route allows it', () => {
  for (const method of ['POST', 'PATCH', 'PROPFIND']) {
    assert.equal(ask(method, 'connect'), false, method);
    assert.equal(ask(method, 'reset-before-response'), false, method);
    assert.equal(ask(method, 'connect', { route: true }), true, method);
    assert.equal(ask(method, 'reset-before-response', { route: true }), true, method);
  }
});

test('CONNECT is never retried; methods are case-sensitive (RFC 9110 §9.1)', () => {
  for (const phase of PHASES) assert.equal(ask('CONNECT', phase, { route: true }), false);
  assert.equal(ask('get', 'connect'), false);
});

test('the budget allows at least minRetryConcurrency retries, however few requests are active', () => {
  const budget = new RetryBudget({ activeRequests: () => 1 });
  assert.equal(budget.limit, 3);
  assert.deepEqual([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()], [true, true, true, false]);
  assert.equal(budget.active, 3);
  assert.equal(budget.overflowed, 1);
  budget.release();
  assert.equal(budget.tryAcquire(), true);
});

test('the budget follows 20% of the active requests, rounded down', () => {
  let active = 100;
  const budget = new RetryBudget({ activeRequests: () => active });
  assert.equal(budget.limit, 20);
  let granted = 0;
  while (budget.tryAcquire()) granted++;
  assert.equal(granted, 20);
  active = 104; // 20.8 → 20
  assert.equal(budget.tryAcquire(), false);
  active = 105;
  assert.equal(budget.tryAcquire(), true);
  // Load drops: no new retry until enough have ended.
  active = 30;
  assert.equal(budget.limit, 6);
  assert.equal(budget.tryAcquire(), false);
  for (let i = 0; i < 15; i++) budget.release();
  assert.equal(budget.active, 6);
  assert.equal(budget.tryAcquire(), false);
  budget.release();
  assert.equal(budget.tryAcquire(), true);
});

test('a storm: of 1000 failing requests at once, at most 20% are retried', () => {
  const budget = new RetryBudget({ activeRequests: () => 1000 });
  let retried = 0;
  for (let i = 0; i < 1000; i++) if (budget.tryAcquire()) retried++;
  assert.equal(retried, 200);
  assert.equal(budget.overflowed, 800);
});

test('budgetPercent and minRetryConcurrency are configurable; release() never goes below zero', () => {
  const budget = new RetryBudget({ activeRequests: () => 10, budgetPercent: 50, minRetryConcurrency: 0 });
  assert.equal(budget.limit, 5);
  const none = new RetryBudget({ activeRequests: () => 1000, budgetPercent: 0, minRetryConcurrency: 0 });
  assert.equal(none.tryAcquire(), false);
  none.release();
  none.release();
  assert.equal(none.active, 0);
  assert.throws(() => new RetryBudget({ activeRequests: () => 0, budgetPercent: 120 }), /budgetPercent/);
  assert.throws(() => new RetryBudget({ activeRequests: () => 0, minRetryConcurrency: -1 }), /minRetryConcurrency/);
});
