// Public interface of @veil/dataset-adapters: one DatasetAdapter contract over DuckDB (files, HTTP(S), S3)
// and PostgreSQL, plus a metadata drafting helper. See README.md.
export { DATASET_RELATION } from './types.js';
export type {
  AdapterContext,
  ColumnDescription,
  DatasetAdapter,
  DatasetSource,
  Dialect,
  HttpConfig,
  QueryOptions,
  QueryParam,
  QueryResult,
  S3Config,
  StreamOptions,
} from './types.js';
export { AdapterError, QueryCancelledError, QueryTimeoutError } from './errors.js';
export type { AdapterErrorKind } from './errors.js';
export { openDataset } from './open.js';
export { draftMetadata } from './draft-metadata.js';
export type { DraftMetadataOptions, MetadataDraft, ReviewItem } from './draft-metadata.js';
