import { validateMetadata } from '@veil/dataset-metadata';
import { describe, expect, it } from 'vitest';
import { adultAvailable, averageTvd, batchesOf, loadAdult } from './adult.fixture.js';
import { mstCost } from './budget.js';
import { SynthesisError } from './encoding.js';
import type { SynthesisProgress } from './mst.js';
import { planSynthesis, synthesize } from './synthesize.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: '/data/visits.csv' },
  privacy_unit: { column: 'patient', max_rows: 2, max_groups: 1 },
  columns: {
    patient: { type: 'string' },
    region: { type: 'string', categories: ['north', 'south', 'east'], nullable: true },
    age: { type: 'int', lower: 0, upper: 99 },
    cost: { type: 'float', lower: 0, upper: 500 },
    day: { type: 'date', lower: '2024-01-01', upper: '2024-12-31' },
    note: { type: 'string' },
  },
});
const columns = ['region', 'age', 'cost', 'day'];

/** A source that fails the test if anything reads it. */
const untouchable: AsyncIterable<unknown[][]> = {
  [Symbol.asyncIterator]() {
    throw new Error('the data source was read');
  },
};

function rowsOfVisits(n: number): unknown[][] {
  const regions = ['north', 'south', 'east', null];
  return Array.from({ length: n }, (_, i) => [regions[i % 4], 20 + (i % 60), (i * 7) % 500, `2024-0${1 + (i % 9)}-1${i % 10}`]);
}

describe('synthesize', () => {
  it('plans from metadata without data: columns (privacy unit left out), domains and cost', () => {
    const plan = planSynthesis(metadata, { epsilon: 1, delta: '1e-9', columns });
    expect(plan.columns).toEqual(columns);
    expect(plan.codecs.map((c) => c.size)).toEqual([4, 32, 32, 32]);
    expect(plan.cost).toEqual(mstCost(1, '1e-9'));
    expect(plan.contribution).toBe(2);
    expect(() => planSynthesis(metadata, { epsilon: 1, delta: '1e-9' })).toThrow(/column "note": no public domain is declared/);
    expect(() => planSynthesis(metadata, { epsilon: 1, delta: '1e-9', columns: ['patient', 'age'] })).toThrow(/identifies the privacy unit/);
  });

  it('refuses when the grant cannot cover the cost, before touching data', async () => {
    const seen: unknown[] = [];
    const refusal = new Error('insufficient budget');
    await expect(synthesize(metadata, { epsilon: 1, delta: '1e-9', columns }, untouchable, {
      authorize: (cost) => {
        seen.push(cost);
        throw refusal;
      },
    })).rejects.toBe(refusal);
    expect(seen).toEqual([mstCost(1, '1e-9')]);
  });

  it('refuses a bad request before touching data', async () => {
    let authorized = false;
    const authorize = (): void => {
      authorized = true;
    };
    await expect(synthesize(metadata, { epsilon: 1, delta: '1e-9', columns: ['note'] }, untouchable, { authorize })).rejects.toThrow(SynthesisError);
    await expect(synthesize(metadata, { epsilon: 1, delta: 0, columns }, untouchable, { authorize })).rejects.toThrow(/delta must be above 0/);
    await expect(synthesize(metadata, { epsilon: -1, delta: '1e-9', columns }, untouchable, { authorize })).rejects.toThrow(/epsilon/);
    await expect(synthesize(metadata, { epsilon: 1, delta: '1e-9', columns, rows: 0 }, untouchable, { authorize })).rejects.toThrow(/rows must be/);
    expect(authorized).toBe(false);
  });

  it('returns rows in the declared domains, reporting progress', async () => {
    const progress: SynthesisProgress[] = [];
    const result = await synthesize(metadata, { epsilon: 2, delta: '1e-6', columns, rows: 500, iterations: 100, seed: 1 }, batchesOf(rowsOfVisits(3000)), {
      onProgress: (p) => progress.push(p),
    });
    expect(result.columns).toEqual(columns);
    expect(result.rows).toHaveLength(500);
    for (const [region, age, cost, day] of result.rows) {
      expect([null, 'north', 'south', 'east']).toContain(region);
      expect(Number.isInteger(age) && (age as number) >= 0 && (age as number) <= 99).toBe(true);
      expect(typeof cost === 'number' && cost >= 0 && cost <= 500).toBe(true);
      expect(typeof day === 'string' && day >= '2024-01-01' && day <= '2024-12-31').toBe(true);
    }
    expect(progress[0]).toEqual({ phase: 'planning' });
    expect(progress.at(-1)).toEqual({ phase: 'done' });
    expect(progress.map((p) => p.phase)).toContain('fitting');
    expect(result.report.tree).toHaveLength(3);
  });

  it('can be cancelled while reading', async () => {
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<unknown[][]> {
      yield rowsOfVisits(10);
      controller.abort();
      yield rowsOfVisits(10);
    }
    await expect(synthesize(metadata, { epsilon: 1, delta: '1e-9', columns }, slow(), { signal: controller.signal })).rejects.toThrow(/abort/i);
  });

  it.skipIf(!adultAvailable)('synthesises adult through the metadata path with accuracy in line with the reference', async () => {
    const { metadata: adultMetadata, table, rows } = loadAdult();
    const result = await synthesize(adultMetadata, { epsilon: 1, delta: '1e-9', seed: 2 }, batchesOf(rows));
    const synthetic = table.names.map((_, j) => Int32Array.from(result.rows, (r) => r[j] as number));
    expect(averageTvd(table, synthetic)).toBeLessThan(0.06);
    expect(Math.abs(result.rows.length - table.rows)).toBeLessThan(500); // the noisy row count
  });
});
