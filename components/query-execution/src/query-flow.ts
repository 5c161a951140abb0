// The query protocol of DESIGN §4, shared by the API (admit) and the worker (run):
//   plan → estimate → reserve in the ledger → run through dp-sql on the dataset adapter →
//   commit (also if delivering fails) or release (only if the data was never touched) → archive.
// The job id is the ledger's idempotency key, so every retry of a job finds the same reservation: a job is
// charged at most once and its answer is released at most once.
// On success the commit and the job row's answer (what retries replay) are written together before the
// answer is handed back; the archive entry is written right after, off the answer's path (README "Latency").
// A job that starts at once in this process (the caller holds a worker slot) is reserved and recorded as
// running at admission, which saves the worker a round of writes before it reads data.
import { randomUUID } from 'node:crypto';
import type { AdminStore, Dataset, FastWrites, Job } from '@veil/admin-store';
import { fastWrites, PreparedJson, StoreError } from '@veil/admin-store';
import type { DatasetAdapter } from '@veil/dataset-adapters';
import { AdapterError } from '@veil/dataset-adapters';
import type { PrivacyCost } from '@veil/mechanisms';
import type { AdapterPool } from './adapter-pool.js';
import { QueryError } from './errors.js';
import type { BudgetLedgerPort, BudgetView, HeldReservation, PlannedQuery, PrivacyRequest, QueryPlanner } from './ports.js';
import { jobIdForKey, requestFingerprint } from './request.js';

export const QUERY_JOB_KIND = 'query';

export interface QueryAnswer {
  columns: string[];
  rows: unknown[][];
  accuracy: unknown;
  /** How the released groups were chosen. */
  groups?: unknown;
  charge: PrivacyCost;
  remaining: BudgetView['remaining'];
}

export interface Estimate {
  charge: PrivacyCost;
  accuracy: unknown;
  budget: BudgetView;
}

/** What a query job carries, in its job row (the queue carries only the id). */
export interface QueryJobParams {
  sql: string;
  epsilon: string;
  delta: string;
  fingerprint: string;
  cost: PrivacyCost;
}

export interface AdmitOptions {
  /**
   * The caller holds a worker slot of this process (JobQueue.claimSlot) and enqueues the job with it right
   * away: the reservation is made `running` and the job row created running, so the worker goes straight to
   * the data. If the job is not enqueued after all, hand it back with `withdraw`.
   */
  startsNow?: boolean;
}

export interface Admission {
  job: Job;
  /** False when an Idempotency-Key matched an earlier job: nothing new was reserved. */
  fresh: boolean;
  /** The reservation made for a fresh job: hand it to the worker in the queue payload (saves a lookup). */
  reservation?: QueryJobHint;
}

/** What the API tells the worker about an admitted job, through the queue. */
export interface QueryJobHint {
  reservationId: string;
  cost: PrivacyCost;
  datasetId: string;
}

export interface QueryFlowDeps {
  store: AdminStore;
  ledger: BudgetLedgerPort;
  planner: QueryPlanner;
  adapters: AdapterPool;
  /** How long a reservation waits in the queue before the sweeper may release it. */
  reservationTtlMs: number;
  queryTimeoutMs: number;
}

type Outcome = { code: string; message: string };

/** A job as admitted by this process: what its worker needs to start it without reading it back. */
interface AdmittedJob {
  job: Job;
  dataset: Dataset;
  plan: PlannedQuery;
  reservationId: string;
  /** Reserved as running (AdmitOptions.startsNow): the worker skips markRunning. */
  running: boolean;
  at: number;
}

/** Dataset ids by name kept for reading a grant alongside its dataset; cleared when full. */
const DATASET_IDS_MAX = 10_000;

/** How long after admission a job's plan is reused as is (the queue hands it over within milliseconds). */
const ADMITTED_REUSE_MS = 1_000;
const ADMITTED_MAX = 1_000;

export class QueryFlow {
  /** The job and archive writes of the hot path, as raw SQL (big JSON answers are slow through Prisma). */
  private readonly writes: FastWrites;
  /** Writes made after an answer was handed back, until they land. */
  private readonly pendingWrites = new Set<Promise<void>>();
  /** Jobs this process admitted moments ago, with their plan (see takeAdmitted). */
  private readonly justAdmitted = new Map<string, AdmittedJob>();
  /** The id each dataset name had last time (see grantedDataset). */
  private readonly datasetIds = new Map<string, string>();

  constructor(private readonly deps: QueryFlowDeps) {
    this.writes = fastWrites(deps.store.sql);
  }

  /**
   * The dataset, if `userId` holds a grant on it; otherwise not_found, whether or not it exists. The grant
   * is read alongside the dataset under the id the name had last time, and read again if the id changed.
   */
  async grantedDataset(userId: string, name: string): Promise<{ dataset: Dataset; budget: BudgetView }> {
    const knownId = this.datasetIds.get(name);
    const [dataset, early] = await Promise.all([this.deps.store.datasets.get(name), knownId ? this.deps.ledger.getBudget(userId, knownId) : null]);
    if (dataset && dataset.id !== knownId) {
      if (this.datasetIds.size >= DATASET_IDS_MAX) this.datasetIds.clear();
      this.datasetIds.set(name, dataset.id);
    }
    const budget = !dataset ? null : dataset.id === knownId ? early : await this.deps.ledger.getBudget(userId, dataset.id);
    if (!dataset || !budget) throw new QueryError('not_found', `no dataset named "${name}" is available to you`);
    return { dataset, budget };
  }

  async estimate(userId: string, datasetName: string, sql: string, privacy: PrivacyRequest): Promise<Estimate> {
    const { dataset, budget } = await this.grantedDataset(userId, datasetName);
    const plan = await this.plan(dataset, sql, privacy);
    return { charge: plan.cost, accuracy: plan.accuracy, budget };
  }

  /**
   * API side: plans the query, records the job and reserves its charge. Throws bad_query,
   * budget_exhausted or idempotency_conflict; on success the caller enqueues the job when it is not final.
   */
  async admit(userId: string, datasetName: string, sql: string, privacy: PrivacyRequest, idempotencyKey?: string, options: AdmitOptions = {}): Promise<Admission> {
    const { dataset } = await this.grantedDataset(userId, datasetName);
    let plan: PlannedQuery;
    try {
      plan = await this.plan(dataset, sql, privacy);
    } catch (error) {
      await this.archive(userId, dataset.id, sql, null, { error: outcomeOf(error) });
      throw error;
    }
    const fingerprint = requestFingerprint(dataset.id, sql, privacy);
    const jobId = idempotencyKey ? jobIdForKey(userId, idempotencyKey) : randomUUID();
    const params: QueryJobParams = { sql, epsilon: privacy.epsilon, delta: privacy.delta, fingerprint, cost: plan.cost };
    const running = options.startsNow === true;
    // The job row and the reservation are independent writes keyed by the same id: made at once. A replayed
    // key finds its first reservation in the ledger too, so nothing is charged twice either way.
    const [created, reserved] = await Promise.allSettled([
      this.createJob(jobId, userId, dataset.id, params, running),
      this.deps.ledger.reserve({ userId, datasetId: dataset.id, cost: plan.cost, key: jobId, ttlMs: running ? this.runningTtlMs() : this.deps.reservationTtlMs, running }),
    ]);
    if (created.status === 'rejected') {
      // A reservation of ours without its job row (no data read): return it now rather than when the sweeper
      // finds it, which would commit a running one.
      if (reserved.status === 'fulfilled' && !reserved.value.replayed && (reserved.value.state === 'reserved' || reserved.value.state === 'running')) {
        await this.deps.ledger.release(reserved.value.reservationId).catch(() => undefined);
      }
      throw created.reason;
    }
    const admission = created.value;
    if (!admission.fresh) return admission;
    if (reserved.status === 'rejected') {
      const error: unknown = reserved.reason;
      await this.deps.store.jobs.update(jobId, { status: 'failed', error: outcomeOf(error) });
      await this.archive(userId, dataset.id, sql, null, { error: outcomeOf(error) });
      throw error;
    }
    // An earlier attempt's reservation (same key, its job row lost): no hint, so the worker asks the ledger
    // what state it is in and never reads data under a reservation that may already have read it.
    if (reserved.value.replayed) return admission;
    const reservation = { reservationId: reserved.value.reservationId, cost: reserved.value.cost, datasetId: dataset.id };
    this.rememberAdmitted({ job: admission.job, dataset, plan, reservationId: reservation.reservationId, running: reserved.value.state === 'running', at: Date.now() });
    return { ...admission, reservation };
  }

  /**
   * Hands back a fresh admission that will not run after all (its job could not be enqueued): the
   * reservation is released, since no data was read, and the job cancelled.
   */
  async withdraw(admission: Admission, reason: QueryError): Promise<void> {
    this.justAdmitted.delete(admission.job.id);
    if (admission.reservation) await this.deps.ledger.release(admission.reservation.reservationId);
    await this.writes.finishJob(admission.job.id, { status: 'cancelled', error: { code: reason.code, message: reason.message } });
  }

  /** How long a running reservation lasts before the sweeper commits it: the query's time and a margin. */
  private runningTtlMs(): number {
    return this.deps.queryTimeoutMs + this.deps.reservationTtlMs;
  }

  private rememberAdmitted(admitted: AdmittedJob): void {
    // Jobs that another process runs (distributed mode) are never taken: keep the map short.
    for (const [id, entry] of this.justAdmitted) {
      if (admitted.at - entry.at <= ADMITTED_REUSE_MS && this.justAdmitted.size < ADMITTED_MAX) break;
      this.justAdmitted.delete(id);
    }
    this.justAdmitted.set(admitted.job.id, admitted);
  }

  /**
   * A job this process admitted within ADMITTED_REUSE_MS, for the worker of the same process: its job row,
   * dataset and plan as admitted, so it is neither read back nor planned again. Later, or in another
   * process, run() reads the job and re-plans to catch metadata that changed while the job waited.
   */
  private takeAdmitted(jobId: string, hint: QueryJobHint): AdmittedJob | undefined {
    const admitted = this.justAdmitted.get(jobId);
    this.justAdmitted.delete(jobId);
    return admitted && admitted.reservationId === hint.reservationId && Date.now() - admitted.at <= ADMITTED_REUSE_MS ? admitted : undefined;
  }

  private async createJob(jobId: string, userId: string, datasetId: string, params: QueryJobParams, running: boolean): Promise<Admission> {
    try {
      return { job: await this.writes.createJob({ id: jobId, kind: QUERY_JOB_KIND, userId, datasetId, params, running }), fresh: true };
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
    }
    const existing = await this.deps.store.jobs.get(jobId);
    const sameRequest = existing?.userId === userId && (existing.params as Partial<QueryJobParams> | null)?.fingerprint === params.fingerprint;
    if (!existing || !sameRequest) throw new QueryError('idempotency_conflict', 'this Idempotency-Key was already used for a different request');
    return { job: existing, fresh: false };
  }

  private async plan(dataset: Dataset, sql: string, privacy: PrivacyRequest): Promise<PlannedQuery> {
    const dialect = dataset.metadata.source.kind === 'postgres' ? 'postgres' : 'duckdb';
    return this.deps.planner.plan(sql, dataset.metadata, privacy, dialect);
  }

  /**
   * Worker side: runs an admitted query job and returns its answer. Safe to call again for the same job:
   * a stored answer is returned as is; a reservation that a previous attempt had already started on
   * (state running or committed) is charged and reported as answer_lost, never run a second time.
   * Throws QueryError for final outcomes (the job row then says failed); other errors leave the job to
   * the queue's retries.
   */
  async run(jobId: string, signal: AbortSignal, hint?: QueryJobHint): Promise<QueryAnswer> {
    const admitted = hint ? this.takeAdmitted(jobId, hint) : undefined;
    if (hint && admitted) {
      const { job, dataset, plan } = admitted;
      const sql = (job.params as QueryJobParams).sql;
      const held: HeldReservation = { reservationId: admitted.reservationId, cost: hint.cost, state: admitted.running ? 'running' : 'reserved' };
      if (signal.aborted) {
        // A running reservation left alone would be committed by the sweeper: nothing was read, release it.
        if (admitted.running) return this.release(job, held, shuttingDown(), dataset, sql);
        throw shuttingDown();
      }
      if (admitted.running) return this.execute(job, dataset, sql, plan, held, signal);
      return this.start(job, dataset, sql, plan, held, signal);
    }
    // With the API's hint the dataset is read alongside the job (one round trip instead of two).
    const [job, hinted] = await Promise.all([this.deps.store.jobs.get(jobId), hint ? this.deps.store.datasets.getById(hint.datasetId) : null]);
    if (!job || job.kind !== QUERY_JOB_KIND) throw new QueryError('not_found', `no query job ${jobId}`);
    if (job.status === 'succeeded') return job.result as QueryAnswer;
    if (job.status === 'failed' || job.status === 'cancelled') throw QueryError.fromBody(job.error ?? { code: 'query_failed', message: 'the query failed' });
    const params = job.params as QueryJobParams;
    const dataset = hinted?.id === job.datasetId ? hinted : job.datasetId ? await this.deps.store.datasets.getById(job.datasetId) : null;
    if (!dataset) return this.fail(job, new QueryError('not_found', 'the dataset was removed before the query ran'));

    // The API's reservation, from the queue payload, or looked up by its key (the job id). A job already
    // marked running was started by an earlier attempt: the ledger's state says whether it may have read data.
    const held: HeldReservation = hint && job.status === 'queued' ? { reservationId: hint.reservationId, cost: hint.cost, state: 'reserved' } : await this.heldFor(job, dataset, params);
    if (held.state !== 'reserved') return this.closed(job, held, dataset, params.sql);
    if (signal.aborted) throw shuttingDown();

    let plan: PlannedQuery;
    try {
      plan = await this.plan(dataset, params.sql, params);
    } catch (error) {
      return this.release(job, held, asQueryError(error), dataset, params.sql);
    }
    if (!sameCost(plan.cost, params.cost)) {
      return this.release(job, held, new QueryError('cancelled', "the dataset's metadata changed while the query waited; nothing was charged, run it again"), dataset, params.sql);
    }
    return this.start(job, dataset, params.sql, plan, held, signal);
  }

  /** Tells the ledger, and the job row, before any data is read; then runs the query. */
  private async start(job: Job, dataset: Dataset, sql: string, plan: PlannedQuery, held: HeldReservation, signal: AbortSignal): Promise<QueryAnswer> {
    const [open] = await Promise.all([this.deps.ledger.markRunning(held.reservationId, this.runningTtlMs()), this.writes.startJob(job.id)]);
    if (!open) return this.closed(job, await this.heldFor(job, dataset, job.params as QueryJobParams), dataset, sql);
    return this.execute(job, dataset, sql, plan, { ...held, state: 'running' }, signal);
  }

  /** The job's reservation, by its key: replays the API's, or makes it if the API stopped right before. */
  private async heldFor(job: Job, dataset: Dataset, params: QueryJobParams): Promise<HeldReservation> {
    try {
      return await this.deps.ledger.reserve({ userId: job.userId, datasetId: dataset.id, cost: params.cost, key: job.id, ttlMs: this.deps.reservationTtlMs });
    } catch (error) {
      if (error instanceof QueryError) return this.fail(job, error, dataset, params.sql);
      throw error;
    }
  }

  /** A reservation that is not open for running: released (expired in the queue), or already charged. */
  private closed(job: Job, held: HeldReservation, dataset: Dataset, sql: string): Promise<never> {
    if (held.state === 'released') return this.fail(job, new QueryError('cancelled', 'the query waited longer than its reservation lasts; nothing was charged, run it again'), dataset, sql);
    return this.lost(job, held, dataset, sql);
  }

  /** Runs a query whose reservation is running. */
  private async execute(job: Job, dataset: Dataset, sql: string, plan: PlannedQuery, held: HeldReservation, signal: AbortSignal): Promise<QueryAnswer> {
    // The budget shown with the answer is read while the engine runs: our reservation already counts in the
    // grant's used total (committed + held), a commit leaves that total unchanged, and what remains is
    // computed from it alone.
    const budgetRead = this.deps.ledger.getBudget(job.userId, dataset.id);
    budgetRead.catch(() => undefined); // awaited below; not an unhandled rejection if the engine fails first
    let touched = false;
    let answer;
    try {
      answer = await this.deps.adapters.use(dataset, (adapter) =>
        this.deps.planner.run(plan, touchTracking(adapter, () => (touched = true)), { signal, timeoutMs: this.deps.queryTimeoutMs }),
      );
    } catch (error) {
      if (!touched && (error instanceof QueryError || error instanceof AdapterError)) return this.release(job, held, asQueryError(error), dataset, sql);
      // Once an engine statement has read private data, the charge stands whatever happened next.
      await this.deps.ledger.commit(held.reservationId);
      return this.fail(job, asQueryError(error), dataset, sql, held.cost);
    }
    const budget = await budgetRead.catch(() => this.deps.ledger.getBudget(job.userId, dataset.id));
    const result: QueryAnswer = {
      columns: answer.columns,
      rows: jsonSafeRows(answer.rows),
      accuracy: answer.accuracy,
      groups: answer.groups,
      charge: held.cost,
      remaining: budget?.remaining ?? { delta: '0' },
    };
    // Charged, and the answer stored for retries (the job row), both before anyone sees it; a job row that
    // says succeeded beside a reservation still running is committed by the sweeper. The archive follows,
    // with the same JSON text.
    const stored = new PreparedJson(result);
    await Promise.all([this.deps.ledger.commit(held.reservationId), this.writes.finishJob(job.id, { status: 'succeeded', result: stored })]);
    this.afterAnswer(job.id, () => this.archive(job.userId, dataset.id, sql, held.cost, { result: stored }));
    return result;
  }

  /**
   * Resolves once the archive writes started so far have landed (or given up): the routes that read the
   * archive call it first, so a caller of this process reads its own answers; so does shutdown.
   */
  async writesSettled(): Promise<void> {
    await Promise.all([...this.pendingWrites]);
  }

  /**
   * A write off the answer's path: started once the answer is on its way (setImmediate: after the reply is
   * written), retried a few times, then logged (ids and error codes only).
   */
  private afterAnswer(jobId: string, write: () => Promise<unknown>): void {
    const pending = new Promise((resolve) => setImmediate(resolve)).then(() => retried(write)).catch((error: unknown) => {
      process.stderr.write(`veil: the archive entry of query job ${jobId} could not be written (${errorCode(error)})\n`);
    });
    this.pendingWrites.add(pending);
    void pending.finally(() => this.pendingWrites.delete(pending));
  }

  /**
   * Gives up on a job after the queue's last attempt. Whether a crashed attempt read data is known to the
   * ledger: a running reservation is committed, a reserved one released.
   */
  async abandon(jobId: string, error: QueryError): Promise<void> {
    const job = await this.deps.store.jobs.get(jobId);
    if (!job || ['succeeded', 'failed', 'cancelled'].includes(job.status)) return;
    const params = job.params as QueryJobParams;
    if (job.datasetId) {
      const held = await this.deps.ledger.reserve({ userId: job.userId, datasetId: job.datasetId, cost: params.cost, key: jobId, ttlMs: this.deps.reservationTtlMs }).catch(() => null);
      if (held?.state === 'running') await this.deps.ledger.commit(held.reservationId);
      if (held?.state === 'reserved') await this.deps.ledger.release(held.reservationId);
    }
    await this.deps.store.jobs.update(jobId, { status: 'failed', error: { code: error.code, message: error.message } });
  }

  private async lost(job: Job, held: HeldReservation, dataset: Dataset, sql: string): Promise<never> {
    if (held.state === 'running') await this.deps.ledger.commit(held.reservationId);
    const error = new QueryError('answer_lost', 'a worker stopped while running this query: it was charged, and it is not run twice');
    return this.fail(job, error, dataset, sql, held.cost);
  }

  private async release(job: Job, held: HeldReservation, error: QueryError, dataset: Dataset, sql: string): Promise<never> {
    await this.deps.ledger.release(held.reservationId);
    return this.fail(job, error, dataset, sql);
  }

  private async fail(job: Job, error: QueryError, dataset?: Dataset, sql?: string, charged: PrivacyCost | null = null): Promise<never> {
    const outcome = { code: error.code, message: error.message };
    await this.writes.finishJob(job.id, { status: 'failed', error: outcome });
    if (dataset && sql !== undefined) await this.archive(job.userId, dataset.id, sql, charged, { error: outcome });
    throw error;
  }

  private async archive(userId: string, datasetId: string, sql: string, cost: PrivacyCost | null, outcome: { result?: unknown; error?: Outcome }): Promise<void> {
    await this.writes.appendArchive({ userId, datasetId, queryText: sql, cost: cost ? { ...cost } : null, ...outcome });
  }
}

const WRITE_RETRY_DELAYS_MS = [50, 250, 1000];

async function retried(write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      const delay = WRITE_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error';
}

/** Wraps an adapter so the flow knows whether any statement reached the private data. */
function touchTracking(adapter: DatasetAdapter, onTouch: () => void): DatasetAdapter {
  return {
    dialect: adapter.dialect,
    describe: () => adapter.describe(),
    query: (sql, params, opts) => {
      onTouch();
      return adapter.query(sql, params, opts);
    },
    stream: (sql, params, opts) => {
      onTouch();
      return adapter.stream(sql, params, opts);
    },
    // The pool owns the adapter's lifetime.
    close: async () => undefined,
  };
}

/** Field by field: the stored copy went through JSON storage, which may reorder keys. */
function sameCost(a: PrivacyCost, b: PrivacyCost): boolean {
  return a.epsilon === b.epsilon && a.delta === b.delta && a.rho === b.rho && a.rhoDelta === b.rhoDelta;
}

function shuttingDown(): QueryError {
  return new QueryError('cancelled', 'the worker is shutting down');
}

function outcomeOf(error: unknown): Outcome {
  return error instanceof QueryError ? { code: error.code, message: error.message } : { code: 'query_failed', message: 'the query could not be admitted' };
}

function asQueryError(error: unknown): QueryError {
  if (error instanceof QueryError) return error;
  if (error instanceof AdapterError) {
    if (error.kind === 'timeout') return new QueryError('timeout', error.message);
    if (error.kind === 'cancelled') return new QueryError('cancelled', error.message);
    return new QueryError('query_failed', error.message);
  }
  return new QueryError('query_failed', 'the query failed while running');
}

/** Answers are JSON: a bigint that escaped post-processing becomes a number when exact, else a string. */
function jsonSafeRows(rows: unknown[][]): unknown[][] {
  return rows.map((row) => row.map((value) => (typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value)));
}
