// Public interface of @veil/mechanisms: exact randomness, samplers, mechanisms, accounting and accuracy.
// The only place in Veil where noise, randomness and privacy accounting live. See README.md.

// Exact rationals: every parameter (ε, δ, scale, σ, σ², γ…) is accepted as RationalLike and used exactly.
export { MechanismError, Rational, toRational } from './rational.js';
export type { RationalLike } from './rational.js';

// Randomness. Mechanisms accept CryptoRandom only; SeededRandom is for tests and dummy data.
export { CryptoRandom, SeededRandom } from './random.js';
export type { RandomSource } from './random.js';

// Exact samplers (Canonne–Kamath–Steinke 2020); accept any RandomSource.
export {
  discreteGaussianSampler,
  discreteLaplaceSampler,
  sampleBernoulli,
  sampleBernoulliExp,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from './samplers.js';
export type { IntegerSampler } from './samplers.js';

// Mechanisms (CryptoRandom only).
export {
  exponentialMechanism,
  exponentialMechanismLoss,
  exponentialMechanismWeighted,
  fixedPointGaussianSum,
  fixedPointLaplaceSum,
  integerGaussian,
  integerLaplace,
  laplaceScale,
  planFixedPoint,
  planPartitionSelection,
  privateQuantile,
  selectPartition,
} from './mechanisms.js';
export type { ExponentialParams, FixedPointPlan, NoisyValue, PartitionSelectionPlan, QuantileParams } from './mechanisms.js';

// Accounting: exact decimal strings, costs rounded up, caps rounded down.
export {
  ZERO_COST,
  addCosts,
  cdpDelta,
  cdpEpsilon,
  cdpRho,
  compareCost,
  epsilonToRho,
  exponentialMechanismCost,
  gaussianCost,
  gaussianEpsilon,
  gaussianRho,
  gaussianSigmaForEpsilonDelta,
  gaussianSigmaForRho,
  laplaceCost,
  partitionSelectionCost,
  spentEpsilon,
  withinGrant,
  zcdpRhoCap,
} from './accounting.js';
export type { CompositionMode, Grant, PrivacyCost } from './accounting.js';

// Accuracy from the exact discrete noise distributions.
export {
  discreteGaussianHalfWidth,
  discreteLaplaceHalfWidth,
  gaussianSigmaForHalfWidth,
  laplaceScaleForHalfWidth,
  noiseHalfWidth,
} from './accuracy.js';
