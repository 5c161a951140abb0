import { describe, expect, it } from 'vitest';
import {
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
  type PrivacyCost,
} from './accounting.js';
import { toRational } from './rational.js';

const relativeError = (got: string, want: number): number => Math.abs(Number(got) - want) / want;

describe('zCDP ↔ (ε, δ) conversions', () => {
  it.each([
    ['1', '1e-9', 0.0149731],
    ['1', '1e-5', 0.0305566],
    ['0.1', '1e-9', 0.000177138],
    ['10', '1e-9', 1.09079],
  ])('ρ(ε = %s, δ = %s) = %s within 1e-5 relative', (eps, delta, want) => {
    expect(relativeError(cdpRho(eps, delta), want)).toBeLessThanOrEqual(1e-5);
  });

  it('rounds conservatively: the ρ cap certifies δ, and ε for a ρ certifies δ', () => {
    const rho = cdpRho(1, '1e-9');
    expect(Number(cdpDelta(rho, 1))).toBeLessThanOrEqual(1e-9);
    const eps = cdpEpsilon(rho, '1e-9');
    expect(Number(eps)).toBeGreaterThanOrEqual(1);
    expect(Number(eps)).toBeLessThan(1.00001);
    expect(Number(cdpDelta(rho, eps))).toBeLessThanOrEqual(1e-9 * (1 + 1e-12));
  });

  it('handles the degenerate cases', () => {
    expect(cdpDelta(0, 1)).toBe('0');
    expect(cdpEpsilon(0, '1e-6')).toBe('0');
    expect(() => cdpRho(1, 1)).toThrow(/delta must be below 1/);
    expect(() => cdpEpsilon(1, 0)).toThrow(/delta must be positive/);
  });

  it('converts ε and Gaussian parameters to ρ exactly, rounded up', () => {
    expect(epsilonToRho('0.1')).toBe('0.005');
    expect(gaussianRho(1, 30)).toBe('0.000555555555555555555555555555556');
    expect(Number(gaussianSigmaForRho(1, gaussianRho(1, 30)))).toBeGreaterThanOrEqual(30 - 1e-12);
    expect(Number(gaussianSigmaForRho(1, '0.5'))).toBeGreaterThanOrEqual(1);
  });
});

describe('Gaussian calibration for basic composition', () => {
  it('ε(Δ = 1, σ = 30, δ = 1e-7) is the better of the classic bound and the zCDP conversion', () => {
    const classic = Math.sqrt(2 * Math.log(1.25 / 1e-7)) / 30;
    const eps = Number(gaussianEpsilon(1, 30, '1e-7'));
    const viaZcdp = Number(cdpEpsilon(gaussianRho(1, 30), '1e-7'));
    expect(eps).toBeCloseTo(Math.min(classic, viaZcdp), 9);
    expect(eps).toBeGreaterThanOrEqual(Math.min(classic, viaZcdp));
  });

  it('σ for (ε, δ) round-trips to an ε no larger than asked', () => {
    const sigma = gaussianSigmaForEpsilonDelta(1, '0.5', '1e-6');
    expect(Number(gaussianEpsilon(1, sigma, '1e-6'))).toBeLessThanOrEqual(0.5 * (1 + 1e-9));
    const big = gaussianSigmaForEpsilonDelta(1, 2, '1e-6');
    expect(Number(gaussianEpsilon(1, big, '1e-6'))).toBeLessThanOrEqual(2 * (1 + 1e-9));
  });
});

describe('privacy costs', () => {
  it('build the agreed shapes', () => {
    expect(laplaceCost('0.5')).toEqual({ epsilon: '0.5', delta: '0', rho: '0.125', rhoDelta: '0' });
    expect(partitionSelectionCost('1', '1e-8')).toEqual({ epsilon: '1', delta: '0.00000001', rho: '0.5', rhoDelta: '0.00000001' });
    expect(exponentialMechanismCost('2')).toEqual({ epsilon: '2', delta: '0', rho: '0.5', rhoDelta: '0' });
    const g = gaussianCost(1, 30, '1e-7');
    expect(g.delta).toBe('0.0000001');
    expect(g.rho).toBe(gaussianRho(1, 30));
    expect(g.rhoDelta).toBe('0');
    expect(g.epsilon).toBe(gaussianEpsilon(1, 30, '1e-7'));
  });

  it('add exactly and compare field-wise', () => {
    const sum = addCosts(laplaceCost('0.1'), laplaceCost('0.2'), ZERO_COST);
    expect(sum).toEqual({ epsilon: '0.3', delta: '0', rho: '0.025', rhoDelta: '0' });
    expect(compareCost(laplaceCost('0.1'), sum)).toBe('less');
    expect(compareCost(sum, laplaceCost('0.1'))).toBe('greater');
    expect(compareCost(sum, { ...sum })).toBe('equal');
    expect(compareCost(laplaceCost('1'), partitionSelectionCost('0.5', '1e-9'))).toBe('incomparable');
    expect(() => addCosts({ ...ZERO_COST, rho: 'lots' })).toThrow(/cost.rho/);
  });

  it('ledger example: grant (1, 1e-6), Gaussian counts σ = 30 — zCDP admits 43, basic 5 to 7', () => {
    const grant = { epsilon: 1, delta: '1e-6' };
    const count = (cost: PrivacyCost, mode: 'zcdp' | 'basic'): number => {
      let spent = ZERO_COST;
      for (let n = 0; ; n++) {
        const next = addCosts(spent, cost);
        if (!withinGrant(next, grant, mode)) return n;
        spent = next;
      }
    };
    expect(count(gaussianCost(1, 30, '1e-7'), 'zcdp')).toBe(43);
    expect(Number(zcdpRhoCap(grant))).toBeGreaterThanOrEqual(43 / 1800);
    expect(Number(zcdpRhoCap(grant))).toBeLessThan(44 / 1800);
    const basic = count(gaussianCost(1, 30, '1e-7'), 'basic');
    expect(basic).toBeGreaterThanOrEqual(5);
    expect(basic).toBeLessThanOrEqual(7);
  });

  it('approximate zCDP: rhoDelta eats into the grant δ', () => {
    const grant = { epsilon: 1, delta: '1e-6' };
    const selection = partitionSelectionCost('0.1', '5e-7');
    expect(withinGrant(selection, grant, 'zcdp')).toBe(true);
    expect(withinGrant(addCosts(selection, selection, selection), grant, 'zcdp')).toBe(false);
    expect(Number(zcdpRhoCap(grant, '5e-7'))).toBeLessThan(Number(zcdpRhoCap(grant)));
    expect(Number(spentEpsilon(selection, grant, 'zcdp'))).toBeGreaterThan(0);
    expect(spentEpsilon(selection, grant, 'basic')).toBe('0.1');
  });
});

describe('cdpDelta at the extremes (audit)', () => {
  it('stays a short, positive upper bound when δ is astronomically small', () => {
    // e^(−25000): written out exactly this was a 10,891-character string (ρ = 1e-8 ran out of memory).
    const tiny = cdpDelta('1e-3', 10);
    expect(tiny.length).toBeLessThan(1100);
    expect(toRational(tiny).isPositive()).toBe(true);
    // Underflow used to give '0': a δ rounded down (ρ-zCDP with ρ > 0 never implies pure DP).
    expect(toRational(cdpDelta('1e-20', 1)).isPositive()).toBe(true);
  });

  it('never exceeds 1', () => {
    expect(cdpDelta(100, '0.001')).toBe('1');
  });
});
