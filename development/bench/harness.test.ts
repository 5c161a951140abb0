import { describe, expect, it } from 'vitest';
import { renderMarkdown, type BenchReport } from './harness.js';

describe('bench harness', () => {
  it('renders ratios against the baseline and the targets', () => {
    const report: BenchReport = {
      name: 'example', date: '2026-01-01T00:00:00.000Z', machine: { node: 'v20', platform: 'linux-x64', cpus: 2 },
      peakRssMb: 50,
      baseline: { name: 'raw', repeats: 3, medianMs: 10, minMs: 9, maxMs: 11, unitsPerSecond: 1000, timeRatioToBaseline: 1 },
      cases: [{ name: 'dp', repeats: 3, medianMs: 12, minMs: 11, maxMs: 13, unitsPerSecond: 833, timeRatioToBaseline: 1.2, rateRatioToBaseline: 0.833 }],
      targets: [{ description: 'dp ≤ 1.3× raw', holds: true }],
      notes: [],
    };
    const md = renderMarkdown(report, 'rows');
    expect(md).toContain('| dp | 12.000 | 11.000 | 833.00 | 1.200 | 0.833 |');
    expect(md).toContain('- met: dp ≤ 1.3× raw');
  });
});
