// Test support only (not exported): a fixture dataset with known values, loaded into real DuckDB (a Parquet
// file) and real PostgreSQL (a table), behind minimal DatasetAdapter implementations that follow
// @veil/dataset-adapters' contract (relation `dataset`, $n parameters, its value mapping).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import pg from 'pg';
import { openDataset, type DatasetAdapter, type QueryParam } from '@veil/dataset-adapters';
import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';

export const FIXTURE_ROWS = 240;

/** Group sizes by (zip, age decade) are known: see fixtureRow. */
export function fixtureRow(i: number): unknown[] {
  const zips = ['10001', '10002', '10003', '10004'];
  const first = ['Ann', "O'Brien", 'Zoë', 'Li', 'Jean-Luc', 'Mary'];
  return [
    i + 1, // id
    `${first[i % first.length]} ${['Smith', 'Jones', 'Müller'][i % 3]}`, // name
    i % 17 === 0 ? null : `user${i}@mail${i % 5}.example.org`, // email
    `${String(100 + (i % 900)).padStart(3, '0')}-${String(i % 100).padStart(2, '0')}-${String(1000 + i).slice(-4)}`, // ssn
    i % 11 === 0 ? null : 30000 + i * 123.25, // salary
    20 + (i % 60), // age
    `19${String(50 + (i % 50)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`, // birth
    `2023-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:15:30`, // visited
    zips[i % 4], // zip
    i % 3 === 0, // active
  ];
}

export const fixtureMetadata: DatasetMetadata = validateMetadata({
  source: { kind: 'file', path: '/fixture.parquet' },
  columns: {
    id: { type: 'int' },
    name: { type: 'string' },
    email: { type: 'string', nullable: true },
    ssn: { type: 'string' },
    salary: { type: 'float', nullable: true },
    age: { type: 'int', lower: 0, upper: 120 },
    birth: { type: 'date' },
    visited: { type: 'timestamp' },
    zip: { type: 'string' },
    active: { type: 'bool' },
  },
});

const DDL_DUCK = 'id BIGINT, name VARCHAR, email VARCHAR, ssn VARCHAR, salary DOUBLE, age INTEGER, birth DATE, visited TIMESTAMP, zip VARCHAR, active BOOLEAN';
const DDL_PG = 'id bigint, name text, email text, ssn text, salary double precision, age integer, birth date, visited timestamp, zip text, active boolean';

const isSafe = (v: bigint): boolean => v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);

/** The adapters' value mapping. */
function fromDuck(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return isSafe(value) ? Number(value) : value;
  const text = String(value);
  return /^\d{4}-\d{2}-\d{2} \d{2}:/.test(text) ? text.replace(' ', 'T') : text;
}

/** A DuckDB adapter over a view `dataset` (any SQL relation). */
export async function duckAdapter(relation: string): Promise<DatasetAdapter & { dir: string }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`CREATE VIEW dataset AS SELECT * FROM ${relation}`);
  const run = async (sql: string, params: readonly QueryParam[] = []) => {
    const reader = await connection.runAndReadAll(sql, params as DuckDBValue[]);
    return { columns: reader.columnNames(), rows: reader.getRows().map((r) => r.map(fromDuck)) };
  };
  return {
    dialect: 'duckdb',
    dir: '',
    describe: async () => [],
    query: run,
    async *stream(sql, params, opts) {
      const { rows } = await run(sql, params);
      const size = opts?.batchSize ?? 50;
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
    },
    close: async () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Writes the fixture to a Parquet file in a fresh temporary directory. */
export async function writeFixtureParquet(): Promise<{ dir: string; file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'veil-masking-'));
  const file = join(dir, 'fixture.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE t (${DDL_DUCK})`);
  const appender = await connection.createAppender('t');
  for (let i = 0; i < FIXTURE_ROWS; i++) {
    const r = fixtureRow(i);
    appender.appendBigInt(BigInt(r[0] as number));
    for (const j of [1, 2, 3]) {
      if (r[j] === null) appender.appendNull();
      else appender.appendVarchar(r[j] as string);
    }
    if (r[4] === null) appender.appendNull();
    else appender.appendDouble(r[4] as number);
    appender.appendInteger(r[5] as number);
    appender.appendVarchar(r[6] as string);
    appender.appendVarchar(r[7] as string);
    appender.appendVarchar(r[8] as string);
    appender.appendBoolean(r[9] as boolean);
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
  await connection.run(`COPY t TO '${file}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The shipped DuckDB adapter over the fixture Parquet file. */
export function openFixtureDuckDb(file: string): Promise<DatasetAdapter> {
  return openDataset({ kind: 'file', path: file, format: 'parquet' }, { dataDir: '/' });
}

/** Loads the fixture into table `fixture` of the database at `url`; returns the shipped PostgreSQL adapter. */
export async function openFixturePostgres(url: string): Promise<DatasetAdapter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE fixture (${DDL_PG})`);
    for (let i = 0; i < FIXTURE_ROWS; i++) await client.query('INSERT INTO fixture VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)', fixtureRow(i));
  } finally {
    await client.end();
  }
  return openDataset({ kind: 'postgres', connection: 'fixture', table: 'fixture' }, { dataDir: '/', postgresConnections: { fixture: url } });
}
