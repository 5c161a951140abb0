// The noise stage: from the engine's pre-noise aggregates to the released answer. Separate from run() so
// the statistical tests can apply it many times to one pre-noise result; it always adds noise.
import {
  discreteGaussianSampler,
  discreteLaplaceSampler,
  exponentialMechanism,
  type CryptoRandom,
  type IntegerSampler,
  type PrivacyCost,
  type Rational,
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

/**
 * Exponential mechanism over the bins: a bin's score is minus the distance, in ranks, from q·n to the range of
 * ranks it holds. One unit moves every score by at most maxRows (its rows in this group), the sensitivity.
 */
function quantile(m: QuantileMeasurement, noise: NoiseParameters, histogram: bigint[], rng: CryptoRandom): Measured {
  const counts = histogram.length === m.bins ? histogram : new Array<bigint>(m.bins).fill(0n);
  const n = counts.reduce((a, b) => a + b, 0n);
  const target = m.q * Number(n);
  const scores: number[] = [];
  let below = 0;
  for (const c of counts) {
    const above = below + Number(c);
    scores.push(-Math.max(0, below - target, target - above));
    below = above;
  }
  const epsilon = epsilonOf(noise);
  const index = exponentialMechanism(scores, { sensitivity: noise.sensitivity, epsilon }, rng);
  return {
    value: binValue(m, index),
    mechanism: 'exponential',
    scale: (2 * Number(noise.sensitivity)) / epsilon.toNumber(),
    stddev: null,
    halfWidth: null,
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
