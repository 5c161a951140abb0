// A test-only engine: a real in-memory DuckDB holding a table named "dataset", built from rows, with values
// mapped like @veil/dataset-adapters does. (The parity suite uses the adapters themselves.)
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { QueryEngine } from '../run.js';
import type { SqlParam } from '../sql.js';

export type ColumnSpec = Record<string, 'BIGINT' | 'DOUBLE PRECISION' | 'VARCHAR' | 'BOOLEAN' | 'DATE'>;

export interface TestEngine extends QueryEngine {
  close(): Promise<void>;
}

function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (value !== null && typeof value === 'object' && 'toString' in value && !(value instanceof Date)) return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return value;
}

export async function duckdbEngine(columns: ColumnSpec, rows: unknown[][]): Promise<TestEngine> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const names = Object.keys(columns);
  await connection.run(`CREATE TABLE "dataset" (${names.map((n) => `"${n}" ${columns[n]}`).join(', ')})`);
  const appender = await connection.createAppender('dataset');
  for (const row of rows) {
    names.forEach((n, i) => {
      const v = row[i];
      if (v === null || v === undefined) appender.appendNull();
      else if (columns[n] === 'BIGINT') appender.appendBigInt(BigInt(v as number));
      else if (columns[n] === 'DOUBLE PRECISION') appender.appendDouble(v as number);
      else if (columns[n] === 'BOOLEAN') appender.appendBoolean(v as boolean);
      else appender.appendVarchar(String(v));
    });
    appender.endRow();
  }
  appender.closeSync();
  return {
    dialect: 'duckdb',
    async query(sql: string, params: readonly SqlParam[] = []) {
      const values = params.map((p) => (typeof p === 'number' && Number.isSafeInteger(p) ? BigInt(p) : p)) as DuckDBValue[];
      const reader = await connection.runAndReadAll(sql, values);
      return { columns: reader.columnNames(), rows: reader.getRowsJS().map((r) => r.map(normalise)) };
    },
    async close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
