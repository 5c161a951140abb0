import { describe, expect, it } from 'vitest';
import { MechanismError } from './rational.js';
import { SeededRandom } from './random.js';
import {
  discreteGaussianSampler,
  discreteLaplaceSampler,
  isqrt,
  sampleBernoulli,
  sampleBernoulliExp,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from './samplers.js';

const SAMPLES = 100_000;
/** Standard normal quantile for the fixed significance 0.001 (one-sided). */
const Z_999 = 3.090232;

/** Upper 0.001 critical value of χ² with df degrees of freedom (Wilson–Hilferty). */
function chiSquareCritical(df: number): number {
  const h = 2 / (9 * df);
  return df * (1 - h + Z_999 * Math.sqrt(h)) ** 3;
}

/** An exact reference distribution on ℤ, symmetric: its cdf and its moments. */
interface Reference {
  cdf(x: number): number;
  variance: number;
}

/** Discrete Laplace with scale t: P(x) = (1−q)/(1+q)·q^|x|, q = e^(−1/t), closed-form cdf. */
function laplaceReference(t: number): Reference {
  const q = Math.exp(-1 / t);
  const oneMinusQ = -Math.expm1(-1 / t);
  return {
    cdf: (x) => (x >= 0 ? 1 - q ** (x + 1) / (1 + q) : q ** -x / (1 + q)),
    variance: (2 * q) / (oneMinusQ * oneMinusQ),
  };
}

/** Discrete Gaussian: direct summation of the pmf for σ ≤ 1000; for larger σ the midpoint rule
 * F(x) = Φ((x + ½)/σ) is exact to far below 10^−12 (Poisson summation), via erfc. */
function gaussianReference(sigma: number): Reference {
  if (sigma <= 1000) {
    const last = Math.ceil(40 * sigma) + 1;
    const weights = new Float64Array(2 * last + 1);
    let z = 0;
    let second = 0;
    for (let x = -last; x <= last; x++) {
      const w = Math.exp(-(x * x) / (2 * sigma * sigma));
      weights[x + last] = w;
      z += w;
      second += x * x * w;
    }
    const cumulative = new Float64Array(2 * last + 1);
    let running = 0;
    for (let i = 0; i < weights.length; i++) cumulative[i] = running += weights[i]! / z;
    return {
      cdf: (x) => (x < -last ? 0 : x >= last ? 1 : cumulative[x + last]!),
      variance: second / z,
    };
  }
  return { cdf: (x) => 0.5 * erfcApprox(-(x + 0.5) / (sigma * Math.SQRT2)), variance: sigma * sigma };
}

/** erfc on all of ℝ for the reference cdf (series near 0, continued fraction in the tails). */
function erfcApprox(x: number): number {
  if (x < 0) return 2 - erfcApprox(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 200; n >= 1; n--) f = n / 2 / (x + f);
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * (x + f));
}

/** Smallest integer x with cdf(x) ≥ p. */
function quantile(ref: Reference, p: number, span: number): number {
  let lo = -span;
  let hi = span;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ref.cdf(mid) >= p) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** χ² statistic over bins cut at the exact cdf's quantiles (so each bin has mass ~1/50, merged to ≥ 5 expected). */
function chiSquare(samples: Int32Array | Float64Array, ref: Reference, span: number): { statistic: number; df: number } {
  const edges = [...new Set(Array.from({ length: 49 }, (_, i) => quantile(ref, (i + 1) / 50, span)))].sort((a, b) => a - b);
  const bins: { upper: number; expected: number }[] = [];
  let previous = 0;
  for (const e of [...edges, Infinity]) {
    const mass = (e === Infinity ? 1 : ref.cdf(e)) - previous;
    previous += mass;
    const last = bins[bins.length - 1];
    if (last && last.expected < 5 * (1 / SAMPLES)) {
      last.upper = e;
      last.expected += mass;
    } else {
      bins.push({ upper: e, expected: mass });
    }
  }
  const sorted = Float64Array.from(samples).sort();
  let statistic = 0;
  let i = 0;
  for (const bin of bins) {
    let observed = 0;
    while (i < sorted.length && sorted[i]! <= bin.upper) {
      observed++;
      i++;
    }
    const expected = bin.expected * sorted.length;
    statistic += (observed - expected) ** 2 / expected;
  }
  return { statistic, df: bins.length - 1 };
}

function draw(sample: () => number): Float64Array {
  const out = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) out[i] = sample();
  return out;
}

function moments(xs: Float64Array): { mean: number; variance: number } {
  let sum = 0;
  let sq = 0;
  for (const x of xs) {
    sum += x;
    sq += x * x;
  }
  const mean = sum / xs.length;
  return { mean, variance: sq / xs.length - mean * mean };
}

const SCALES: [label: string, scale: string, value: number][] = [
  ['0.5', '0.5', 0.5],
  ['1', '1', 1],
  ['10', '10', 10],
  ['1000', '1000', 1000],
  ['10^6', '1000000', 1e6],
];

describe('discrete Laplace matches its exact pmf', () => {
  it.each(SCALES)('scale %s: χ² at significance 0.001, mean and variance', (_label, scale, t) => {
    const rng = new SeededRandom(`laplace-${scale}`);
    const sampler = discreteLaplaceSampler(scale);
    const xs = draw(() => sampler.sample(rng));
    const ref = laplaceReference(t);
    const { statistic, df } = chiSquare(xs, ref, Math.ceil(60 * t) + 10);
    expect(df).toBeGreaterThanOrEqual(3);
    expect(statistic).toBeLessThan(chiSquareCritical(df));
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(ref.variance / SAMPLES));
    expect(variance / ref.variance).toBeGreaterThan(0.96);
    expect(variance / ref.variance).toBeLessThan(1.04);
  });
});

describe('discrete Gaussian matches its exact pmf', () => {
  it.each(SCALES)('σ = %s: χ² at significance 0.001, mean and variance', (_label, scale, sigma) => {
    const rng = new SeededRandom(`gaussian-${scale}`);
    const sampler = discreteGaussianSampler(`${scale}` === '0.5' ? '0.25' : (BigInt(scale) ** 2n).toString());
    const xs = draw(() => sampler.sample(rng));
    const ref = gaussianReference(sigma);
    const { statistic, df } = chiSquare(xs, ref, Math.ceil(40 * sigma) + 10);
    expect(df).toBeGreaterThanOrEqual(2);
    expect(statistic).toBeLessThan(chiSquareCritical(df));
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(ref.variance / SAMPLES));
    expect(variance / ref.variance).toBeGreaterThan(0.97);
    expect(variance / ref.variance).toBeLessThan(1.03);
  });
});

describe('BigInt paths', () => {
  it('discrete Laplace with a scale beyond the Number fast path (2^41 + 1/3) has the right spread', () => {
    const rng = new SeededRandom(7);
    const t = 2 ** 41 + 1 / 3;
    const sampler = discreteLaplaceSampler('6597069766657/3'); // (3·2^41 + 1)/3
    const xs = Float64Array.from({ length: 20_000 }, () => sampler.sample(rng));
    const ref = laplaceReference(t);
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(ref.variance / xs.length));
    expect(variance / ref.variance).toBeGreaterThan(0.9);
    expect(variance / ref.variance).toBeLessThan(1.1);
  });

  it('discrete Gaussian with a huge-denominator σ² (10^12 + 1/7) has the right spread', () => {
    const rng = new SeededRandom(8);
    const sampler = discreteGaussianSampler('7000000000001/7');
    const xs = Float64Array.from({ length: 20_000 }, () => sampler.sample(rng));
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1e12 / xs.length));
    expect(variance / 1e12).toBeGreaterThan(0.95);
    expect(variance / 1e12).toBeLessThan(1.05);
  });
});

describe('Bernoulli samplers', () => {
  const frequency = (n: number, trial: () => boolean): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (trial()) hits++;
    return hits / n;
  };
  const within = (observed: number, p: number, n: number): void => {
    expect(Math.abs(observed - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
  };

  it.each([['1/3', 1 / 3], ['0.999', 0.999], ['0', 0], ['1', 1], [`${2n ** 80n + 1n}/${3n * 2n ** 80n}`, 1 / 3]])(
    'Bernoulli(%s)',
    (p, expected) => {
      const rng = new SeededRandom(`b-${p}`);
      within(frequency(20_000, () => sampleBernoulli(p, rng)), expected, 20_000);
    },
  );

  it.each([['0', 1], ['1/2', Math.exp(-0.5)], ['1', Math.exp(-1)], ['5/2', Math.exp(-2.5)], ['10', Math.exp(-10)],
    [`${10n ** 30n + 1n}/${10n ** 30n}`, Math.exp(-1)], ['1e-12', 1]])('Bernoulli(exp(−%s))', (gamma, expected) => {
    const rng = new SeededRandom(`be-${gamma}`);
    within(frequency(20_000, () => sampleBernoulliExp(gamma, rng)), expected, 20_000);
  });

  it('rejects probabilities outside [0, 1] and negative γ, naming the parameter', () => {
    const rng = new SeededRandom(1);
    expect(() => sampleBernoulli('3/2', rng)).toThrow(/probability p must be at most 1/);
    expect(() => sampleBernoulli(-0.1, rng)).toThrow(/probability p must not be negative/);
    expect(() => sampleBernoulliExp('-1', rng)).toThrow(/γ must not be negative/);
    expect(() => sampleDiscreteLaplace(0, rng)).toThrow(/Laplace scale must be positive/);
    expect(() => sampleDiscreteGaussian('abc', rng)).toThrow(/σ² must be a finite number/);
  });
});

describe('huge variances (audit)', () => {
  it('isqrt is exact beyond the double range', () => {
    // Math.sqrt(Number(n)) is Infinity here: the old ±1 stepping threw a RangeError (and below 2^1024 it could
    // take ~2^(bits/2 − 53) steps: σ² = 1e50 hung the discrete Gaussian).
    for (const n of [2n ** 1100n - 1n, 2n ** 1100n, (10n ** 400n + 7n) ** 2n, (10n ** 400n + 7n) ** 2n - 1n, 10n ** 401n, 2n, 3n, 4n]) {
      const x = isqrt(n);
      expect(x * x <= n && (x + 1n) * (x + 1n) > n).toBe(true);
    }
  });

  it('a discrete Gaussian with σ² far beyond 2^53 fails with a clear MechanismError, not a crash', () => {
    const rng = new SeededRandom('huge');
    expect(() => sampleDiscreteGaussian(`${10n ** 400n}`, rng)).toThrow(MechanismError);
  });
});
