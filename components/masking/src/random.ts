// Randomness for the random masking functions (noise, dnoise, random_*, fake_*). Masking noise is not
// differential privacy, but Veil never uses Math.random on private values: the default source is
// @veil/mechanisms' CryptoRandom (node:crypto, buffered, unbiased by rejection).
import { CryptoRandom } from '@veil/mechanisms';

/** What the masking functions need: unbiased uniform integers. CryptoRandom (and SeededRandom in tests) fit. */
export interface UniformSource {
  /** Uniform integer in [0, n) for an integer 1 ≤ n ≤ 2^53. */
  uniformInt(n: number): number;
}

const TWO_53 = 9007199254740992;

export function cryptoSource(): UniformSource {
  return new CryptoRandom();
}

/** A uniform double in [0, 1) on the 2^-53 grid. */
export function uniformUnit(source: UniformSource): number {
  return source.uniformInt(TWO_53) / TWO_53;
}

/** A uniform integer in [lo, hi] (both safe integers, hi - lo < 2^53). */
export function uniformBetween(source: UniformSource, lo: number, hi: number): number {
  return lo + source.uniformInt(hi - lo + 1);
}
