import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keptNotes, renderMarkdown, writeReport, type Report } from './report.ts';

const report: Report = {
  machine: 'Test CPU, 2 cores, Linux 6.0',
  date: '2026-01-01T00:00:00.000Z',
  node: 'v24.0.0',
  settings: { quick: false, repetitions: 3, seconds: 5, warmup_seconds: 3, warmup_per: 'scenario', pinning: 'none', loader: 'wrk' },
  versions: { nginx: '1.22.1' },
  runs: [
    { scenario: 'proxy-1k', connections: 50, tool: 'nginx', rps: 20000, p50_ms: 2, p99_ms: 5, cpu_s_per_10k: 0.3, rss_mib: 12.5, backend_cpu_s_per_10k: 0.2, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [19000, 20000, 21000] },
    { scenario: 'proxy-1k', connections: 50, tool: 'rampart', rps: 10000, p50_ms: 4, p99_ms: 9, cpu_s_per_10k: 0.9, rss_mib: 80, backend_cpu_s_per_10k: 0.2, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [9000, 10000, 11000] },
  ],
};

describe('RESULTS.md', () => {
  it('keeps the hand-written notes between the markers', () => {
    const previous = '# old\n\n<!-- notes:start -->\nProfile: 30% in header parsing.\n<!-- notes:end -->\ntrailing\n';
    const notes = keptNotes(previous);
    assert.equal(notes, '<!-- notes:start -->\nProfile: 30% in header parsing.\n<!-- notes:end -->');
    assert.match(renderMarkdown(report, notes), /Profile: 30% in header parsing\./);
  });

  it('creates empty markers when there were none', () => {
    assert.equal(keptNotes('# results without notes\n'), '<!-- notes:start -->\n<!-- notes:end -->');
  });

  it('puts each tool against nginx in its table', () => {
    const markdown = renderMarkdown(report, keptNotes(''));
    assert.match(markdown, /## proxy-1k, 50 connections/);
    assert.match(markdown, /\| rampart \| 10000 \| 0\.50 \| 4\.000 \| 9\.000 \| 0\.900 \| 80\.0 \| 0 \|/);
  });
});

const cacheReport: Report = {
  ...report,
  versions: { nginx: '1.22.1', varnishd: '7.1.1' },
  runs: [
    ...report.runs,
    { scenario: 'cache-hit-1k', connections: 50, tool: 'direct', rps: 60000, p50_ms: 0.8, p99_ms: 2, cpu_s_per_10k: null, rss_mib: null, backend_cpu_s_per_10k: 0.16, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [60000, 60000, 60000] },
    { scenario: 'cache-hit-1k', connections: 50, tool: 'rampart', rps: 42000, p50_ms: 1.1, p99_ms: 3.5, cpu_s_per_10k: 0.25, rss_mib: 90, backend_cpu_s_per_10k: 0, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [41000, 42000, 43000], backend_requests: 0 },
    { scenario: 'cache-hit-1k', connections: 50, tool: 'nginx', rps: 48000, p50_ms: 1, p99_ms: 2.9, cpu_s_per_10k: 0.2, rss_mib: 20.5, backend_cpu_s_per_10k: 0, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [47000, 48000, 49000], backend_requests: 0 },
    { scenario: 'cache-hit-1k', connections: 50, tool: 'varnish', rps: 36000, p50_ms: 1.2, p99_ms: 16, cpu_s_per_10k: 0.28, rss_mib: 96.7, backend_cpu_s_per_10k: 0, core_other_pct: 1, core_steal_pct: 0, errors: 0, samples: [35000, 36000, 37000], backend_requests: 2 },
  ],
  coalescing: [
    { tool: 'direct', clients: 200, upstreamRequests: 200, ms: 255, ok: 200, sendMs: 2.6, originDelayMs: 200 },
    { tool: 'rampart', clients: 200, upstreamRequests: 1, ms: 230, ok: 200, sendMs: 2.5, originDelayMs: 200 },
    { tool: 'nginx', clients: 200, upstreamRequests: 1, ms: 525, ok: 200, sendMs: 2.8, originDelayMs: 200 },
  ],
  flights_front: [
    { cache: false, connections: 50, seconds: 10, rps: 176, p50_ms: 260.35, p99_ms: 569.16, errors: 0, requests: 5280, upstream_requests: 5290, gateway_cpu_s_per_10k: 5.67, app_cpu_s_per_10k: 12.85, db_cpu_s_per_10k: 37.8, samples: [170, 176, 180], cache_control: null, cache_status: null },
    { cache: true, connections: 50, seconds: 10, rps: 3520, p50_ms: 12.5, p99_ms: 40.25, errors: 0, requests: 105600, upstream_requests: 40, gateway_cpu_s_per_10k: 2.1, app_cpu_s_per_10k: 0.05, db_cpu_s_per_10k: 0.1, samples: [3500, 3520, 3600], cache_control: 'public, max-age=0, s-maxage=5, stale-while-revalidate=30', cache_status: 'rampart; hit' },
  ],
};

describe('RESULTS.md cache sections', () => {
  const markdown = renderMarkdown(cacheReport, keptNotes(''));

  it('renders the cache hits in their own table, against nginx and Varnish, with the backend requests', () => {
    assert.match(markdown, /## Edge cache: hits/);
    assert.match(markdown, /### cache-hit-1k, 50 connections/);
    assert.match(markdown, /\| tool \| req\/s \| vs nginx \| vs varnish \| p50 ms \| p99 ms \| CPU-s \/ 10k req \| RSS MiB \| backend requests \| errors \|/);
    assert.match(markdown, /\| rampart \| 42000 \| 0\.88 \| 1\.17 \| 1\.100 \| 3\.500 \| 0\.250 \| 90\.0 \| 0 \| 0 \|/);
    assert.match(markdown, /\| varnish \| 36000 \| 0\.75 \| 1\.00 \| 1\.200 \| 16\.000 \| 0\.280 \| 96\.7 \| 2 \| 0 \|/);
    assert.match(markdown, /\| direct \| 60000 \| 1\.25 \| 1\.67 \| 0\.800 \| 2\.000 \| – \| – \| – \| 0 \|/);
    // Not a second time among the proxy tables.
    assert.doesNotMatch(markdown, /^## cache-hit-1k/m);
    assert.match(markdown, /## proxy-1k, 50 connections/);
  });

  it('renders the coalescing round', () => {
    assert.match(markdown, /## Edge cache: request coalescing/);
    assert.match(markdown, /200 clients, each on its own connection/);
    assert.match(markdown, /\| rampart \| 200 \| 1 \| 200 \| 230 \|/);
    assert.match(markdown, /\| direct \| 200 \| 200 \| 200 \| 255 \|/);
  });

  it('renders the flights front page with and without the cache, and the ratio', () => {
    assert.match(markdown, /## Flights front page with and without the edge cache/);
    assert.match(markdown, /\| cache: false \| 176 \| 260\.35 \| 569\.16 \| 0\.0% \| 5\.670 \| 12\.850 \| 37\.800 \| 0 \| \(none\) \| \(none\) \|/);
    assert.match(markdown, /\| cache: true \| 3520 \| 12\.50 \| 40\.25 \| 100\.0% \| 2\.100 \| 0\.050 \| 0\.100 \| 0 \| `public, max-age=0, s-maxage=5, stale-while-revalidate=30` \| `rampart; hit` \|/);
    assert.match(markdown, /one server answers \*\*20\.0×\*\* the requests per second of `cache: false` at the same 50 connections/);
  });

  it('leaves the sections out of a run that did not measure them', () => {
    const plain = renderMarkdown(report, keptNotes(''));
    assert.doesNotMatch(plain, /Edge cache|Flights front page/);
  });

  it('keeps the notes and the failover section of the previous RESULTS.md', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-report-'));
    try {
      const previous = '# old\n\n## Notes\n\n<!-- notes:start -->\nhand-written\n<!-- notes:end -->\n\n<!-- failover:start -->\n### Failover\n| a | b |\n<!-- failover:end -->\n';
      writeFileSync(join(dir, 'RESULTS.md'), previous);
      const paths = writeReport(dir, cacheReport);
      const written = readFileSync(paths.markdown, 'utf8');
      assert.match(written, /<!-- notes:start -->\nhand-written\n<!-- notes:end -->\n\n<!-- failover:start -->\n### Failover\n\| a \| b \|\n<!-- failover:end -->\n$/);
      const json = JSON.parse(readFileSync(paths.json, 'utf8')) as Report;
      assert.equal(json.coalescing?.[1]?.upstreamRequests, 1);
      assert.equal(json.flights_front?.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
