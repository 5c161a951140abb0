// Accuracy from the exact discrete noise distributions. Inputs are public (scales, α), so binary floating point
// is acceptable here; results err on the wide side (half-widths rounded up, scales for a target rounded down).
import { HP, MechanismError, Rational, positiveRational, toRational, type RationalLike } from './rational.js';
import type { NoisyValue } from './mechanisms.js';

const DEFAULT_ALPHA = '0.05';

function alphaOf(alpha: RationalLike | undefined): Rational {
  const a = positiveRational(alpha ?? DEFAULT_ALPHA, 'alpha');
  if (a.cmp(Rational.ONE) >= 0) throw new MechanismError('alpha must be below 1');
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// Discrete Laplace: P(|X| > h) = 2·e^(−(h+1)/t) / (1 + e^(−1/t)), in closed form.

function laplaceHalfWidthExact(t: Rational, alpha: Rational): number {
  const td = t.toDecimal();
  const q = HP.exp(HP.div(-1, td)); // e^(−1/t)
  // smallest h ≥ 0 with (h + 1) ≥ −t·ln(α(1 + q)/2)
  const bound = td.neg().times(HP.ln(alpha.toDecimal().times(q.plus(1)).div(2)));
  const h = bound.times(HP.add(1, '1e-40')).ceil().minus(1);
  return Math.max(0, h.toNumber());
}

/**
 * Half-widths already computed, by scale and α: the high-precision exp and ln take ~1.5 ms, and every plan
 * of a query asks again for the same few scales. A pure function of public inputs, so caching is safe.
 */
const laplaceHalfWidths = new Map<string, number>();
const LAPLACE_HALF_WIDTHS_MAX = 4096;

/** Smallest integer h ≥ 0 with P(|X| ≤ h) ≥ 1 − α for the discrete Laplace with scale t. */
export function discreteLaplaceHalfWidth(scale: RationalLike, alpha?: RationalLike): number {
  const t = positiveRational(scale, 'scale');
  const a = alphaOf(alpha);
  const key = `${t.toString()}|${a.toString()}`;
  let h = laplaceHalfWidths.get(key);
  if (h === undefined) {
    h = laplaceHalfWidthExact(t, a);
    if (laplaceHalfWidths.size >= LAPLACE_HALF_WIDTHS_MAX) laplaceHalfWidths.delete(laplaceHalfWidths.keys().next().value!);
    laplaceHalfWidths.set(key, h);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------------------
// Discrete Gaussian: P(x) = e^(−x²/2σ²)/Z. Summed term by term for σ ≤ DIRECT_SIGMA; beyond, the mass is
// erf((h + ½)/(σ√2)) up to errors far below 10^−12 (Poisson summation and the midpoint rule), so a guard
// of 10^−9 on α keeps the answer on the wide side.

const DIRECT_SIGMA = 5000;
const ALPHA_GUARD = 1 - 1e-9;

function gaussianHalfWidthDirect(sigma: number, alpha: number): number {
  const last = Math.ceil(40 * sigma) + 1; // beyond 40σ terms are below 10^−340
  const twoSigma2 = 2 * sigma * sigma;
  const tail = new Float64Array(last + 2); // tail[x] = Σ_{y ≥ x} e^(−y²/2σ²), summed from the small end
  for (let x = last; x >= 1; x--) tail[x] = tail[x + 1]! + Math.exp(-(x * x) / twoSigma2);
  const z = 1 + 2 * tail[1]!;
  for (let h = 0; h <= last; h++) if ((2 * tail[h + 1]!) / z <= alpha * ALPHA_GUARD) return h;
  return last;
}

/** erfc for x ≥ 0 to ~1e−14 relative: series below 2, continued fraction (Lentz) above. */
function erfc(x: number): number {
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

function gaussianHalfWidthContinuous(sigma: number, alpha: number): number {
  const tailAbove = (h: number): number => erfc((h + 0.5) / (sigma * Math.SQRT2)); // P(|X| > h)
  let lo = -1; // tail(lo) > α (h = −1 means "nothing")
  let hi = Math.ceil(40 * sigma);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tailAbove(mid) <= alpha * ALPHA_GUARD) hi = mid;
    else lo = mid;
  }
  return hi;
}

function gaussianHalfWidthNumber(sigma: number, alpha: number): number {
  return sigma <= DIRECT_SIGMA ? gaussianHalfWidthDirect(sigma, alpha) : gaussianHalfWidthContinuous(sigma, alpha);
}

/** Smallest integer h ≥ 0 with P(|X| ≤ h) ≥ 1 − α for the discrete Gaussian with σ² = sigma². */
export function discreteGaussianHalfWidth(sigma: RationalLike, alpha?: RationalLike): number {
  return gaussianHalfWidthNumber(positiveRational(sigma, 'sigma').toNumber(), alphaOf(alpha).toNumber());
}

// ---------------------------------------------------------------------------------------------------------
// Inverses: the largest scale whose half-width stays within a target (6 significant digits, rounded down).

function largestScale(halfWidth: RationalLike, fits: (scale: Rational) => boolean): string {
  const h = toRational(halfWidth, 'halfWidth');
  if (h.num < 0n) throw new MechanismError('halfWidth must not be negative');
  let lo = 0;
  let hi = Math.max(1, h.toNumber() + 1);
  while (fits(toRational(hi))) hi *= 2;
  for (let i = 0; i < 80 && hi - lo > hi * 1e-9; i++) {
    const mid = (lo + hi) / 2;
    if (fits(toRational(mid))) lo = mid;
    else hi = mid;
  }
  if (lo === 0) throw new MechanismError('no positive scale meets that half-width at this alpha');
  let candidate = toRational(toRational(lo).toDecimalString(6, 'down'));
  while (!fits(candidate)) candidate = toRational(candidate.mul(toRational('0.99999')).toDecimalString(6, 'down'));
  return candidate.toDecimalString(6, 'down');
}

/** Largest discrete-Laplace scale t (decimal string) with half-width ≤ h at level α. Then ε = Δ/t. */
export function laplaceScaleForHalfWidth(halfWidth: RationalLike, alpha?: RationalLike): string {
  const a = alphaOf(alpha);
  const h = toRational(halfWidth, 'halfWidth');
  return largestScale(h, (t) => laplaceHalfWidthExact(t, a) <= h.toNumber());
}

/** Largest σ (decimal string) whose discrete Gaussian has half-width ≤ h at level α. */
export function gaussianSigmaForHalfWidth(halfWidth: RationalLike, alpha?: RationalLike): string {
  const a = alphaOf(alpha).toNumber();
  const h = toRational(halfWidth, 'halfWidth');
  return largestScale(h, (s) => gaussianHalfWidthNumber(s.toNumber(), a) <= h.toNumber());
}

/** Half-width of the (1 − α) interval of a released value's noise, in the value's units. */
export function noiseHalfWidth(noise: Pick<NoisyValue, 'mechanism' | 'scale' | 'gridExponent'>, alpha?: RationalLike): number {
  const gridScale = noise.scale.mulPow2(noise.gridExponent);
  const h = noise.mechanism === 'discrete-laplace' ? discreteLaplaceHalfWidth(gridScale, alpha) : discreteGaussianHalfWidth(gridScale, alpha);
  return h * 2 ** -noise.gridExponent;
}
