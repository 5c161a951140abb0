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
  /**
   * Interleaved (the default): each repetition runs the baseline and then every case once, so drift in
   * machine load hits all of them alike and the ratios stay fair. Sequential: all repetitions of one case,
   * then the next — for cases that must not alternate (shared state between repetitions).
   */
  order?: 'interleaved' | 'sequential';
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

async function timeOnce(c: BenchCase): Promise<number> {
  const start = performance.now();
  await c.run();
  return performance.now() - start;
}

/** Median-ready timings per case, in the order of `all`. */
async function timeCases(all: BenchCase[], repeats: number, warmups: number, order: 'interleaved' | 'sequential'): Promise<number[][]> {
  const times: number[][] = all.map(() => []);
  if (order === 'sequential') {
    for (const [i, c] of all.entries()) {
      await c.setup?.();
      for (let w = 0; w < warmups; w++) await c.run();
      for (let r = 0; r < repeats; r++) times[i]!.push(await timeOnce(c));
    }
    return times;
  }
  for (const c of all) await c.setup?.();
  for (let w = 0; w < warmups; w++) for (const c of all) await c.run();
  for (let r = 0; r < repeats; r++) {
    for (const [i, c] of all.entries()) times[i]!.push(await timeOnce(c));
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
  const [baselineTimes, ...caseTimes] = await timeCases([spec.baseline, ...spec.cases], repeats, warmups, spec.order ?? 'interleaved');
  const baseline = summarise(spec.baseline, baselineTimes!);
  const cases = spec.cases.map((c, i) => summarise(c, caseTimes[i]!, baseline.medianMs, baseline.unitsPerSecond));
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
