// The noise stage: from the engine's pre-noise aggregates to the released answer. Separate from run() so
// the statistical tests can apply it many times to one pre-noise result; it always adds noise.
import {
  discreteGaussianSampler,
  discreteLaplaceSampler,
  exponentialMechanism,
  exponentialMechanismLoss,
  Rational,
  toRational,
  type CryptoRandom,
  type IntegerSampler,
  type PrivacyCost,
} from '@veil/mechanisms';
import { halfWidth95, noiseStddev, type NoiseParameters } from './budget.js';
import { keyString } from './domain.js';
import type { Literal } from './ir.js';
import type { Measurement, QuantileMeasurement, SumMeasurement } from './measurements.js';
import type { OutputType, QueryPlan } from './plan.js';
import { postProcess, type ReleasedGroup } from './postprocess.js';

/** What the engine returned for one non-empty group, before any noise. Grid units for sums. */
export interface PreNoiseGroup {
  key: unknown[];
  /** Distinct units (rows without a privacy unit) after bounding. */
  units: bigint;
  /** Per measurement: count or grid sum (0n for quantile slots). */
  values: bigint[];
  /** Per quantile measurement index: counts per bin. */
  histograms: Map<number, bigint[]>;
}

export type Mechanism = 'discrete-laplace' | 'discrete-gaussian' | 'exponential';

export interface ValueAccuracy {
  mechanism: Mechanism;
  /** Laplace: t = Δ/ε; Gaussian: σ (both in the value's units); exponential: 2Δ/ε in ranks. For AVG,
   * VARIANCE and STDDEV: the scale of the sum's noise divided by the noisy count (approximate). */
  scale: number | null;
  /** Standard deviation of the noise on this value; a delta-method approximation when `approximate`. */
  stddev: number | null;
  /** 95% interval from the noise distribution; null for quantiles (see README) and derived expressions. */
  ci95: [number, number] | null;
  approximate: boolean;
  /**
   * Quantiles only: with probability ≥ 95% the released value's bin holds ranks within this many rows of q·n
   * (the exponential mechanism's utility bound; public, data-independent). A statement about ranks, not values.
   */
  rankHalfWidth95?: number;
}

export interface Answer {
  columns: { name: string; type: OutputType }[];
  rows: unknown[][];
  /** Per row and column: the noise on that value, null for group keys and constants. */
  accuracy: (ValueAccuracy | null)[][];
  charge: PrivacyCost;
  /** How groups were chosen: all public key values, or partition selection with its threshold. */
  groups: { selection: 'public'; released: number } | { selection: 'partition-selection'; threshold: number; released: number };
}

/** One aggregate's released value and its accuracy. */
export interface ReleasedValue {
  value: number | null;
  accuracy: ValueAccuracy;
}

/**
 * Integer noise from @veil/mechanisms' exact samplers (Canonne–Kamath–Steinke), prepared once per measurement
 * and drawn from CryptoRandom only; the same samplers integerLaplace/integerGaussian use, without re-deriving
 * the scale for each of hundreds of groups.
 */
function noiseSampler(noise: NoiseParameters): IntegerSampler | null {
  if (noise.mechanism === 'discrete-laplace') return discreteLaplaceSampler(noise.scale);
  if (noise.mechanism === 'discrete-gaussian') return discreteGaussianSampler(noise.sigma.mul(noise.sigma));
  return null;
}

function addNoise(value: bigint, sampler: IntegerSampler, rng: CryptoRandom): number {
  return Number(value + BigInt(sampler.sample(rng)));
}

export function release(plan: QueryPlan, groups: PreNoiseGroup[], rng: CryptoRandom): Answer {
  const chosen = plan.publicGroups ? publicGroups(plan, groups) : selectPartitions(plan, groups, rng);
  const samplers = plan.budget.noise.map(noiseSampler);
  const released: ReleasedGroup[] = chosen.map((group) => {
    const measured = plan.measurements.map((m, i) => measure(m, plan.budget.noise[i]!, samplers[i] ?? null, group, i, rng));
    return { key: group.key as Literal[], aggregates: plan.recipes.map((r) => combine(r, plan.measurements, measured)) };
  });
  const { rows, accuracy } = postProcess(plan.query, released);
  const selection = plan.budget.partitionSelection;
  return {
    columns: plan.columns,
    rows,
    accuracy,
    charge: plan.cost,
    groups: selection
      ? { selection: 'partition-selection', threshold: selection.threshold, released: released.length }
      : { selection: 'public', released: released.length },
  };
}

function emptyGroup(plan: QueryPlan, key: unknown[]): PreNoiseGroup {
  const histograms = new Map<number, bigint[]>();
  plan.measurements.forEach((m, i) => {
    if (m.kind === 'quantile') histograms.set(i, new Array<bigint>(m.bins).fill(0n));
  });
  return { key, units: 0n, values: plan.measurements.map(() => 0n), histograms };
}

/** Every public key tuple, in domain order; groups absent from the data are empty (and still noised). */
function publicGroups(plan: QueryPlan, groups: PreNoiseGroup[]): PreNoiseGroup[] {
  const byKey = new Map(groups.map((g) => [g.key.map(keyString).join('\u0000'), g]));
  return plan.publicGroups!.map((tuple) => {
    const found = byKey.get(tuple.map(keyString).join('\u0000'));
    return found ? { ...found, key: tuple } : emptyGroup(plan, tuple);
  });
}

function selectPartitions(plan: QueryPlan, groups: PreNoiseGroup[], rng: CryptoRandom): PreNoiseGroup[] {
  const selection = plan.budget.partitionSelection!;
  const sampler = discreteLaplaceSampler(selection.scale);
  return groups.filter((g) => addNoise(g.units, sampler, rng) >= selection.threshold);
}

interface Measured {
  /** Noisy value in real units (quantiles: the chosen value). */
  value: number;
  mechanism: Mechanism;
  scale: number | null;
  stddev: number | null;
  halfWidth: number | null;
  /** Quantiles: the exponential mechanism's 95% utility bound, in ranks. */
  rankHalfWidth95?: number;
}

function measure(m: Measurement, noise: NoiseParameters, sampler: IntegerSampler | null, group: PreNoiseGroup, index: number, rng: CryptoRandom): Measured {
  if (m.kind === 'quantile' || sampler === null) return quantile(m as QuantileMeasurement, noise, group.histograms.get(index) ?? [], rng);
  const unit = m.kind === 'sum' ? gridUnit(m) : 1;
  const noisy = addNoise(group.values[index] ?? 0n, sampler, rng);
  const stats = noiseStats(noise);
  return {
    value: noisy * unit,
    mechanism: noise.mechanism,
    scale: stats.scale * unit,
    stddev: stats.stddev * unit,
    halfWidth: stats.halfWidth * unit,
  };
}

function epsilonOf(noise: NoiseParameters): Rational {
  if (noise.mechanism === 'discrete-gaussian') throw new Error('internal: Gaussian noise has no epsilon');
  return noise.epsilon;
}

interface NoiseStats {
  scale: number;
  stddev: number;
  halfWidth: number;
}

/** Public figures of a noise distribution depend on its parameters only: computed once per distinct scale. */
const statsCache = new Map<string, NoiseStats>();
const STATS_CACHE_SIZE = 1024;
function noiseStats(noise: NoiseParameters): NoiseStats {
  const scale = noise.mechanism === 'discrete-gaussian' ? noise.sigma : noise.mechanism === 'discrete-laplace' ? noise.scale : null;
  const key = `${noise.mechanism}:${scale?.toString() ?? ''}`;
  let stats = statsCache.get(key);
  if (!stats) {
    stats = { scale: scale?.toNumber() ?? 0, stddev: noiseStddev(noise) ?? 0, halfWidth: halfWidth95(noise) ?? 0 };
    if (statsCache.size >= STATS_CACHE_SIZE) statsCache.delete(statsCache.keys().next().value!);
    statsCache.set(key, stats);
  }
  return stats;
}

export function gridUnit(m: SumMeasurement): number {
  return 2 ** -m.gridExponent;
}

/** q as an exact fraction a/b: the shortest decimal that reads back as the analyst's probability (0.9 → 9/10). */
export function quantileFraction(q: number): { a: bigint; b: bigint } {
  const r = toRational(String(q), 'quantile probability');
  return { a: r.num, b: r.den };
}

/**
 * Exact integer scores of the bins for q = a/b, never floating point on private counts: b times minus the
 * distance, in ranks, from q·n to the ranks a bin holds, −max(0, b·below − a·n, a·n − b·(below + c)). Adding or
 * removing one row changes b·below by 0 or b and a·n by a, so each term moves by at most max(a, b − a): the
 * sensitivity per row, times the unit's rows (quantileSensitivity). The same integer form as privateQuantile
 * of @veil/mechanisms, on the bins' rank ranges (which suit a histogram: a heavy bin holding q·n scores 0).
 */
export function quantileScores(histogram: readonly bigint[], q: { a: bigint; b: bigint }): (number | bigint)[] {
  const n = histogram.reduce((x, y) => x + y, 0n);
  // Every intermediate is an integer of magnitude ≤ b·n: exact in doubles below 2^53 (the usual case), else BigInt.
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  if (q.b <= safe && q.b * n <= safe) return scoresInNumbers(histogram.map(Number), Number(q.a), Number(q.b), Number(n));
  const target = q.a * n;
  const scores: bigint[] = [];
  let below = 0n;
  for (const count of histogram) {
    const above = below + count;
    const early = q.b * below - target;
    const late = target - q.b * above;
    const distance = early > late ? early : late;
    scores.push(distance > 0n ? -distance : 0n);
    below = above;
  }
  return scores;
}

/** quantileScores in exact integer arithmetic on doubles (callers ensure b, b·n ≤ 2^53 − 1). */
function scoresInNumbers(histogram: readonly number[], a: number, b: number, n: number): number[] {
  const target = a * n;
  const scores: number[] = [];
  let below = 0;
  for (const count of histogram) {
    const above = below + count;
    const distance = Math.max(b * below - target, target - b * above);
    scores.push(distance > 0 ? -distance : 0);
    below = above;
  }
  return scores;
}

/** Sensitivity of quantileScores when a unit adds or removes up to maxRows rows: maxRows·max(a, b − a). */
export function quantileSensitivity(q: { a: bigint; b: bigint }, maxRows: bigint): bigint {
  const perRow = q.a > q.b - q.a ? q.a : q.b - q.a;
  return maxRows * perRow;
}

/**
 * Public accuracy of a quantile: the exponential mechanism's utility bound (exponentialMechanismLoss of
 * @veil/mechanisms) converted from score units to ranks (÷ b): with probability ≥ 95% the released bin's rank
 * range is within this many rows of q·n. `scale` is the mechanism's temperature 2Δ/ε in ranks.
 */
export function quantileAccuracy(m: QuantileMeasurement, noise: NoiseParameters): { scale: number; rankHalfWidth95: number } {
  const key = `${m.q}:${m.bins}:${noise.sensitivity}:${epsilonOf(noise).toString()}`;
  let accuracy = quantileAccuracyCache.get(key);
  if (!accuracy) {
    accuracy = computeQuantileAccuracy(m, noise);
    if (quantileAccuracyCache.size >= STATS_CACHE_SIZE) quantileAccuracyCache.delete(quantileAccuracyCache.keys().next().value!);
    quantileAccuracyCache.set(key, accuracy);
  }
  return accuracy;
}

const quantileAccuracyCache = new Map<string, { scale: number; rankHalfWidth95: number }>();

function computeQuantileAccuracy(m: QuantileMeasurement, noise: NoiseParameters): { scale: number; rankHalfWidth95: number } {
  const q = quantileFraction(m.q);
  const epsilon = epsilonOf(noise);
  const sensitivity = quantileSensitivity(q, noise.sensitivity);
  const perRank = new Rational(sensitivity, q.b);
  const loss = exponentialMechanismLoss(m.bins, { sensitivity: perRank, epsilon }, '0.05');
  return { scale: perRank.mul(new Rational(2n)).div(epsilon).toNumber(), rankHalfWidth95: loss };
}

/** Exponential mechanism (exact, @veil/mechanisms) over the bins with quantileScores; the value is public. */
function quantile(m: QuantileMeasurement, noise: NoiseParameters, histogram: bigint[], rng: CryptoRandom): Measured {
  const counts = histogram.length === m.bins ? histogram : new Array<bigint>(m.bins).fill(0n);
  const q = quantileFraction(m.q);
  const scores = quantileScores(counts, q);
  const sensitivity = quantileSensitivity(q, noise.sensitivity);
  const index = exponentialMechanism(scores, { sensitivity, epsilon: epsilonOf(noise) }, rng);
  const accuracy = quantileAccuracy(m, noise);
  return {
    value: binValue(m, index),
    mechanism: 'exponential',
    scale: accuracy.scale,
    stddev: null,
    halfWidth: null,
    rankHalfWidth95: accuracy.rankHalfWidth95,
  };
}

export function binValue(m: QuantileMeasurement, index: number): number {
  if (m.integerBins) return m.lower + index;
  const width = (m.upper - m.lower) / m.bins;
  return m.lower + (index + 0.5) * width;
}

function exact(measured: Measured, value: number): ReleasedValue {
  const hw = measured.halfWidth;
  return {
    value,
    accuracy: {
      mechanism: measured.mechanism,
      scale: measured.scale,
      stddev: measured.stddev,
      ci95: hw === null ? null : [value - hw, value + hw],
      approximate: false,
      ...(measured.rankHalfWidth95 !== undefined ? { rankHalfWidth95: measured.rankHalfWidth95 } : {}),
    },
  };
}

function approximate(base: Measured, value: number, stddev: number, halfWidth: number, count: number): ReleasedValue {
  return {
    value,
    accuracy: {
      mechanism: base.mechanism,
      scale: base.scale === null ? null : base.scale / count,
      stddev,
      ci95: [value - halfWidth, value + halfWidth],
      approximate: true,
    },
  };
}

/** Builds an aggregate from its measurements; only post-processing of noisy values happens here. */
function combine(recipe: QueryPlan['recipes'][number], measurements: Measurement[], measured: Measured[]): ReleasedValue {
  const fn = recipe.call.fn;
  if (fn === 'count') return exact(measured[recipe.count!]!, measured[recipe.count!]!.value);
  if (fn === 'quantile') return exact(measured[recipe.quantile!]!, measured[recipe.quantile!]!.value);
  if (fn === 'sum') return exact(measured[recipe.sum!]!, measured[recipe.sum!]!.value);
  const count = measured[recipe.count!]!;
  const sum = measured[recipe.sum!]!;
  const spec = measurements[recipe.sum!] as SumMeasurement;
  if (fn === 'avg') return average(count, sum, spec);
  const squaresSpec = measurements[recipe.sumOfSquares!] as SumMeasurement;
  return variance(fn, count, sum, measured[recipe.sumOfSquares!]!, squaresSpec);
}

/**
 * AVG = centre + S̃/C̃ with S̃ the noisy centred sum and C̃ the noisy count (at least 1), clamped to the bounds.
 * Interval: delta method, half-widths combined in quadrature: √(h_S² + (avg − centre)²·h_C²)/C̃.
 */
function average(count: Measured, sum: Measured, spec: SumMeasurement): ReleasedValue {
  const n = Math.max(count.value, 1);
  const mean = sum.value / n;
  const raw = spec.centre + mean;
  const stddev = Math.hypot(sum.stddev ?? 0, mean * (count.stddev ?? 0)) / n;
  const halfWidth = Math.hypot(sum.halfWidth ?? 0, mean * (count.halfWidth ?? 0)) / n;
  const released = approximate(sum, raw, stddev, halfWidth, n);
  return { ...released, value: Math.min(spec.upper, Math.max(spec.lower, raw)) };
}

/**
 * VARIANCE from noisy count C̃, centred sum S̃ and centred sum of squares Q̃ (squares offset by h²/2):
 * var_pop = (Q̃/C̃ + h²/2) − (S̃/C̃)², var_samp = var_pop·C̃/(C̃ − 1), clamped to [0, max possible]; STDDEV its
 * root. Intervals by the delta method (approximate).
 */
function variance(fn: string, count: Measured, sum: Measured, squares: Measured, spec: SumMeasurement): ReleasedValue {
  const n = Math.max(count.value, 2);
  const mean = sum.value / n;
  const second = squares.value / n + spec.offset;
  const population = second - mean * mean;
  const correction = fn === 'var_samp' || fn === 'stddev_samp' ? n / (n - 1) : 1;
  const dCount = (2 * mean * mean - (second - spec.offset)) / n;
  const spread = (h: (m: Measured) => number): number =>
    correction * Math.hypot(h(squares) / n, (2 * mean * h(sum)) / n, dCount * h(count));
  const varHalfWidth = spread((m) => m.halfWidth ?? 0);
  const varStddev = spread((m) => m.stddev ?? 0);
  const raw = population * correction;
  const half = (spec.upper - spec.lower) / 2;
  const varValue = Math.min(Math.max(raw, 0), half * half * correction);
  if (fn === 'var_samp' || fn === 'var_pop') {
    const released = approximate(squares, raw, varStddev, varHalfWidth, n);
    return { ...released, value: varValue };
  }
  const sd = Math.sqrt(varValue);
  const sdRaw = Math.sqrt(Math.max(raw, 0));
  const derivative = sdRaw > 0 ? 1 / (2 * sdRaw) : 0;
  const halfWidth = derivative > 0 ? varHalfWidth * derivative : Math.sqrt(varHalfWidth);
  const stddev = derivative > 0 ? varStddev * derivative : Math.sqrt(varStddev);
  const released = approximate(squares, sdRaw, stddev, halfWidth, n);
  return { ...released, value: sd };
}
