// Budget conversions round the safe way, checked in exact rationals: costs never exceed what the analyst
// granted, and the ε an allotted ρ buys never costs more than that ρ.
import { describe, expect, it } from 'vitest';
import { Rational, SeededRandom, cdpRho, planPartitionSelection, toRational } from '@veil/mechanisms';
import { epsilonForRho } from './budget.js';
import { plan } from './plan.js';
import { rowLevelMetadata, visitsMetadata } from './testing/fixtures.js';

const EIGHTH = new Rational(1n, 8n);
const eighthOfSquare = (x: Rational): Rational => x.mul(x).mul(EIGHTH);
/** One unit in the 12th significant digit of a positive rational given as a decimal string. */
function lastDigitUnit(decimal: string): Rational {
  const [mantissa, exponent] = Number(decimal).toExponential(11).split('e');
  expect(mantissa!.replace(/[-.]/g, '')).toHaveLength(12);
  return toRational(`1e${Number(exponent) - 11}`);
}

describe('epsilonForRho: the ε-DP exponential mechanism an allotted ρ buys (ε²/8 ≤ ρ, rounded down)', () => {
  it('ε²/8 ≤ ρ exactly for values whose √(8ρ) lies just below a 12-digit decimal', () => {
    // √(8ρ) = d − 3·10^(e−20): rounding half-up at 20 digits gives d, whose square exceeds 8ρ.
    for (const d of ['1.23456789012', '0.00999999999999', '3.14159265359', '9.99999999999', '0.0707106781187']) {
      const exponent = Math.floor(Math.log10(Number(d)));
      const root = toRational(d).sub(toRational(`3e${exponent - 20}`));
      const rho = eighthOfSquare(root);
      const epsilon = epsilonForRho(rho);
      expect(eighthOfSquare(epsilon).cmp(rho), `rho for ${d}`).toBeLessThanOrEqual(0);
      expect(epsilon.cmp(toRational(d))).toBe(-1);
    }
  });

  it('ε²/8 ≤ ρ exactly, and one more unit in the last digit would exceed ρ, for 3,000 values of ρ', () => {
    const random = new SeededRandom('epsilon-for-rho');
    for (let i = 0; i < 3000; i++) {
      const digits = 1 + random.uniformInt(30);
      const mantissa = BigInt(1 + random.uniformInt(2 ** 30)) * BigInt(1 + random.uniformInt(2 ** 30));
      const rho = new Rational(mantissa, 10n ** BigInt(digits + random.uniformInt(10)));
      const epsilon = epsilonForRho(rho);
      expect(epsilon.isPositive()).toBe(true);
      expect(eighthOfSquare(epsilon).cmp(rho), `rho ${rho.toString()}`).toBeLessThanOrEqual(0);
      const decimal = epsilon.toDecimalString(12, 'nearest');
      expect(toRational(decimal).cmp(epsilon)).toBe(0);
      const next = epsilon.add(lastDigitUnit(decimal));
      expect(eighthOfSquare(next).cmp(rho), `rho ${rho.toString()} is tight`).toBe(1);
    }
  });
});

describe('the split never spends more than the grant', () => {
  it('Gaussian split with quantiles: the true ρ of the query is at most cdpRho(ε, δ)', () => {
    const sql = 'SELECT COUNT(*), SUM(age), SUM(visits), AVG(cost), VARIANCE(age), MEDIAN(age), QUANTILE(cost, 0.9), QUANTILE(visits, 0.3) FROM visits';
    for (const [epsilon, delta] of [['1', '1e-5'], ['0.5', '1e-4'], ['0.1', '1e-3'], ['3', '1e-3'], ['0.7777777', '3e-4']] as const) {
      for (const metadata of [visitsMetadata, rowLevelMetadata]) {
        const p = plan(sql, metadata, { epsilon, delta });
        expect(p.budget.noise.some((n) => n.mechanism === 'discrete-gaussian')).toBe(true);
        let rho = Rational.ZERO;
        for (const n of p.budget.noise) {
          if (n.mechanism === 'discrete-gaussian') {
            const delta2 = new Rational(n.sensitivity * n.sensitivity);
            rho = rho.add(delta2.div(n.sigma.mul(n.sigma).mul(new Rational(2n))));
          } else {
            expect(n.mechanism).toBe('exponential');
            rho = rho.add(eighthOfSquare(n.epsilon));
          }
        }
        const cap = toRational(cdpRho(epsilon, delta));
        expect(rho.cmp(cap)).toBeLessThanOrEqual(0);
        expect(toRational(p.cost.rho).cmp(rho)).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('Laplace split: the shares add up to at most ε', () => {
    for (const epsilon of ['1', '0.3', '1e-3', '7']) {
      const p = plan('SELECT region, COUNT(*), AVG(cost), MEDIAN(age) FROM visits GROUP BY city, region', visitsMetadata, { epsilon, delta: '1e-6' });
      expect(toRational(p.cost.epsilon).cmp(toRational(epsilon))).toBeLessThanOrEqual(0);
    }
  });

  it('partition selection uses the exact threshold of @veil/mechanisms (k·P(1 + Z ≥ τ) ≤ δ)', () => {
    const p = plan('SELECT city, COUNT(*) FROM visits GROUP BY city', visitsMetadata, { epsilon: '1', delta: '1e-6' });
    const selection = p.budget.partitionSelection!;
    const expected = planPartitionSelection({ epsilon: selection.epsilon, delta: selection.delta, maxPartitions: 3 });
    expect(selection.scale.cmp(expected.scale)).toBe(0);
    expect(BigInt(selection.threshold)).toBe(expected.threshold);
  });
});
