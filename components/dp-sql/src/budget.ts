// The budget split (README "Budget"): the analyst's (ε, δ) for one query is divided equally over the noisy
// measurements; partition selection, when keys are private, counts as one more share of ε and takes all of δ.
// With δ > 0 and public keys, the counts and sums use the Gaussian mechanism when, at this split, it gives a
// smaller standard deviation than Laplace (ρ from (ε, δ) by the tight conversion, split equally).
import { Decimal } from 'decimal.js';
import {
  Rational,
  addCosts,
  cdpRho,
  discreteGaussianHalfWidth,
  discreteLaplaceHalfWidth,
  exponentialMechanismCost,
  gaussianRho,
  gaussianSigmaForRho,
  laplaceCost,
  partitionSelectionCost,
  planPartitionSelection,
  toRational,
  type PrivacyCost,
} from '@veil/mechanisms';
import { reject } from './errors.js';
import type { Contribution, Measurement } from './measurements.js';
import { sensitivityOf } from './measurements.js';

/** What the analyst spends on one query. Decimal strings (or numbers) for exactness. */
export interface QueryBudget {
  epsilon: string | number;
  delta?: string | number;
}

export const MAX_EPSILON = 100;

export type NoiseParameters =
  | { mechanism: 'discrete-laplace'; epsilon: Rational; sensitivity: bigint; scale: Rational }
  | { mechanism: 'discrete-gaussian'; sigma: Rational; sensitivity: bigint }
  | { mechanism: 'exponential'; epsilon: Rational; sensitivity: bigint };

export interface PartitionSelection {
  epsilon: Rational;
  delta: Rational;
  /** Laplace scale on the count of distinct units: maxGroups/ε. */
  scale: Rational;
  sensitivity: bigint;
  /** A group is released when its noisy distinct-unit count is at least this. */
  threshold: number;
}

export interface BudgetSplit {
  epsilon: Rational;
  delta: Rational;
  noise: NoiseParameters[];
  partitionSelection: PartitionSelection | null;
  cost: PrivacyCost;
}

/** The smallest ε a query may spend. */
export const MIN_EPSILON = '0.000001';

export function parseBudget(budget: QueryBudget): { epsilon: Rational; delta: Rational } {
  const epsilon = parseAmount(budget?.epsilon, 'epsilon');
  const delta = budget?.delta === undefined ? Rational.ZERO : parseAmount(budget.delta, 'delta');
  // Below MIN_EPSILON the noise scales leave the exactly representable range of the samplers; such
  // answers would be pure noise anyway, so the request is refused up front with a clear reason.
  if (epsilon.cmp(toRational(MIN_EPSILON)) < 0 || epsilon.cmp(toRational(MAX_EPSILON)) > 0) {
    reject('invalid_budget', 'epsilon', `epsilon must be between ${MIN_EPSILON} and ${MAX_EPSILON}`);
  }
  if (delta.num < 0n || delta.cmp(toRational('0.01')) > 0) reject('invalid_budget', 'delta', 'delta must be between 0 and 0.01');
  return { epsilon, delta };
}

function parseAmount(value: unknown, name: string): Rational {
  const ok = (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^\s*\d*\.?\d+(e[+-]?\d{1,3})?\s*$/i.test(value));
  if (!ok) reject('invalid_budget', name, `${name} must be a non-negative decimal number`);
  return toRational(value as string | number, name);
}

export function splitBudget(
  measurements: Measurement[],
  contribution: Contribution,
  budget: { epsilon: Rational; delta: Rational },
  privateKeys: boolean,
): BudgetSplit {
  const { epsilon, delta } = budget;
  if (privateKeys && delta.isZero()) {
    reject('private_keys_need_delta', 'GROUP BY without public domain',
      'grouping by keys without a public domain (declared categories, bool, CASE literals or bins of bounded numbers) needs partition selection, which needs delta > 0; give a delta or group by public keys');
  }
  const shares = measurements.length + (privateKeys ? 1 : 0);
  // Rounded down to 15 significant digits so the shares' costs never add up to more than ε.
  const share = toRational(epsilon.div(new Rational(BigInt(shares))).toDecimalString(15, 'down'));
  const partitionSelection = privateKeys ? selection(share, delta, contribution) : null;
  const gaussian = !privateKeys && !delta.isZero() && gaussianIsBetter(epsilon, delta, measurements.length);
  const noise = gaussian ? gaussianNoise(measurements, contribution, epsilon, delta) : laplaceNoise(measurements, contribution, share);
  const costs = noise.map((n) => costOf(n));
  if (partitionSelection) costs.push(partitionSelectionCost(partitionSelection.epsilon, partitionSelection.delta));
  const total = addCosts(...costs);
  // Gaussian: the whole query is ρ-zCDP with ρ ≤ cdpRho(ε, δ), hence (ε, δ)-DP by the tight conversion.
  const cost = gaussian ? { ...total, epsilon: epsilon.toDecimalString(20, 'up'), delta: delta.toDecimalString(20, 'up') } : total;
  return { epsilon, delta, noise, partitionSelection, cost };
}

function costOf(n: NoiseParameters): PrivacyCost {
  switch (n.mechanism) {
    case 'discrete-laplace':
      return laplaceCost(n.epsilon);
    case 'exponential':
      return exponentialMechanismCost(n.epsilon);
    case 'discrete-gaussian':
      return { epsilon: '0', delta: '0', rho: gaussianRho(n.sensitivity, n.sigma), rhoDelta: '0' };
  }
}

function laplaceNoise(measurements: Measurement[], contribution: Contribution, share: Rational): NoiseParameters[] {
  return measurements.map((m) => {
    const sensitivity = sensitivityOf(m, contribution);
    if (m.kind === 'quantile') return { mechanism: 'exponential', epsilon: share, sensitivity };
    return { mechanism: 'discrete-laplace', epsilon: share, sensitivity, scale: new Rational(sensitivity).div(share) };
  });
}

function gaussianNoise(measurements: Measurement[], contribution: Contribution, epsilon: Rational, delta: Rational): NoiseParameters[] {
  const rhoShare = toRational(rhoFor(epsilon, delta).div(new Rational(BigInt(measurements.length))).toDecimalString(15, 'down'));
  return measurements.map((m) => {
    const sensitivity = sensitivityOf(m, contribution);
    if (m.kind === 'quantile') return { mechanism: 'exponential', epsilon: epsilonForRho(rhoShare), sensitivity };
    return { mechanism: 'discrete-gaussian', sigma: toRational(gaussianSigmaForRho(sensitivity, rhoShare)), sensitivity };
  });
}

/**
 * Conversions of public parameters are pure but take milliseconds at high precision (cdpRho, the partition
 * selection threshold); analysts repeat budgets, so results are remembered (bounded, oldest dropped first).
 */
const conversions = new Map<string, unknown>();
const CONVERSIONS_KEPT = 256;
function memo<T>(key: string, compute: () => T): T {
  if (conversions.has(key)) return conversions.get(key) as T;
  const value = compute();
  if (conversions.size >= CONVERSIONS_KEPT) conversions.delete(conversions.keys().next().value!);
  conversions.set(key, value);
  return value;
}

/** cdpRho(ε, δ) of @veil/mechanisms (rounded down) as a Rational. */
function rhoFor(epsilon: Rational, delta: Rational): Rational {
  return memo(`rho:${epsilon.toString()}:${delta.toString()}`, () => toRational(cdpRho(epsilon, delta)));
}

/** Decimal arithmetic for ρ → ε: well beyond the 12 digits kept, truncating (never rounding up). */
const FloorDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_FLOOR });
const EPSILON_DIGITS = 12;

/**
 * The ε an allotted ρ buys: a 12-significant-digit decimal ε, rounded DOWN, with ε²/8 ≤ ρ exactly — the ε-DP
 * exponential mechanism is ε²/8-zCDP (bounded range; exponentialMechanismCost in @veil/mechanisms). The square
 * root is taken at 40 digits rounding towards −∞, truncated, then certified in exact rationals (and stepped
 * down one unit in the last place should the check ever fail), so no decimal rounding can push ε²/8 above ρ.
 */
export function epsilonForRho(rho: Rational): Rational {
  if (!rho.isPositive()) throw new Error('internal: epsilonForRho needs rho > 0');
  let epsilon = new FloorDecimal(rho.toDecimalString(40, 'down')).mul(8).sqrt().toSignificantDigits(EPSILON_DIGITS, Decimal.ROUND_DOWN);
  const eighth = new Rational(1n, 8n);
  for (;;) {
    const candidate = toRational(epsilon.toFixed());
    if (candidate.isPositive() && candidate.mul(candidate).mul(eighth).cmp(rho) <= 0) return candidate;
    epsilon = epsilon.minus(new FloorDecimal(10).pow(epsilon.e - EPSILON_DIGITS + 1));
  }
}

/**
 * Laplace at ε/N per measurement has sd √2·Δ·N/ε; Gaussian at ρ/N has sd Δ·√(N/2ρ). Both sensitivities are
 * equal here (L1 = L2, see measurements.ts), so the choice depends on (ε, δ, N) only: Gaussian iff 4Nρ > ε².
 */
function gaussianIsBetter(epsilon: Rational, delta: Rational, n: number): boolean {
  const rho = rhoFor(epsilon, delta);
  return new Rational(BigInt(4 * n)).mul(rho).cmp(epsilon.mul(epsilon)) > 0;
}

/**
 * Laplace partition selection (Korolova et al. 2009; Wilson et al. 2020), planned by @veil/mechanisms'
 * planPartitionSelection: noise of scale k/ε on each group's count of distinct units (a unit is in at most
 * k = maxGroups groups, so L1 = k), released when the noisy count is at least τ, the smallest integer with
 * k·P(1 + Z ≥ τ) ≤ δ for the discrete Laplace Z (exact closed form, rounded up): a group holding only the added
 * unit passes with probability ≤ δ/k, so at most δ over the unit's k groups.
 */
function selection(epsilon: Rational, delta: Rational, contribution: Contribution): PartitionSelection {
  const k = BigInt(contribution.maxGroups);
  const planned = memo(`selection:${epsilon.toString()}:${delta.toString()}:${k}`, () => planPartitionSelection({ epsilon, delta, maxPartitions: contribution.maxGroups }));
  return { epsilon, delta, scale: planned.scale, sensitivity: k, threshold: Number(planned.threshold) };
}

/** Half-width of the 95% interval of a measurement's noise, in its own (grid) units. */
export function halfWidth95(noise: NoiseParameters): number | null {
  switch (noise.mechanism) {
    case 'discrete-laplace':
      return discreteLaplaceHalfWidth(noise.scale, '0.05');
    case 'discrete-gaussian':
      return discreteGaussianHalfWidth(noise.sigma, '0.05');
    case 'exponential':
      return null;
  }
}

/** Standard deviation of a measurement's noise (public arithmetic on the scale, in grid units). */
export function noiseStddev(noise: NoiseParameters): number | null {
  switch (noise.mechanism) {
    case 'discrete-laplace': {
      // Discrete Laplace with scale t: Var = 2e^{-1/t}/(1 − e^{-1/t})².
      const q = Math.exp(-1 / noise.scale.toNumber());
      return Math.sqrt((2 * q) / (1 - q) ** 2);
    }
    case 'discrete-gaussian':
      return noise.sigma.toNumber();
    case 'exponential':
      return null;
  }
}
