// MST's budget: ρ from (ε, δ) by the tight conversion, split into three exact shares (1-way measurements,
// tree selection, 2-way measurements), and the noise each share buys.
import { Decimal } from 'decimal.js';
import { Rational, cdpRho, type PrivacyCost } from '@veil/mechanisms';
import { SynthesisError } from './encoding.js';

const Exact = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN });

export interface MstBudget {
  /** The ρ of zCDP the run consumes; the three shares add up to it exactly. */
  readonly rho: string;
  readonly oneWay: string;
  readonly selection: string;
  readonly twoWay: string;
  readonly cost: PrivacyCost;
}

/** Checks ε > 0 and 0 < δ < 1 and returns them as canonical decimal strings. */
export function checkEpsilonDelta(epsilon: string | number, delta: string | number): { epsilon: string; delta: string } {
  const e = parseDecimal(epsilon, 'epsilon');
  const d = parseDecimal(delta, 'delta');
  if (!e.isFinite() || e.lte(0)) throw new SynthesisError('epsilon must be a positive number');
  if (!d.isFinite() || d.lte(0) || d.gte(1)) {
    throw new SynthesisError('delta must be above 0 and below 1 (MST adds Gaussian noise, which needs δ > 0)');
  }
  return { epsilon: e.toString(), delta: d.toString() };
}

function parseDecimal(value: string | number, what: string): Decimal {
  try {
    return new Exact(value);
  } catch {
    throw new SynthesisError(`${what} must be a number`);
  }
}

/** The budget of one MST run over `columns` columns at (ε, δ). With a single column there is nothing to
 * select or measure in pairs, so the whole ρ goes to the 1-way marginal. */
export function mstBudget(epsilon: string | number, delta: string | number, columns: number): MstBudget {
  const checked = checkEpsilonDelta(epsilon, delta);
  const rho = new Exact(cdpRho(checked.epsilon, checked.delta));
  if (!rho.gt(0)) throw new SynthesisError('epsilon and delta are too small to give any budget');
  const third = rho.div(3).toSignificantDigits(30, Decimal.ROUND_DOWN);
  const [oneWay, selection, twoWay] = columns > 1 ? [rho.minus(third.times(2)), third, third] : [rho, new Exact(0), new Exact(0)];
  return {
    rho: rho.toString(),
    oneWay: oneWay.toString(),
    selection: selection.toString(),
    twoWay: twoWay.toString(),
    cost: { epsilon: checked.epsilon, delta: checked.delta, rho: rho.toString(), rhoDelta: '0' },
  };
}

/** The cost of MST at (ε, δ), charged in full whatever the columns (the plan always spends all of ρ). */
export function mstCost(epsilon: string | number, delta: string | number): PrivacyCost {
  return mstBudget(epsilon, delta, 2).cost;
}

/** σ² = k·Δ²/(2ρ): k marginals of L2 sensitivity Δ sharing ρ, each measured at ρ/k. */
export function gaussianVariance(rho: string, marginals: number, sensitivity: number): Rational {
  const share = Rational.from(rho, 'rho');
  const scale = BigInt(marginals) * BigInt(sensitivity) * BigInt(sensitivity);
  return new Rational(scale * share.den, 2n * share.num);
}

/** The ε of each of `rounds` exponential-mechanism rounds sharing ρ: √(8ρ/rounds), rounded down, so that
 * rounds·ε²/8 ≤ ρ. */
export function selectionEpsilon(rho: string, rounds: number): string {
  return new Exact(rho).times(8).div(rounds).sqrt().toSignificantDigits(15, Decimal.ROUND_DOWN).toString();
}
