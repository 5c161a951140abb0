// The library API end to end on DuckDB: plan → estimate → run, and what answers carry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateMetadata } from '@veil/dataset-metadata';
import { CryptoRandom, addCosts, laplaceCost, partitionSelectionCost } from '@veil/mechanisms';
import { estimate, plan, QueryRejectedError, run } from './index.js';
import { duckdbEngine, type TestEngine } from './testing/engines.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: '/data/people.parquet' },
  columns: {
    region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
    city: { type: 'string' },
    age: { type: 'int', lower: 0, upper: 100 },
  },
});

// north: 3000 rows, south: 2000, east: 0, west: 0; city "big" 5000 rows, "rare" 1 row.
function rows(): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < 5000; i++) out.push([i < 3000 ? 'north' : 'south', 'big', i % 90]);
  out.push(['north', 'rare', 42]);
  return out;
}

describe('plan, estimate, run', () => {
  let engine: TestEngine;
  const rng = new CryptoRandom();
  beforeAll(async () => {
    engine = await duckdbEngine({ region: 'VARCHAR', city: 'VARCHAR', age: 'BIGINT' }, rows());
  });
  afterAll(async () => {
    await engine.close();
  });

  it('releases every public key, empty groups included, with accuracy per value', async () => {
    const p = plan('SELECT region, COUNT(*) AS n, AVG(age) FROM people GROUP BY region', metadata, { epsilon: 1 });
    const answer = await run(p, engine, rng);
    expect(answer.columns).toEqual([{ name: 'region', type: 'string' }, { name: 'n', type: 'number' }, { name: 'avg', type: 'number' }]);
    expect(answer.rows.map((r) => r[0])).toEqual(['north', 'south', 'east', 'west']);
    expect(answer.groups).toEqual({ selection: 'public', released: 4 });
    const north = answer.rows[0]!;
    const count = answer.accuracy[0]![1]!;
    expect(answer.accuracy[0]![0]).toBeNull();
    expect(count.mechanism).toBe('discrete-laplace');
    expect(count.ci95![0]).toBeLessThanOrEqual(north[1] as number);
    expect(Math.abs((north[1] as number) - 3001)).toBeLessThan(100);
    expect(answer.accuracy[2]![2]!.approximate).toBe(true);
    expect(answer.charge).toEqual(p.cost);
  });

  it('charges the split budget: equal Laplace shares, plus partition selection with all of δ', () => {
    const publicPlan = plan('SELECT region, COUNT(*), AVG(age) FROM people GROUP BY region', metadata, { epsilon: '0.9' });
    // COUNT(age) over a non-nullable column is COUNT(*): two measurements (count, centred sum), ε/2 each.
    expect(publicPlan.measurements).toHaveLength(2);
    expect(publicPlan.cost).toEqual(addCosts(laplaceCost('0.45'), laplaceCost('0.45')));
    const privatePlan = plan('SELECT city, COUNT(*) FROM people GROUP BY city', metadata, { epsilon: 1, delta: '1e-6' });
    expect(privatePlan.cost).toEqual(addCosts(laplaceCost('0.5'), partitionSelectionCost('0.5', '1e-6')));
  });

  it('finds private keys by partition selection: frequent ones released, a single row never', async () => {
    const p = plan('SELECT city, COUNT(*) FROM people GROUP BY city', metadata, { epsilon: 1, delta: '1e-6' });
    for (let i = 0; i < 20; i++) {
      const answer = await run(p, engine, rng);
      expect(answer.rows.map((r) => r[0])).toEqual(['big']);
      expect(answer.groups).toMatchObject({ selection: 'partition-selection', released: 1 });
    }
  });

  it('applies HAVING, ORDER BY and LIMIT to noisy values', async () => {
    const p = plan('SELECT region, COUNT(*) AS n, COUNT(*) * 2 AS twice FROM people GROUP BY region HAVING COUNT(*) > 500 ORDER BY n DESC LIMIT 1', metadata, { epsilon: 1 });
    const answer = await run(p, engine, rng);
    expect(answer.rows).toHaveLength(1);
    expect(answer.rows[0]![0]).toBe('north');
    expect(answer.rows[0]![2]).toBe((answer.rows[0]![1] as number) * 2);
    const ci = answer.accuracy[0]![2]!.ci95!;
    const base = answer.accuracy[0]![1]!.ci95!;
    expect(ci).toEqual([base[0] * 2, base[1] * 2]);
  });

  it('filters on keys in HAVING and rejects ungrouped columns', async () => {
    const p = plan("SELECT region, COUNT(*) FROM people GROUP BY region HAVING region = 'south' OR region IS NULL", metadata, { epsilon: 1 });
    expect((await run(p, engine, rng)).rows.map((r) => r[0])).toEqual(['south']);
    expect(() => plan('SELECT region, COUNT(*) FROM people GROUP BY region HAVING age > 3', metadata, { epsilon: 1 })).toThrow(/must appear in GROUP BY/);
    expect(() => plan('SELECT region, age + 1, COUNT(*) FROM people GROUP BY region', metadata, { epsilon: 1 })).toThrow(/must appear in GROUP BY/);
  });

  it('estimates cost and half-widths before running, without data', () => {
    const p = plan('SELECT region, COUNT(*), SUM(age), AVG(age), MEDIAN(age) FROM people GROUP BY region', metadata, { epsilon: 1 });
    const e = estimate(p);
    expect(e.charge).toEqual(p.cost);
    expect(e.columns[0]!.estimate).toBeNull();
    expect(e.columns[1]!.estimate).toMatchObject({ mechanism: 'discrete-laplace', scale: 4 });
    expect(e.columns[1]!.estimate!.halfWidth95).toBeGreaterThan(4 * Math.log(20) - 1);
    expect(e.columns[2]!.estimate!.scale).toBe(400);
    expect(e.columns[3]!.estimate!.halfWidth95TimesCount).toBeGreaterThan(0);
    expect(e.columns[4]!.estimate!.rankHalfWidth95).toBeGreaterThan(0);
    expect(e.partitionSelection).toBeNull();
  });

  it('estimates exactly the intervals a run reports for COUNT and SUM', async () => {
    const p = plan('SELECT region, COUNT(*), SUM(age) FROM people GROUP BY region', metadata, { epsilon: '0.3' });
    const e = estimate(p);
    const answer = await run(p, engine, rng);
    for (const column of [1, 2]) {
      const ci = answer.accuracy[0]![column]!.ci95!;
      expect((ci[1] - ci[0]) / 2).toBe(e.columns[column]!.estimate!.halfWidth95);
    }
  });

  it('chooses the Gaussian only when δ > 0 and it beats Laplace at the split (4Nρ > ε²)', () => {
    const few = plan('SELECT COUNT(*), SUM(age) FROM people', metadata, { epsilon: 1, delta: '1e-5' });
    expect(few.budget.noise.map((n) => n.mechanism)).toEqual(['discrete-laplace', 'discrete-laplace']);
    const many = plan('SELECT COUNT(*), SUM(age), VARIANCE(age), MEDIAN(age), PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY age), QUANTILE_CONT(age, 0.1), QUANTILE_CONT(age, 0.2), QUANTILE_CONT(age, 0.3), QUANTILE_CONT(age, 0.4) FROM people', metadata, { epsilon: 1, delta: '1e-5' });
    expect(many.measurements.length).toBeGreaterThanOrEqual(9);
    // COUNT(*), SUM(age), the centred sum and the sum of squares of VARIANCE; six quantiles.
    expect(many.budget.noise.filter((n) => n.mechanism === 'discrete-gaussian').length).toBe(4);
    expect(many.budget.noise.filter((n) => n.mechanism === 'exponential').length).toBe(6);
    expect(Number(many.cost.rho)).toBeLessThanOrEqual(0.0305566);
    expect(many.cost.epsilon).toBe('1');
    expect(many.cost.delta).toBe('0.00001');
  });

  it('rejects through a typed error the HTTP layer can map', () => {
    expect(() => plan('SELECT age FROM people', metadata, { epsilon: 1 })).toThrow(QueryRejectedError);
  });
});
