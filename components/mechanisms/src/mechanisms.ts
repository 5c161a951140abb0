// Privacy mechanisms. They take CryptoRandom only: SeededRandom is rejected at compile time (nominal type) and,
// for callers outside TypeScript, at run time.
import { sampleExponentialWeighted } from './exponential.js';
import { CryptoRandom } from './random.js';
import { HP, MechanismError, Rational, nonNegativeRational, positiveRational, toRational, type RationalLike } from './rational.js';
import { discreteGaussianSampler, discreteLaplaceSampler } from './samplers.js';

/** A released noisy value and a description of the noise it carries. */
export interface NoisyValue {
  /** The released value (true value + noise). */
  value: number;
  mechanism: 'discrete-laplace' | 'discrete-gaussian';
  /** Laplace: the scale t = Δ/ε; Gaussian: σ. In the units of `value` (real units for fixed-point sums). */
  scale: Rational;
  /** 0 for integer mechanisms; k for fixed-point sums (the noise lives on the 2^−k grid). */
  gridExponent: number;
}

function requireCrypto(rng: CryptoRandom): void {
  if (!(rng instanceof CryptoRandom)) throw new MechanismError('privacy mechanisms require a CryptoRandom source');
}

function integerInput(value: number | bigint, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new MechanismError(`${what} must be a safe integer or a bigint`);
  return BigInt(value);
}

/** Exact Δ/ε. */
export function laplaceScale(sensitivity: RationalLike, epsilon: RationalLike): Rational {
  return positiveRational(sensitivity, 'sensitivity').div(positiveRational(epsilon, 'epsilon'));
}

/** value + discrete Laplace(Δ/ε): ε-DP for an integer-valued query with sensitivity Δ. */
export function integerLaplace(
  value: number | bigint,
  params: { sensitivity?: RationalLike; epsilon: RationalLike },
  rng: CryptoRandom,
): NoisyValue {
  requireCrypto(rng);
  const v = integerInput(value, 'value');
  const scale = laplaceScale(params.sensitivity ?? 1, params.epsilon);
  const noise = discreteLaplaceSampler(scale).sample(rng);
  return { value: Number(v + BigInt(noise)), mechanism: 'discrete-laplace', scale, gridExponent: 0 };
}

/** value + discrete Gaussian with σ² = sigma²: ρ = Δ²/(2σ²)-zCDP for sensitivity Δ (cost: gaussianCost). */
export function integerGaussian(value: number | bigint, params: { sigma: RationalLike }, rng: CryptoRandom): NoisyValue {
  requireCrypto(rng);
  const v = integerInput(value, 'value');
  const sigma = positiveRational(params.sigma, 'sigma');
  const noise = discreteGaussianSampler(sigma.mul(sigma)).sample(rng);
  return { value: Number(v + BigInt(noise)), mechanism: 'discrete-gaussian', scale: sigma, gridExponent: 0 };
}

// ---------------------------------------------------------------------------------------------------------
// Fixed-point sums.

/** How a real-valued SUM is put on the 2^−k grid. */
export interface FixedPointPlan {
  /** Grid exponent: values are represented as integers round(x·2^k). */
  k: number;
  lower: number;
  upper: number;
  /** Sensitivity of the grid-integer sum (add/remove one unit contributing `contributions` values). */
  gridSensitivity: bigint;
  /** gridSensitivity·2^−k: the real-unit sensitivity to use for costs and accuracy (≥ the true one). */
  sensitivity: Rational;
  /** Clamp x to [lower, upper], then round(x·2^k) to nearest, ties toward +∞ (Math.round; exact). */
  toGrid(x: number): number;
}

/** Bits of resolution a bound gets on the default grid: max(|lower|, |upper|)·2^k ≤ 2^24. */
const DEFAULT_GRID_BITS = 24;

function defaultExponent(bound: Rational): number {
  if (bound.isZero()) return 0;
  // Largest k with bound·2^k ≤ 2^24; start from the bit-length estimate and correct exactly.
  let k = DEFAULT_GRID_BITS - (bound.num.toString(2).length - bound.den.toString(2).length);
  const limit = new Rational(1n << BigInt(DEFAULT_GRID_BITS));
  while (bound.mulPow2(k).cmp(limit) > 0) k--;
  while (bound.mulPow2(k + 1).cmp(limit) <= 0) k++;
  return k;
}

export function planFixedPoint(params: { lower: number; upper: number; contributions?: number; k?: number }): FixedPointPlan {
  const { lower, upper } = params;
  if (!Number.isFinite(lower) || !Number.isFinite(upper) || lower > upper) {
    throw new MechanismError('fixed-point bounds must be finite with lower ≤ upper');
  }
  const contributions = params.contributions ?? 1;
  if (!Number.isSafeInteger(contributions) || contributions < 1) throw new MechanismError('contributions must be a positive integer');
  const lo = toRational(lower);
  const hi = toRational(upper);
  const bound = lo.num < 0n ? (lo.neg().cmp(hi.num < 0n ? hi.neg() : hi) > 0 ? lo.neg() : hi.num < 0n ? hi.neg() : hi) : hi.num < 0n ? hi.neg() : hi;
  const k = params.k ?? defaultExponent(bound);
  if (!Number.isSafeInteger(k) || Math.abs(k) > 1000) throw new MechanismError('grid exponent k must be an integer in [−1000, 1000]');
  // Any rounding to an adjacent grid point stays within ⌈bound·2^k⌉, whatever the tie rule (SQL ROUND too).
  const perValue = bound.mulPow2(k).ceil();
  const gridSensitivity = perValue * BigInt(contributions);
  const scaleUp = 2 ** k;
  return {
    k,
    lower,
    upper,
    gridSensitivity,
    sensitivity: new Rational(gridSensitivity).mulPow2(-k),
    toGrid(x: number): number {
      if (Number.isNaN(x)) throw new MechanismError('toGrid needs a number');
      return Math.round(Math.min(Math.max(x, lower), upper) * scaleUp);
    },
  };
}

function gridResult(gridSum: number | bigint, noise: number, plan: FixedPointPlan): number {
  const total = integerInput(gridSum, 'grid sum') + BigInt(noise);
  return Number(total) * 2 ** -plan.k; // rounding to a double here is post-processing of the DP output
}

/** Σ toGrid(x) + discrete Laplace(gridSensitivity/ε), scaled back by 2^−k. ε-DP. */
export function fixedPointLaplaceSum(gridSum: number | bigint, plan: FixedPointPlan, epsilon: RationalLike, rng: CryptoRandom): NoisyValue {
  requireCrypto(rng);
  const gridScale = laplaceScale(new Rational(plan.gridSensitivity), epsilon);
  const noise = discreteLaplaceSampler(gridScale).sample(rng);
  return { value: gridResult(gridSum, noise, plan), mechanism: 'discrete-laplace', scale: gridScale.mulPow2(-plan.k), gridExponent: plan.k };
}

/** Σ toGrid(x) + discrete Gaussian with grid σ = sigma·2^k, scaled back. ρ = plan.sensitivity²/(2·sigma²). */
export function fixedPointGaussianSum(gridSum: number | bigint, plan: FixedPointPlan, sigma: RationalLike, rng: CryptoRandom): NoisyValue {
  requireCrypto(rng);
  const s = positiveRational(sigma, 'sigma');
  const gridSigma = s.mulPow2(plan.k);
  const noise = discreteGaussianSampler(gridSigma.mul(gridSigma)).sample(rng);
  return { value: gridResult(gridSum, noise, plan), mechanism: 'discrete-gaussian', scale: s, gridExponent: plan.k };
}

// ---------------------------------------------------------------------------------------------------------
// DP partition selection (a noisy threshold on distinct privacy units per group key).

export interface PartitionSelectionPlan {
  /** Discrete Laplace scale maxPartitions/ε. */
  scale: Rational;
  /** Keep a key when distinct units + noise ≥ threshold. */
  threshold: bigint;
}

/** Plan a noisy threshold so that releasing keys is (ε, δ)-DP when each unit touches ≤ maxPartitions keys
 * (Korolova et al. 2009; Wilson et al. 2020): discrete Laplace at scale t = maxPartitions/ε (ℓ1 sensitivity
 * maxPartitions), and τ the smallest integer with maxPartitions·P(1 + X ≥ τ) ≤ δ, where
 * P(X ≥ m) = e^(−m/t)/(1 + e^(−1/t)) for m ≥ 1. Cost: partitionSelectionCost(ε, δ). */
export function planPartitionSelection(params: { epsilon: RationalLike; delta: RationalLike; maxPartitions?: number }): PartitionSelectionPlan {
  const k = params.maxPartitions ?? 1;
  if (!Number.isSafeInteger(k) || k < 1) throw new MechanismError('maxPartitions must be a positive integer');
  const delta = positiveRational(params.delta, 'delta');
  if (delta.cmp(Rational.ONE) >= 0) throw new MechanismError('delta must be below 1');
  const scale = new Rational(BigInt(k)).div(positiveRational(params.epsilon, 'epsilon'));
  const t = scale.toDecimal();
  const q = HP.exp(HP.div(-1, t));
  // q^m/(1+q) ≤ δ/k  ⇔  m ≥ t·ln(k/(δ(1+q)))
  const m = t.times(HP.ln(new HP(k).div(delta.toDecimal().times(q.plus(1))))).times(HP.add(1, '1e-40'));
  const needed = m.ceil();
  const threshold = 1n + BigInt((needed.lt(1) ? new HP(1) : needed).toFixed(0));
  return { scale, threshold };
}

/** Whether to release a group key: distinctUnits + discrete Laplace noise ≥ threshold. */
export function selectPartition(distinctUnits: number | bigint, plan: PartitionSelectionPlan, rng: CryptoRandom): boolean {
  requireCrypto(rng);
  const count = integerInput(distinctUnits, 'distinct unit count');
  return count + BigInt(discreteLaplaceSampler(plan.scale).sample(rng)) >= plan.threshold;
}

// ---------------------------------------------------------------------------------------------------------
// Exponential mechanism.

export interface ExponentialParams {
  /** Sensitivity Δ of the scores. */
  sensitivity: RationalLike;
  epsilon: RationalLike;
  /** Scores move in one direction between neighbours: use ε/Δ instead of ε/(2Δ). */
  monotonic?: boolean;
}

/** Scores → integer deficits (s_max − s_i ≥ 0) and the extra denominator that makes them integers. */
function deficitsOf(scores: readonly (number | bigint)[]): { deficits: (number | bigint)[]; denominator: bigint } {
  if (scores.length === 0) throw new MechanismError('the exponential mechanism needs at least one candidate');
  if (scores.every((s) => typeof s === 'number' && Number.isSafeInteger(s))) {
    const nums = scores as readonly number[];
    let max = -Infinity;
    for (const s of nums) if (s > max) max = s;
    return { deficits: nums.map((s) => (max - s <= Number.MAX_SAFE_INTEGER ? max - s : BigInt(max) - BigInt(s))), denominator: 1n };
  }
  if (scores.every((s) => typeof s === 'bigint' || Number.isSafeInteger(s))) {
    const ints = scores.map((s) => BigInt(s));
    const max = ints.reduce((m, x) => (x > m ? x : m));
    return { deficits: ints.map((x) => max - x), denominator: 1n };
  }
  // General case: exact rationals (doubles are binary fractions) over a common power-of-two denominator.
  const rationals = scores.map((s, i) => {
    if (typeof s === 'number' && !Number.isFinite(s)) throw new MechanismError(`score ${i} is not finite`);
    return toRational(s);
  });
  const denominator = rationals.reduce((d, r) => (r.den > d ? r.den : d), 1n); // all powers of two (or 1)
  const ints = rationals.map((r) => (r.num * denominator) / r.den);
  const max = ints.reduce((m, x) => (x > m ? x : m));
  return { deficits: ints.map((x) => max - x), denominator };
}

function exponentialCoefficient(params: ExponentialParams, denominator: bigint): { num: bigint; den: bigint } {
  const eps = positiveRational(params.epsilon, 'epsilon');
  const sens = positiveRational(params.sensitivity, 'sensitivity');
  const c = eps.div(sens.mul(new Rational(params.monotonic ? 1n : 2n))).div(new Rational(denominator));
  return { num: c.num, den: c.den };
}

/** Exact exponential mechanism: index i with P(i) ∝ exp(ε·score_i/(2Δ)) (ε/Δ if monotonic). Higher is better. */
export function exponentialMechanism(scores: readonly (number | bigint)[], params: ExponentialParams, rng: CryptoRandom): number {
  requireCrypto(rng);
  const { deficits, denominator } = deficitsOf(scores);
  const c = exponentialCoefficient(params, denominator);
  return sampleExponentialWeighted(deficits, undefined, c.num, c.den, rng).index;
}

/** Exponential mechanism over groups of equally-scored outcomes: P(i) ∝ weights[i]·exp(ε·score_i/(2Δ)), and a
 * uniform offset within the group. weights: positive integers, total below 2^53. */
export function exponentialMechanismWeighted(
  scores: readonly (number | bigint)[],
  weights: readonly number[],
  params: ExponentialParams,
  rng: CryptoRandom,
): { index: number; offset: number } {
  requireCrypto(rng);
  if (weights.length !== scores.length) throw new MechanismError('scores and weights must have the same length');
  if (!weights.every((w) => Number.isSafeInteger(w) && w > 0)) throw new MechanismError('weights must be positive integers');
  const { deficits, denominator } = deficitsOf(scores);
  const c = exponentialCoefficient(params, denominator);
  return sampleExponentialWeighted(deficits, weights, c.num, c.den, rng);
}

/** Utility guarantee: with probability ≥ 1 − α the selected score is within this of the best score, for a
 * total candidate weight W (number of candidates, or grid points): (2Δ/ε)·ln(W/α) (Δ/ε if monotonic).
 * A public bound (McSherry & Talwar 2007), rounded up; for quantiles the score unit is one rank step times
 * max(a, b − a) for q = a/b. */
export function exponentialMechanismLoss(totalWeight: number, params: ExponentialParams, alpha: RationalLike = '0.05'): number {
  if (!Number.isSafeInteger(totalWeight) || totalWeight < 1) throw new MechanismError('totalWeight must be a positive integer');
  const a = positiveRational(alpha, 'alpha');
  const factor = positiveRational(params.sensitivity, 'sensitivity').mul(new Rational(params.monotonic ? 1n : 2n)).div(positiveRational(params.epsilon, 'epsilon'));
  const loss = factor.toDecimal().times(HP.ln(new HP(totalWeight).div(a.toDecimal())));
  return loss.toSignificantDigits(15, HP.ROUND_CEIL).toNumber();
}

// ---------------------------------------------------------------------------------------------------------
// Quantiles.

export interface QuantileParams {
  /** Public bounds of the column (metadata). */
  lower: number;
  upper: number;
  /** q ∈ [0, 1] ('0.5' for the median). */
  quantile: RationalLike;
  epsilon: RationalLike;
  /** Values one privacy unit may contribute (default 1). */
  contributions?: number;
  /** Number of grid points lower + j·(upper − lower)/(gridSize − 1) (default 2^20 + 1). */
  gridSize?: number;
}

const DEFAULT_QUANTILE_GRID = 2 ** 20 + 1;

/** DP q-quantile by the exponential mechanism over a bounded grid (ε-DP; cost: exponentialMechanismCost(ε)).
 * Score of grid point x: −|(1−q)·#{v < x} − q·#{v > x}| (in integer units q = a/b: −|(b−a)·lt − a·gt|),
 * sensitivity contributions·max(a, b−a) for adding or removing one unit. Points between consecutive data
 * values share a score, so the mechanism runs over at most 2n + 1 intervals weighted by their length. */
export function privateQuantile(values: readonly number[], params: QuantileParams, rng: CryptoRandom): number {
  requireCrypto(rng);
  const { lower, upper } = params;
  if (!Number.isFinite(lower) || !Number.isFinite(upper) || !(lower < upper)) {
    throw new MechanismError('quantile bounds must be finite with lower < upper');
  }
  const q = nonNegativeRational(params.quantile, 'quantile');
  if (q.cmp(Rational.ONE) > 0) throw new MechanismError('quantile must be in [0, 1]');
  const gridSize = params.gridSize ?? DEFAULT_QUANTILE_GRID;
  if (!Number.isSafeInteger(gridSize) || gridSize < 2 || gridSize > 2 ** 40) throw new MechanismError('gridSize must be an integer in [2, 2^40]');
  const contributions = params.contributions ?? 1;
  if (!Number.isSafeInteger(contributions) || contributions < 1) throw new MechanismError('contributions must be a positive integer');

  const step = (upper - lower) / (gridSize - 1);
  const { starts, lengths, lt, gt } = quantileIntervals(values, lower, upper, step, gridSize);
  const a = q.num;
  const b = q.den;
  const exactInNumbers = Number(b) * (values.length + 1) < 2 ** 53;
  const [an, bn] = [Number(a), Number(b)];
  const scores = lt.map((l, i): number | bigint => {
    if (exactInNumbers) return -Math.abs((bn - an) * l - an * gt[i]!);
    const s = (b - a) * BigInt(l) - a * BigInt(gt[i]!);
    return s < 0n ? s : -s;
  });
  const sensitivity = BigInt(contributions) * (a > b - a ? a : b - a);
  const { index, offset } = exponentialMechanismWeighted(scores, lengths, { sensitivity: sensitivity === 0n ? 1n : sensitivity, epsilon: params.epsilon }, rng);
  const j = starts[index]! + offset;
  return j === gridSize - 1 ? upper : Math.min(lower + j * step, upper);
}

/** Grid intervals of constant (lt, gt). Each value is snapped to its nearest grid point p (a per-record map, so
 * sensitivities hold) and counts in lt for grid points j > p and in gt for j < p, in neither at p itself: tied
 * values then make their own grid point the best candidate instead of a whole interval beside it. */
function quantileIntervals(values: readonly number[], lower: number, upper: number, step: number, gridSize: number) {
  const n = values.length;
  const points = gridSize <= 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) throw new MechanismError('quantile values must be numbers');
    points[i] = Math.min(Math.max(Math.round((v - lower) / step), 0), gridSize - 1);
  }
  points.sort();
  // Sweep the grid: at each data point p the interval [p, p] has lt = #{< p}, gt = #{> p}; between data points
  // the open gaps have lt = #{≤ left}, gt = #{≥ right}.
  const starts: number[] = [];
  const lengths: number[] = [];
  const lt: number[] = [];
  const gt: number[] = [];
  const push = (start: number, end: number, below: number, above: number): void => {
    if (end <= start) return;
    starts.push(start);
    lengths.push(end - start);
    lt.push(below);
    gt.push(above);
  };
  let position = 0;
  let i = 0;
  while (i < n) {
    const p = points[i]!;
    let j = i;
    while (j < n && points[j] === p) j++;
    push(position, p, i, n - i); // the gap before p
    push(p, p + 1, i, n - j); // p itself
    position = p + 1;
    i = j;
  }
  push(position, gridSize, n, 0);
  return { starts, lengths, lt, gt };
}
