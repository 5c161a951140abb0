// The contract every dataset engine implements (contracts.md): describe the columns, run Veil-generated SQL
// over the relation `dataset` with `$n` parameters, stream rows in batches, cancel, time out.
import type { ColumnType, DatasetSource } from '@veil/dataset-metadata';

export type Dialect = 'duckdb' | 'postgres';

/** The name generated SQL uses for the dataset; each adapter maps it to the file scan or table. */
export const DATASET_RELATION = 'dataset';

/** One column as the engine sees it. `type` is null when the engine type has no Veil equivalent (lists, blobs…). */
export interface ColumnDescription {
  name: string;
  type: ColumnType | null;
  /** The engine's own type name, e.g. `BIGINT`, `DECIMAL(10,2)`, `timestamp with time zone`. */
  engineType: string;
}

/**
 * Values bound to `$1`, `$2`, … in generated SQL (the same style on both engines). Integers that are safe
 * JS integers bind as BIGINT, other numbers as DOUBLE; bigint as BIGINT/HUGEINT.
 */
export type QueryParam = string | number | bigint | boolean | null;

export interface QueryOptions {
  /** Wall-clock limit for the statement; the engine work is stopped when it passes. Default: ctx.defaultTimeoutMs. */
  timeoutMs?: number;
  /** Aborting stops the engine work and rejects with QueryCancelledError. */
  signal?: AbortSignal;
}

export interface StreamOptions extends QueryOptions {
  /** Rows per yielded batch (the last one may be smaller). Default 10,000. */
  batchSize?: number;
}

/**
 * A result. Value mapping (identical on both engines, see README): integers → number when safe, else bigint;
 * DECIMAL/NUMERIC → number when non-integral, integral ones like integers; REAL/DOUBLE → number; BOOLEAN →
 * boolean; DATE → 'YYYY-MM-DD'; TIMESTAMP → 'YYYY-MM-DDTHH:MM:SS[.ffffff]'; TIMESTAMPTZ → same in UTC with
 * 'Z'; strings → string; NULL → null; anything else → its text form.
 */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

export interface DatasetAdapter {
  readonly dialect: Dialect;
  describe(): Promise<ColumnDescription[]>;
  query(sql: string, params?: readonly QueryParam[], opts?: QueryOptions): Promise<QueryResult>;
  /** Rows in batches, never the whole result in memory. Breaking out of the loop stops the engine work. */
  stream(sql: string, params?: readonly QueryParam[], opts?: StreamOptions): AsyncIterable<unknown[][]>;
  close(): Promise<void>;
}

/** S3 credentials from server-side configuration only; the analyst never sees or supplies them. */
export interface S3Config {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  /** e.g. `minio.internal:9000`; default AWS. */
  endpoint?: string;
  urlStyle?: 'path' | 'vhost';
  useSsl?: boolean;
}

/** Server-side HTTP(S) settings for `http` sources (e.g. a bearer token for a private file server). */
export interface HttpConfig {
  bearerToken?: string;
  headers?: Record<string, string>;
}

/** Server-side configuration the adapters need; built from Veil's config, never from analyst input. */
export interface AdapterContext {
  /** Relative file paths resolve against this directory (VEIL_DATA_DIR). */
  dataDir: string;
  /** When set, file sources must resolve (symlinks and `..` included) inside one of these directories. */
  allowedRoots?: string[];
  /** PostgreSQL connection strings by secret name; a `postgres` source names one of these. */
  postgresConnections?: Record<string, string>;
  s3?: S3Config;
  http?: HttpConfig;
  /** Applied when a query gives no timeoutMs. Default 60,000. */
  defaultTimeoutMs?: number;
  duckdb?: {
    /** DuckDB worker threads per adapter instance. Default: DuckDB's (the core count). */
    threads?: number;
    /** e.g. '1GB'. */
    memoryLimit?: string;
    /** Where DuckDB looks for extensions (httpfs); default ~/.duckdb/extensions. */
    extensionDirectory?: string;
    /** Allow `INSTALL httpfs` (needs network) when the extension is not present. Default true. */
    allowExtensionInstall?: boolean;
    /**
     * A server-side directory the engine may write into (masked exports use COPY … TO there).
     * Unset: a file dataset's instance may read its own file and nothing else, and write nowhere.
     */
    exportDirectory?: string;
  };
  postgres?: {
    /** Pool size per connection secret. Default 10. */
    maxConnections?: number;
  };
}

export type { DatasetSource };
