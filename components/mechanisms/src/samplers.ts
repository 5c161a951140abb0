// Exact samplers of Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS
// 2020), Algorithms 1–3. Every step compares uniform integers against exact rationals: plain Number arithmetic
// while all intermediates are integers below 2^53, BigInt otherwise. No floating-point value is ever sampled.
import { ExpNegExpansion } from './expansion.js';
import type { RandomSource } from './random.js';
import { MechanismError, Rational, nonNegativeRational, positiveRational, type RationalLike } from './rational.js';

/** A sampler with its parameter prepared once (the fast way to draw many samples at one scale). */
export interface IntegerSampler {
  /** One sample: an exact integer returned as a JS number. */
  sample(rng: RandomSource): number;
}

const TWO_53 = 9007199254740992;
/** Parameters below this use the Number fast path: products with small factors (K, V) stay below 2^53. */
const FAST_LIMIT = 2 ** 40;
/** Exponents γ = num/den on the Number path: num below 2^52 and den below 2^48 keep ⌊γ⌋·den + rest exact. */
const GAMMA_NUM_LIMIT = 2 ** 52;
const GAMMA_DEN_LIMIT = 2 ** 48;
/** √(2^52): a magnitude m with |m| below this has m² below 2^52. */
const SQRT_GAMMA_NUM_LIMIT = 2 ** 26;

// ---------------------------------------------------------------------------------------------------------
// Bernoulli(p), p = num/den ∈ [0, 1].

/** Bernoulli(num/den) for safe integers 0 ≤ num ≤ den. */
function bernoulliNum(num: number, den: number, rng: RandomSource): boolean {
  return rng.uniformInt(den) < num;
}

/** Bernoulli(num/den) for bigints 0 ≤ num ≤ den of any size: compare 53 random bits at a time against the
 * binary expansion of num/den; on a tie (probability 2^−53) continue with the remaining fraction. */
function bernoulliBig(num: bigint, den: bigint, rng: RandomSource): boolean {
  for (;;) {
    if (den <= BigInt(TWO_53)) return bernoulliNum(Number(num), Number(den), rng);
    const scaled = num << 53n;
    const threshold = scaled / den; // ⌊(num/den)·2^53⌋ < 2^53
    const u = BigInt(rng.uniformInt(TWO_53));
    if (u < threshold) return true;
    if (u > threshold) return false;
    num = scaled - threshold * den; // the uniform's remaining bits decide against frac((num/den)·2^53)
  }
}

export function sampleBernoulli(p: RationalLike, rng: RandomSource): boolean {
  const r = nonNegativeRational(p, 'Bernoulli probability p');
  if (r.num > r.den) throw new MechanismError('Bernoulli probability p must be at most 1');
  return bernoulliBig(r.num, r.den, rng);
}

// ---------------------------------------------------------------------------------------------------------
// Bernoulli(exp(−γ)), γ = num/den ≥ 0 (CKS Algorithm 1), with an exact fast path for frequent fixed γ:
// comparison with the binary expansion of e^(−γ) (expansion.ts), which one 32-bit word almost always settles.

/** After the first words tied: compare the following words of U and of the expansion. */
function continueExpansion(c: ExpNegExpansion, rng: RandomSource): boolean {
  for (let j = 1; ; j++) {
    const u = rng.uint32();
    const e = c.word(j);
    if (u !== e) return u < e;
  }
}

/** Bernoulli(e^(−x)) from the expansion of e^(−x), x > 0. */
function bernoulliExpansion(c: ExpNegExpansion, rng: RandomSource): boolean {
  const w = rng.uint32();
  return w !== c.first ? w < c.first : continueExpansion(c, rng);
}

const EXP_MINUS_ONE = new ExpNegExpansion(1n, 1n);
const EXP_MINUS_ONE_FIRST = EXP_MINUS_ONE.first;

/** Bernoulli(exp(−1)). */
function bernoulliExpMinusOne(rng: RandomSource): boolean {
  const w = rng.uint32();
  return w !== EXP_MINUS_ONE_FIRST ? w < EXP_MINUS_ONE_FIRST : continueExpansion(EXP_MINUS_ONE, rng);
}

/** Lazily built expansions of e^(−γ_i) for a family of exponents indexed by small integers i, so a sampler that
 * meets the same γ again and again pays the BigInt work once per γ. Entries with γ_i = 0 are always true. */
class ExpansionTable {
  private readonly entries: (ExpNegExpansion | null | undefined)[];
  constructor(
    size: number,
    private readonly gamma: (i: number) => Rational,
  ) {
    this.entries = new Array(size);
  }

  bernoulli(i: number, rng: RandomSource): boolean {
    let c = this.entries[i];
    if (c === undefined) {
      const g = this.gamma(i);
      c = g.isZero() ? null : new ExpNegExpansion(g.num, g.den);
      this.entries[i] = c;
    }
    return c === null || bernoulliExpansion(c, rng);
  }
}

/** Bernoulli(exp(−num/den)) for integers 0 ≤ num ≤ den < 2^48 (γ ∈ [0, 1]). */
function bernoulliExpFractionNum(num: number, den: number, rng: RandomSource): boolean {
  if (num === 0) return true;
  let k = 1;
  for (;;) {
    const bound = den * k;
    const success = bound < TWO_53 ? rng.uniformInt(bound) < num : bernoulliBig(BigInt(num), BigInt(den) * BigInt(k), rng);
    if (!success) break;
    k++;
  }
  return (k & 1) === 1;
}

/** Bernoulli(exp(−num/den)) for integers 0 ≤ num < 2^52, 0 < den < 2^48. */
function bernoulliExpNum(num: number, den: number, rng: RandomSource): boolean {
  let whole = Math.floor(num / den);
  let rest = num - whole * den; // exact: integers below 2^53; repair any rounding of the quotient
  if (rest < 0) { whole--; rest += den; } else if (rest >= den) { whole++; rest -= den; }
  for (let i = 0; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
  return bernoulliExpFractionNum(rest, den, rng);
}

/** Bernoulli(exp(−num/den)) for bigints num ≥ 0, den > 0. */
function bernoulliExpBig(num: bigint, den: bigint, rng: RandomSource): boolean {
  if (num < BigInt(GAMMA_NUM_LIMIT) && den < BigInt(GAMMA_DEN_LIMIT)) return bernoulliExpNum(Number(num), Number(den), rng);
  const whole = num / den;
  const rest = num - whole * den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
  if (rest === 0n) return true;
  let k = 1n;
  while (bernoulliBig(rest, den * k, rng)) k++;
  return (k & 1n) === 1n;
}

export function sampleBernoulliExp(gamma: RationalLike, rng: RandomSource): boolean {
  const g = nonNegativeRational(gamma, 'Bernoulli-exp parameter γ');
  return bernoulliExpBig(g.num, g.den, rng);
}

// ---------------------------------------------------------------------------------------------------------
// Discrete Laplace, P(x) ∝ exp(−|x|/t), t = num/den (CKS Algorithm 2 with their t/s = num/den).

function toSafeNumber(x: bigint): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MechanismError('sample outside the safe integer range; the scale is too large for number samples');
  }
  return Number(x);
}

/** Numerators up to this get an expansion table for the Bernoulli(exp(−u/num)) step. */
const TABLE_LIMIT = 1024;

/** Fast path: numerator and denominator below 2^40, all arithmetic in exact Numbers. */
function laplaceNum(num: number, den: number, table: ExpansionTable | undefined, rng: RandomSource): number {
  for (;;) {
    const u = num === 1 ? 0 : rng.uniformInt(num);
    if (u !== 0 && !(table ? table.bernoulli(u, rng) : bernoulliExpFractionNum(u, num, rng))) continue;
    let v = 0;
    while (bernoulliExpMinusOne(rng)) v++;
    const x = u + num * v; // < 2^53 unless v > 2^13 (probability e^−8192); guarded below
    if (x >= TWO_53) return toSafeNumber(laplaceMagnitudeBig(BigInt(u), BigInt(num), BigInt(v), BigInt(den)) * (rng.bit() ? -1n : 1n));
    const y = den === 1 ? x : Math.floor(x / den);
    const negative = rng.bit() === 1;
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

function laplaceMagnitudeBig(u: bigint, num: bigint, v: bigint, den: bigint): bigint {
  return (u + num * v) / den;
}

/** General path for huge numerators or denominators. */
function laplaceBig(num: bigint, den: bigint, rng: RandomSource): bigint {
  for (;;) {
    const u = rng.uniformBigInt(num);
    if (!bernoulliExpBig(u, num, rng)) continue;
    let v = 0n;
    while (bernoulliExpMinusOne(rng)) v++;
    const y = laplaceMagnitudeBig(u, num, v, den);
    const negative = rng.bit() === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/** Prepared samplers by kind and exact parameter: mechanisms releasing many values at one scale reuse the
 * expansion tables. Small and bounded; the oldest entry goes first. */
const samplerCache = new Map<string, IntegerSampler>();
const CACHE_SIZE = 64;

function cached(key: string, build: () => IntegerSampler): IntegerSampler {
  let sampler = samplerCache.get(key);
  if (!sampler) {
    sampler = build();
    if (samplerCache.size >= CACHE_SIZE) samplerCache.delete(samplerCache.keys().next().value!);
    samplerCache.set(key, sampler);
  }
  return sampler;
}

function buildLaplace(t: Rational): IntegerSampler {
  if (t.num < BigInt(FAST_LIMIT) && t.den < BigInt(FAST_LIMIT)) {
    const num = Number(t.num);
    const den = Number(t.den);
    const table = num <= TABLE_LIMIT ? new ExpansionTable(num, (u) => new Rational(BigInt(u), t.num)) : undefined;
    return { sample: (rng) => laplaceNum(num, den, table, rng) };
  }
  return { sample: (rng) => toSafeNumber(laplaceBig(t.num, t.den, rng)) };
}

export function discreteLaplaceSampler(scale: RationalLike): IntegerSampler {
  const t = positiveRational(scale, 'discrete Laplace scale');
  return cached(`L${t}`, () => buildLaplace(t));
}

export function sampleDiscreteLaplace(scale: RationalLike, rng: RandomSource): number {
  return discreteLaplaceSampler(scale).sample(rng);
}

// ---------------------------------------------------------------------------------------------------------
// Discrete Gaussian, P(x) ∝ exp(−x²/(2σ²)), σ² = a/b (CKS Algorithm 3): propose Y from the discrete
// Laplace with integer scale t = ⌊σ⌋ + 1, accept with Bernoulli(exp(−(|Y| − σ²/t)²/(2σ²))), where
// γ = (|Y|·t·b − a)² / (2·a·b·t²) is an exact rational. Acceptance steps for |Y| ≤ TABLE_LIMIT (and γ < 40)
// use expansion tables, the rest the CKS loop.

/** ⌊√n⌋. Audit fix: this used to start from Math.sqrt(Number(n)) and step by ±1, which is off by ~2^(bits/2 − 53)
 * for large n (σ² = 1e50 took ~10^9 steps: a hang) and throws on Number(n) = Infinity. Newton's iteration from
 * 2^⌈bits/2⌉ ≥ √n decreases monotonically to ⌊√n⌋ in O(log bits) steps. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const TABLE_MAX_GAMMA = 40n;

function buildGaussian(a: bigint, b: bigint): IntegerSampler {
  const t = isqrt(a / b) + 1n; // ⌊√(a/b)⌋ = ⌊√⌊a/b⌋⌋
  const proposal = discreteLaplaceSampler(t);
  const tb = t * b;
  const denBig = 2n * a * b * t * t;
  const gammaOf = (magnitude: bigint): Rational => {
    const m = magnitude * tb - a;
    return new Rational(m * m, denBig);
  };
  // Table entries only where γ is moderate: beyond, acceptance is rare and the expansion deep.
  let tableSize = 0;
  while (tableSize <= TABLE_LIMIT && gammaOf(BigInt(tableSize)).floor() < TABLE_MAX_GAMMA) tableSize++;
  const table = new ExpansionTable(tableSize, (i) => gammaOf(BigInt(i)));
  const fast = denBig < BigInt(GAMMA_DEN_LIMIT) && tb < BigInt(FAST_LIMIT) && a < BigInt(FAST_LIMIT);
  const [an, tbn, den] = [Number(a), Number(tb), Number(denBig)];
  return {
    sample(rng: RandomSource): number {
      for (;;) {
        const y = proposal.sample(rng);
        const magnitude = Math.abs(y);
        if (magnitude < tableSize) {
          if (table.bernoulli(magnitude, rng)) return y;
          continue;
        }
        if (fast) {
          const m = magnitude * tbn - an; // exact while magnitude·t·b < 2^53
          if (Math.abs(m) < SQRT_GAMMA_NUM_LIMIT && magnitude * tbn < TWO_53) {
            if (bernoulliExpNum(m * m, den, rng)) return y;
            continue;
          }
        }
        const m = BigInt(magnitude) * tb - a;
        if (bernoulliExpBig(m * m, denBig, rng)) return y;
      }
    },
  };
}

export function discreteGaussianSampler(sigmaSquared: RationalLike): IntegerSampler {
  const s2 = positiveRational(sigmaSquared, 'discrete Gaussian variance σ²');
  return cached(`G${s2}`, () => buildGaussian(s2.num, s2.den));
}

export function sampleDiscreteGaussian(sigmaSquared: RationalLike, rng: RandomSource): number {
  return discreteGaussianSampler(sigmaSquared).sample(rng);
}
