// The exponential mechanism, sampled exactly: P(i) ∝ w_i · exp(−γ_i) with integer weights w_i and exact
// rational γ_i = c·(s_max − s_i) ≥ 0. No floating-point value ever decides the outcome.
//
// Method (an exact rejection sampler in the spirit of Ilvento's base-2 mechanism, with base e kept exact):
//  1. Bucket candidates by level L_i = min(⌊γ_i⌋, TAIL_LEVEL).
//  2. Propose a level L with probability ∝ S_L·e^(−L) (S_L = total weight in the level). This is inverse-cdf
//     sampling against rigorous BigInt bounds on e^(−L): the uniform is drawn lazily, 32 bits at a time, and the
//     bounds are refined until the level is certain — so the choice is exact, not approximate.
//  3. Propose candidate i within the level with probability ∝ w_i (uniform integer, binary search), and accept
//     it with an exact Bernoulli(exp(−(γ_i − L))) (CKS20); otherwise start again from 1.
// The accepted candidate has probability ∝ w_i·e^(−L)·e^(−(γ_i − L)) = w_i·e^(−γ_i). Acceptance is ≥ 1/e per
// round except in the tail level, whose proposal mass is below e^(−TAIL_LEVEL) of the total.
import type { RandomSource } from './random.js';
import { MechanismError, Rational } from './rational.js';
import { sampleBernoulliExp } from './samplers.js';

const TAIL_LEVEL = 64;
const TWO_53 = 9007199254740992;

interface Level {
  /** Candidate indices in this level. */
  members: number[];
  /** Running sums of their weights (exclusive end positions). */
  ends: number[];
  total: number;
}

/** Rigorous bounds on e·2^p: [lo, hi] as BigInts (Σ 1/k! with floored terms, plus the tail). */
function eBounds(p: number): [bigint, bigint] {
  const one = 1n << BigInt(p);
  let term = one;
  let lo = 0n;
  let k = 0n;
  while (term > 0n) {
    lo += term;
    k++;
    term /= k; // floor(2^p / k!) ≥ the floored term; error per term < 1
  }
  return [lo, lo + k + 2n]; // ≤ k flooring errors and a tail below 1
}

const boundsCache = new Map<number, { lo: bigint[]; hi: bigint[] }>();

/** Bounds on e^(−L)·2^p for L = 0..TAIL_LEVEL: lo[L] ≤ e^(−L)·2^p ≤ hi[L]. */
function expNegBounds(p: number): { lo: bigint[]; hi: bigint[] } {
  const cached = boundsCache.get(p);
  if (cached) return cached;
  const [eLo, eHi] = eBounds(p + 16);
  const shift = BigInt(2 * (p + 16));
  const invLo = (1n << shift) / eHi; // ≤ e^(−1)·2^(p+16)
  const invHi = (1n << shift) / eLo + 1n; // ≥ e^(−1)·2^(p+16)
  const lo: bigint[] = [1n << BigInt(p)];
  const hi: bigint[] = [1n << BigInt(p)];
  for (let level = 1; level <= TAIL_LEVEL; level++) {
    lo.push((lo[level - 1]! * invLo) >> BigInt(p + 16));
    hi.push(((hi[level - 1]! * invHi) >> BigInt(p + 16)) + 1n);
  }
  const result = { lo, hi };
  if (boundsCache.size < 16) boundsCache.set(p, result);
  return result;
}

/** Cumulative bounds on Σ_{L ≤ j} S_L·e^(−L)·2^p, computed once per precision and reused across rounds. */
class LevelTable {
  private readonly byPrecision = new Map<number, { cumLo: bigint[]; cumHi: bigint[] }>();
  constructor(readonly totals: readonly number[]) {}

  at(precision: number): { cumLo: bigint[]; cumHi: bigint[] } {
    let table = this.byPrecision.get(precision);
    if (!table) {
      const { lo, hi } = expNegBounds(precision);
      const cumLo: bigint[] = [];
      const cumHi: bigint[] = [];
      let sumLo = 0n;
      let sumHi = 0n;
      this.totals.forEach((total, level) => {
        sumLo += BigInt(total) * lo[level]!;
        sumHi += BigInt(total) * hi[level]!;
        cumLo.push(sumLo);
        cumHi.push(sumHi);
      });
      table = { cumLo, cumHi };
      this.byPrecision.set(precision, table);
    }
    return table;
  }
}

const uniform32 = (rng: RandomSource): bigint => BigInt(rng.uint32());

/** Level index with probability ∝ totals[L]·e^(−L), exactly: U is drawn lazily (r/2^bits ≤ U < (r+1)/2^bits)
 * and bounds are refined until U·T certainly falls in one level's [C(j−1), C(j)). */
function sampleLevel(table: LevelTable, rng: RandomSource): number {
  let bits = 64n;
  let r = (uniform32(rng) << 32n) | uniform32(rng);
  for (let precision = 96; ; precision += 64) {
    const { cumLo, cumHi } = table.at(precision);
    const upper = (r + 1n) * cumHi[cumHi.length - 1]!; // ≥ 2^bits · U·T
    const lower = r * cumLo[cumLo.length - 1]!; // ≤ 2^bits · U·T
    const j = cumLo.findIndex((c) => c << bits >= upper);
    if (j >= 0 && (j === 0 || lower >= cumHi[j - 1]! << bits)) return j;
    r = (r << 32n) | uniform32(rng);
    bits += 32n;
  }
}

/** Exact draw of i with P(i) ∝ weights[i]·exp(−(cNum/cDen)·deficits[i]), deficits ≥ 0 with some = 0.
 * Returns the index and a uniform offset in [0, weights[i]). */
export function sampleExponentialWeighted(
  deficits: readonly (number | bigint)[],
  weights: readonly number[] | undefined,
  cNum: bigint,
  cDen: bigint,
  rng: RandomSource,
): { index: number; offset: number } {
  const levels: Level[] = Array.from({ length: TAIL_LEVEL + 1 }, () => ({ members: [], ends: [], total: 0 }));
  const [numN, denN] = [Number(cNum), Number(cDen)];
  const numberPath = cNum < 2n ** 26n && cDen < 2n ** 52n;
  for (let i = 0; i < deficits.length; i++) {
    const w = weights ? weights[i]! : 1;
    const d = deficits[i]!;
    let level: number;
    if (numberPath && typeof d === 'number' && d < 2 ** 26) {
      const x = numN * d; // exact: below 2^52
      let q = Math.floor(x / denN);
      if (x - q * denN < 0) q--;
      else if (x - q * denN >= denN) q++;
      level = Math.min(q, TAIL_LEVEL);
    } else {
      const q = (cNum * BigInt(d)) / cDen;
      level = q > BigInt(TAIL_LEVEL) ? TAIL_LEVEL : Number(q);
    }
    const bucket = levels[level]!;
    bucket.total += w;
    if (bucket.total > TWO_53) throw new MechanismError('total candidate weight must stay below 2^53');
    bucket.members.push(i);
    bucket.ends.push(bucket.total);
  }
  const table = new LevelTable(levels.map((l) => l.total));
  for (;;) {
    const level = sampleLevel(table, rng);
    const bucket = levels[level]!;
    const position = rng.uniformInt(bucket.total);
    const k = firstAbove(bucket.ends, position);
    const index = bucket.members[k]!;
    const start = k === 0 ? 0 : bucket.ends[k - 1]!;
    // residual γ_i − L = (cNum·d_i − L·cDen)/cDen ≥ 0
    const residual = new Rational(cNum * BigInt(deficits[index]!) - BigInt(level) * cDen, cDen);
    if (sampleBernoulliExp(residual, rng)) return { index, offset: position - start };
  }
}

/** Smallest k with ends[k] > position (ends strictly increasing). */
function firstAbove(ends: readonly number[], position: number): number {
  let lo = 0;
  let hi = ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid]! > position) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
