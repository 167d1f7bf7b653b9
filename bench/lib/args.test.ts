import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionsOf, parseSettings, type Settings } from './args.ts';

function settings(argv: string[]): Settings {
  const parsed = parseSettings(argv);
  assert.notEqual(parsed, 'help');
  return parsed as Settings;
}

describe('bench flags', () => {
  it('runs every scenario, the coalescing round and flights-front by default', () => {
    const s = settings([]);
    assert.deepEqual(s.scenarios.map((x) => x.name), ['proxy-1k', 'proxy-100k', 'balance-1k', 'cache-hit-1k']);
    assert.equal(s.coalescing, true);
    assert.equal(s.flightsFront, true);
    assert.equal(s.flightsSeconds, 10);
    const cache = s.scenarios.find((x) => x.name === 'cache-hit-1k');
    assert.ok(cache !== undefined);
    assert.deepEqual(connectionsOf(s, cache), [50, 200]);
    assert.deepEqual(cache.tools, ['direct', 'rampart', 'nginx', 'varnish']);
  });

  it('--quick keeps the cache scenario at 50 connections and the coalescing round, and leaves flights-front out', () => {
    const s = settings(['--quick']);
    const cache = s.scenarios.find((x) => x.name === 'cache-hit-1k');
    assert.ok(cache !== undefined);
    assert.deepEqual(connectionsOf(s, cache), [50]);
    assert.equal(s.coalescing, true);
    assert.equal(s.flightsFront, false);
  });

  it('picks scenarios with --scenarios or --scenario, wrk ones and the others alike', () => {
    const s = settings(['--scenario', 'flights-front']);
    assert.deepEqual(s.scenarios, []);
    assert.equal(s.coalescing, false);
    assert.equal(s.flightsFront, true);
    const t = settings(['--quick', '--scenarios', 'cache-hit-1k,coalescing', '--duration', '3']);
    assert.deepEqual(t.scenarios.map((x) => x.name), ['cache-hit-1k']);
    assert.equal(t.coalescing, true);
    assert.equal(t.flightsFront, false);
    assert.equal(t.seconds, 3);
    assert.equal(t.flightsSeconds, 3);
  });

  it('refuses an unknown scenario or tool, naming the known ones', () => {
    assert.throws(() => parseSettings(['--scenarios', 'cache-hit-2k']), /unknown scenario "cache-hit-2k"; known: .*cache-hit-1k, coalescing, flights-front/);
    assert.throws(() => parseSettings(['--tools', 'squid']), /unknown tool "squid"; known: .*varnish/);
  });
});
