// Noise is what it claims: on a fixed dataset, the generated SQL runs once and the noise stage runs 2,000
// times with real crypto randomness. Per aggregate and group: the empirical standard deviation is within 10%
// of the reported one, and the 95% intervals cover the true (bounded) value in 93–97% of runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';
import { CryptoRandom } from '@veil/mechanisms';
import { estimate } from './estimate.js';
import type { SumMeasurement } from './measurements.js';
import { plan, type QueryPlan } from './plan.js';
import { gridUnit, release, type Answer, type PreNoiseGroup } from './release.js';
import { readPreNoise } from './run.js';
import { duckdbEngine, type ColumnSpec, type TestEngine } from './testing/engines.js';
import { keyString } from './domain.js';

const RUNS = 2000;
const columns: ColumnSpec = { pid: 'BIGINT', region: 'VARCHAR', age: 'BIGINT', visits: 'BIGINT', cost: 'DOUBLE PRECISION' };
const base = {
  source: { kind: 'file', path: '/data/people.parquet' },
  columns: {
    pid: { type: 'int' },
    region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
    age: { type: 'int', lower: 0, upper: 100 },
    visits: { type: 'int', lower: 0, upper: 20 },
    cost: { type: 'float', lower: 0, upper: 5000, nullable: true },
  },
};
const perRow = validateMetadata(base);
const perPerson = validateMetadata({ ...base, privacy_unit: { column: 'pid', max_rows: 3, max_groups: 2 } });

/** 20,000 deterministic rows; values spread so that means sit mid-range and nothing needs clamping twice. */
function people(): unknown[][] {
  const regions = ['north', 'south', 'east', 'west'];
  return Array.from({ length: 20_000 }, (_, i) => [
    Math.floor(i / 2),
    regions[i % 4],
    (i * 7919) % 101,
    (i * 31) % 21,
    i % 10 === 0 ? null : ((i * 104_729) % 500_000) / 100,
  ]);
}

interface Truth {
  [aggregateIndex: number]: number;
}

/** The true (bounded) value of each aggregate, from the pre-noise measurements, computed independently. */
function truths(p: QueryPlan, group: PreNoiseGroup): Truth {
  const out: Truth = {};
  p.recipes.forEach((recipe, a) => {
    const value = (i: number | undefined) => {
      const m = p.measurements[i!]!;
      return Number(group.values[i!]!) * (m.kind === 'sum' ? gridUnit(m) : 1);
    };
    const n = recipe.count !== undefined ? value(recipe.count) : 0;
    const spec = recipe.sum !== undefined ? (p.measurements[recipe.sum] as SumMeasurement) : null;
    switch (recipe.call.fn) {
      case 'count':
        out[a] = n;
        break;
      case 'sum':
        out[a] = value(recipe.sum);
        break;
      case 'avg':
        out[a] = spec!.centre + value(recipe.sum) / n;
        break;
      default: {
        const mean = value(recipe.sum) / n;
        const squares = p.measurements[recipe.sumOfSquares!] as SumMeasurement;
        const population = value(recipe.sumOfSquares) / n + squares.offset - mean * mean;
        const variance = recipe.call.fn.endsWith('_samp') ? (population * n) / (n - 1) : population;
        if (recipe.call.fn.startsWith('var')) out[a] = variance;
        else if (recipe.call.fn.startsWith('stddev')) out[a] = Math.sqrt(variance);
      }
    }
  });
  return out;
}

function sd(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

/** Runs the noise stage RUNS times and checks every noisy (non-quantile) output cell. */
function checkNoise(p: QueryPlan, groups: PreNoiseGroup[]) {
  const rng = new CryptoRandom();
  const answers: Answer[] = Array.from({ length: RUNS }, () => release(p, groups, rng));
  const byKey = new Map(groups.map((g) => [g.key.map(keyString).join('|'), g]));
  const keyCount = p.query.keys.length;
  const checked: string[] = [];
  p.query.outputs.forEach((output, column) => {
    if (output.expr.kind !== 'aggregate' || p.recipes[output.expr.index]!.call.fn === 'quantile') return;
    const aggregate = output.expr.index;
    answers[0]!.rows.forEach((row, r) => {
      const group = byKey.get(row.slice(0, keyCount).map(keyString).join('|'))!;
      const truth = truths(p, group)[aggregate]!;
      const values = answers.map((a) => a.rows[r]![column] as number);
      const reported = answers[0]!.accuracy[r]![column]!;
      const covered = answers.filter((a) => {
        const ci = a.accuracy[r]![column]!.ci95!;
        return ci[0] <= truth && truth <= ci[1];
      }).length / RUNS;
      const label = `${output.name} ${JSON.stringify(row.slice(0, keyCount))}`;
      expect(sd(values) / reported.stddev!, `sd ratio of ${label}`).toBeGreaterThan(0.9);
      expect(sd(values) / reported.stddev!, `sd ratio of ${label}`).toBeLessThan(1.1);
      expect(covered, `coverage of ${label}`).toBeGreaterThanOrEqual(0.93);
      expect(covered, `coverage of ${label}`).toBeLessThanOrEqual(0.97);
      checked.push(label);
    });
  });
  return { answers, checked };
}

describe('noise is what it claims (2,000 runs of the noise stage, real crypto randomness)', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await duckdbEngine(columns, people());
  });
  afterAll(async () => {
    await engine.close();
  });

  const pre = async (p: QueryPlan) => readPreNoise(p, engine, 'fixed-salt');

  it('discrete Laplace: COUNT, SUM, AVG, VARIANCE, STDDEV per public group', async () => {
    const p = plan('SELECT region, COUNT(*), SUM(age), AVG(cost), VARIANCE(age), STDDEV(visits) FROM people GROUP BY region', perRow, { epsilon: '0.5' });
    expect(p.budget.noise.every((n) => n.mechanism === 'discrete-laplace')).toBe(true);
    const { checked } = checkNoise(p, await pre(p));
    expect(checked).toHaveLength(4 * 5);
  });

  it('discrete Gaussian when δ > 0 and many measurements make it the better choice', async () => {
    const p = plan('SELECT COUNT(*), SUM(age), SUM(visits), AVG(cost), VARIANCE(age), VARIANCE(visits) FROM people', perRow, { epsilon: 1, delta: '1e-5' });
    expect(p.budget.noise.every((n) => n.mechanism === 'discrete-gaussian')).toBe(true);
    const { checked } = checkNoise(p, await pre(p));
    expect(checked).toHaveLength(6);
  });

  it('per-person bounding scales the noise by max_rows', async () => {
    const rowPlan = plan('SELECT region, COUNT(*), AVG(age) FROM people GROUP BY region', perRow, { epsilon: 1 });
    const personPlan = plan('SELECT region, COUNT(*), AVG(age) FROM people GROUP BY region', perPerson, { epsilon: 1 });
    const scale = (p: QueryPlan) => (p.budget.noise[0]!.mechanism === 'discrete-laplace' ? p.budget.noise[0]!.scale.toNumber() : NaN);
    expect(scale(personPlan)).toBe(3 * scale(rowPlan));
    const { checked } = checkNoise(personPlan, await pre(personPlan));
    expect(checked).toHaveLength(8);
  });

  it('quantiles: the released rank is within the reported rank half-width in at least 95% of runs', async () => {
    const p = plan('SELECT region, MEDIAN(age), QUANTILE(visits, 0.9) FROM people GROUP BY region', perPerson, { epsilon: 1 });
    const groups = await pre(p);
    const rng = new CryptoRandom();
    for (const column of [1, 2]) {
      const bound = estimate(p).columns[column]!.estimate!.rankHalfWidth95!;
      const index = column - 1;
      const m = p.measurements[index]!;
      if (m.kind !== 'quantile') throw new Error('expected a quantile measurement');
      for (const group of groups.filter((g) => g.key[0] !== null)) {
        const counts = group.histograms.get(index)!.map(Number);
        const n = counts.reduce((a, b) => a + b, 0);
        let within = 0;
        for (let run = 0; run < 500; run++) {
          const answer = release(p, [group], rng);
          const r = answer.rows.findIndex((row) => row[0] === group.key[0]);
          expect(answer.accuracy[r]![column]!.rankHalfWidth95).toBe(bound);
          expect(answer.accuracy[r]![column]!.ci95).toBeNull();
          const bin = (answer.rows[r]![column] as number) - m.lower;
          const below = counts.slice(0, bin).reduce((a, b) => a + b, 0);
          const distance = Math.max(0, below - m.q * n, m.q * n - (below + counts[bin]!));
          if (distance <= bound) within++;
        }
        expect(within / 500, `${p.query.outputs[column]!.name} ${String(group.key[0])}`).toBeGreaterThanOrEqual(0.95);
      }
    }
  });
});

export type { DatasetMetadata };
