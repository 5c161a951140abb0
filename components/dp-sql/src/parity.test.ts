// Engine parity: the same generated SQL over the same data, through @veil/dataset-adapters on DuckDB (a
// Parquet file) and PostgreSQL (a table in a fresh database), gives identical pre-noise aggregates, with
// contribution bounding binding (people with more rows and groups than allowed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type DatasetAdapter } from '@veil/dataset-adapters';
import { validateMetadata } from '@veil/dataset-metadata';
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import { keyString } from './domain.js';
import { plan } from './plan.js';
import type { PreNoiseGroup } from './release.js';
import { readPreNoise } from './run.js';
import { duckdbEngine } from './testing/engines.js';

const columnTypes = { pid: 'BIGINT', region: 'VARCHAR', city: 'VARCHAR', age: 'BIGINT', cost: 'DOUBLE PRECISION', insured: 'BOOLEAN', day: 'DATE' } as const;

function rows(): unknown[][] {
  const regions = ['north', 'south', 'east', 'west', 'elsewhere'];
  return Array.from({ length: 3000 }, (_, i) => [
    Math.floor(i / 7) % 300, // 300 people with ~10 rows each: max_rows and max_groups bind
    regions[(i * 7) % 5],
    `c${(i * 13) % 17}`,
    ((i * 37) % 130) - 15,
    i % 9 === 0 ? null : ((i * 53) % 2000) / 4 - 60,
    i % 3 === 0,
    `2021-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
  ]);
}

const source = { kind: 'file' as const, path: 'people.parquet' };
const columns = {
  pid: { type: 'int' },
  region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
  city: { type: 'string' },
  age: { type: 'int', lower: 0, upper: 100 },
  cost: { type: 'float', lower: -20, upper: 400, nullable: true },
  insured: { type: 'bool' },
  day: { type: 'date', lower: '2021-01-01', upper: '2021-12-31' },
};
const perPerson = validateMetadata({ source, privacy_unit: { column: 'pid', max_rows: 4, max_groups: 2 }, columns });
const perRow = validateMetadata({ source, columns });

const QUERIES = [
  'SELECT COUNT(*), COUNT(cost), SUM(age), SUM(cost), AVG(cost), VARIANCE(age), STDDEV(cost) FROM people',
  'SELECT region, COUNT(*), SUM(cost), AVG(age), MEDIAN(cost) FROM people GROUP BY region',
  'SELECT city, COUNT(*), AVG(cost) FROM people GROUP BY city',
  "SELECT city, insured, SUM(age) FROM people WHERE city LIKE 'c1%' OR NOT insured GROUP BY city, insured",
  'SELECT FLOOR(age / 10) * 10 AS decade, COUNT(*), AVG(cost) FROM people GROUP BY decade',
  'SELECT ROUND(cost / 50) AS bin, COUNT(*) FROM people GROUP BY bin',
  "SELECT CASE WHEN age < 18 THEN 'minor' WHEN age < 65 THEN 'adult' ELSE 'senior' END AS band, COUNT(*), SUM(cost) FROM people GROUP BY band",
  "SELECT region, COUNT(*) FROM people WHERE age BETWEEN 20 AND 60 AND cost IS NOT NULL AND region IN ('north', 'east') GROUP BY region",
  "SELECT day, COUNT(*) FROM people WHERE day >= '2021-06-01' GROUP BY day",
  'SELECT PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY age), QUANTILE_CONT(cost, 0.9) FROM people',
  "SELECT COUNT(*) FROM people WHERE city ILIKE 'C1_' AND -age < -5 AND ABS(cost) > 3.5 AND CEIL(cost) <> 7",
  'SELECT age, COUNT(*) FROM people WHERE age / 0 IS NULL GROUP BY age',
];

function normalise(groups: PreNoiseGroup[]) {
  return groups
    .map((g) => ({ key: g.key.map(keyString).join('|'), units: g.units, values: g.values, histograms: [...g.histograms.entries()] }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const { url, skipReason } = postgresTestUrl();

describe.skipIf(!url)(`engine parity DuckDB ↔ PostgreSQL ${skipReason ?? ''}`, () => {
  let dir: string;
  let database: FreshDatabase;
  let duck: DatasetAdapter;
  let postgres: DatasetAdapter;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dp-sql-parity-'));
    const data = rows();
    const writer = await duckdbEngine(columnTypes, data);
    await writer.query(`COPY "dataset" TO '${join(dir, 'people.parquet')}' (FORMAT parquet)`);
    await writer.close();
    duck = await openDataset(source, { dataDir: dir });

    database = await createFreshDatabase(url!, 'veil_dp_sql');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const names = Object.keys(columnTypes) as (keyof typeof columnTypes)[];
    await client.query(`CREATE TABLE people (${names.map((n) => `"${n}" ${columnTypes[n]}`).join(', ')})`);
    for (let start = 0; start < data.length; start += 500) {
      const params: unknown[] = [];
      const tuples = data.slice(start, start + 500).map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
      await client.query(`INSERT INTO people VALUES ${tuples.join(', ')}`, params);
    }
    await client.end();
    postgres = await openDataset({ kind: 'postgres', connection: 'parity', table: 'people' }, { dataDir: dir, postgresConnections: { parity: database.url } });
  });

  afterAll(async () => {
    await duck?.close();
    await postgres?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, metadata] of [['per person', perPerson], ['per row', perRow]] as const) {
    it.each(QUERIES)(`${label}: %s`, async (sql) => {
      const p = plan(sql, metadata, { epsilon: 1, delta: '1e-6' });
      for (const salt of ['salt-1', 'salt-2']) {
        const fromDuck = normalise(await readPreNoise(p, duck, salt));
        const fromPostgres = normalise(await readPreNoise(p, postgres, salt));
        expect(fromDuck.length).toBeGreaterThan(0);
        expect(fromPostgres).toEqual(fromDuck);
      }
    });
  }
});
