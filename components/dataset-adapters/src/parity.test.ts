// The same file through DuckDB and through PostgreSQL must give identical pre-noise aggregates, since DP
// SQL generates the same SQL for both and noise is added to these exact values.
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type DatasetAdapter } from './index.js';

// ../shared sits beside the repository (README: "Data for tests"), here and in CI.
const ADULT = fileURLToPath(new URL('../../../../shared/data/adult.csv', import.meta.url));
const { url } = postgresTestUrl();
if (!existsSync(ADULT)) console.warn(`\n  ⚠ SKIPPED: the parity suite needs ${ADULT}\n`);

const AGGREGATES: [string, (string | number)[]][] = [
  ['SELECT COUNT(*), SUM(age), MIN(age), MAX(age), COUNT(DISTINCT occupation) FROM dataset', []],
  ['SELECT AVG(age), AVG("hours-per-week"), SUM("capital-gain"), AVG("capital-gain") FROM dataset', []],
  ['SELECT sex, COUNT(*), SUM(age), AVG(age), MIN("hours-per-week"), MAX("hours-per-week") FROM dataset GROUP BY sex ORDER BY sex', []],
  ['SELECT "education-num", COUNT(*), SUM(LEAST(GREATEST(age, $1), $2)) FROM dataset WHERE age BETWEEN $3 AND $4 GROUP BY "education-num" ORDER BY 1', [20, 60, 18, 70]],
  ['SELECT race, "income>50K", COUNT(*), SUM(CAST(age AS DOUBLE PRECISION) * 0.5) FROM dataset GROUP BY 1, 2 ORDER BY 1, 2', []],
  ['SELECT COUNT(*) FROM dataset WHERE workclass IN ($1, $2) AND NOT (age < $3)', [1, 2, 40]],
];

describe.skipIf(!url || !existsSync(ADULT))('DuckDB and PostgreSQL parity on adult.csv', () => {
  let database: FreshDatabase;
  let duck: DatasetAdapter;
  let postgres: DatasetAdapter;

  beforeAll(async () => {
    duck = await openDataset({ kind: 'file', path: ADULT }, { dataDir: '/' });
    database = await createFreshDatabase(url!);
    await copyIntoPostgres(duck, database.url, 'adult');
    postgres = await openDataset({ kind: 'postgres', connection: 'test', table: 'adult' }, { dataDir: '/', postgresConnections: { test: database.url } });
  });

  afterAll(async () => {
    await duck?.close();
    await postgres?.close();
    await database?.drop();
  });

  it('describes the same columns with the same Veil types', async () => {
    const strip = (columns: { name: string; type: unknown }[]) => columns.map(({ name, type }) => ({ name, type }));
    expect(strip(await postgres.describe())).toEqual(strip(await duck.describe()));
  });

  it.each(AGGREGATES)('%s', async (sql, params) => {
    const [fromDuck, fromPostgres] = await Promise.all([duck.query(sql, params), postgres.query(sql, params)]);
    expect(fromDuck.rows.length).toBeGreaterThan(0);
    expect(fromPostgres.rows).toEqual(fromDuck.rows);
  });
});

/** Loads the DuckDB dataset into a PostgreSQL table through stream(), with the types describe() reports. */
async function copyIntoPostgres(source: DatasetAdapter, databaseUrl: string, table: string): Promise<void> {
  const columns = await source.describe();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const quoted = columns.map((c) => `"${c.name}"`);
    await client.query(`CREATE TABLE ${table} (${columns.map((c, i) => `${quoted[i]} ${c.engineType}`).join(', ')})`);
    // One array parameter per column, unnested server-side: far cheaper than thousands of placeholders.
    const arrays = columns.map((c, i) => `$${i + 1}::${c.engineType}[]`).join(', ');
    for await (const batch of source.stream('SELECT * FROM dataset', [], { batchSize: 25_000 })) {
      const values = columns.map((_, c) => batch.map((row) => row[c]));
      await client.query(`INSERT INTO ${table} (${quoted.join(', ')}) SELECT * FROM unnest(${arrays})`, values);
    }
  } finally {
    await client.end();
  }
}
