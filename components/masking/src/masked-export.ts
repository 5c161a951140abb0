// Masked samples and exports. An export writes CSV or Parquet:
// - fast path (DuckDB source, every rule computable in SQL): the dataset's engine runs
//   COPY (masked SELECT) TO a file, so rows never pass through Node;
// - otherwise rows stream in batches through the TypeScript functions into a local DuckDB, which writes the
//   file. Either way, when quasi-identifiers are declared the k-anonymity report is computed from the
//   masked rows that are written, and a required k suppresses the rows of smaller groups.
// The file appears under its final name only when complete.
import { randomBytes } from 'node:crypto';
import { rm, rename } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { AdapterError, type DatasetAdapter } from '@veil/dataset-adapters';
import type { CompiledPolicy } from './policy.js';
import { MaskingKey } from './masking-key.js';
import { applyPostProcessors, createEvalEnv, maskedQuery, quoteIdent, type ExecutionMode, type MaskedQuery } from './masked-query.js';
import { sqlType } from './functions.js';
import { kAnonymityReport, reportFromHistogram, type KAnonymityReport } from './k-anonymity.js';
import type { UniformSource } from './random.js';
import type { OutputType } from './values.js';

export type ExportFormat = 'csv' | 'parquet';

export const MAX_SAMPLE_ROWS = 10_000;
export const MAX_K = 1_000_000;

/** An export or sample that could not be produced; the message never carries data values or the key. */
export class MaskingExecutionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'MaskingExecutionError';
    // Engine messages can quote data values: keep them out of anything enumerable or serialised.
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

interface KeyOption {
  /** The masking key, or the server secret it is derived from. */
  key?: MaskingKey;
  secret?: string | Uint8Array;
}

function resolveKey(options: KeyOption): MaskingKey {
  if (options.key) return options.key;
  if (options.secret !== undefined) return MaskingKey.fromSecret(options.secret);
  throw new MaskingExecutionError('a masking key or secret is required');
}

export interface MaskedSampleOptions extends KeyOption {
  rows: number;
  mode?: ExecutionMode;
  random?: UniformSource;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface MaskedRows {
  columns: { name: string; type: Exclude<OutputType, 'null'> }[];
  rows: unknown[][];
  /** Over the policy's quasi-identifiers, measured on these rows; null when it declares none. */
  kAnonymity: KAnonymityReport | null;
}

/** Up to `rows` masked rows (the first rows the engine returns). */
export async function maskedSample(adapter: DatasetAdapter, compiled: CompiledPolicy, options: MaskedSampleOptions): Promise<MaskedRows> {
  if (!Number.isSafeInteger(options.rows) || options.rows < 1 || options.rows > MAX_SAMPLE_ROWS) {
    throw new MaskingExecutionError(`rows must be an integer from 1 to ${MAX_SAMPLE_ROWS}`);
  }
  const key = resolveKey(options);
  const query = maskedQuery(compiled, adapter.dialect, key, { mode: options.mode, limit: options.rows });
  const result = await adapter.query(query.sql, query.params, { timeoutMs: options.timeoutMs, signal: options.signal });
  const rows = applyPostProcessors(result.rows.map((r) => [...r]), query.postProcessors, createEvalEnv(key, options.random));
  const names = query.columns.map((c) => c.name);
  const kAnonymity = compiled.quasiIdentifiers.length ? kAnonymityReport(rows, names, compiled.quasiIdentifiers) : null;
  return { columns: query.columns, rows, kAnonymity };
}

export interface MaskedExportOptions extends KeyOption {
  format: ExportFormat;
  /** Absolute path of the file to write (server-chosen, e.g. the job's result file). */
  out: string;
  /** Require k-anonymity over the policy's quasi-identifiers; smaller groups are suppressed. */
  k?: number;
  mode?: ExecutionMode;
  batchSize?: number;
  random?: UniformSource;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface MaskedExportResult {
  path: string;
  format: ExportFormat;
  /** Rows written. */
  rows: number;
  suppressedRows: number;
  /** Over the policy's quasi-identifiers; null when it declares none. */
  kAnonymity: KAnonymityReport | null;
  /**
   * 'engine': COPY in the dataset's own engine (DuckDB, every rule in SQL, and the adapter allows writing
   * the output path); 'stream': batches through Node into a local DuckDB that writes the file.
   */
  route: 'engine' | 'stream';
}

/** A path as an SQL string literal; paths are server-chosen, but are still checked and escaped. */
function pathLiteral(path: string): string {
  if (!isAbsolute(path) || [...path].some((ch) => ch.charCodeAt(0) < 0x20)) throw new MaskingExecutionError('the output path must be an absolute path without control characters');
  return `'${path.replaceAll("'", "''")}'`;
}

const copyOptions = (format: ExportFormat): string => (format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)');

function checkExportOptions(compiled: CompiledPolicy, options: MaskedExportOptions): void {
  if (options.format !== 'csv' && options.format !== 'parquet') throw new MaskingExecutionError("format must be 'csv' or 'parquet'");
  if (options.k !== undefined) {
    if (!Number.isSafeInteger(options.k) || options.k < 1 || options.k > MAX_K) throw new MaskingExecutionError(`k must be an integer from 1 to ${MAX_K}`);
    if (compiled.quasiIdentifiers.length === 0) throw new MaskingExecutionError('k-anonymity needs quasi-identifiers, and the policy declares none');
  }
}

/** Writes the masked dataset to `out` and reports rows, suppression and k-anonymity. */
export async function runMaskedExport(adapter: DatasetAdapter, compiled: CompiledPolicy, options: MaskedExportOptions): Promise<MaskedExportResult> {
  checkExportOptions(compiled, options);
  const key = resolveKey(options);
  pathLiteral(options.out);
  const query = maskedQuery(compiled, adapter.dialect, key, { mode: options.mode });
  const tag = randomBytes(6).toString('hex');
  const temp = (suffix: string): string => join(dirname(options.out), `.veil-mask-${tag}.${suffix}`);
  const partial = temp(`partial.${options.format}`);
  const staging = temp('staging.parquet');
  const local = await DuckDBInstance.create(':memory:', { temp_directory: temp('spill') });
  const connection = await local.connect();
  try {
    let result: ExportOutcome | undefined;
    if (adapter.dialect === 'duckdb' && query.postProcessors.length === 0) {
      // An adapter locked to its input file refuses COPY TO; the stream path then does the same work.
      result = await engineExport(adapter, connection, compiled, query, options, partial, staging).catch(async (error: unknown) => {
        if (!isWriteRefused(error)) throw error;
        await rm(partial, { force: true });
        return undefined;
      });
    }
    result ??= await streamExport(adapter, connection, compiled, query, options, key, partial);
    await rename(partial, options.out);
    return { ...result, path: options.out, format: options.format };
  } catch (error) {
    await rm(partial, { force: true });
    // Adapter errors are already safe (generic message, engine text only in a hidden cause).
    if (error instanceof MaskingExecutionError || error instanceof AdapterError) throw error;
    throw new MaskingExecutionError('the masked export failed', { cause: error });
  } finally {
    connection.closeSync();
    local.closeSync();
    await rm(staging, { force: true });
    await rm(temp('spill'), { recursive: true, force: true });
  }
}

type ExportOutcome = Omit<MaskedExportResult, 'path' | 'format'>;

/** The adapter's DuckDB may not write files (external access locked to the input): DuckDB's Permission Error. */
function isWriteRefused(error: unknown): boolean {
  return error instanceof AdapterError && error.kind === 'query-failed' && /Permission Error/i.test(String((error as { cause?: unknown }).cause));
}

async function engineExport(
  adapter: DatasetAdapter, local: DuckDBConnection, compiled: CompiledPolicy, query: MaskedQuery,
  options: MaskedExportOptions, partial: string, staging: string,
): Promise<ExportOutcome> {
  const opts = { timeoutMs: options.timeoutMs, signal: options.signal };
  if (compiled.quasiIdentifiers.length === 0) {
    const copied = await adapter.query(`COPY (${query.sql}) TO ${pathLiteral(partial)} ${copyOptions(options.format)}`, query.params, opts);
    return { rows: countOf(copied.rows), suppressedRows: 0, kAnonymity: null, route: 'engine' };
  }
  // Materialise once, so the report describes exactly the (possibly randomised) values released.
  await adapter.query(`COPY (${query.sql}) TO ${pathLiteral(staging)} (FORMAT parquet)`, query.params, opts);
  return { ...(await finishLocally(local, `read_parquet(${pathLiteral(staging)})`, compiled, options, partial)), route: 'engine' };
}

async function streamExport(
  adapter: DatasetAdapter, local: DuckDBConnection, compiled: CompiledPolicy, query: MaskedQuery,
  options: MaskedExportOptions, key: MaskingKey, partial: string,
): Promise<ExportOutcome> {
  const staged = query.columns.map((c) => `${quoteIdent(c.name)} ${stagingType(c.type)}`);
  await local.run(`CREATE TABLE masked (${staged.join(', ')})`);
  const appender = await local.createAppender('masked');
  const env = createEvalEnv(key, options.random);
  const types = query.columns.map((c) => c.type);
  try {
    for await (const batch of adapter.stream(query.sql, query.params, { batchSize: options.batchSize, timeoutMs: options.timeoutMs, signal: options.signal })) {
      for (const row of applyPostProcessors(batch, query.postProcessors, env)) appendRow(appender, row, types);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const casts = query.columns.map((c) => `CAST(${quoteIdent(c.name)} AS ${sqlType(c.type, 'duckdb')}) AS ${quoteIdent(c.name)}`);
  return { ...(await finishLocally(local, `(SELECT ${casts.join(', ')} FROM masked)`, compiled, options, partial)), route: 'stream' };
}

/** Dates and timestamps are staged as their text and cast once at the end. */
function stagingType(type: Exclude<OutputType, 'null'>): string {
  return type === 'date' || type === 'timestamp' ? 'VARCHAR' : sqlType(type, 'duckdb');
}

function appendRow(appender: DuckDBAppender, row: unknown[], types: Exclude<OutputType, 'null'>[]): void {
  for (let i = 0; i < types.length; i++) {
    const v = row[i];
    if (v === null || v === undefined) {
      appender.appendNull();
      continue;
    }
    switch (types[i]) {
      case 'int': appender.appendBigInt(typeof v === 'bigint' ? v : BigInt(v as number)); break;
      case 'float': appender.appendDouble(Number(v)); break;
      case 'bool': appender.appendBoolean(Boolean(v)); break;
      default: appender.appendVarchar(String(v));
    }
  }
  appender.endRow();
}

/** Report and (optional) suppression in the local DuckDB over `source`, then the final file. */
async function finishLocally(local: DuckDBConnection, source: string, compiled: CompiledPolicy, options: MaskedExportOptions, partial: string): Promise<Omit<ExportOutcome, 'route'>> {
  const qis = compiled.quasiIdentifiers.map(quoteIdent).join(', ');
  let kAnonymity: KAnonymityReport | null = null;
  let filter = '';
  if (qis) {
    const histogram = await local.runAndReadAll(`SELECT size, count(*) FROM (SELECT count(*) AS size FROM ${source} GROUP BY ${qis}) GROUP BY size`);
    const sizes = new Map(histogram.getRows().map(([size, groups]) => [Number(size), Number(groups)]));
    kAnonymity = reportFromHistogram(compiled.quasiIdentifiers, sizes, options.k ?? null);
    if (options.k !== undefined) filter = ` QUALIFY count(*) OVER (PARTITION BY ${qis}) >= ${Number(options.k)}`;
  }
  const copied = await local.runAndReadAll(`COPY (SELECT * FROM ${source}${filter}) TO ${pathLiteral(partial)} ${copyOptions(options.format)}`);
  return { rows: countOf(copied.getRows()), suppressedRows: kAnonymity?.suppressedRows ?? 0, kAnonymity };
}

function countOf(rows: unknown[][]): number {
  const value = rows[0]?.[0];
  return value === undefined || value === null ? 0 : Number(value);
}
