// Shapes of the synthetic-data and masking routes of Veil's HTTP API v1, as the SDK returns them.
import type { AcceptedJob, PrivacyCost } from './types.js';

export interface SyntheticRequest {
  epsilon: number | string;
  /** MST needs δ > 0, e.g. "1e-9". */
  delta: number | string;
  rows?: number;
  method?: 'mst';
  columns?: string[];
}

export interface AcceptedSyntheticJob extends AcceptedJob {
  /** The charge reserved for the job (committed once the data has been read). */
  charge: PrivacyCost;
}

export interface SyntheticResult {
  /** The derived dataset holding the synthetic rows: query it at no charge, with exact answers. */
  dataset: string;
  rows: number;
  columns: string[];
  charge: PrivacyCost;
  remaining: { epsilon?: string; delta: string; rho?: string };
  downloads: { csv: string; parquet: string };
  model: { method: 'mst'; tree: [string, string][]; iterations: number };
}

export type ResultFormat = 'csv' | 'parquet';

export interface KAnonymityReport {
  quasiIdentifiers: string[];
  rows: number;
  groups: number;
  /** The smallest group's size. */
  k: number;
  distribution: { size: number; groups: number; rows: number }[];
  requiredK: number | null;
  suppressedRows: number;
  suppressedGroups: number;
  kReleased: number | null;
}

export interface MaskingPolicyInput {
  /** Column → rule, e.g. { email: "partial_email()", age: "generalize(10)" }. */
  rules: Record<string, string>;
  /** Columns released unmasked; every column with neither a rule nor a public entry is withheld. */
  public?: string[];
  quasi_identifiers?: string[];
}

export interface MaskingPolicyView {
  dataset: string;
  role: string;
  policy: MaskingPolicyInput;
  columns: { name: string; rule: string | null }[];
  withheld: string[];
  updatedAt: string;
}

export interface MaskedSample {
  dataset: string;
  role: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  kAnonymity: KAnonymityReport | null;
}

export interface MaskedExportRequest {
  format: ResultFormat;
  /** Require k-anonymity over the policy's quasi-identifiers (smaller groups are suppressed). */
  k?: number;
  /** Which of your roles to use, when several have a policy on the dataset. */
  role?: string;
}

export interface MaskedExportResult {
  role: string;
  format: ResultFormat;
  rows: number;
  suppressedRows: number;
  kAnonymity: KAnonymityReport | null;
  /** 'engine': written by the dataset's own engine; 'stream': rows passed through the worker. */
  route: 'engine' | 'stream';
  download: string;
}

/** A query answered on your own derived (synthetic) dataset: exact, free. */
export interface DerivedAnswer {
  columns: string[];
  rows: unknown[][];
  exact: true;
  accuracy: null;
  charge: PrivacyCost;
  derivedFrom: string | null;
}
