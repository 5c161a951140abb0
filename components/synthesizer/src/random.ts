// Randomness used after the private measurements (rounding ties, shuffles, decoding within bins). It is
// post-processing of noisy values, so a seeded source is allowed; any @veil/mechanisms RandomSource fits.

/** The part of @veil/mechanisms' RandomSource that post-processing needs. */
export interface UniformSource {
  /** 32 uniform bits as an unsigned integer. */
  uint32(): number;
  /** Uniform integer in [0, n). */
  uniformInt(n: number): number;
}

/** A uniform double in [0, 1) with 53 random bits. */
export function unitInterval(random: UniformSource): number {
  return ((random.uint32() >>> 5) * 67108864 + (random.uint32() >>> 6)) / 9007199254740992;
}

/** Shuffles `values[from..to)` in place (Fisher–Yates). */
export function shuffleRange(values: Int32Array | number[], from: number, to: number, random: UniformSource): void {
  for (let i = to - 1; i > from; i--) {
    const j = from + random.uniformInt(i - from + 1);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}
