// Exact privacy accounting. Amounts are decimal strings; arithmetic is exact rational (sums, ε²/2, Δ²/2σ²)
// or 60-digit decimal (the transcendental conversions) with a safety margin, and every result is rounded in the
// conservative direction: costs and ε UP, caps and ρ-for-a-budget DOWN.
//
// zCDP ↔ (ε, δ) follows Canonne, Kamath and Steinke 2020 (Proposition 12 / Corollary 13) and Steinke's
// reference code (github.com/IBM/discrete-gaussian-differential-privacy, cdp2adp.py): for any α > 1,
//   δ(ρ, ε) ≤ exp((α−1)(αρ−ε) + α·ln(1−1/α)) / (α−1),
// minimised over α. The minimising α is found in binary floating point (any α > 1 gives a valid bound, so an
// imprecise search can only loosen it), then the bound is evaluated in 60-digit decimals and rounded up.
import type { Decimal } from 'decimal.js';
import { HP, MechanismError, Rational, nonNegativeRational, positiveRational, toRational, type RationalLike } from './rational.js';

/** The currency every brick charges in (decimal strings). (epsilon, delta): the (ε, δ)-DP guarantee used by
 * BASIC composition. (rho, rhoDelta): the approximate-zCDP guarantee (ρ, δ) used by zCDP composition. */
export interface PrivacyCost {
  epsilon: string;
  delta: string;
  rho: string;
  rhoDelta: string;
}

/** A total (ε, δ) granted to an analyst (or a dataset cap). */
export interface Grant {
  epsilon: RationalLike;
  delta: RationalLike;
}

export type CompositionMode = 'zcdp' | 'basic';

/** Significant digits of returned amounts. */
const DIGITS = 30;
/** Digits for field-wise sums: enough to keep any realistic sum of decimal strings exact. */
const SUM_DIGITS = 120;
/** Relative margin covering the last-digit error of 60-digit transcendental functions. */
const MARGIN = new HP('1e-45');

export const ZERO_COST: PrivacyCost = Object.freeze({ epsilon: '0', delta: '0', rho: '0', rhoDelta: '0' });

const up = (r: Rational): string => r.toDecimalString(DIGITS, 'up');
const decimalUp = (x: Decimal, digits = DIGITS): string => toRational(x.times(HP.add(1, MARGIN))).toDecimalString(digits, 'up');

function probability(x: RationalLike, what: string): Rational {
  const r = nonNegativeRational(x, what);
  if (r.cmp(Rational.ONE) > 0) throw new MechanismError(`${what} must be at most 1`);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Simple conversions (exact rationals).

/** ρ of a pure ε-DP mechanism: ε²/2 (rounded up). */
export function epsilonToRho(epsilon: RationalLike): string {
  const e = nonNegativeRational(epsilon, 'epsilon');
  return up(e.mul(e).div(new Rational(2n)));
}

/** ρ of the (discrete) Gaussian mechanism with sensitivity Δ and σ: Δ²/(2σ²) (rounded up). */
export function gaussianRho(sensitivity: RationalLike, sigma: RationalLike): string {
  const d = nonNegativeRational(sensitivity, 'sensitivity');
  const s = positiveRational(sigma, 'sigma');
  return up(d.mul(d).div(s.mul(s).mul(new Rational(2n))));
}

// ---------------------------------------------------------------------------------------------------------
// ρ-zCDP → (ε, δ) and back.

/** Steinke's α search in binary floating point (Number). Returns the α > 1 minimising the δ bound. */
function optimalAlpha(rho: number, eps: number): number {
  let amin = 1.01; // as in cdp2adp.py: the optimum is ≥ (1 + ε/ρ)/2, so this only binds when ε ≲ ρ
  let amax = (eps + 1) / (2 * rho) + 2;
  for (let i = 0; i < 200 && amax - amin > amin * 1e-15; i++) {
    const alpha = (amin + amax) / 2;
    const derivative = (2 * alpha - 1) * rho - eps + Math.log1p(-1 / alpha);
    if (derivative < 0) amin = alpha;
    else amax = alpha;
  }
  return (amin + amax) / 2;
}

/** The δ bound in binary floating point, for searches only (never returned). */
function cdpDeltaFloat(rho: number, eps: number): number {
  if (rho === 0) return 0;
  const alpha = optimalAlpha(rho, eps);
  const delta = Math.exp((alpha - 1) * (alpha * rho - eps) + alpha * Math.log1p(-1 / alpha)) / (alpha - 1);
  return Math.min(delta, 1);
}

/** The δ bound evaluated in 60-digit decimals at the float-optimal α: a rigorous upper bound (after MARGIN). */
function cdpDeltaDecimal(rho: Rational, eps: Rational): Decimal {
  if (rho.isZero()) return new HP(0);
  const alphaFloat = optimalAlpha(rho.toNumber(), eps.toNumber());
  if (!Number.isFinite(alphaFloat) || alphaFloat <= 1) throw new MechanismError('zCDP conversion out of range');
  const alpha = new HP(alphaFloat);
  const r = rho.toDecimal();
  const e = eps.toDecimal();
  const exponent = alpha.minus(1).times(alpha.times(r).minus(e)).plus(alpha.times(HP.ln(HP.sub(1, HP.div(1, alpha)))));
  const delta = HP.exp(exponent).div(alpha.minus(1));
  return HP.min(delta.times(HP.add(1, MARGIN)), 1);
}

/** Audit fix: δ bounds below this are returned as this (still an upper bound). Written out exactly, a bound
 * like e^(−2.5·10^9) (ρ = 1e-8, ε = 10) is a string of 10^9 digits (out of memory), and one below Decimal's
 * range underflowed to '0' (ρ = 1e-20, ε = 1), a δ rounded DOWN. */
const DELTA_FLOOR = new Rational(1n, 10n ** 1000n);

/** δ such that ρ-zCDP implies (ε, δ)-DP, tight (CKS20; Steinke's cdp_delta). Rounded up, at most 1, and at
 * least 1e-1000 when ρ > 0. */
export function cdpDelta(rho: RationalLike, epsilon: RationalLike): string {
  const r = nonNegativeRational(rho, 'rho');
  const e = nonNegativeRational(epsilon, 'epsilon');
  if (r.isZero()) return '0';
  const delta = cdpDeltaDecimal(r, e);
  if (delta.lt(DELTA_FLOOR.toDecimal())) return up(DELTA_FLOOR);
  const rounded = decimalUp(delta);
  // Audit fix: the margin and rounding up used to push a capped δ of 1 to 1.00…001, which no δ parser accepts.
  return toRational(rounded).cmp(Rational.ONE) > 0 ? '1' : rounded;
}

/** True when ρ-zCDP certainly implies (ε, δ)-DP. */
function zcdpImplies(rho: Rational, eps: Rational, delta: Rational): boolean {
  return cdpDeltaDecimal(rho, eps).lte(delta.toDecimal());
}

/** Smallest ε (to 15 significant digits, rounded up) such that ρ-zCDP implies (ε, δ)-DP (Steinke's cdp_eps). */
export function cdpEpsilon(rho: RationalLike, delta: RationalLike): string {
  const r = nonNegativeRational(rho, 'rho');
  const d = positiveRational(delta, 'delta');
  if (r.isZero() || d.cmp(Rational.ONE) >= 0) return '0';
  const rf = r.toNumber();
  const df = d.toNumber();
  let epsmin = 0;
  let epsmax = rf + 2 * Math.sqrt(rf * Math.log(1 / df)); // cdp_delta(ρ, epsmax) ≤ δ
  for (let i = 0; i < 200 && epsmax - epsmin > epsmax * 1e-16; i++) {
    const eps = (epsmin + epsmax) / 2;
    if (cdpDeltaFloat(rf, eps) <= df) epsmax = eps;
    else epsmin = eps;
  }
  // Round up, then certify in decimals; nudge upward until certified.
  let candidate = toRational(toRational(epsmax).toDecimalString(15, 'up'));
  for (let i = 0; !zcdpImplies(r, candidate, d); i++) {
    if (i > 60) throw new MechanismError('zCDP → (ε, δ) conversion did not converge');
    candidate = toRational(candidate.mul(toRational('1.000000000001')).toDecimalString(15, 'up'));
  }
  return candidate.toDecimalString(15, 'up');
}

/** Largest ρ (15 significant digits, rounded down) such that ρ-zCDP implies (ε, δ)-DP (Steinke's cdp_rho). */
export function cdpRho(epsilon: RationalLike, delta: RationalLike): string {
  const e = nonNegativeRational(epsilon, 'epsilon');
  const d = positiveRational(delta, 'delta');
  if (d.cmp(Rational.ONE) >= 0) throw new MechanismError('delta must be below 1');
  const ef = e.toNumber();
  const df = d.toNumber();
  let rhomin = 0;
  let rhomax = ef + 1; // cdp_delta(rhomax, ε) > δ
  for (let i = 0; i < 200 && rhomax - rhomin > rhomax * 1e-16; i++) {
    const rho = (rhomin + rhomax) / 2;
    if (cdpDeltaFloat(rho, ef) <= df) rhomin = rho;
    else rhomax = rho;
  }
  let candidate = toRational(toRational(rhomin).toDecimalString(15, 'down'));
  for (let i = 0; !candidate.isZero() && !zcdpImplies(candidate, e, d); i++) {
    if (i > 60) throw new MechanismError('(ε, δ) → zCDP conversion did not converge');
    candidate = toRational(candidate.mul(toRational('0.999999999999')).toDecimalString(15, 'down'));
  }
  return candidate.toDecimalString(15, 'down');
}

// ---------------------------------------------------------------------------------------------------------
// Gaussian calibration for basic composition.

/** Classic calibration (Dwork & Roth 2014, Thm A.1): σ > Δ·√(2 ln(1.25/δ))/ε gives (ε, δ)-DP for ε < 1.
 * Returns the ε for a given σ as an upper bound, or undefined when it is not below 1. */
function classicGaussianEpsilon(d: Rational, s: Rational, delta: Rational): Decimal | undefined {
  const c = HP.sqrt(HP.ln(new HP('1.25').div(delta.toDecimal())).times(2));
  const eps = c.times(d.toDecimal()).div(s.toDecimal()).times(HP.add(1, MARGIN));
  return eps.lt(1) ? eps : undefined;
}

/** An ε for which the Gaussian mechanism (Δ, σ) is (ε, δ)-DP: the smaller of the classic calibration
 * (when it applies, ε < 1) and the tight conversion of its ρ = Δ²/2σ². Rounded up (15 digits). */
export function gaussianEpsilon(sensitivity: RationalLike, sigma: RationalLike, delta: RationalLike): string {
  const d = nonNegativeRational(sensitivity, 'sensitivity');
  const s = positiveRational(sigma, 'sigma');
  const dl = probability(delta, 'delta');
  if (d.isZero()) return '0';
  if (dl.isZero()) throw new MechanismError('delta must be positive for a Gaussian (ε, δ) guarantee');
  const viaZcdp = toRational(cdpEpsilon(gaussianRho(d, s), dl));
  const classic = classicGaussianEpsilon(d, s, dl);
  const best = classic && toRational(classic).cmp(viaZcdp) < 0 ? toRational(classic) : viaZcdp;
  return best.toDecimalString(15, 'up');
}

/** σ for (ε, δ)-DP with sensitivity Δ: the smaller of the classic calibration (ε < 1) and Δ/√(2·cdpRho(ε, δ)).
 * Rounded up (15 digits). */
export function gaussianSigmaForEpsilonDelta(sensitivity: RationalLike, epsilon: RationalLike, delta: RationalLike): string {
  const d = positiveRational(sensitivity, 'sensitivity');
  const e = positiveRational(epsilon, 'epsilon');
  const dl = probability(delta, 'delta');
  if (dl.isZero()) throw new MechanismError('delta must be positive for the Gaussian mechanism');
  const viaZcdp = toRational(gaussianSigmaForRho(d, cdpRho(e, dl)));
  if (e.cmp(Rational.ONE) >= 0) return viaZcdp.toDecimalString(15, 'up');
  const c = HP.sqrt(HP.ln(new HP('1.25').div(dl.toDecimal())).times(2));
  const classic = toRational(decimalUp(c.times(d.toDecimal()).div(e.toDecimal()), 15));
  return (classic.cmp(viaZcdp) < 0 ? classic : viaZcdp).toDecimalString(15, 'up');
}

/** σ = Δ/√(2ρ), rounded up (15 digits) so that the Gaussian's real ρ is at most the target. */
export function gaussianSigmaForRho(sensitivity: RationalLike, rho: RationalLike): string {
  const d = nonNegativeRational(sensitivity, 'sensitivity');
  const r = positiveRational(rho, 'rho');
  return decimalUp(d.toDecimal().div(HP.sqrt(r.toDecimal().times(2))), 15);
}

// ---------------------------------------------------------------------------------------------------------
// Costs.

/** Pure ε-DP Laplace: { ε, 0, ε²/2, 0 }. */
export function laplaceCost(epsilon: RationalLike): PrivacyCost {
  const e = nonNegativeRational(epsilon, 'epsilon');
  return { epsilon: up(e), delta: '0', rho: epsilonToRho(e), rhoDelta: '0' };
}

/** Gaussian (Δ, σ): { gaussianEpsilon(Δ, σ, δBasic), δBasic, Δ²/2σ², 0 }. */
export function gaussianCost(sensitivity: RationalLike, sigma: RationalLike, deltaForBasic: RationalLike): PrivacyCost {
  const dl = probability(deltaForBasic, 'delta');
  return {
    epsilon: gaussianEpsilon(sensitivity, sigma, dl),
    delta: up(dl),
    rho: gaussianRho(sensitivity, sigma),
    rhoDelta: '0',
  };
}

/** DP partition selection at (ε, δ): { ε, δ, ε²/2, δ } (ε-DP on the released keys' noise, plus δ). */
export function partitionSelectionCost(epsilon: RationalLike, delta: RationalLike): PrivacyCost {
  const e = nonNegativeRational(epsilon, 'epsilon');
  const dl = probability(delta, 'delta');
  return { epsilon: up(e), delta: up(dl), rho: epsilonToRho(e), rhoDelta: up(dl) };
}

/** Exponential mechanism at ε: { ε, 0, ε²/8, 0 }. An ε-DP exponential mechanism is ε-bounded-range (Durfee &
 * Rogers 2019), and ε-bounded-range implies (ε²/8)-zCDP (Cesar & Rogers 2021, "Bounding, Concentrating, and
 * Truncating: Unifying Privacy Loss Composition for Data Analytics", ALT 2021, Lemma 3.2). */
export function exponentialMechanismCost(epsilon: RationalLike): PrivacyCost {
  const e = nonNegativeRational(epsilon, 'epsilon');
  return { epsilon: up(e), delta: '0', rho: up(e.mul(e).div(new Rational(8n))), rhoDelta: '0' };
}

const FIELDS = ['epsilon', 'delta', 'rho', 'rhoDelta'] as const;

function costField(c: PrivacyCost, f: (typeof FIELDS)[number]): Rational {
  return nonNegativeRational(c[f], `cost.${f}`);
}

/** Field-wise exact sum. */
export function addCosts(...costs: PrivacyCost[]): PrivacyCost {
  const total = { ...ZERO_COST };
  for (const f of FIELDS) {
    total[f] = costs.reduce((sum, c) => sum.add(costField(c, f)), Rational.ZERO).toDecimalString(SUM_DIGITS, 'up');
  }
  return total;
}

/** Field-wise partial order: 'less' when every field is ≤ and one is <, 'equal', 'greater', else 'incomparable'. */
export function compareCost(a: PrivacyCost, b: PrivacyCost): 'less' | 'equal' | 'greater' | 'incomparable' {
  const signs = FIELDS.map((f) => costField(a, f).cmp(costField(b, f)));
  if (signs.every((s) => s === 0)) return 'equal';
  if (signs.every((s) => s <= 0)) return 'less';
  if (signs.every((s) => s >= 0)) return 'greater';
  return 'incomparable';
}

function parseGrant(grant: Grant): { eps: Rational; delta: Rational } {
  return { eps: nonNegativeRational(grant.epsilon, 'grant epsilon'), delta: probability(grant.delta, 'grant delta') };
}

/** Whether a total spend (already composed with addCosts) stays within the grant.
 * zcdp: rhoDelta + cdpDelta(rho, grant.ε) ≤ grant.δ. basic: epsilon ≤ grant.ε and delta ≤ grant.δ. */
export function withinGrant(spent: PrivacyCost, grant: Grant, mode: CompositionMode): boolean {
  const g = parseGrant(grant);
  if (mode === 'basic') return costField(spent, 'epsilon').cmp(g.eps) <= 0 && costField(spent, 'delta').cmp(g.delta) <= 0;
  const rho = costField(spent, 'rho');
  const rhoDelta = costField(spent, 'rhoDelta');
  if (rhoDelta.cmp(g.delta) > 0) return false;
  if (rho.isZero()) return true;
  const remaining = g.delta.sub(rhoDelta);
  return !remaining.isZero() && zcdpImplies(rho, g.eps, remaining);
}

/** The scalar ρ cap of a grant in zCDP mode: cdpRho(grant.ε, grant.δ − rhoDeltaSpent), rounded down. */
export function zcdpRhoCap(grant: Grant, rhoDeltaSpent: RationalLike = 0): string {
  const g = parseGrant(grant);
  const remaining = g.delta.sub(nonNegativeRational(rhoDeltaSpent, 'rhoDeltaSpent'));
  if (!remaining.isPositive()) return '0';
  return cdpRho(g.eps, remaining);
}

/** The ε a spend amounts to under the grant's δ (for "remaining budget" displays), rounded up.
 * zcdp: cdpEpsilon(rho, grant.δ − rhoDelta); basic: spent.epsilon. */
export function spentEpsilon(spent: PrivacyCost, grant: Grant, mode: CompositionMode): string {
  if (mode === 'basic') return costField(spent, 'epsilon').toDecimalString(DIGITS, 'up');
  const g = parseGrant(grant);
  const remaining = g.delta.sub(costField(spent, 'rhoDelta'));
  if (!remaining.isPositive()) throw new MechanismError('the spend has used up the grant delta');
  return cdpEpsilon(costField(spent, 'rho'), remaining);
}
