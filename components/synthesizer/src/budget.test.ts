import { Decimal as BaseDecimal } from 'decimal.js';
import { cdpRho, Rational } from '@veil/mechanisms';
import { describe, expect, it } from 'vitest';
import { gaussianVariance, mstBudget, mstCost, selectionEpsilon } from './budget.js';
import { SynthesisError } from './encoding.js';

const Decimal = BaseDecimal.clone({ precision: 80 });

describe('MST budget', () => {
  it.each([
    ['1', '1e-9'],
    ['0.1', '1e-9'],
    ['10', '1e-9'],
    ['0.37', '1e-6'],
  ])('splits ρ(ε=%s, δ=%s) into three shares that add up to ρ exactly', (epsilon, delta) => {
    const budget = mstBudget(epsilon, delta, 14);
    expect(budget.rho).toBe(cdpRho(epsilon, delta));
    const sum = new Decimal(budget.oneWay).plus(budget.selection).plus(budget.twoWay);
    expect(sum.equals(budget.rho)).toBe(true);
    expect(new Decimal(budget.selection).equals(budget.twoWay)).toBe(true);
    // Each share is a third up to rounding in the 30th significant digit.
    expect(new Decimal(budget.oneWay).minus(new Decimal(budget.rho).div(3)).abs().lt(new Decimal(budget.rho).times('1e-28'))).toBe(true);
  });

  it('charges (ε, δ) and the ρ it consumes, with no δ in zCDP terms', () => {
    const cost = mstCost(1, '1e-9');
    expect(cost).toEqual({ epsilon: '1', delta: '1e-9', rho: cdpRho('1', '1e-9'), rhoDelta: '0' });
    expect(Number(cost.rho)).toBeCloseTo(0.0149731, 6);
  });

  it('gives the whole ρ to the 1-way marginal when there is a single column', () => {
    const budget = mstBudget('1', '1e-9', 1);
    expect(budget.oneWay).toBe(budget.rho);
    expect(budget.selection).toBe('0');
    expect(budget.twoWay).toBe('0');
  });

  it('computes σ² = k·Δ²/(2ρ) exactly', () => {
    const sigma2 = gaussianVariance('0.005', 14, 1);
    expect(sigma2.num * 1n).toBe(1400n);
    expect(sigma2.den).toBe(1n);
    expect(gaussianVariance('1/3', 13, 2).cmp(new Rational(13n * 4n * 3n, 2n))).toBe(0);
  });

  it('sets the selection ε per round to √(8ρ/(r−1)), rounded down so that the rounds cost at most ρ', () => {
    const rho = mstBudget('1', '1e-9', 14).selection;
    const epsilon = selectionEpsilon(rho, 13);
    const spent = new Decimal(epsilon).pow(2).div(8).times(13);
    expect(spent.lte(rho)).toBe(true);
    expect(spent.div(rho).gt('0.99999999999999')).toBe(true);
    expect(Number(epsilon)).toBeCloseTo(Math.sqrt((8 * Number(rho)) / 13), 12);
  });

  it('refuses ε ≤ 0, δ = 0 and values that are not numbers', () => {
    expect(() => mstBudget(0, '1e-9', 3)).toThrow(/epsilon must be a positive number/);
    expect(() => mstBudget(1, 0, 3)).toThrow(/delta must be above 0/);
    expect(() => mstBudget('one', '1e-9', 3)).toThrow(SynthesisError);
  });
});
