// The public shapes of the admin store: plain objects, no Prisma types, so callers never depend on the
// generated client.
import type { DatasetMetadata } from '@veil/dataset-metadata';

/** Where the store lives: embedded PGlite (a directory, or `memory://` for tests) or a PostgreSQL server. */
export type StoreConfig =
  | { kind: 'pglite'; /** Directory for the database files (e.g. `${VEIL_DATA_DIR}/store`), or `memory://`. */ dataDir: string }
  | { kind: 'postgres'; url: string; /** pg Pool size; default 10. */ maxConnections?: number };

/** A way to run statements on one connection inside a transaction. */
export interface QueryOptions {
  name?: string;
}

export interface SqlQueryable {
  /**
   * One statement with $1, $2, … placeholders. A `name` makes it a prepared statement on PostgreSQL
   * (parsed and planned once per connection: the ledger's hot path); PGlite ignores it.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<{ rows: T[] }>;
  /** A script of several statements, no parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
}

/**
 * Raw SQL over the store's own connection(s): a pg Pool on PostgreSQL, the very PGlite instance Prisma
 * uses in embedded mode. Placeholders are $1, $2, … in both. For the budget ledger's one-statement hot path.
 */
export interface SqlExecutor extends SqlQueryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

export type UserRole = 'admin' | 'analyst';

export interface User {
  id: string;
  name: string;
  role: UserRole;
  createdAt: Date;
  disabledAt: Date | null;
}

export interface ApiKeyInfo {
  id: string;
  userId: string;
  /** Public lookup prefix (8 characters); safe to show and log. */
  prefix: string;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** Returned once by `apiKeys.create`: the token is not stored and cannot be shown again. */
export interface CreatedApiKey {
  token: string;
  key: ApiKeyInfo;
}

export interface Dataset {
  id: string;
  name: string;
  description: string | null;
  metadata: DatasetMetadata;
  /** A short text form of metadata.source, e.g. `file:/srv/visits.parquet`, `postgres:warehouse/public.visits`. */
  sourceRef: string;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewDataset {
  name: string;
  description?: string | null;
  /** Validated with @veil/dataset-metadata; an object (parsed JSON/YAML) or YAML/JSON text. */
  metadata: unknown;
  ownerId: string;
}

export interface DatasetChanges {
  description?: string | null;
  metadata?: unknown;
  ownerId?: string;
}

export interface ArchivedQuery {
  id: string;
  userId: string;
  datasetId: string;
  queryText: string;
  /** The charge (PrivacyCost of @veil/mechanisms, decimal strings), null when nothing was charged. */
  cost: Record<string, string> | null;
  /** The released answer (JSON), null on error. */
  result: unknown;
  /** `{ code, message }` as shown to the analyst, null on success. */
  error: { code: string; message: string } | null;
  createdAt: Date;
}

export interface NewArchivedQuery {
  userId: string;
  datasetId: string;
  queryText: string;
  cost?: Record<string, string> | null;
  result?: unknown;
  error?: { code: string; message: string } | null;
}

/**
 * Lists are newest first. To get the next page pass the last item's `createdAt` as `before` and its `id`
 * as `beforeId` (without `beforeId`, items sharing that millisecond are skipped).
 */
export interface PageOptions {
  limit?: number;
  before?: Date;
  beforeId?: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  kind: string;
  userId: string;
  datasetId: string | null;
  status: JobStatus;
  /** Fraction done, 0..1. */
  progress: number;
  params: unknown;
  result: unknown;
  /** A file the result was written to (e.g. a synthetic CSV), when there is one. */
  resultPath: string | null;
  error: { code: string; message: string } | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewJob {
  /** Optional caller-chosen id (UUID); one is made otherwise. */
  id?: string;
  kind: string;
  userId: string;
  datasetId?: string | null;
  params?: unknown;
}

export interface JobUpdate {
  status?: JobStatus;
  progress?: number;
  result?: unknown;
  resultPath?: string | null;
  error?: { code: string; message: string } | null;
}

export interface AuditEntry {
  id: string;
  /** The admin who acted; null for the system (first start). */
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  createdAt: Date;
}

export interface NewAuditEntry {
  actorId: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  details?: unknown;
}
