// Exports on real engines: the engine path (COPY inside DuckDB) and the stream path (shipped adapters,
// batches through Node) write the same masked data; k-anonymity is reported and enforced on a dataset with
// known group sizes; the secret and unmasked values never reach an output, a log or an error.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DatasetAdapter } from '@veil/dataset-adapters';
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import { compilePolicy } from './policy.js';
import { MaskingKey } from './masking-key.js';
import { maskedQuery } from './masked-query.js';
import { MaskingExecutionError, maskedSample, runMaskedExport } from './masked-export.js';
import { kAnonymityReport } from './k-anonymity.js';
import { FIXTURE_ROWS, duckAdapter, fixtureMetadata, fixtureRow, openFixtureDuckDb, openFixturePostgres, writeFixtureParquet } from './test-engines.js';

const SECRET = 'export-test secret: s3cr3t-VALUE-0123456789';
const key = MaskingKey.fromSecret(SECRET);

let fixture: Awaited<ReturnType<typeof writeFixtureParquet>>;
let engine: DatasetAdapter; // unlocked DuckDB: COPY TO works (engine path)
let shipped: DatasetAdapter; // @veil/dataset-adapters, locked to its file (stream path)
let reader: Awaited<ReturnType<Awaited<ReturnType<typeof DuckDBInstance.create>>['connect']>>;

beforeAll(async () => {
  fixture = await writeFixtureParquet();
  engine = await duckAdapter(`read_parquet('${fixture.file}')`);
  shipped = await openFixtureDuckDb(fixture.file);
  reader = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(async () => {
  await engine?.close();
  await shipped?.close();
  reader?.closeSync();
  fixture?.cleanup();
});

async function readBack(path: string, format: 'csv' | 'parquet'): Promise<{ columns: string[]; rows: unknown[][] }> {
  const scan = format === 'csv' ? `read_csv('${path}', header = true, all_varchar = true)` : `read_parquet('${path}')`;
  const result = await reader.runAndReadAll(`SELECT * FROM ${scan} ORDER BY CAST(id AS BIGINT)`);
  return { columns: result.columnNames(), rows: result.getRowsJson() as unknown[][] };
}

const deterministic = {
  rules: {
    name: "partial(2, '***', 1)",
    email: 'partial_email()',
    ssn: 'hash()',
    salary: "generalize(5000, 'range')",
    age: 'generalize(10)',
    birth: "generalize('decade')",
    zip: "ternary(in('10001', '10002'), constant('100xx'), keep())",
  },
  public: ['id', 'visited'],
  quasi_identifiers: ['zip', 'age'],
};

describe('runMaskedExport', () => {
  it.each(['parquet', 'csv'] as const)('writes the same %s through the engine and the stream path', async (format) => {
    const compiled = compilePolicy(deterministic, fixtureMetadata);
    const a = await runMaskedExport(engine, compiled, { key, format, out: join(fixture.dir, `engine.${format}`) });
    const b = await runMaskedExport(shipped, compiled, { key, format, out: join(fixture.dir, `stream.${format}`) });
    const c = await runMaskedExport(engine, compiled, { key, format, out: join(fixture.dir, `ts.${format}`), mode: 'typescript' });
    expect([a.route, b.route, c.route]).toEqual(['engine', 'stream', 'stream']);
    expect([a.rows, b.rows, c.rows]).toEqual([FIXTURE_ROWS, FIXTURE_ROWS, FIXTURE_ROWS]);
    const [fa, fb, fc] = await Promise.all([a, b, c].map((r) => readBack(r.path, format)));
    expect(fa!.columns).toEqual(['id', 'name', 'email', 'ssn', 'salary', 'age', 'birth', 'visited', 'zip']);
    expect(fb).toEqual(fa);
    expect(fc).toEqual(fa);
    expect(readdirSync(fixture.dir).filter((f) => f.startsWith('.veil-mask'))).toEqual([]);
  });

  it('keeps output types: numbers stay numbers, dates stay dates', async () => {
    const compiled = compilePolicy(deterministic, fixtureMetadata);
    const { path } = await runMaskedExport(shipped, compiled, { key, format: 'parquet', out: join(fixture.dir, 'types.parquet') });
    const types = (await reader.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`)).getRows();
    expect(Object.fromEntries(types)).toMatchObject({ id: 'BIGINT', age: 'BIGINT', birth: 'DATE', visited: 'TIMESTAMP', salary: 'VARCHAR', ssn: 'VARCHAR' });
  });

  it('reports k-anonymity over the quasi-identifiers with the known group sizes', async () => {
    // (zip, age decade): per decade two groups of 12 rows and two of 8 — 12 of each in all (see fixtureRow).
    const compiled = compilePolicy({ rules: { age: 'generalize(10)' }, public: ['id', 'zip'], quasi_identifiers: ['zip', 'age'] }, fixtureMetadata);
    for (const adapter of [engine, shipped]) {
      const result = await runMaskedExport(adapter, compiled, { key, format: 'parquet', out: join(fixture.dir, 'k.parquet') });
      expect(result.kAnonymity).toEqual({
        quasiIdentifiers: ['zip', 'age'], rows: 240, groups: 24, k: 8,
        distribution: [{ size: 8, groups: 12, rows: 96 }, { size: 12, groups: 12, rows: 144 }],
        requiredK: null, suppressedRows: 0, suppressedGroups: 0, kReleased: 8,
      });
      expect(result.rows).toBe(240);
    }
    const sample = await maskedSample(shipped, compiled, { key, rows: FIXTURE_ROWS });
    expect(sample.kAnonymity).toMatchObject({ rows: 240, k: 8, groups: 24 });
  });

  it('enforces a required k by suppressing the rows of smaller groups, and says how many', async () => {
    const compiled = compilePolicy({ rules: { age: 'generalize(10)' }, public: ['id', 'zip'], quasi_identifiers: ['zip', 'age'] }, fixtureMetadata);
    for (const [adapter, format] of [[engine, 'parquet'], [shipped, 'csv']] as const) {
      const result = await runMaskedExport(adapter, compiled, { key, format, k: 10, out: join(fixture.dir, `k10.${format}`) });
      expect(result).toMatchObject({ rows: 144, suppressedRows: 96, kAnonymity: { k: 8, requiredK: 10, suppressedGroups: 12, kReleased: 12 } });
      const { rows } = await readBack(result.path, format);
      const report = kAnonymityReport(rows, ['id', 'zip', 'age'], ['zip', 'age']);
      expect(report.k).toBe(12);
      expect(report.rows).toBe(144);
    }
  });

  it('measures k on the values actually written, even when quasi-identifiers are random', async () => {
    const compiled = compilePolicy({ rules: { zip: "random_in('a', 'b', 'c')", age: 'random_int(1, 3)' }, public: ['id'], quasi_identifiers: ['zip', 'age'] }, fixtureMetadata);
    for (const adapter of [engine, shipped]) {
      const result = await runMaskedExport(adapter, compiled, { key, format: 'parquet', k: 25, out: join(fixture.dir, 'random-k.parquet') });
      const { rows } = await readBack(result.path, 'parquet');
      const written = kAnonymityReport(rows, ['id', 'zip', 'age'], ['zip', 'age']);
      expect(result.rows).toBe(rows.length);
      expect(result.rows + result.suppressedRows).toBe(FIXTURE_ROWS);
      if (rows.length) expect(written.k).toBeGreaterThanOrEqual(25);
      expect(written.k).toBe(result.kAnonymity!.kReleased);
    }
  });

  it('rejects bad options with clear errors and writes nothing', async () => {
    const compiled = compilePolicy({ rules: { age: 'generalize(10)' }, public: ['id'] }, fixtureMetadata);
    const out = join(fixture.dir, 'bad.parquet');
    await expect(runMaskedExport(engine, compiled, { key, format: 'parquet', k: 5, out })).rejects.toThrow(/declares none/);
    await expect(runMaskedExport(engine, compiled, { key, format: 'xlsx' as 'csv', out })).rejects.toThrow(/format must be/);
    await expect(runMaskedExport(engine, compiled, { key, format: 'csv', out: 'relative.csv' })).rejects.toThrow(/absolute path/);
    await expect(runMaskedExport(engine, compiled, { format: 'csv', out })).rejects.toThrow(/key or secret/);
    await expect(runMaskedExport(engine, compiled, { key, format: 'csv', out: join(fixture.dir, 'missing-dir', 'x.csv') })).rejects.toThrow(MaskingExecutionError);
    expect(existsSync(out)).toBe(false);
  });

  it('stops when cancelled and leaves no file behind', async () => {
    const compiled = compilePolicy({ rules: { name: 'pseudo_last_name()' }, public: ['id'] }, fixtureMetadata);
    const out = join(fixture.dir, 'cancelled.csv');
    const error = await runMaskedExport(shipped, compiled, { key, format: 'csv', out, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'cancelled' });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(fixture.dir).filter((f) => f.startsWith('.veil-mask'))).toEqual([]);
  });
});

describe('determinism across exports', () => {
  it('gives the same pseudonyms and hashes in every export with the same secret, others with another', async () => {
    const compiled = compilePolicy({ rules: { name: 'pseudo_full_name()', ssn: 'hash()', email: "pseudo_email('de')" }, public: ['id'] }, fixtureMetadata);
    const run = async (secret: string, adapter: DatasetAdapter, name: string) =>
      readBack((await runMaskedExport(adapter, compiled, { secret, format: 'parquet', out: join(fixture.dir, name) })).path, 'parquet');
    const first = await run(SECRET, shipped, 'det1.parquet');
    const again = await run(SECRET, engine, 'det2.parquet');
    const other = await run('another secret, just as long as the first', shipped, 'det3.parquet');
    expect(again).toEqual(first);
    const same = first.rows.filter((row, i) => row[1] === other.rows[i]![1] || row[2] === other.rows[i]![2]);
    expect(same.length).toBeLessThan(first.rows.length / 10);
  });
});

describe('security', () => {
  const policy = { rules: { name: 'pseudo_full_name()', ssn: 'hash()', email: 'partial_email()', salary: 'noise(0.2)' }, public: ['id'], quasi_identifiers: ['id'] };

  it('never lets the secret or the derived key appear in SQL, policies, outputs, logs or errors', async () => {
    const logs = vi.spyOn(console, 'log');
    const warns = vi.spyOn(console, 'warn');
    const errors = vi.spyOn(console, 'error');
    const compiled = compilePolicy(policy, fixtureMetadata);
    const { inner, outer } = key.sqlPads();
    const derived = [inner, outer].map((pad) => pad.slice(0, 40));
    const forbidden = [SECRET, Buffer.from(SECRET).toString('hex'), ...derived];

    const query = maskedQuery(compiled, 'duckdb', key);
    const texts = [query.sql, JSON.stringify(compiled.policy), JSON.stringify(key), String(key), inspect(key), inspect(compiled, { depth: 6 })];
    for (const format of ['csv', 'parquet'] as const) {
      for (const adapter of [engine, shipped]) {
        const result = await runMaskedExport(adapter, compiled, { secret: SECRET, format, out: join(fixture.dir, `sec.${format}`) });
        texts.push(readFileSync(result.path).toString('latin1'), JSON.stringify(result));
      }
    }
    texts.push(JSON.stringify(await maskedSample(shipped, compiled, { key, rows: 20 })));
    // Failures: a closed adapter, a bad output directory.
    const closed = await openFixtureDuckDb(fixture.file);
    await closed.close();
    for (const attempt of [
      () => runMaskedExport(closed, compiled, { secret: SECRET, format: 'csv', out: join(fixture.dir, 'never.csv') }),
      () => runMaskedExport(engine, compiled, { secret: SECRET, format: 'csv', out: join(fixture.dir, 'nope', 'never.csv') }),
      () => maskedSample(closed, compiled, { secret: SECRET, rows: 5 }),
    ]) {
      const error = await attempt().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      texts.push(String(error), JSON.stringify(error), inspect(error, { depth: 0 }));
    }
    texts.push(...[logs, warns, errors].flatMap((spy) => spy.mock.calls.map((call) => inspect(call))));
    for (const text of texts) for (const secret of forbidden) expect(text).not.toContain(secret);
    vi.restoreAllMocks();
  });

  it('releases no unmasked value of a masked or withheld column', async () => {
    const compiled = compilePolicy(policy, fixtureMetadata);
    const result = await runMaskedExport(shipped, compiled, { key, format: 'csv', out: join(fixture.dir, 'leak.csv') });
    const csv = readFileSync(result.path, 'utf8');
    expect(csv.split('\n')[0]).toBe('id,name,email,ssn,salary');
    for (let i = 0; i < FIXTURE_ROWS; i++) {
      const [, name, email, ssn, , , , visited, zip] = fixtureRow(i) as string[];
      for (const raw of [name, email, ssn, visited!.replace('T', ' ')]) if (raw) expect(csv).not.toContain(raw);
      void zip;
    }
  });

  it('a derived key is required to be long enough and is never printable', () => {
    expect(() => MaskingKey.fromSecret('short')).toThrow(/at least 16 bytes/);
    expect(JSON.stringify({ key })).toBe('{"key":"[redacted]"}');
    expect(`${key}`).toBe('MaskingKey([redacted])');
  });
});

const pgUrl = postgresTestUrl();
describe.skipIf(!pgUrl.url)('runMaskedExport on PostgreSQL', () => {
  let database: FreshDatabase;
  let adapter: DatasetAdapter;
  beforeAll(async () => {
    database = await createFreshDatabase(pgUrl.url!, 'veil_masking_export');
    adapter = await openFixturePostgres(database.url);
  });
  afterAll(async () => {
    await adapter?.close();
    await database?.drop();
  });

  it('streams, masks in SQL and writes the same file as DuckDB', async () => {
    const compiled = compilePolicy(deterministic, fixtureMetadata);
    const fromPg = await runMaskedExport(adapter, compiled, { key, format: 'parquet', out: join(fixture.dir, 'pg.parquet'), k: 10 });
    const fromDuck = await runMaskedExport(engine, compiled, { key, format: 'parquet', out: join(fixture.dir, 'duck.parquet'), k: 10 });
    expect(fromPg.route).toBe('stream');
    expect(fromPg.kAnonymity).toEqual(fromDuck.kAnonymity);
    expect(await readBack(fromPg.path, 'parquet')).toEqual(await readBack(fromDuck.path, 'parquet'));
  });
});
