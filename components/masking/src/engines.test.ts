// Both execution paths on real engines: the SQL push-down (DuckDB, PostgreSQL) and the TypeScript path
// give the same output for deterministic functions, and random ones stay within their bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import type { DatasetAdapter } from '@veil/dataset-adapters';
import { compilePolicy } from './policy.js';
import { MaskingKey } from './masking-key.js';
import { maskedSample } from './masked-export.js';
import { FIXTURE_ROWS, fixtureMetadata, openFixtureDuckDb, openFixturePostgres, writeFixtureParquet } from './test-engines.js';

const key = MaskingKey.fromSecret('test secret, long enough to be a key');

const deterministicPolicy = {
  rules: {
    name: "partial(2, '***', 1)",
    email: 'partial_email()',
    ssn: 'hash()',
    salary: "generalize(5000, 'range')",
    age: 'generalize(10)',
    birth: "generalize('decade')",
    visited: "generalize('month')",
    zip: "ternary(in('10001', '10002'), constant('100xx'), keep())",
    active: 'hash(16)',
  },
  public: ['id'],
};

const randomPolicy = {
  rules: {
    name: "random_in('a', 'b', 'c')",
    email: 'null',
    ssn: 'hash(12)',
    salary: 'noise(0.1)',
    age: 'random_int(18, 65)',
    birth: "dnoise('10 days')",
    visited: "dnoise('2 hours')",
    zip: "constant('00000')",
    active: 'random_in(true)',
  },
  public: ['id'],
};

type Engine = { name: string; open: () => Promise<DatasetAdapter>; close: () => Promise<void> };

const engines: Engine[] = [];
let cleanupParquet: (() => void) | undefined;
let database: FreshDatabase | undefined;
const pgUrl = postgresTestUrl();

engines.push({
  name: 'duckdb',
  open: async () => {
    const fixture = await writeFixtureParquet();
    cleanupParquet = fixture.cleanup;
    return openFixtureDuckDb(fixture.file);
  },
  close: async () => cleanupParquet?.(),
});
if (pgUrl.url) {
  engines.push({
    name: 'postgres',
    open: async () => {
      database = await createFreshDatabase(pgUrl.url!, 'veil_masking');
      return openFixturePostgres(database.url);
    },
    close: async () => database?.drop(),
  });
}

const byId = (rows: unknown[][]): unknown[][] => [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));

describe.each(engines)('masking on $name', (engine) => {
  let adapter: DatasetAdapter;
  beforeAll(async () => {
    adapter = await engine.open();
  });
  afterAll(async () => {
    await adapter?.close();
    await engine.close();
  });

  it('gives the same output in SQL and in TypeScript for deterministic functions', async () => {
    const compiled = compilePolicy(deterministicPolicy, fixtureMetadata);
    const sql = await maskedSample(adapter, compiled, { key, rows: FIXTURE_ROWS });
    const ts = await maskedSample(adapter, compiled, { key, rows: FIXTURE_ROWS, mode: 'typescript' });
    expect(sql.rows).toHaveLength(FIXTURE_ROWS);
    expect(byId(sql.rows)).toEqual(byId(ts.rows));
    const first = byId(sql.rows)[0]!;
    expect(first).toEqual([1, 'An***h', null, first[3], null, 20, '1950-01-01', '2023-01-01', '100xx', first[9]]);
    expect(byId(sql.rows)[3]).toEqual([4, 'Li***h', 'us******@ma******.org', expect.any(String), '[30000,35000)', 20, '1950-01-01', '2023-04-01', '10004', expect.any(String)]);
    expect(first[3]).toMatch(/^[0-9a-f]{64}$/);
    expect(first[9]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps random functions within their bounds on both paths', async () => {
    const compiled = compilePolicy(randomPolicy, fixtureMetadata);
    for (const mode of ['auto', 'typescript'] as const) {
      const { rows } = await maskedSample(adapter, compiled, { key, rows: FIXTURE_ROWS, mode });
      const sorted = byId(rows);
      for (const row of sorted) {
        const i = Number(row[0]) - 1;
        expect(['a', 'b', 'c']).toContain(row[1]);
        expect(row[2]).toBeNull();
        expect(row[3]).toMatch(/^[0-9a-f]{12}$/);
        const salary = i % 11 === 0 ? null : 30000 + i * 123.25;
        if (salary === null) expect(row[4]).toBeNull();
        else expect(Math.abs((row[4] as number) - salary)).toBeLessThanOrEqual(salary * 0.1 + 1e-6);
        expect(Number.isInteger(row[5])).toBe(true);
        expect(row[5]).toBeGreaterThanOrEqual(18);
        expect(row[5]).toBeLessThanOrEqual(65);
        expect(row[6]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(row[7]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
        expect(row[8]).toBe('00000');
        expect(row[9]).toBe(true);
      }
      // Hashes agree across paths even when other columns are random.
      expect(sorted[5]![3]).toBe(byId((await maskedSample(adapter, compiled, { key, rows: FIXTURE_ROWS, mode: 'typescript' })).rows)[5]![3]);
    }
  });

  it('moves dates and timestamps by at most the dnoise interval', async () => {
    const compiled = compilePolicy({ rules: { birth: "dnoise('10 days')", visited: "dnoise('2 hours')" }, public: ['id'] }, fixtureMetadata);
    for (const mode of ['auto', 'typescript'] as const) {
      const { rows } = await maskedSample(adapter, compiled, { key, rows: FIXTURE_ROWS, mode });
      for (const [id, birth, visited] of rows) {
        const i = Number(id) - 1;
        const original = (idx: number) => String((i >= 0 ? [0] : []).map(() => idx)[0]);
        void original;
        const b0 = Date.parse(`19${String(50 + (i % 50)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00Z`);
        expect(Math.abs(Date.parse(`${birth}T00:00:00Z`) - b0)).toBeLessThanOrEqual(10 * 86_400_000);
        const v0 = Date.parse(`2023-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:15:30Z`);
        expect(Math.abs(Date.parse(`${visited}Z`) - v0)).toBeLessThanOrEqual(2 * 3_600_000);
      }
    }
  });

  it('gives stable pseudonyms per secret, different ones for another secret', async () => {
    const compiled = compilePolicy({ rules: { name: 'pseudo_full_name()', email: 'pseudo_email()', zip: "pseudo_city('de')" }, public: ['id'] }, fixtureMetadata);
    const a1 = byId((await maskedSample(adapter, compiled, { key, rows: 50 })).rows);
    const a2 = byId((await maskedSample(adapter, compiled, { secret: 'test secret, long enough to be a key', rows: 50 })).rows);
    const b = byId((await maskedSample(adapter, compiled, { secret: 'another secret of sufficient length', rows: 50 })).rows);
    expect(a2).toEqual(a1);
    expect(b).not.toEqual(a1);
    // Equal inputs share a pseudonym: names repeat every 6 rows in the fixture... and the 3 surnames.
    expect(a1[0]![1]).toBe(a1[18]![1]);
    expect(a1[0]![3]).toBe(a1[4]![3]);
    expect(a1[17]![2]).toBeNull();
    expect(a1[1]![2]).toMatch(/@/);
  });

  it('treats hostile rule arguments as data', async () => {
    const hostile = "x'); DROP TABLE fixture; --";
    const compiled = compilePolicy({
      rules: {
        name: `constant('${hostile.replaceAll("'", "''")}')`,
        ssn: `partial(1, '${"' || current_user || '".replaceAll("'", "''")}', 1)`,
        zip: `ternary(eq('${"10001' OR 1=1 --".replaceAll("'", "''")}'), constant('hit'), constant('miss'))`,
      },
      public: ['id'],
    }, fixtureMetadata);
    const { rows } = await maskedSample(adapter, compiled, { key, rows: 10 });
    expect(rows[0]![1]).toBe(hostile);
    expect(String(rows[0]![2])).toContain("' || current_user || '");
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(['miss']));
    expect((await adapter.query('SELECT count(*) AS n FROM dataset')).rows[0]![0]).toBe(FIXTURE_ROWS);
  });
});
