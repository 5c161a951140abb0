// Exact Bernoulli(e^(−x)) for rational x by comparing a uniform, 32 bits at a time, with the binary expansion
// of e^(−x). The expansion is computed with rigorous BigInt bounds and refined on demand, so the outcome is
// exact: U < c is decided at the first 32-bit word where U and c differ (c is irrational for x ≠ 0, so they
// always differ eventually). With the first word cached, one random word decides all but 2^−32 of the draws.
import type { RandomSource } from './random.js';

/** Rigorous bounds on e^(num/den)·2^p for 0 ≤ num/den ≤ 1: Taylor terms floored one after another. */
function expBoundsSmall(num: bigint, den: bigint, p: number): [bigint, bigint] {
  let term = 1n << BigInt(p);
  let lo = 0n;
  let k = 0n;
  while (term > 0n) {
    lo += term;
    k++;
    term = (term * num) / (den * k); // each floored term is ≥ the exact term − 2 (x ≤ 1 damps earlier errors)
  }
  // ≤ 2 per term of flooring error, and a tail below 2·(last exact term) ≤ 6
  return [lo, lo + 2n * k + 6n];
}

/** Rigorous bounds [lo, hi] on e^(−num/den)·2^p, num/den ≥ 0. */
export function expNegBounds(num: bigint, den: bigint, p: number): [bigint, bigint] {
  const whole = num / den;
  const rest = num - whole * den;
  const guard = p + 32 + 4 * Number(whole > 64n ? 64n : whole) + whole.toString(2).length * 2;
  const one = 1n << BigInt(guard);
  // e^(−rest/den) from e^(rest/den)
  const [fLo, fHi] = expBoundsSmall(rest, den, guard);
  let lo = (one * one) / fHi;
  let hi = (one * one) / fLo + 1n;
  if (whole > 0n) {
    const [eLo, eHi] = expBoundsSmall(1n, 1n, guard);
    const invLo = (one * one) / eHi; // ≤ e^(−1)·2^guard
    const invHi = (one * one) / eLo + 1n;
    for (let i = 0n; i < whole; i++) {
      lo = (lo * invLo) >> BigInt(guard);
      hi = ((hi * invHi) >> BigInt(guard)) + 1n;
      if (hi === 1n && lo === 0n) break; // below the precision: bounds [0, 1·2^−guard]
    }
  }
  const drop = BigInt(guard - p);
  return [lo >> drop, (hi >> drop) + 1n];
}

/** The binary expansion of e^(−num/den) in 32-bit words, refined lazily. */
export class ExpNegExpansion {
  private words: number[] = [];
  /** The first 32 bits after the binary point: ⌊e^(−x)·2^32⌋. */
  readonly first: number;

  constructor(
    private readonly num: bigint,
    private readonly den: bigint,
  ) {
    if (num <= 0n || den <= 0n) throw new Error('ExpNegExpansion needs x > 0'); // e^0 = 1 has no proper expansion
    this.first = this.word(0);
  }

  /** Word j of the expansion (bits 32j+1 … 32j+32 after the point). */
  word(j: number): number {
    while (this.words.length <= j) this.refine(Math.max(2 * this.words.length, j + 1, 2));
    return this.words[j]!;
  }

  private refine(count: number): void {
    // Find a precision at which the lower and upper bounds agree on `count` words.
    for (let extra = 64; ; extra *= 2) {
      const p = 32 * count + extra;
      const [lo, hi] = expNegBounds(this.num, this.den, p);
      const shift = BigInt(extra);
      if (lo >> shift === hi >> shift) {
        const bits = lo >> shift; // ⌊e^(−x)·2^(32·count)⌋ (x > 0, so e^(−x) < 1)
        this.words = [];
        for (let j = count - 1; j >= 0; j--) this.words.push(Number((bits >> BigInt(32 * j)) & 0xffffffffn));
        return;
      }
    }
  }
}

/** Bernoulli(e^(−x)) for x > 0 given its expansion: U < e^(−x), decided word by word. */
export function bernoulliByExpansion(c: ExpNegExpansion, rng: RandomSource): boolean {
  const w = rng.uint32();
  if (w !== c.first) return w < c.first;
  for (let j = 1; ; j++) {
    const u = rng.uint32();
    const e = c.word(j);
    if (u !== e) return u < e;
  }
}
