// estimate(): the charge and each value's 95% half-width from the plan alone, before any data is read.
import type { PrivacyCost } from '@veil/mechanisms';
import { halfWidth95, noiseStddev, type NoiseParameters } from './budget.js';
import type { OutputExpr } from './ir.js';
import type { AggregateRecipe, Measurement, SumMeasurement } from './measurements.js';
import type { QueryPlan } from './plan.js';
import { gridUnit, quantileAccuracy, type Mechanism } from './release.js';

export interface ValueEstimate {
  mechanism: Mechanism;
  /** Laplace t or Gaussian σ in the value's units; exponential: 2Δ/ε in ranks. */
  scale: number | null;
  stddev: number | null;
  /** Half-width of the 95% interval (COUNT, SUM and affine maps of them); null when it depends on the data. */
  halfWidth95: number | null;
  /**
   * AVG: the half-width for a group of n values is about halfWidth95TimesCount / n (delta method, worst case
   * over where the mean lies within the bounds).
   */
  halfWidth95TimesCount?: number;
  /** Quantiles: with probability ≥ 95% the released value's bin holds ranks within this many rows of q·n (the
   * exponential mechanism's utility bound). A statement about ranks: no value interval is implied. */
  rankHalfWidth95?: number;
}

export interface Estimate {
  charge: PrivacyCost;
  /** One entry per output column; null for group keys and constants. */
  columns: { name: string; estimate: ValueEstimate | null }[];
  partitionSelection: { threshold: number; epsilon: string; delta: string } | null;
}

export function estimate(plan: QueryPlan): Estimate {
  const selection = plan.budget.partitionSelection;
  return {
    charge: plan.cost,
    columns: plan.query.outputs.map((o) => ({ name: o.name, estimate: outputEstimate(o.expr, plan) })),
    partitionSelection: selection
      ? { threshold: selection.threshold, epsilon: selection.epsilon.toDecimalString(20, 'up'), delta: selection.delta.toDecimalString(20, 'up') }
      : null,
  };
}

function outputEstimate(expr: OutputExpr, plan: QueryPlan): ValueEstimate | null {
  switch (expr.kind) {
    case 'aggregate':
      return aggregateEstimate(plan.recipes[expr.index]!, plan.measurements, plan.budget.noise);
    case 'negate':
      return scaled(outputEstimate(expr.operand, plan), -1);
    case 'arith': {
      const left = outputEstimate(expr.left, plan);
      const right = outputEstimate(expr.right, plan);
      const constant = (e: OutputExpr): number | null => (e.kind === 'number' ? e.value : null);
      if (left && !right) {
        const c = constant(expr.right);
        if (expr.op === '+' || expr.op === '-') return left;
        if (c !== null && c !== 0) return scaled(left, expr.op === '*' ? c : 1 / c);
        return opaque(left);
      }
      if (right && !left) {
        const c = constant(expr.left);
        if (expr.op === '+' || expr.op === '-') return right;
        if (c !== null && expr.op === '*') return scaled(right, c);
        return opaque(right);
      }
      return left ? opaque(left) : null;
    }
    default:
      return null;
  }
}

function scaled(e: ValueEstimate | null, factor: number): ValueEstimate | null {
  if (!e) return null;
  const a = Math.abs(factor);
  const times = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : a * x);
  return {
    ...e,
    // An exponential mechanism's scale (and rank bound) is in ranks: unchanged by scaling the value.
    scale: e.mechanism === 'exponential' ? e.scale : times(e.scale),
    stddev: times(e.stddev),
    halfWidth95: times(e.halfWidth95),
    ...(e.halfWidth95TimesCount !== undefined ? { halfWidth95TimesCount: a * e.halfWidth95TimesCount } : {}),
  };
}

function opaque(e: ValueEstimate): ValueEstimate {
  return { mechanism: e.mechanism, scale: null, stddev: null, halfWidth95: null };
}

function measurementEstimate(m: Measurement, noise: NoiseParameters): { scale: number | null; stddev: number | null; halfWidth: number | null } {
  const unit = m.kind === 'sum' ? gridUnit(m) : 1;
  const scale = noise.mechanism === 'discrete-laplace' ? noise.scale.toNumber() : noise.mechanism === 'discrete-gaussian' ? noise.sigma.toNumber() : null;
  const sd = noiseStddev(noise);
  const hw = halfWidth95(noise);
  return { scale: scale === null ? null : scale * unit, stddev: sd === null ? null : sd * unit, halfWidth: hw === null ? null : hw * unit };
}

function aggregateEstimate(recipe: AggregateRecipe, measurements: Measurement[], noise: NoiseParameters[]): ValueEstimate {
  const direct = recipe.count ?? recipe.sum ?? recipe.quantile!;
  const fn = recipe.call.fn;
  if (fn === 'count' || fn === 'sum') {
    const e = measurementEstimate(measurements[direct]!, noise[direct]!);
    return { mechanism: noise[direct]!.mechanism, scale: e.scale, stddev: e.stddev, halfWidth95: e.halfWidth };
  }
  if (fn === 'quantile') {
    const m = measurements[recipe.quantile!]!;
    if (m.kind !== 'quantile') throw new Error('internal: a quantile recipe without a quantile measurement');
    const { scale, rankHalfWidth95 } = quantileAccuracy(m, noise[recipe.quantile!]!);
    return { mechanism: 'exponential', scale, stddev: null, halfWidth95: null, rankHalfWidth95 };
  }
  const sum = measurementEstimate(measurements[recipe.sum!]!, noise[recipe.sum!]!);
  const count = measurementEstimate(measurements[recipe.count!]!, noise[recipe.count!]!);
  const spec = measurements[recipe.sum!] as SumMeasurement;
  const half = (spec.upper - spec.lower) / 2;
  const base: ValueEstimate = { mechanism: noise[recipe.sum!]!.mechanism, scale: null, stddev: null, halfWidth95: null };
  if (fn === 'avg') return { ...base, halfWidth95TimesCount: Math.hypot(sum.halfWidth ?? 0, half * (count.halfWidth ?? 0)) };
  return base;
}
