import { Decimal } from 'decimal.js';
import { Rational, SeededRandom } from '@veil/mechanisms';
import { describe, expect, it } from 'vitest';
import { twoWayTvd } from './adult.fixture.js';
import { gaussianVariance, mstBudget, selectionEpsilon } from './budget.js';
import { runMst, type SynthesisProgress } from './mst.js';
import { cryptoNoise, type MstNoise } from './noise.js';
import { SCORE_SCALE } from './select.js';
import type { EncodedTable } from './table.js';

interface Recorded {
  gaussian: { cells: number; sigmaSquared: Rational; noise: number[] }[];
  choose: { candidates: number; sensitivity: number; epsilon: string }[];
}

/** The real (CryptoRandom) noise, with every call recorded. */
function recordingNoise(): { noise: MstNoise; recorded: Recorded } {
  const inner = cryptoNoise();
  const recorded: Recorded = { gaussian: [], choose: [] };
  return {
    recorded,
    noise: {
      gaussian(counts, sigmaSquared) {
        const noisy = inner.gaussian(counts, sigmaSquared);
        recorded.gaussian.push({ cells: counts.length, sigmaSquared, noise: Array.from(noisy, (y, i) => y - counts[i]!) });
        return noisy;
      },
      choose(scores, sensitivity, epsilon) {
        recorded.choose.push({ candidates: scores.length, sensitivity, epsilon });
        return inner.choose(scores, sensitivity, epsilon);
      },
    },
  };
}

/** A small table with dependent columns: c1 follows c0, c2 follows c1, c3 is independent noise. */
function smallTable(rows: number): EncodedTable {
  const random = new SeededRandom(11);
  const sizes = [4, 5, 3, 6, 2];
  const columns = sizes.map(() => new Int32Array(rows));
  for (let i = 0; i < rows; i++) {
    const c0 = random.uniformInt(4);
    const c1 = random.uniformInt(4) === 0 ? random.uniformInt(5) : c0 + 1;
    const c2 = c1 % 3;
    columns[0]![i] = c0;
    columns[1]![i] = c1;
    columns[2]![i] = random.uniformInt(10) === 0 ? random.uniformInt(3) : c2;
    columns[3]![i] = random.uniformInt(6);
    columns[4]![i] = c0 < 2 ? 0 : 1;
  }
  return { names: ['a', 'b', 'c', 'd', 'e'], sizes, columns, rows };
}

const variance = (xs: number[]): number => {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
};

describe('MST privacy', () => {
  const table = smallTable(20_000);
  const d = table.names.length;
  const budget = mstBudget('1', '1e-9', d);

  it('measures each 1-way marginal at σ² = d/(2·ρ/3) and each tree 2-way marginal at σ² = (d−1)/(2·ρ/3), spending each share exactly', () => {
    const { noise, recorded } = recordingNoise();
    runMst(table, { budget, noise, random: new SeededRandom(1), iterations: 50 });
    const oneWay = recorded.gaussian.slice(0, d);
    const twoWay = recorded.gaussian.slice(d);
    expect(oneWay.map((g) => g.cells)).toEqual(table.sizes);
    expect(twoWay).toHaveLength(d - 1);
    // σ·√k: k marginals sharing a share ρᵢ, each at ρᵢ/k, so the k measurements spend exactly ρᵢ.
    const spent = (calls: Recorded['gaussian']): Rational => calls.reduce((s, g) => s.add(new Rational(g.sigmaSquared.den, 2n * g.sigmaSquared.num)), Rational.ZERO);
    expect(spent(oneWay).cmp(Rational.from(budget.oneWay))).toBe(0);
    expect(spent(twoWay).cmp(Rational.from(budget.twoWay))).toBe(0);
    const singleVariance = (rho: string): Rational => Rational.ONE.div(Rational.from(rho).mul(new Rational(2n)));
    for (const g of oneWay) expect(g.sigmaSquared.cmp(singleVariance(budget.oneWay).mul(new Rational(BigInt(d))))).toBe(0);
    for (const g of twoWay) expect(g.sigmaSquared.cmp(singleVariance(budget.twoWay).mul(new Rational(BigInt(d - 1))))).toBe(0);
    for (const g of oneWay) expect(g.sigmaSquared.cmp(gaussianVariance(budget.oneWay, d, 1))).toBe(0);
    for (const g of twoWay) expect(g.sigmaSquared.cmp(gaussianVariance(budget.twoWay, d - 1, 1))).toBe(0);
    // The noise actually drawn has that variance (all 2-way cells pooled, 5σ tolerance on the variance estimate).
    const drawn = twoWay.flatMap((g) => g.noise);
    const expected = gaussianVariance(budget.twoWay, d - 1, 1).toNumber();
    expect(Math.abs(variance(drawn) / expected - 1)).toBeLessThan(5 * Math.sqrt(2 / drawn.length));
    for (const g of recorded.gaussian) expect(g.noise.every(Number.isInteger)).toBe(true);
  });

  it('draws discrete Gaussian noise with the declared variance', () => {
    const sigmaSquared = gaussianVariance(budget.oneWay, d, 1);
    const noisy = cryptoNoise().gaussian(new Int32Array(40_000), sigmaSquared);
    const drawn = Array.from(noisy);
    expect(drawn.every(Number.isInteger)).toBe(true);
    expect(Math.abs(variance(drawn) / sigmaSquared.toNumber() - 1)).toBeLessThan(5 * Math.sqrt(2 / drawn.length));
  });

  it('selects d−1 edges, each by the exponential mechanism at the declared ε = √(8·(ρ/3)/(d−1)) among pairs joining two components', () => {
    const { noise, recorded } = recordingNoise();
    const result = runMst(table, { budget, noise, random: new SeededRandom(1), iterations: 10 });
    const epsilon = selectionEpsilon(budget.selection, d - 1);
    expect(recorded.choose).toHaveLength(d - 1);
    for (const call of recorded.choose) expect(call).toMatchObject({ sensitivity: SCORE_SCALE, epsilon });
    expect(result.report.selectionEpsilon).toBe(epsilon);
    expect(new Decimal(epsilon).pow(2).div(8).times(d - 1).lte(budget.selection)).toBe(true);
    // Kruskal: after k edges, the pairs inside components are no longer candidates.
    expect(recorded.choose[0]!.candidates).toBe((d * (d - 1)) / 2);
    expect(recorded.choose.at(-1)!.candidates).toBeLessThan(recorded.choose[0]!.candidates);
    expect(result.report.tree).toHaveLength(d - 1);
  });

  it('scales every sensitivity by the rows one privacy unit may contribute', () => {
    const { noise, recorded } = recordingNoise();
    runMst(table, { budget, noise, random: new SeededRandom(1), iterations: 10, contribution: 3 });
    expect(recorded.gaussian[0]!.sigmaSquared.cmp(gaussianVariance(budget.oneWay, d, 1).mul(new Rational(9n)))).toBe(0);
    expect(recorded.choose.every((c) => c.sensitivity === 3 * SCORE_SCALE)).toBe(true);
  });

  it('reports its phases and iterations, and can be cancelled', () => {
    const seen: SynthesisProgress[] = [];
    const { noise } = recordingNoise();
    runMst(table, { budget, noise, random: new SeededRandom(1), iterations: 100, onProgress: (p) => seen.push(p) });
    const phases = [...new Set(seen.map((p) => p.phase))];
    expect(phases).toEqual(['measuring-1way', 'selecting', 'measuring-2way', 'fitting', 'sampling']);
    expect(seen.filter((p) => p.phase === 'selecting').at(-1)).toEqual({ phase: 'selecting', iteration: d - 1, total: d - 1 });
    expect(seen.filter((p) => p.phase === 'fitting').at(-1)).toEqual({ phase: 'fitting', iteration: 100, total: 100 });
    const controller = new AbortController();
    expect(() => runMst(table, {
      budget, noise, random: new SeededRandom(1), iterations: 1000, signal: controller.signal,
      onProgress: (p) => p.phase === 'fitting' && controller.abort(),
    })).toThrow(/abort/i);
  });
});

describe('MST edge cases', () => {
  it('spends the whole ρ on the 1-way marginal of a single column and samples from it', () => {
    const table = smallTable(2000);
    const single: EncodedTable = { names: ['a'], sizes: [4], columns: [table.columns[0]!], rows: 2000 };
    const { noise, recorded } = recordingNoise();
    const budget = mstBudget('1', '1e-9', 1);
    const result = runMst(single, { budget, noise, random: new SeededRandom(1), rows: 1000 });
    expect(recorded.choose).toHaveLength(0);
    expect(recorded.gaussian).toHaveLength(1);
    expect(recorded.gaussian[0]!.sigmaSquared.cmp(gaussianVariance(budget.rho, 1, 1))).toBe(0);
    expect(result.columns[0]).toHaveLength(1000);
    expect(result.report.tree).toEqual([]);
  });

  it('runs on an empty table', () => {
    const empty: EncodedTable = { names: ['a', 'b'], sizes: [3, 2], columns: [new Int32Array(0), new Int32Array(0)], rows: 0 };
    const result = runMst(empty, { budget: mstBudget('1', '1e-9', 2), noise: cryptoNoise(), random: new SeededRandom(1), iterations: 20 });
    expect(result.rows).toBeGreaterThanOrEqual(1);
    expect(result.columns[0]!.every((v) => v >= 0 && v < 3)).toBe(true);
  });
});

describe('MST accuracy', () => {
  it('with a very large ε, the synthetic 2-way marginals of the tree converge to the true ones', () => {
    const table = smallTable(20_000);
    const result = runMst(table, { budget: mstBudget('100000', '1e-9', 5), noise: cryptoNoise(), random: new SeededRandom(3) });
    for (const [a, b] of result.report.tree) expect(twoWayTvd(table, result.columns, a, b)).toBeLessThan(0.002);
    expect(result.rows).toBe(20_000);
  });
});
