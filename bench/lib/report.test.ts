import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptNotes, renderMarkdown, type Report } from './report.ts';

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
