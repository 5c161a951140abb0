import { describe, expect, it } from 'vitest';
import { compressDomain, estimateTotal } from './compress.js';

describe('domain compression', () => {
  it('merges the values whose noisy count is below 3σ into one "other" code, re-expressing the measurement', () => {
    const c = compressDomain(Float64Array.from([100, 5, 80, -3, 29, 30]), 10);
    expect(c.size).toBe(4);
    expect(Array.from(c.mapping)).toEqual([0, 3, 1, 3, 3, 2]);
    expect(c.merged).toEqual([1, 3, 4]);
    expect(Array.from(c.mergedWeights)).toEqual([5, 0, 29]);
    expect(Array.from(c.measurement.y)).toEqual([100, 80, 30, 31]);
    // The merged cell is a sum of three noisy counts: variance 3σ².
    expect(Array.from(c.measurement.precision)).toEqual([0.01, 0.01, 0.01, 1 / 300]);
  });

  it('leaves the domain alone when at most one value is rare', () => {
    const c = compressDomain(Float64Array.from([100, 5, 80]), 10);
    expect(c.size).toBe(3);
    expect(Array.from(c.mapping)).toEqual([0, 1, 2]);
    expect(c.merged).toEqual([]);
  });

  it('merges everything into one code when every value is rare', () => {
    const c = compressDomain(Float64Array.from([1, 2]), 10);
    expect(c.size).toBe(1);
    expect(Array.from(c.mapping)).toEqual([0, 0]);
  });

  it('estimates the row count by inverse-variance weighting of the measurements\' sums', () => {
    const precise = { y: Float64Array.from([60, 40]), precision: Float64Array.from([1, 1]) };
    const vague = { y: Float64Array.from([130]), precision: Float64Array.from([1 / 8]) };
    // Variances 2 and 8: weights 4/5 and 1/5.
    expect(estimateTotal([precise, vague])).toBeCloseTo(0.8 * 100 + 0.2 * 130, 10);
    expect(estimateTotal([{ y: Float64Array.from([-5]), precision: Float64Array.from([1]) }])).toBe(1);
  });
});
