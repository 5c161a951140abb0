// Bounding holds: adding one person with extreme values moves the pre-noise aggregates by at most the
// documented sensitivity. Read through readPreNoise, the internal test-only window on the generated SQL's
// output; run() itself always adds noise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';
import { plan, type QueryPlan } from './plan.js';
import type { PreNoiseGroup } from './release.js';
import { readPreNoise } from './run.js';
import { duckdbEngine, type ColumnSpec, type TestEngine } from './testing/engines.js';
import { keyString } from './domain.js';

const columns: ColumnSpec = { pid: 'BIGINT', region: 'VARCHAR', city: 'VARCHAR', age: 'BIGINT', cost: 'DOUBLE PRECISION' };
const base = {
  source: { kind: 'file', path: '/data/people.parquet' },
  columns: {
    pid: { type: 'int' },
    region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
    city: { type: 'string' },
    age: { type: 'int', lower: 0, upper: 100 },
    cost: { type: 'float', lower: -50, upper: 450.5, nullable: true },
  },
};
const perPerson = validateMetadata({ ...base, privacy_unit: { column: 'pid', max_rows: 4, max_groups: 2 } });
const perRow = validateMetadata(base);

function population(): unknown[][] {
  const rows: unknown[][] = [];
  const regions = ['north', 'south', 'east', 'west'];
  for (let i = 0; i < 400; i++) {
    const pid = i % 97;
    rows.push([pid, regions[(i * 7) % 4], `c${(i * 13) % 9}`, (i * 37) % 120 - 10, i % 11 === 0 ? null : ((i * 53) % 700) - 100]);
  }
  return rows;
}

/** One person with extreme values: far out of bounds, many rows, many groups, nulls. */
function extremePerson(pid: number): unknown[][] {
  const rows: unknown[][] = [];
  for (let i = 0; i < 25; i++) {
    rows.push([pid, ['north', 'south', 'east', 'west', 'nowhere'][i % 5], `x${i % 7}`, i % 2 ? 1e9 : -1e9, i % 3 === 0 ? null : i % 2 ? 1e12 : -1e12]);
  }
  return rows;
}

const QUERIES = [
  'SELECT COUNT(*), COUNT(cost), SUM(age), SUM(cost), AVG(cost), VARIANCE(age), STDDEV(cost), MEDIAN(age) FROM people',
  'SELECT region, COUNT(*), SUM(cost), AVG(age), VARIANCE(cost), PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY cost) FROM people GROUP BY region',
  "SELECT city, COUNT(*), SUM(age) FROM people WHERE region <> 'west' GROUP BY city",
  'SELECT FLOOR(age / 25) AS band, region, COUNT(*), AVG(cost) FROM people GROUP BY band, region',
  "SELECT CASE WHEN cost > 100 THEN 'high' ELSE 'low' END AS level, SUM(age) FROM people GROUP BY level",
];

/** L1 distance per measurement between two pre-noise results, over all groups. */
function distances(p: QueryPlan, a: PreNoiseGroup[], b: PreNoiseGroup[]) {
  const index = (groups: PreNoiseGroup[]) => new Map(groups.map((g) => [g.key.map(keyString).join('|'), g]));
  const ia = index(a);
  const ib = index(b);
  const keys = new Set([...ia.keys(), ...ib.keys()]);
  const measurement = p.measurements.map(() => 0n);
  const histogram = p.measurements.map(() => 0n);
  let unitGroupsChanged = 0;
  let maxUnitChange = 0n;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  for (const key of keys) {
    const ga = ia.get(key);
    const gb = ib.get(key);
    const unitChange = abs((gb?.units ?? 0n) - (ga?.units ?? 0n));
    if (unitChange > 0n) unitGroupsChanged++;
    if (unitChange > maxUnitChange) maxUnitChange = unitChange;
    p.measurements.forEach((m, i) => {
      measurement[i] = measurement[i]! + abs((gb?.values[i] ?? 0n) - (ga?.values[i] ?? 0n));
      if (m.kind !== 'quantile') return;
      const ha = ga?.histograms.get(i) ?? [];
      const hb = gb?.histograms.get(i) ?? [];
      for (let j = 0; j < m.bins; j++) histogram[i] = histogram[i]! + abs((hb[j] ?? 0n) - (ha[j] ?? 0n));
    });
  }
  return { measurement, histogram, unitGroupsChanged, maxUnitChange };
}

describe.each([
  ['per person (max_rows 4, max_groups 2)', perPerson],
  ['per row', perRow],
] as [string, DatasetMetadata][])('adding one extreme person, %s', (_, metadata) => {
  let without: TestEngine;
  let withExtreme: TestEngine;
  const people = population();
  beforeAll(async () => {
    without = await duckdbEngine(columns, people);
    const extra = metadata.privacy_unit ? extremePerson(1000) : extremePerson(1000).slice(0, 1);
    withExtreme = await duckdbEngine(columns, [...people, ...extra]);
  });
  afterAll(async () => {
    await without.close();
    await withExtreme.close();
  });

  it.each(QUERIES)('%s', async (sql) => {
    const p = plan(sql, metadata, { epsilon: 1, delta: '1e-6' });
    for (const salt of ['a1', 'b2', 'c3']) {
      const before = await readPreNoise(p, without, salt);
      const after = await readPreNoise(p, withExtreme, salt);
      const d = distances(p, before, after);
      p.measurements.forEach((m, i) => {
        const sensitivity = p.budget.noise[i]!.sensitivity;
        if (m.kind === 'quantile') expect(d.histogram[i]).toBeLessThanOrEqual(sensitivity);
        else expect(d.measurement[i]).toBeLessThanOrEqual(sensitivity);
      });
      const maxGroups = p.contribution.maxGroups;
      expect(d.maxUnitChange).toBeLessThanOrEqual(1n);
      if (p.query.keys.length > 0) expect(d.unitGroupsChanged).toBeLessThanOrEqual(maxGroups);
    }
  });

  it('really binds: the extreme person moves COUNT(*) by exactly max_rows', async () => {
    const p = plan('SELECT COUNT(*) FROM people', metadata, { epsilon: 1 });
    const before = await readPreNoise(p, without, 's');
    const after = await readPreNoise(p, withExtreme, 's');
    expect(after[0]!.values[0]! - before[0]!.values[0]!).toBe(BigInt(p.contribution.maxRows));
  });
});
