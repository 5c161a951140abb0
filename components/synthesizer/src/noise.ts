// The two private primitives MST needs, behind a small interface so the algorithm can be tested with a
// recording wrapper. The only implementation used outside tests draws from @veil/mechanisms with CryptoRandom.
import { CryptoRandom, discreteGaussianSampler, exponentialMechanism, type Rational } from '@veil/mechanisms';

export interface MstNoise {
  /** Each count plus independent discrete Gaussian noise of variance exactly `sigmaSquared`. */
  gaussian(counts: Int32Array, sigmaSquared: Rational): Float64Array;
  /** The exponential mechanism: index i with probability ∝ exp(ε·score_i / (2·sensitivity)). */
  choose(scores: readonly number[], sensitivity: number, epsilon: string): number;
}

/** Exact discrete Gaussian and exponential mechanism from @veil/mechanisms over a CSPRNG. */
export function cryptoNoise(rng: CryptoRandom = new CryptoRandom()): MstNoise {
  return {
    gaussian(counts, sigmaSquared) {
      const sampler = discreteGaussianSampler(sigmaSquared);
      const noisy = new Float64Array(counts.length);
      for (let i = 0; i < counts.length; i++) noisy[i] = counts[i]! + sampler.sample(rng);
      return noisy;
    },
    choose(scores, sensitivity, epsilon) {
      return exponentialMechanism(scores, { sensitivity, epsilon }, rng);
    },
  };
}
