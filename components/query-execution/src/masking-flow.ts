// Masked access (DESIGN §5): per-dataset policies per role, set by admins; masked samples and masked
// exports (a job) for users holding a role that has a policy on the dataset. Masked access never touches
// the budget ledger and never returns a withheld or unmasked column: every row comes out of
// @veil/masking, which selects only the policy's public and masked columns. A user without a matching
// policy gets the same 404 as for a dataset that does not exist. Errors never carry data values, rule
// text of other roles, or the secret (the key object prints as [redacted]).
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AdminStore, Dataset, Job, StoredMaskingPolicy } from '@veil/admin-store';
import { maskingPoliciesRepo, StoreError, userRolesRepo } from '@veil/admin-store';
import { AdapterError, openDataset } from '@veil/dataset-adapters';
import type { AdapterContext } from '@veil/dataset-adapters';
import { compilePolicy, maskedSample, MaskingExecutionError, MaskingPolicyError, MAX_K, MAX_SAMPLE_ROWS, runMaskedExport } from '@veil/masking';
import type { CompiledPolicy, KAnonymityReport, MaskingKey } from '@veil/masking';
import type { AdapterPool } from './adapter-pool.js';
import { QueryError } from './errors.js';
import { jobResultDir, resultFile } from './result-files.js';
import type { ResultFormat } from './result-files.js';

export const MASKED_EXPORT_JOB_KIND = 'masked-export';
/** The base name of a masked export's file: masked.csv or masked.parquet. */
export const MASKED_FILE_BASE = 'masked';

export interface MaskingFlowDeps {
  store: AdminStore;
  adapters: AdapterPool;
  /** The adapters' server-side configuration; exports open their own adapter that may write the job's directory. */
  adapterContext: AdapterContext;
  dataDir: string;
  /** Undefined when masking is not configured (distributed mode without VEIL_MASKING_SECRET). */
  key: MaskingKey | undefined;
  queryTimeoutMs: number;
}

export interface MaskingPolicyView {
  dataset: string;
  role: string;
  policy: unknown;
  /** Output columns and how each is produced (`null` rule: released as is). */
  columns: { name: string; rule: string | null }[];
  withheld: string[];
  updatedAt: Date;
}

export interface MaskedExportParams {
  role: string;
  format: ResultFormat;
  k?: number;
}

export interface MaskedExportResult {
  role: string;
  format: ResultFormat;
  rows: number;
  suppressedRows: number;
  kAnonymity: KAnonymityReport | null;
  /** 'engine': written by the dataset's own engine (rows never passed through Node); 'stream': through the worker. */
  route: 'engine' | 'stream';
  download: string;
}

export interface MaskedSampleResult {
  dataset: string;
  role: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  kAnonymity: KAnonymityReport | null;
}

export class MaskingFlow {
  private readonly policies;
  private readonly roles;

  constructor(private readonly deps: MaskingFlowDeps) {
    this.policies = maskingPoliciesRepo(deps.store.prisma);
    this.roles = userRolesRepo(deps.store.prisma);
  }

  // ── admin ────────────────────────────────────────────────────────────────────────────────────────

  /** Parses and type-checks the policy against the dataset's metadata (422 with per-column issues), then stores it. */
  async putPolicy(datasetName: string, role: string, input: unknown): Promise<MaskingPolicyView> {
    const dataset = await this.dataset(datasetName);
    const compiled = compile(input, dataset);
    const stored = await this.policies.put(dataset.id, role, compiled.policy);
    return policyView(dataset, stored, compiled);
  }

  async getPolicy(datasetName: string, role: string): Promise<MaskingPolicyView> {
    const dataset = await this.dataset(datasetName);
    const stored = await this.policies.get(dataset.id, role);
    if (!stored) throw new QueryError('not_found', `dataset "${dataset.name}" has no masking policy for role "${role}"`);
    return policyView(dataset, stored, compileQuietly(stored.policy, dataset));
  }

  async removePolicy(datasetName: string, role: string): Promise<boolean> {
    const dataset = await this.dataset(datasetName);
    return this.policies.remove(dataset.id, role);
  }

  async setRoles(userId: string, roles: string[]): Promise<string[]> {
    return this.roles.set(userId, roles);
  }

  async getRoles(userId: string): Promise<string[]> {
    return this.roles.list(userId);
  }

  // ── users with a masked role ─────────────────────────────────────────────────────────────────────

  /**
   * The policy `userId` may use on a dataset: of a role the user holds. With several, `role` picks one
   * (422 when it is needed and missing). No matching policy: the 404 of a dataset that does not exist.
   */
  async accessFor(userId: string, datasetName: string, role?: string): Promise<{ dataset: Dataset; role: string; compiled: CompiledPolicy }> {
    const unavailable = new QueryError('not_found', `no dataset named "${datasetName}" is available to you`);
    const dataset = await this.deps.store.datasets.get(datasetName);
    if (!dataset) throw unavailable;
    const held = new Set(await this.roles.list(userId));
    const usable = (await this.policies.listForDataset(dataset.id)).filter((p) => held.has(p.role) && (role === undefined || p.role === role));
    if (usable.length === 0) throw unavailable;
    if (usable.length > 1) {
      throw new QueryError('invalid_request', `you hold several roles with a masking policy on "${dataset.name}": name one with role (${usable.map((p) => p.role).join(', ')})`);
    }
    const chosen = usable[0]!;
    let compiled: CompiledPolicy;
    try {
      compiled = compilePolicy(chosen.policy, dataset.metadata);
    } catch {
      throw new QueryError('invalid_request', `the masking policy for role "${chosen.role}" no longer fits the dataset's metadata; ask its owner to update it`);
    }
    return { dataset, role: chosen.role, compiled };
  }

  async sample(userId: string, datasetName: string, options: { rows: number; role?: string }): Promise<MaskedSampleResult> {
    const key = this.key();
    if (!Number.isSafeInteger(options.rows) || options.rows < 1 || options.rows > MAX_SAMPLE_ROWS) {
      throw new QueryError('invalid_request', `rows must be an integer from 1 to ${MAX_SAMPLE_ROWS}`);
    }
    const { dataset, role, compiled } = await this.accessFor(userId, datasetName, options.role);
    const sample = await this.deps.adapters
      .use(dataset, (adapter) => maskedSample(adapter, compiled, { key, rows: options.rows, timeoutMs: this.deps.queryTimeoutMs }))
      .catch((error: unknown) => Promise.reject(asQueryError(error)));
    return { dataset: dataset.name, role, columns: sample.columns, rows: jsonSafeRows(sample.rows), kAnonymity: sample.kAnonymity };
  }

  /** API side: checks access and the request, records the export job; the caller enqueues it. */
  async admitExport(userId: string, datasetName: string, request: { format: ResultFormat; k?: number; role?: string }): Promise<Job> {
    this.key();
    if (request.format !== 'csv' && request.format !== 'parquet') throw new QueryError('invalid_request', 'format must be "csv" or "parquet"');
    const { dataset, role, compiled } = await this.accessFor(userId, datasetName, request.role);
    if (request.k !== undefined) {
      if (!Number.isSafeInteger(request.k) || request.k < 1 || request.k > MAX_K) throw new QueryError('invalid_request', `k must be an integer from 1 to ${MAX_K}`);
      if (compiled.quasiIdentifiers.length === 0) throw new QueryError('invalid_request', `k-anonymity needs quasi-identifiers, and the policy for role "${role}" declares none`);
    }
    const params: MaskedExportParams = { role, format: request.format, ...(request.k !== undefined ? { k: request.k } : {}) };
    return this.deps.store.jobs.create({ id: randomUUID(), kind: MASKED_EXPORT_JOB_KIND, userId, datasetId: dataset.id, params });
  }

  /**
   * Worker side: writes the masked file into the job's result directory, through the dataset's own engine
   * where possible (a fresh adapter allowed to write there). Access is checked again: a role or policy
   * withdrawn while the job waited stops it. Throws QueryError for final outcomes.
   */
  async runExport(jobId: string, signal: AbortSignal): Promise<MaskedExportResult> {
    const job = await this.deps.store.jobs.get(jobId);
    if (!job || job.kind !== MASKED_EXPORT_JOB_KIND) throw new QueryError('not_found', `no masked-export job ${jobId}`);
    if (job.status === 'succeeded') return job.result as MaskedExportResult;
    if (job.status === 'failed' || job.status === 'cancelled') throw QueryError.fromBody(job.error ?? { code: 'query_failed', message: 'the export failed' });
    const params = job.params as MaskedExportParams;
    try {
      const key = this.key();
      const source = job.datasetId ? await this.deps.store.datasets.getById(job.datasetId) : null;
      if (!source) throw new QueryError('not_found', 'the dataset was removed before the export ran');
      const { dataset, compiled } = await this.accessFor(job.userId, source.name, params.role);
      await this.deps.store.jobs.update(jobId, { status: 'running', progress: 0 });
      const dir = jobResultDir(this.deps.dataDir, jobId);
      await mkdir(dir, { recursive: true });
      const context: AdapterContext = { ...this.deps.adapterContext, duckdb: { ...this.deps.adapterContext.duckdb, exportDirectory: dir } };
      let adapter;
      try {
        adapter = await openDataset(dataset.metadata.source, context);
      } catch {
        throw new QueryError('dataset_unavailable', 'the dataset cannot be opened right now; ask its owner to check its source');
      }
      let exported;
      try {
        exported = await runMaskedExport(adapter, compiled, {
          key,
          format: params.format,
          out: resultFile(dir, MASKED_FILE_BASE, params.format),
          ...(params.k !== undefined ? { k: params.k } : {}),
          timeoutMs: this.deps.queryTimeoutMs,
          signal,
        });
      } finally {
        await adapter.close().catch(() => undefined);
      }
      const result: MaskedExportResult = {
        role: params.role,
        format: params.format,
        rows: exported.rows,
        suppressedRows: exported.suppressedRows,
        kAnonymity: exported.kAnonymity,
        route: exported.route,
        download: `/v1/jobs/${jobId}/result?format=${params.format}`,
      };
      await this.deps.store.jobs.update(jobId, { status: 'succeeded', progress: 1, result, resultPath: dir });
      return result;
    } catch (error) {
      const failure = asQueryError(error);
      await this.deps.store.jobs.update(jobId, { status: 'failed', error: { code: failure.code, message: failure.message } });
      throw failure;
    }
  }

  private key(): MaskingKey {
    if (!this.deps.key) throw new QueryError('dataset_unavailable', 'masking is not configured on this server (VEIL_MASKING_SECRET is not set)');
    return this.deps.key;
  }

  private async dataset(name: string): Promise<Dataset> {
    const dataset = await this.deps.store.datasets.get(name);
    if (!dataset) throw new QueryError('not_found', `no dataset named "${name}"`);
    return dataset;
  }
}

function compile(input: unknown, dataset: Dataset): CompiledPolicy {
  try {
    return compilePolicy(input, dataset.metadata);
  } catch (error) {
    if (error instanceof MaskingPolicyError) throw new QueryError('invalid_request', error.message, { issues: error.issues });
    throw error;
  }
}

function compileQuietly(policy: unknown, dataset: Dataset): CompiledPolicy | null {
  try {
    return compilePolicy(policy, dataset.metadata);
  } catch {
    return null;
  }
}

function policyView(dataset: Dataset, stored: StoredMaskingPolicy, compiled: CompiledPolicy | null): MaskingPolicyView {
  return {
    dataset: dataset.name,
    role: stored.role,
    policy: stored.policy,
    columns: compiled ? compiled.columns.map((c) => ({ name: c.name, rule: c.rule })) : [],
    withheld: compiled ? compiled.withheld : [],
    updatedAt: stored.updatedAt,
  };
}

function asQueryError(error: unknown): QueryError {
  if (error instanceof QueryError) return error;
  if (error instanceof StoreError) return new QueryError(error.code === 'not_found' ? 'not_found' : 'invalid_request', error.message);
  // Messages of the masking brick are generic by design (the engine's own message stays in a hidden cause).
  if (error instanceof MaskingExecutionError) return new QueryError('query_failed', error.message);
  if (error instanceof AdapterError) {
    if (error.kind === 'timeout') return new QueryError('timeout', 'the masked read took too long');
    if (error.kind === 'cancelled') return new QueryError('cancelled', 'the worker is shutting down');
    return new QueryError('query_failed', 'the masked read failed');
  }
  return new QueryError('query_failed', 'the masked read failed');
}

function jsonSafeRows(rows: unknown[][]): unknown[][] {
  return rows.map((row) => row.map((value) => (typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value)));
}
