// DP synthetic data (MST) as a job, on the ledger protocol of DESIGN §4:
//   API: plan (domains and cost, nothing read) → job row → reserve (refused here when the grant cannot
//   cover it, before any data is touched) → enqueue;
//   worker: synthesizer's `authorize` replays the reservation and marks it running → the data is streamed
//   → MST draws the noise → commit (also if storing the result then fails) → CSV and Parquet files under
//   the data directory → a derived dataset the analyst may query at no further charge (post-processing).
// A reservation is released only when the data was never read.
import { randomUUID } from 'node:crypto';
import type { AdminStore, Dataset, Job } from '@veil/admin-store';
import { derivedDatasetsRepo, StoreError } from '@veil/admin-store';
import { AdapterError } from '@veil/dataset-adapters';
import type { DatasetMetadata } from '@veil/dataset-metadata';
import type { PrivacyCost } from '@veil/mechanisms';
import { planSynthesis, synthesize, SynthesisError } from '@veil/synthesizer';
import type { SynthesisPlan, SynthesisProgress, SynthesisRequest, SyntheticData } from '@veil/synthesizer';
import type { AdapterPool } from './adapter-pool.js';
import { QueryError } from './errors.js';
import type { BudgetLedgerPort, BudgetView, HeldReservation, PrivacyRequest } from './ports.js';
import { jobResultDir, writeRowFiles } from './result-files.js';

export const SYNTHETIC_JOB_KIND = 'synthetic';
/** The base name of a synthetic job's files: synthetic.csv, synthetic.parquet. */
export const SYNTHETIC_FILE_BASE = 'synthetic';

export interface SyntheticRequest extends PrivacyRequest {
  method: 'mst';
  /** Rows to generate; default the noisy row count. */
  rows?: number;
  /** Columns to synthesise; default every column but the privacy unit's. */
  columns?: string[];
}

/** What a synthetic job carries in its job row. */
export interface SyntheticJobParams {
  method: 'mst';
  epsilon: string;
  delta: string;
  rows?: number;
  columns: string[];
  cost: PrivacyCost;
}

export interface SyntheticResult {
  /** The derived dataset holding the synthetic rows, queryable by its owner at no charge. */
  dataset: string;
  rows: number;
  columns: string[];
  charge: PrivacyCost;
  remaining: BudgetView['remaining'];
  downloads: { csv: string; parquet: string };
  /** The MST tree (pairs of column names) and the fit's iterations: all post-processing of DP output. */
  model: { method: 'mst'; tree: [string, string][]; iterations: number };
}

export interface SyntheticFlowDeps {
  store: AdminStore;
  ledger: BudgetLedgerPort;
  adapters: AdapterPool;
  /** VEIL_DATA_DIR: results go to results/<job id>/ beneath it. */
  dataDir: string;
  reservationTtlMs: number;
  queryTimeoutMs: number;
}

/** Job progress per synthesizer phase: [start, end) of the phase as a fraction of the job. */
const PHASES: Record<SynthesisProgress['phase'], [number, number]> = {
  planning: [0, 0.02],
  reading: [0.02, 0.15],
  'measuring-1way': [0.15, 0.2],
  selecting: [0.2, 0.35],
  'measuring-2way': [0.35, 0.4],
  fitting: [0.4, 0.85],
  sampling: [0.85, 0.9],
  decoding: [0.9, 0.93],
  done: [0.93, 0.93],
};

export function synthesisProgressFraction(progress: SynthesisProgress): number {
  const [start, end] = PHASES[progress.phase];
  if (!progress.total || progress.iteration === undefined) return start;
  return start + ((end - start) * Math.min(progress.iteration, progress.total)) / progress.total;
}

export class SyntheticFlow {
  constructor(private readonly deps: SyntheticFlowDeps) {}

  /** Prices a request without reading anything: 422 naming what is wrong for unusable requests. */
  plan(metadata: DatasetMetadata, request: SyntheticRequest): SynthesisPlan {
    if (request.method !== 'mst') throw new QueryError('invalid_request', 'method must be "mst"');
    try {
      return planSynthesis(metadata, synthesisRequest(request));
    } catch (error) {
      if (error instanceof SynthesisError) throw new QueryError('invalid_request', error.message);
      throw error;
    }
  }

  /**
   * API side: checks the grant, plans, records the job and reserves its charge. Throws not_found,
   * invalid_request or budget_exhausted (nothing read in every case); the caller enqueues the job.
   */
  async admit(userId: string, datasetName: string, request: SyntheticRequest): Promise<Job> {
    const dataset = await this.deps.store.datasets.get(datasetName);
    const budget = dataset ? await this.deps.ledger.getBudget(userId, dataset.id) : null;
    if (!dataset || !budget) throw new QueryError('not_found', `no dataset named "${datasetName}" is available to you`);
    const plan = this.plan(dataset.metadata, request);
    const params: SyntheticJobParams = { method: 'mst', epsilon: request.epsilon, delta: request.delta, rows: request.rows, columns: [...plan.columns], cost: plan.cost };
    const job = await this.deps.store.jobs.create({ id: randomUUID(), kind: SYNTHETIC_JOB_KIND, userId, datasetId: dataset.id, params });
    try {
      await this.deps.ledger.reserve({ userId, datasetId: dataset.id, cost: plan.cost, key: job.id, ttlMs: this.deps.reservationTtlMs });
    } catch (error) {
      await this.deps.store.jobs.update(job.id, { status: 'failed', error: outcomeOf(error) });
      await this.archive(userId, dataset.id, params, null, { error: outcomeOf(error) });
      throw error;
    }
    return job;
  }

  /**
   * Worker side: runs an admitted synthetic job. A stored result is returned as is; a reservation a
   * previous attempt had already started on is charged and reported as answer_lost, never run twice.
   * Throws QueryError for final outcomes; other errors are left to the queue's retries.
   */
  async run(jobId: string, signal: AbortSignal, onProgress: (fraction: number) => void = () => undefined): Promise<SyntheticResult> {
    const job = await this.deps.store.jobs.get(jobId);
    if (!job || job.kind !== SYNTHETIC_JOB_KIND) throw new QueryError('not_found', `no synthetic-data job ${jobId}`);
    if (job.status === 'succeeded') return job.result as SyntheticResult;
    if (job.status === 'failed' || job.status === 'cancelled') throw QueryError.fromBody(job.error ?? { code: 'query_failed', message: 'the job failed' });
    const params = job.params as SyntheticJobParams;
    const dataset = job.datasetId ? await this.deps.store.datasets.getById(job.datasetId) : null;
    if (!dataset) {
      await this.releaseUnread(job, params, undefined);
      return this.fail(job, params, new QueryError('not_found', 'the dataset was removed before the job ran'));
    }
    await this.deps.store.jobs.update(jobId, { status: 'running', progress: 0 });

    let held: HeldReservation | undefined;
    let touched = false;
    let data: SyntheticData;
    const progress = this.progressRecorder(jobId, onProgress);
    try {
      data = await this.deps.adapters.use(dataset, (adapter) => {
        const source = touchOnRead(() => adapter.stream(sourceSql(dataset.metadata, params.columns), [], { signal }), () => (touched = true));
        return synthesize(dataset.metadata, synthesisRequest(params), source, {
          authorize: async (cost) => {
            held = await this.authorize(job, params, cost);
          },
          onProgress: (phase) => progress.report(synthesisProgressFraction(phase)),
          signal,
        });
      });
    } catch (error) {
      await progress.settled();
      const failure = asQueryError(error);
      if (failure.code === 'answer_lost') return this.fail(job, params, failure, dataset, params.cost);
      if (touched) {
        // The data was read (noise may have been drawn): the charge stands whatever happened next.
        await this.deps.ledger.commit(held!.reservationId);
        return this.fail(job, params, failure, dataset, held!.cost);
      }
      await this.releaseUnread(job, params, held);
      return this.fail(job, params, failure, dataset);
    }
    await this.deps.ledger.commit(held!.reservationId);
    await progress.settled();
    try {
      return await this.deliver(job, dataset, params, data, held!.cost);
    } catch (error) {
      if (error instanceof QueryError) throw error;
      return this.fail(job, params, new QueryError('answer_lost', 'the synthetic data was generated and charged, but could not be stored'), dataset, held!.cost);
    }
  }

  /**
   * Progress to the listener (events) at once and to the job row at most every 500 ms, one write at a
   * time, so a late progress write can never land after the job's final update.
   */
  private progressRecorder(jobId: string, onProgress: (fraction: number) => void): { report: (fraction: number) => void; settled: () => Promise<void> } {
    let pending: Promise<unknown> = Promise.resolve();
    let lastWrite = 0;
    let lastFraction = -1;
    return {
      report: (fraction) => {
        if (fraction <= lastFraction) return;
        lastFraction = fraction;
        onProgress(fraction);
        const now = Date.now();
        if (now - lastWrite < 500) return;
        lastWrite = now;
        pending = pending.then(() => this.deps.store.jobs.update(jobId, { progress: fraction })).catch(() => undefined);
      },
      settled: () => pending.then(() => undefined),
    };
  }

  /** Gives up on a job after the queue's last attempt: a running reservation is committed, a reserved one released. */
  async abandon(jobId: string, error: QueryError): Promise<void> {
    const job = await this.deps.store.jobs.get(jobId);
    if (!job || job.kind !== SYNTHETIC_JOB_KIND || ['succeeded', 'failed', 'cancelled'].includes(job.status)) return;
    const params = job.params as SyntheticJobParams;
    if (job.datasetId) {
      const held = await this.replay(job, params).catch(() => null);
      if (held?.state === 'running') await this.deps.ledger.commit(held.reservationId);
      if (held?.state === 'reserved') await this.deps.ledger.release(held.reservationId);
    }
    await this.deps.store.jobs.update(jobId, { status: 'failed', error: { code: error.code, message: error.message } });
  }

  /** The synthesizer's gate before the first row: the job's own reservation, still unread, now running. */
  private async authorize(job: Job, params: SyntheticJobParams, cost: PrivacyCost): Promise<HeldReservation> {
    if (!sameCost(cost, params.cost)) {
      throw new QueryError('cancelled', "the dataset's metadata changed while the job waited; nothing was charged, run it again");
    }
    const held = await this.replay(job, params);
    if (held.state === 'released') throw new QueryError('cancelled', 'the job waited longer than its reservation lasts; nothing was charged, run it again');
    if (held.state !== 'reserved') {
      if (held.state === 'running') await this.deps.ledger.commit(held.reservationId);
      throw new QueryError('answer_lost', 'a worker stopped while generating this synthetic data: it was charged, and it is not run twice');
    }
    if (!(await this.deps.ledger.markRunning(held.reservationId, this.deps.queryTimeoutMs + this.deps.reservationTtlMs))) {
      throw new QueryError('cancelled', 'the job waited longer than its reservation lasts; nothing was charged, run it again');
    }
    return held;
  }

  private replay(job: Job, params: SyntheticJobParams): Promise<HeldReservation> {
    return this.deps.ledger.reserve({ userId: job.userId, datasetId: job.datasetId!, cost: params.cost, key: job.id, ttlMs: this.deps.reservationTtlMs });
  }

  /** Releases the job's reservation when no row was read in this attempt. */
  private async releaseUnread(job: Job, params: SyntheticJobParams, held: HeldReservation | undefined): Promise<void> {
    if (held) return this.deps.ledger.release(held.reservationId);
    if (!job.datasetId) return;
    const replayed = await this.replay(job, params).catch(() => null);
    if (replayed?.state === 'reserved') await this.deps.ledger.release(replayed.reservationId);
    // A reservation left running by a crashed attempt had read data: it stays charged.
    if (replayed?.state === 'running') await this.deps.ledger.commit(replayed.reservationId);
  }

  private async deliver(job: Job, dataset: Dataset, params: SyntheticJobParams, data: SyntheticData, charge: PrivacyCost): Promise<SyntheticResult> {
    const dir = jobResultDir(this.deps.dataDir, job.id);
    const columns = data.columns.map((name) => ({ name, type: dataset.metadata.columns[name]!.type }));
    const files = await writeRowFiles(dir, SYNTHETIC_FILE_BASE, columns, data.rows);
    const derived = await this.registerDerived(job, dataset, data, files.parquet);
    const budget = await this.deps.ledger.getBudget(job.userId, dataset.id);
    const result: SyntheticResult = {
      dataset: derived.name,
      rows: data.rows.length,
      columns: data.columns,
      charge,
      remaining: budget?.remaining ?? { delta: '0' },
      downloads: { csv: `/v1/jobs/${job.id}/result?format=csv`, parquet: `/v1/jobs/${job.id}/result?format=parquet` },
      model: { method: 'mst', tree: data.report.tree.map(([a, b]) => [data.columns[a]!, data.columns[b]!]), iterations: data.report.iterations },
    };
    await this.deps.store.jobs.update(job.id, { status: 'succeeded', progress: 1, result, resultPath: dir });
    await this.archive(job.userId, dataset.id, params, charge, { result: { dataset: result.dataset, rows: result.rows, columns: result.columns } });
    return result;
  }

  /**
   * Registers the synthetic rows as a dataset owned by the analyst: the source's metadata for the
   * synthesised columns, no privacy unit, the Parquet file as source. A retry finds the first one.
   */
  private async registerDerived(job: Job, source: Dataset, data: SyntheticData, parquet: string): Promise<Dataset> {
    const name = derivedDatasetName(source.name, job.id);
    const existing = await this.deps.store.datasets.get(name);
    if (existing) return existing;
    const metadata = {
      source: { kind: 'file', path: parquet, format: 'parquet' },
      rows: data.rows.length,
      columns: Object.fromEntries(data.columns.map((c) => [c, source.metadata.columns[c]!])),
    };
    const description = `Synthetic data (MST, ε ${(job.params as SyntheticJobParams).epsilon}, δ ${(job.params as SyntheticJobParams).delta}) from ${source.name}; queries on it are free and exact`;
    let dataset: Dataset;
    try {
      dataset = await this.deps.store.datasets.create({ name, description, metadata, ownerId: job.userId });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'conflict') return (await this.deps.store.datasets.get(name))!;
      throw error;
    }
    await derivedDatasetsRepo(this.deps.store.prisma).create({ datasetId: dataset.id, sourceDatasetId: source.id, userId: job.userId, jobId: job.id, kind: 'synthetic' });
    return dataset;
  }

  private async fail(job: Job, params: SyntheticJobParams, error: QueryError, dataset?: Dataset, charged: PrivacyCost | null = null): Promise<never> {
    const outcome = { code: error.code, message: error.message };
    await this.deps.store.jobs.update(job.id, { status: 'failed', error: outcome });
    if (dataset) await this.archive(job.userId, dataset.id, params, charged, { error: outcome });
    throw error;
  }

  private async archive(userId: string, datasetId: string, params: SyntheticJobParams, cost: PrivacyCost | null, outcome: { result?: unknown; error?: { code: string; message: string } }): Promise<void> {
    const text = `-- synthetic data (MST, ε ${params.epsilon}, δ ${params.delta}${params.rows ? `, ${params.rows} rows` : ''}) over: ${params.columns.join(', ')}`;
    await this.deps.store.archive.append({ userId, datasetId, queryText: text, cost: cost ? { ...cost } : null, ...outcome });
  }
}

/** `<source>__synthetic_<first 8 hex of the job id>`, within the API's 63-character dataset names. */
export function derivedDatasetName(source: string, jobId: string): string {
  return `${source.slice(0, 43)}__synthetic_${jobId.replaceAll('-', '').slice(0, 8)}`;
}

function synthesisRequest(request: { epsilon: string; delta: string; rows?: number; columns?: string[] }): SynthesisRequest {
  return { epsilon: request.epsilon, delta: request.delta, ...(request.rows !== undefined ? { rows: request.rows } : {}), ...(request.columns ? { columns: request.columns } : {}) };
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * The rows MST reads: the chosen columns; with a privacy unit, at most `max_rows` rows per unit, sampled
 * uniformly in the engine (as queries do), so every count's sensitivity is `max_rows`.
 */
export function sourceSql(metadata: DatasetMetadata, columns: string[]): string {
  const list = columns.map(quote).join(', ');
  const unit = metadata.privacy_unit;
  if (!unit) return `SELECT ${list} FROM dataset`;
  return `SELECT ${list} FROM (SELECT ${list}, row_number() OVER (PARTITION BY ${quote(unit.column)} ORDER BY random()) AS veil_unit_row FROM dataset) AS bounded WHERE veil_unit_row <= ${unit.max_rows}`;
}

/** Calls `onTouch` when the first batch is asked for: from then on private data has been read. */
async function* touchOnRead(open: () => AsyncIterable<unknown[][]>, onTouch: () => void): AsyncGenerator<unknown[][]> {
  onTouch();
  yield* open();
}

function sameCost(a: PrivacyCost, b: PrivacyCost): boolean {
  return a.epsilon === b.epsilon && a.delta === b.delta && a.rho === b.rho && a.rhoDelta === b.rhoDelta;
}

function outcomeOf(error: unknown): { code: string; message: string } {
  return error instanceof QueryError ? { code: error.code, message: error.message } : { code: 'query_failed', message: 'the job could not be admitted' };
}

function asQueryError(error: unknown): QueryError {
  if (error instanceof QueryError) return error;
  if (error instanceof SynthesisError) return new QueryError('invalid_request', error.message);
  if (error instanceof AdapterError) {
    if (error.kind === 'timeout') return new QueryError('timeout', error.message);
    if (error.kind === 'cancelled') return new QueryError('cancelled', error.message);
    return new QueryError('query_failed', error.message);
  }
  if (error instanceof Error && error.name === 'AbortError') return new QueryError('cancelled', 'the worker is shutting down');
  return new QueryError('query_failed', 'generating the synthetic data failed');
}
