import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs, parseWrk } from './wrk.ts';

// Captured from wrk 4.1.0 (Debian) with --latency against a Node server.
const captured = `Running 1s test @ http://127.0.0.1:18602/x
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   588.64us    1.61ms  19.25ms   92.10%
    Req/Sec     8.11k     3.25k   12.19k    60.00%
  Latency Distribution
     50%   83.00us
     75%  185.00us
     90%    1.76ms
     99%    6.91ms
  8059 requests in 1.00s, 8.83MB read
Requests/sec:   8044.98
Transfer/sec:      8.82MB
`;

// A saturated run: seconds and minutes in the latencies, errors reported.
const overloaded = `Running 1m test @ http://127.0.0.1:8080/100k.bin
  1 threads and 200 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02s   412.50ms   1.99s    65.00%
    Req/Sec   180.12     40.00   250.00     70.00%
  Latency Distribution
     50%    1.01s
     75%    1.40s
     90%    1.80s
     99%    1.05m
  10807 requests in 1.00m, 1.03GB read
  Socket errors: connect 0, read 3, write 0, timeout 17
  Non-2xx or 3xx responses: 5
Requests/sec:    180.10
Transfer/sec:     17.60MB
`;

describe('parseWrk', () => {
  it('reads req/s, the request count and percentiles in us and ms', () => {
    const result = parseWrk(captured);
    assert.equal(result.rps, 8044.98);
    assert.equal(result.requests, 8059);
    assert.equal(result.seconds, 1);
    assert.equal(result.p50Ms, 0.083);
    assert.equal(result.p75Ms, 0.185);
    assert.equal(result.p90Ms, 1.76);
    assert.equal(result.p99Ms, 6.91);
    assert.equal(result.errors, 0);
  });

  it('converts seconds and minutes and sums socket errors with non-2xx responses', () => {
    const result = parseWrk(overloaded);
    assert.equal(result.p50Ms, 1010);
    assert.equal(result.p99Ms, 63_000);
    assert.equal(result.seconds, 60);
    assert.equal(result.errors, 3 + 17 + 5);
  });

  it('refuses output without --latency percentiles', () => {
    const withoutDistribution = captured.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}8059)/, '');
    assert.throws(() => parseWrk(withoutDistribution), /50% line/);
  });

  it('refuses output without a summary', () => {
    assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n'), /no summary/);
  });
});

describe('parseDurationMs', () => {
  it('knows every unit wrk prints', () => {
    assert.equal(parseDurationMs('250.00us'), 0.25);
    assert.equal(parseDurationMs('3.50ms'), 3.5);
    assert.equal(parseDurationMs('2.00s'), 2000);
    assert.equal(parseDurationMs('1.50m'), 90_000);
    assert.equal(parseDurationMs('1.00h'), 3_600_000);
    assert.throws(() => parseDurationMs('12 parsecs'), /unreadable duration/);
  });
});
