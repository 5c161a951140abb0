// A tiny benchmark harness: every benchmark measures its cases against a baseline taken in the same
// run on the same machine, and writes the figures as JSON and a markdown table to results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export interface BenchCase {
  name: string;
  /** One timed repetition. Work done per repetition is `units` (samples, rows, requests…). */
  run: () => unknown | Promise<unknown>;
  units?: number;
  /** Untimed preparation before the repetitions. */
  setup?: () => unknown | Promise<unknown>;
}

export interface Target {
  /** What is claimed, in words: "≥ 1,000,000 samples/s". */
  description: string;
  holds: (results: Map<string, CaseResult>) => boolean;
}

export interface BenchSpec {
  name: string;
  unitName?: string;
  baseline: BenchCase;
  cases: BenchCase[];
  repeats?: number;
  warmups?: number;
  targets?: Target[];
  notes?: string[];
}

export interface CaseResult {
  name: string;
  repeats: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  unitsPerSecond?: number;
  /** Median time of this case over median time of the baseline. */
  timeRatioToBaseline: number;
  /** Throughput of this case over throughput of the baseline, when both have units. */
  rateRatioToBaseline?: number;
}

export interface BenchReport {
  name: string;
  date: string;
  machine: { node: string; platform: string; cpus: number };
  peakRssMb: number;
  baseline: CaseResult;
  cases: CaseResult[];
  targets: { description: string; holds: boolean }[];
  notes: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function timeCase(c: BenchCase, repeats: number, warmups: number): Promise<number[]> {
  await c.setup?.();
  for (let i = 0; i < warmups; i++) await c.run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await c.run();
    times.push(performance.now() - start);
  }
  return times;
}

function summarise(c: BenchCase, times: number[], baselineMedian?: number, baselineRate?: number): CaseResult {
  const medianMs = median(times);
  const unitsPerSecond = c.units ? c.units / (medianMs / 1000) : undefined;
  return {
    name: c.name,
    repeats: times.length,
    medianMs,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    unitsPerSecond,
    timeRatioToBaseline: baselineMedian ? medianMs / baselineMedian : 1,
    rateRatioToBaseline: unitsPerSecond && baselineRate ? unitsPerSecond / baselineRate : undefined,
  };
}

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export async function runBenchmark(spec: BenchSpec): Promise<BenchReport> {
  const repeats = spec.repeats ?? 10;
  const warmups = spec.warmups ?? 1;
  const baselineTimes = await timeCase(spec.baseline, repeats, warmups);
  const baseline = summarise(spec.baseline, baselineTimes);
  const cases: CaseResult[] = [];
  for (const c of spec.cases) {
    const times = await timeCase(c, repeats, warmups);
    cases.push(summarise(c, times, baseline.medianMs, baseline.unitsPerSecond));
  }
  const byName = new Map([baseline, ...cases].map((r) => [r.name, r]));
  const report: BenchReport = {
    name: spec.name,
    date: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: (await import('node:os')).cpus().length },
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    baseline,
    cases,
    targets: (spec.targets ?? []).map((t) => ({ description: t.description, holds: t.holds(byName) })),
    notes: spec.notes ?? [],
  };
  writeReport(report, spec.unitName ?? 'units');
  return report;
}

const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined ? '' : x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits);

export function renderMarkdown(report: BenchReport, unitName: string): string {
  const rows = [report.baseline, ...report.cases].map((r) =>
    `| ${r.name}${r === report.baseline ? ' (baseline)' : ''} | ${fmt(r.medianMs, 3)} | ${fmt(r.minMs, 3)} | ${fmt(r.unitsPerSecond)} | ${fmt(r.timeRatioToBaseline, 3)} | ${fmt(r.rateRatioToBaseline, 3)} |`);
  return [
    `# ${report.name}`,
    '',
    `${report.date} · node ${report.machine.node} · ${report.machine.platform} · ${report.machine.cpus} cpus · peak RSS ${report.peakRssMb} MB`,
    '',
    `| case | median ms | min ms | ${unitName}/s | time ÷ baseline | rate ÷ baseline |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...(report.targets.length ? ['Targets:', '', ...report.targets.map((t) => `- ${t.holds ? 'met' : 'MISSED'}: ${t.description}`), ''] : []),
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

function writeReport(report: BenchReport, unitName: string): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${report.name}.json`), JSON.stringify(report, null, 2) + '\n');
  const markdown = renderMarkdown(report, unitName);
  writeFileSync(join(resultsDir, `${report.name}.md`), markdown);
  console.log(markdown);
}
