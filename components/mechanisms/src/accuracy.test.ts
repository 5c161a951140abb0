import { describe, expect, it } from 'vitest';
import {
  discreteGaussianHalfWidth,
  discreteLaplaceHalfWidth,
  gaussianSigmaForHalfWidth,
  laplaceScaleForHalfWidth,
  noiseHalfWidth,
} from './accuracy.js';
import { toRational } from './rational.js';

/** P(|X| > h) for the discrete Laplace, closed form. */
const laplaceTail = (t: number, h: number): number => (2 * Math.exp(-(h + 1) / t)) / (1 + Math.exp(-1 / t));

/** P(|X| > h) for the discrete Gaussian by direct summation (small σ). */
function gaussianTail(sigma: number, h: number): number {
  let z = 0;
  let inside = 0;
  for (let x = -Math.ceil(40 * sigma) - 1; x <= Math.ceil(40 * sigma) + 1; x++) {
    const w = Math.exp(-(x * x) / (2 * sigma * sigma));
    z += w;
    if (Math.abs(x) <= h) inside += w;
  }
  return 1 - inside / z;
}

describe('half-widths from the exact distributions', () => {
  it.each([0.5, 1, 10, 1000])('discrete Laplace, scale %s: the smallest h with P(|X| ≤ h) ≥ 0.95', (t) => {
    const h = discreteLaplaceHalfWidth(t);
    expect(laplaceTail(t, h)).toBeLessThanOrEqual(0.05);
    if (h > 0) expect(laplaceTail(t, h - 1)).toBeGreaterThan(0.05);
  });

  it.each([0.5, 1, 10, 300])('discrete Gaussian, σ = %s: the smallest h with P(|X| ≤ h) ≥ 0.95', (sigma) => {
    const h = discreteGaussianHalfWidth(sigma);
    expect(gaussianTail(sigma, h)).toBeLessThanOrEqual(0.05);
    if (h > 0) expect(gaussianTail(sigma, h - 1)).toBeGreaterThan(0.05);
  });

  it('agrees with the continuous limits at large scales, and across the summation/erf switch', () => {
    expect(discreteLaplaceHalfWidth(1e6)).toBe(Math.ceil(1e6 * Math.log(20) - 0.5)); // ≈ t·ln(1/α)
    expect(Math.abs(discreteGaussianHalfWidth(1e6) - 1.959964 * 1e6)).toBeLessThan(2);
    const below = discreteGaussianHalfWidth(4999);
    const above = discreteGaussianHalfWidth(5001);
    expect(above - below).toBeGreaterThanOrEqual(3);
    expect(above - below).toBeLessThanOrEqual(5);
    expect(discreteGaussianHalfWidth(10, '0.001')).toBeGreaterThan(discreteGaussianHalfWidth(10, '0.05'));
  });

  it('inverts: the largest scale for a target half-width', () => {
    const t = laplaceScaleForHalfWidth(30);
    expect(discreteLaplaceHalfWidth(t)).toBeLessThanOrEqual(30);
    expect(discreteLaplaceHalfWidth(Number(t) * 1.001)).toBeGreaterThan(30);
    const s = gaussianSigmaForHalfWidth(59);
    expect(discreteGaussianHalfWidth(s)).toBeLessThanOrEqual(59);
    expect(discreteGaussianHalfWidth(Number(s) * 1.001)).toBeGreaterThan(59);
    expect(() => laplaceScaleForHalfWidth(-1)).toThrow(/halfWidth must not be negative/);
  });

  it('reports half-widths of fixed-point noise in real units', () => {
    const grid = noiseHalfWidth({ mechanism: 'discrete-laplace', scale: toRational('10/1024'), gridExponent: 10 });
    expect(grid).toBe(discreteLaplaceHalfWidth(10) / 1024);
    expect(noiseHalfWidth({ mechanism: 'discrete-gaussian', scale: toRational(3), gridExponent: 0 })).toBe(discreteGaussianHalfWidth(3));
    expect(() => discreteLaplaceHalfWidth(1, 1)).toThrow(/alpha must be below 1/);
  });
});
