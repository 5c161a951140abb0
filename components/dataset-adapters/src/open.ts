// Picks the engine for a source: files, HTTP(S) and S3 go through DuckDB, tables through PostgreSQL.
import type { DatasetSource } from '@veil/dataset-metadata';
import { openDuckDb } from './duckdb-adapter.js';
import { planDuckDbSource } from './duckdb-sources.js';
import { AdapterError } from './errors.js';
import { openPostgres } from './postgres-adapter.js';
import type { AdapterContext, DatasetAdapter } from './types.js';

/** Opens a dataset described by owner metadata `source`, using server-side `ctx` for paths and secrets. */
export async function openDataset(source: DatasetSource, ctx: AdapterContext): Promise<DatasetAdapter> {
  switch (source.kind) {
    case 'postgres':
      return openPostgres(source, ctx);
    case 'file':
    case 'http':
    case 's3':
      return openDuckDb(await planDuckDbSource(source, ctx), ctx);
    default:
      throw new AdapterError('invalid-source', `unknown source kind ${JSON.stringify((source as { kind?: unknown }).kind)}`);
  }
}
