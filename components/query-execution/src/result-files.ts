// Job result files under the server's data directory: one directory per job (results/<job id>/), written
// by the worker and read back by the API's download route. Rows are written through an in-memory DuckDB
// (typed columns, then COPY to CSV and Parquet), so both files hold exactly the same values.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { ColumnMetadata } from '@veil/dataset-metadata';

export type ResultFormat = 'csv' | 'parquet';
export const RESULT_FORMATS: readonly ResultFormat[] = ['csv', 'parquet'];

/** The directory holding a job's result files. Job ids are UUIDs, checked by the callers. */
export function jobResultDir(dataDir: string, jobId: string): string {
  return resolve(dataDir, 'results', jobId);
}

/** The file of a job's result in one format: `<dir>/<base>.<format>`. */
export function resultFile(dir: string, base: string, format: ResultFormat): string {
  return join(dir, `${base}.${format}`);
}

const DUCK_TYPES: Record<ColumnMetadata['type'], string> = {
  int: 'BIGINT',
  float: 'DOUBLE',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
};

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * Writes `rows` (values in `columns` order, typed as the metadata says) as `<base>.csv` and
 * `<base>.parquet` in `dir`. Each file appears under its final name only when complete.
 */
export async function writeRowFiles(dir: string, base: string, columns: { name: string; type: ColumnMetadata['type'] }[], rows: unknown[][]): Promise<Record<ResultFormat, string>> {
  await mkdir(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // Dates and timestamps arrive as ISO text: staged as text, cast when copied out.
    const staged = columns.map((c) => `${quote(c.name)} ${c.type === 'date' || c.type === 'timestamp' ? 'VARCHAR' : DUCK_TYPES[c.type]}`);
    await connection.run(`CREATE TABLE result (${staged.join(', ')})`);
    const appender = await connection.createAppender('result');
    for (const row of rows) appendRow(appender, row, columns);
    appender.flushSync();
    appender.closeSync();
    const select = columns.map((c) => (c.type === 'date' || c.type === 'timestamp' ? `CAST(${quote(c.name)} AS ${DUCK_TYPES[c.type]}) AS ${quote(c.name)}` : quote(c.name))).join(', ');
    const files = {} as Record<ResultFormat, string>;
    for (const format of RESULT_FORMATS) {
      const final = resultFile(dir, base, format);
      const partial = join(dir, `.partial-${base}.${format}`);
      const options = format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)';
      await connection.run(`COPY (SELECT ${select} FROM result) TO ${literal(partial)} ${options}`);
      await rename(partial, final);
      files[format] = final;
    }
    return files;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function appendRow(appender: DuckDBAppender, row: unknown[], columns: { type: ColumnMetadata['type'] }[]): void {
  columns.forEach((column, i) => {
    const value = row[i];
    if (value === null || value === undefined) return appender.appendNull();
    switch (column.type) {
      case 'int':
        return appender.appendBigInt(typeof value === 'bigint' ? value : BigInt(Math.round(Number(value))));
      case 'float':
        return appender.appendDouble(Number(value));
      case 'bool':
        return appender.appendBoolean(Boolean(value));
      default:
        return appender.appendVarchar(String(value));
    }
  });
  appender.endRow();
}
