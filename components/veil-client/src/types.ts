// The shapes of Veil's HTTP API v1 (DESIGN §7), as the SDK returns them. Privacy amounts are decimal
// strings: exact, never binary floating point.

export interface PrivacyCost {
  epsilon: string;
  delta: string;
  rho: string;
  rhoDelta: string;
}

export interface Budget {
  mode: 'zcdp' | 'basic';
  grant: { epsilon: string; delta: string };
  spent: PrivacyCost;
  reserved: PrivacyCost;
  /** zCDP: ρ left (exactly lowered by each charge's ρ), δ, and the ε still unused; basic: ε and δ left. */
  remaining: { epsilon?: string; delta: string; rho?: string };
}

export interface DatasetSummary {
  name: string;
  description: string | null;
  rows: number | null;
}

export interface ColumnMetadata {
  type: 'int' | 'float' | 'string' | 'bool' | 'date' | 'timestamp';
  lower?: number | string;
  upper?: number | string;
  categories?: (string | number)[];
  nullable?: boolean;
}

export interface DatasetMetadataView extends DatasetSummary {
  metadata: {
    privacy_unit?: { column: string; max_rows: number; max_groups: number };
    rows?: number;
    columns: Record<string, ColumnMetadata>;
  };
}

export interface Rows {
  columns: string[];
  rows: unknown[][];
}

export interface QueryRequest {
  sql: string;
  epsilon: number | string;
  delta?: number | string;
}

export interface ValueAccuracy {
  mechanism: string;
  scale: number | null;
  stddev: number | null;
  ci95: [number, number] | null;
  approximate: boolean;
}

export interface QueryAnswer extends Rows {
  /** Per row and column: the noise on that value; null for group keys. */
  accuracy: (ValueAccuracy | null)[][];
  groups?: unknown;
  charge: PrivacyCost;
  remaining: Budget['remaining'];
  jobId: string;
}

export interface Estimate {
  charge: PrivacyCost;
  accuracy: unknown;
  budget: Budget;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  result: unknown;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface AcceptedJob {
  jobId: string;
  status: 'queued';
  links: { job: string; events: string };
}

export interface ArchivedQuery {
  id: string;
  user?: string | null;
  dataset: string | null;
  sql: string;
  charge: PrivacyCost | null;
  result: unknown;
  error: { code: string; message: string } | null;
  createdAt: string;
}

export interface UserView {
  name: string;
  role: 'admin' | 'analyst';
  createdAt: string;
  disabledAt: string | null;
}

export interface CreatedKey {
  /** The API key: shown once, store it now. */
  key: string;
  prefix: string;
  user: string;
  expiresAt: string | null;
}

export interface AdminDataset {
  name: string;
  description: string | null;
  source: string;
  metadata: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  createdAt: string;
}

export interface Page {
  limit?: number;
  /** ISO timestamp: entries older than this (pass the last entry's createdAt for the next page). */
  before?: string;
}
