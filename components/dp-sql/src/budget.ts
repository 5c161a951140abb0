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

export function parseBudget(budget: QueryBudget): { epsilon: Rational; delta: Rational } {
  const epsilon = parseAmount(budget?.epsilon, 'epsilon');
  const delta = budget?.delta === undefined ? Rational.ZERO : parseAmount(budget.delta, 'delta');
  if (!epsilon.isPositive() || epsilon.cmp(toRational(MAX_EPSILON)) > 0) {
    reject('invalid_budget', 'epsilon', `epsilon must be greater than 0 and at most ${MAX_EPSILON}`);
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
  const rhoShare = toRational(toRational(cdpRho(epsilon, delta)).div(new Rational(BigInt(measurements.length))).toDecimalString(15, 'down'));
  return measurements.map((m) => {
    const sensitivity = sensitivityOf(m, contribution);
    if (m.kind === 'quantile') return { mechanism: 'exponential', epsilon: epsilonForRho(rhoShare), sensitivity };
    return { mechanism: 'discrete-gaussian', sigma: toRational(gaussianSigmaForRho(sensitivity, rhoShare)), sensitivity };
  });
}

/** The largest decimal ε (12 digits, rounded down) with ε²/8 ≤ ρ: the ε-DP exponential mechanism is
 * ε²/8-zCDP (bounded range; exponentialMechanismCost in @veil/mechanisms). */
function epsilonForRho(rho: Rational): Rational {
  const value = new Decimal(rho.toDecimalString(30, 'down')).mul(8).sqrt().toSignificantDigits(12, Decimal.ROUND_DOWN);
  return toRational(value.toFixed());
}

/**
 * Laplace at ε/N per measurement has sd √2·Δ·N/ε; Gaussian at ρ/N has sd Δ·√(N/2ρ). Both sensitivities are
 * equal here (L1 = L2, see measurements.ts), so the choice depends on (ε, δ, N) only: Gaussian iff 4Nρ > ε².
 */
function gaussianIsBetter(epsilon: Rational, delta: Rational, n: number): boolean {
  const rho = toRational(cdpRho(epsilon, delta));
  return new Rational(BigInt(4 * n)).mul(rho).cmp(epsilon.mul(epsilon)) > 0;
}

/**
 * Laplace partition selection (Korolova et al. 2009; Wilson et al. 2020): noise of scale k/ε on each group's
 * count of distinct units (a unit is in at most k = maxGroups groups, so L1 = k), released when at least
 * τ = 1 + ⌈t·ln(k/δ)⌉. A group holding only the added unit passes with probability P(Z ≥ τ − 1) ≤ e^{−(τ−1)/t}
 * ≤ δ/k for the discrete Laplace, so at most δ over the unit's k groups.
 */
function selection(epsilon: Rational, delta: Rational, contribution: Contribution): PartitionSelection {
  const k = BigInt(contribution.maxGroups);
  const scale = new Rational(k).div(epsilon);
  const log = new Decimal(contribution.maxGroups).div(new Decimal(delta.toDecimalString(30, 'down'))).ln();
  const steps = new Decimal(scale.toDecimalString(30, 'up')).mul(log).ceil().toNumber();
  return { epsilon, delta, scale, sensitivity: k, threshold: 1 + steps };
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
