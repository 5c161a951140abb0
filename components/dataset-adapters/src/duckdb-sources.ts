// How each non-PostgreSQL source becomes a DuckDB scan: local files (path resolved and checked), HTTP(S)
// URLs and S3 objects through httpfs, with credentials taken from server-side configuration only.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetSource } from '@veil/dataset-metadata';
import { sqlLiteral, type DuckDbSourcePlan } from './duckdb-adapter.js';
import { AdapterError } from './errors.js';
import { detectFormat, resolveDataFile, type FileFormat } from './paths.js';
import type { AdapterContext, HttpConfig, S3Config } from './types.js';

type DuckSource = Exclude<DatasetSource, { kind: 'postgres' }>;

const READERS: Record<FileFormat, string> = { csv: 'read_csv', parquet: 'read_parquet', json: 'read_json' };

export async function planDuckDbSource(source: DuckSource, ctx: AdapterContext): Promise<DuckDbSourcePlan> {
  if (source.kind === 'file') {
    const real = await resolveDataFile(source.path, ctx.dataDir, ctx.allowedRoots);
    const format = detectFormat(real, source.format);
    const scan = format === 'csv' ? (connection: DuckDBConnection) => pinnedCsvScan(connection, real) : constantScan(`${READERS[format]}(${sqlLiteral(real)})`);
    return { scan, setup: [], lockToPath: real };
  }
  const reader = READERS[detectFormat(source.url, source.format)];
  const secrets = source.kind === 's3' ? s3SecretStatements(ctx.s3) : httpSecretStatements(ctx.http);
  const secretValues = source.kind === 's3' ? s3SecretValues(ctx.s3) : httpSecretValues(ctx.http);
  return {
    scan: constantScan(`${reader}(${sqlLiteral(source.url)})`),
    setup: [
      { sql: 'LOAD httpfs', fallbackSql: httpfsInstallStatement(ctx), onError: httpfsUnavailable },
      ...secrets.map((sql) => ({ sql, onError: (cause: unknown) => secretFailed(cause, secretValues) })),
    ],
  };
}

function constantScan(sql: string): () => Promise<string> {
  return () => Promise.resolve(sql);
}

/**
 * A CSV is sniffed once at open and the view pins the detected dialect and column types, so queries skip
 * DuckDB's per-query sniffing (4-5x faster on adult.csv) and types cannot drift between queries. The call is
 * rebuilt from sniff_csv's fields with every value quoted here: its ready-made `Prompt` does not escape quotes
 * in header names, which would let a crafted header inject SQL.
 */
async function pinnedCsvScan(connection: DuckDBConnection, file: string): Promise<string> {
  const reader = await connection.runAndReadAll(
    `SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, Columns, DateFormat, TimestampFormat FROM sniff_csv(${sqlLiteral(file)})`,
  );
  const row = reader.getRowObjectsJS()[0];
  if (!row) return `read_csv(${sqlLiteral(file)})`;
  const text = (value: unknown): string => sqlLiteral(value === '(empty)' || value === null || value === undefined ? '' : String(value));
  const columns = (row.Columns as { name: string; type: string }[]).map((c) => `${sqlLiteral(c.name)}: ${sqlLiteral(c.type)}`);
  const options = [
    'auto_detect = false',
    `delim = ${text(row.Delimiter)}`,
    `quote = ${text(row.Quote)}`,
    `escape = ${text(row.Escape)}`,
    `new_line = ${text(row.NewLineDelimiter)}`,
    `comment = ${text(row.Comment)}`,
    `skip = ${Number(row.SkipRows)}`,
    `header = ${row.HasHeader === true ? 'true' : 'false'}`,
    `columns = {${columns.join(', ')}}`,
  ];
  if (row.DateFormat) options.push(`dateformat = ${text(row.DateFormat)}`);
  if (row.TimestampFormat) options.push(`timestampformat = ${text(row.TimestampFormat)}`);
  return `read_csv(${sqlLiteral(file)}, ${options.join(', ')})`;
}

/** When httpfs is not installed: `INSTALL` then `LOAD` if installing (which needs network access) is allowed. */
function httpfsInstallStatement(ctx: AdapterContext): string | undefined {
  return ctx.duckdb?.allowExtensionInstall === false ? undefined : 'INSTALL httpfs; LOAD httpfs';
}

function httpfsUnavailable(cause: unknown): AdapterError {
  return new AdapterError(
    'extension-unavailable',
    "DuckDB's httpfs extension, needed for HTTP(S) and S3 datasets, is not installed and could not be installed " +
      '(this server may have no internet access). Install it once where there is access (INSTALL httpfs) and copy ' +
      'the extension directory, or point duckdb.extensionDirectory at one that holds it.',
    cause,
  );
}

/** The S3 secret as DuckDB statements; empty without credentials (public buckets). */
export function s3SecretStatements(config: S3Config | undefined): string[] {
  if (!config) return [];
  const fields: string[] = ['TYPE s3'];
  const add = (key: string, value: string | undefined): void => {
    if (value !== undefined) fields.push(`${key} ${sqlLiteral(value)}`);
  };
  add('KEY_ID', config.accessKeyId);
  add('SECRET', config.secretAccessKey);
  add('SESSION_TOKEN', config.sessionToken);
  add('REGION', config.region);
  add('ENDPOINT', config.endpoint);
  add('URL_STYLE', config.urlStyle);
  if (config.useSsl !== undefined) fields.push(`USE_SSL ${config.useSsl ? 'true' : 'false'}`);
  return fields.length > 1 ? [`CREATE SECRET veil_s3 (${fields.join(', ')})`] : [];
}

export function httpSecretStatements(config: HttpConfig | undefined): string[] {
  if (!config) return [];
  const fields: string[] = ['TYPE http'];
  if (config.bearerToken !== undefined) fields.push(`BEARER_TOKEN ${sqlLiteral(config.bearerToken)}`);
  const headers = Object.entries(config.headers ?? {});
  if (headers.length > 0) {
    fields.push(`EXTRA_HTTP_HEADERS MAP {${headers.map(([k, v]) => `${sqlLiteral(k)}: ${sqlLiteral(v)}`).join(', ')}}`);
  }
  return fields.length > 1 ? [`CREATE SECRET veil_http (${fields.join(', ')})`] : [];
}

function s3SecretValues(config: S3Config | undefined): string[] {
  return [config?.accessKeyId, config?.secretAccessKey, config?.sessionToken].filter((v): v is string => !!v);
}

function httpSecretValues(config: HttpConfig | undefined): string[] {
  return [config?.bearerToken, ...Object.values(config?.headers ?? {})].filter((v): v is string => !!v);
}

/** Engine messages may echo the statement; the cause kept for logs has every credential blanked out. */
function secretFailed(cause: unknown, secrets: string[]): AdapterError {
  let message = cause instanceof Error ? cause.message : String(cause);
  for (const secret of secrets) message = message.replaceAll(secret, '[redacted]');
  return new AdapterError('connection-failed', 'DuckDB could not configure the server-side credentials for this source', new Error(message));
}
