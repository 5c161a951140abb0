import { describe, expect, it } from 'vitest';
import { sampleExponentialWeighted } from './exponential.js';
import {
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
import { CryptoRandom, SeededRandom } from './random.js';

const rng = new CryptoRandom();

describe('the type system keeps seeded randomness out of mechanisms', () => {
  it('rejects SeededRandom at compile time and at run time', () => {
    const seeded = new SeededRandom(1);
    // @ts-expect-error — mechanisms accept CryptoRandom only
    expect(() => integerLaplace(10, { epsilon: 1 }, seeded)).toThrow(/require a CryptoRandom/);
    // @ts-expect-error — mechanisms accept CryptoRandom only
    expect(() => exponentialMechanism([1, 2], { sensitivity: 1, epsilon: 1 }, seeded)).toThrow(/require a CryptoRandom/);
    // @ts-expect-error — a look-alike object is not a CryptoRandom either (nominal type)
    expect(() => integerGaussian(1, { sigma: 1 }, { uint32: () => 0, uniformInt: () => 0, uniformBigInt: () => 0n, bit: () => 0 })).toThrow(
      /require a CryptoRandom/,
    );
  });
});

describe('integer mechanisms', () => {
  it('Laplace adds integer noise at scale Δ/ε and reports it', () => {
    const out = integerLaplace(1000n, { sensitivity: 2, epsilon: '0.5' }, rng);
    expect(Number.isInteger(out.value)).toBe(true);
    expect(out.mechanism).toBe('discrete-laplace');
    expect(out.scale.toString()).toBe('4');
    expect(out.gridExponent).toBe(0);
    expect(laplaceScale(1, '0.3').toString()).toBe('10/3');
  });

  it('Gaussian adds integer noise with σ² = sigma², and the noise is centred', () => {
    let sum = 0;
    for (let i = 0; i < 2000; i++) sum += integerGaussian(50, { sigma: '2.5' }, rng).value - 50;
    expect(Math.abs(sum / 2000)).toBeLessThan(5 * (2.5 / Math.sqrt(2000)));
    expect(integerGaussian(0, { sigma: 3 }, rng).scale.toString()).toBe('3');
  });

  it('rejects bad input with a clear message', () => {
    expect(() => integerLaplace(1.5, { epsilon: 1 }, rng)).toThrow(/value must be a safe integer/);
    expect(() => integerLaplace(1, { epsilon: 0 }, rng)).toThrow(/epsilon must be positive/);
    expect(() => integerGaussian(1, { sigma: '-1' }, rng)).toThrow(/sigma must be positive/);
  });
});

describe('fixed-point sums', () => {
  it('plans k from the public bounds and bounds the grid sensitivity for any adjacent rounding', () => {
    const plan = planFixedPoint({ lower: -5000, upper: 5000 });
    expect(plan.k).toBe(11); // 5000·2^11 = 10,240,000 ≤ 2^24 < 5000·2^12
    expect(plan.gridSensitivity).toBe(10_240_000n);
    expect(plan.sensitivity.toString()).toBe('5000');
    expect(plan.toGrid(12.37)).toBe(Math.round(12.37 * 2048));
    expect(plan.toGrid(1e9)).toBe(5000 * 2048); // clamped
    expect(plan.toGrid(-0.5 / 2048)).toBe(-0); // ties toward +∞
    const small = planFixedPoint({ lower: 0, upper: 0.3, contributions: 3 });
    expect(small.k).toBe(25);
    expect(small.gridSensitivity).toBe(3n * BigInt(Math.ceil(0.3 * 2 ** 25)));
    expect(planFixedPoint({ lower: 0, upper: 1e12 }).k).toBe(-16);
    expect(planFixedPoint({ lower: 0, upper: 1, k: 3 }).gridSensitivity).toBe(8n);
    expect(() => planFixedPoint({ lower: 2, upper: 1 })).toThrow(/lower ≤ upper/);
  });

  it('adds noise on the grid and scales back', () => {
    const plan = planFixedPoint({ lower: 0, upper: 10 });
    const values = [1.25, 2.5, 9.75, 3.1];
    const gridSum = values.reduce((s, x) => s + BigInt(plan.toGrid(x)), 0n);
    const lap = fixedPointLaplaceSum(gridSum, plan, 1000, rng);
    expect(lap.gridExponent).toBe(plan.k);
    expect(plan.k).toBe(20);
    expect(lap.scale.toString()).toBe('1/100'); // real-unit scale: sensitivity 10 / ε 1000
    expect(Math.abs(lap.value - 16.6)).toBeLessThan(1); // scale 0.01: noise this large has probability < e^−99
    expect(Number.isInteger(lap.value * 2 ** plan.k)).toBe(true);
    const gauss = fixedPointGaussianSum(gridSum, plan, '0.001', rng);
    expect(gauss.scale.toString()).toBe('1/1000');
    expect(Math.abs(gauss.value - 16.6)).toBeLessThan(0.1);
  });
});

describe('exponential mechanism (exact)', () => {
  /** χ² of observed counts against exact probabilities ∝ w·exp(c·score); df = k − 1. */
  const chiSquare = (counts: number[], weights: number[]): number => {
    const total = counts.reduce((a, b) => a + b, 0);
    const z = weights.reduce((a, b) => a + b, 0);
    return counts.reduce((s, c, i) => s + (c - (total * weights[i]!) / z) ** 2 / ((total * weights[i]!) / z), 0);
  };

  it('matches P(i) ∝ w_i·exp(−γ_i) with a seeded source (χ², significance 0.001)', () => {
    const seeded = new SeededRandom('em');
    const deficits = [0, 1, 2, 3, 5, 0];
    const weights = [1, 2, 3, 1, 40, 2];
    // c = 3/4: γ = 0.75·deficit; levels 0..3
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 40_000; i++) counts[sampleExponentialWeighted(deficits, weights, 3n, 4n, seeded).index]!++;
    const expected = deficits.map((d, i) => weights[i]! * Math.exp(-0.75 * d));
    expect(chiSquare(counts, expected)).toBeLessThan(20.52); // df 5
  });

  it('samples the tail level (γ ≥ 64) exactly too', () => {
    const seeded = new SeededRandom('tail');
    // Behind a γ = 0 candidate the tail is out of reach (weight < 2^53 < e^37), so test it on its own:
    // γ = 64 and 65 both land in the tail level and are resolved by the exact Bernoulli(exp(−(γ − 64))).
    const counts = [0, 0];
    for (let i = 0; i < 20_000; i++) counts[sampleExponentialWeighted([128, 130], [1, 1], 1n, 2n, seeded).index]!++;
    expect(chiSquare(counts, [1, Math.exp(-1)])).toBeLessThan(10.83); // df 1
    const far = [0, 0];
    for (let i = 0; i < 2000; i++) far[sampleExponentialWeighted([0, 70], [1, 2 ** 52], 1n, 1n, seeded).index]!++;
    expect(far).toEqual([2000, 0]); // mass e^−70·2^52 ≈ 1.8e−15
  });

  it('selects by score with ε/(2Δ), or ε/Δ when monotonic, with offsets uniform in the group', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 6000; i++) counts[exponentialMechanism([0, 2, 4], { sensitivity: 1, epsilon: 1 }, rng)]!++;
    expect(chiSquare(counts, [1, Math.E, Math.E ** 2])).toBeLessThan(13.82); // df 2
    const mono = [0, 0];
    for (let i = 0; i < 6000; i++) mono[exponentialMechanism([0, 1], { sensitivity: 1, epsilon: 1, monotonic: true }, rng)]!++;
    expect(chiSquare(mono, [1, Math.E])).toBeLessThan(10.83); // df 1
    const offsets = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { index, offset } = exponentialMechanismWeighted([0, -1000], [5, 1], { sensitivity: 1, epsilon: 1 }, rng);
      expect(index).toBe(0);
      offsets.add(offset);
    }
    expect([...offsets].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('accepts fractional and bigint scores exactly', () => {
    expect(exponentialMechanism([0.5, 1000.25], { sensitivity: '0.5', epsilon: 1 }, rng)).toBe(1);
    expect(exponentialMechanism([10n ** 30n, 0n], { sensitivity: 1, epsilon: 1 }, rng)).toBe(0);
    expect(() => exponentialMechanism([], { sensitivity: 1, epsilon: 1 }, rng)).toThrow(/at least one candidate/);
    expect(() => exponentialMechanismWeighted([1], [0], { sensitivity: 1, epsilon: 1 }, rng)).toThrow(/positive integers/);
  });
});

describe('private quantiles', () => {
  it('finds the median of 10,001 values close to the true one', () => {
    const values = Array.from({ length: 10_001 }, (_, i) => i / 100);
    const median = privateQuantile(values, { lower: 0, upper: 100, quantile: '0.5', epsilon: 1 }, rng);
    expect(Math.abs(median - 50)).toBeLessThan(0.5);
  });

  it('puts a quantile of heavily tied data on the tied value', () => {
    const values = new Array<number>(5000).fill(42);
    const q = privateQuantile(values, { lower: 0, upper: 100, quantile: '0.25', epsilon: 1 }, rng);
    expect(Math.abs(q - 42)).toBeLessThan(1e-3);
  });

  it('is uniform over the grid without data, and respects the bounds', () => {
    const q = privateQuantile([], { lower: -1, upper: 1, quantile: '0.9', epsilon: 1, gridSize: 3 }, rng);
    expect([-1, 0, 1]).toContain(q);
    expect(() => privateQuantile([1], { lower: 1, upper: 1, quantile: '0.5', epsilon: 1 }, rng)).toThrow(/lower < upper/);
    expect(() => privateQuantile([1], { lower: 0, upper: 1, quantile: '1.5', epsilon: 1 }, rng)).toThrow(/quantile must be in/);
  });
});

describe('partition selection', () => {
  it('picks the smallest threshold whose leak probability is within δ', () => {
    const plan = planPartitionSelection({ epsilon: 1, delta: '1e-6' });
    expect(plan.scale.toString()).toBe('1');
    expect(plan.threshold).toBe(15n);
    const leak = (m: number): number => Math.exp(-m) / (1 + Math.exp(-1)); // P(X ≥ m), scale 1
    expect(leak(Number(plan.threshold) - 1)).toBeLessThanOrEqual(1e-6);
    expect(leak(Number(plan.threshold) - 2)).toBeGreaterThan(1e-6);
    const wide = planPartitionSelection({ epsilon: '0.5', delta: '1e-9', maxPartitions: 10 });
    expect(wide.scale.toString()).toBe('20');
    expect(wide.threshold).toBe(449n);
    expect(() => planPartitionSelection({ epsilon: 1, delta: 0 })).toThrow(/delta must be positive/);
  });

  it('keeps large groups and drops singletons', () => {
    const plan = planPartitionSelection({ epsilon: 1, delta: '1e-6' });
    expect(selectPartition(1000, plan, rng)).toBe(true);
    let kept = 0;
    for (let i = 0; i < 2000; i++) if (selectPartition(1, plan, rng)) kept++;
    expect(kept).toBe(0);
  });
});

describe('exponential mechanism utility bound', () => {
  it('is (2Δ/ε)·ln(W/α), rounded up', () => {
    expect(exponentialMechanismLoss(10_000, { sensitivity: 1, epsilon: 1 })).toBeCloseTo(2 * Math.log(10_000 / 0.05), 10);
    expect(exponentialMechanismLoss(10_000, { sensitivity: 1, epsilon: 1, monotonic: true }, '0.01')).toBeCloseTo(Math.log(1e6), 10);
    expect(() => exponentialMechanismLoss(0, { sensitivity: 1, epsilon: 1 })).toThrow(/totalWeight/);
  });
});
