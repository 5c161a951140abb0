// The query protocol of DESIGN §4, shared by the API (admit) and the worker (run):
//   plan → estimate → reserve in the ledger → run through dp-sql on the dataset adapter →
//   commit (also if delivering fails) or release (only if the data was never touched) → archive.
// The job id is the ledger's idempotency key, so every retry of a job finds the same reservation: a job is
// charged at most once and its answer is released at most once.
// On success the answer is handed back while the commit and the job row's answer (what retries replay)
// with its archive entry land: the reservation is already running, so the charge holds either way
// (README "Latency").
// A job that starts at once in this process (the caller holds a worker slot) is reserved and recorded as
// running at admission, which saves the worker a round of writes before it reads data.
import { randomUUID } from 'node:crypto';
import type { AdminStore, Dataset, FastWrites, Job } from '@veil/admin-store';
import { fastWrites, JsonText, StoreError } from '@veil/admin-store';
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

/** The dataset and plan an admission stands on, or why it cannot stand (archived unless `archive` is false). */
type Replanned = { dataset: Dataset; plan: PlannedQuery } | { error: unknown; archive?: boolean };

/** What admit() was asked, handed to the step that reserves and records. */
interface AdmissionRequest {
  userId: string;
  sql: string;
  privacy: PrivacyRequest;
  idempotencyKey: string | undefined;
  running: boolean;
}

/** A job as admitted by this process: what its worker needs to start it without reading it back. */
interface AdmittedJob {
  job: Job;
  dataset: Dataset;
  plan: PlannedQuery;
  reservationId: string;
  /** Reserved as running (AdmitOptions.startsNow): the worker skips markRunning. */
  running: boolean;
  /** What the grant admitted right after the reservation: shown with the answer. */
  remaining?: BudgetView['remaining'];
  at: number;
}

/** Datasets as last read, by name (see knownDatasets); cleared when full. */
const KNOWN_DATASETS_MAX = 1_000;

/** How long after admission a job's plan is reused as is (the queue hands it over within milliseconds). */
const ADMITTED_REUSE_MS = 1_000;
const ADMITTED_MAX = 1_000;

export class QueryFlow {
  /** The job and archive writes of the hot path, as raw SQL (big JSON answers are slow through Prisma). */
  private readonly writes: FastWrites;
  /** Final writes of answers already handed back, by job id, until they land (see execute). */
  private readonly landing = new Map<string, Promise<void>>();
  /** Each answer's JSON text, made once for the stored answer and for the HTTP reply (see answerJson). */
  private readonly answerTexts = new WeakMap<QueryAnswer, string>();
  /** Jobs this process admitted moments ago, with their plan (see takeAdmitted). */
  private readonly justAdmitted = new Map<string, AdmittedJob>();
  /**
   * Each dataset as this process last read it, by name: lets a query be planned without reading it first;
   * the job row's insert then reports its current version, checked before any data is touched.
   */
  private readonly knownDatasets = new Map<string, Dataset>();

  constructor(private readonly deps: QueryFlowDeps) {
    this.writes = fastWrites(deps.store.sql);
  }

  /**
   * The dataset, if `userId` holds a grant on it; otherwise not_found, whether or not it exists. The grant
   * is read alongside the dataset under the id the name had last time, and read again if the id changed.
   */
  async grantedDataset(userId: string, name: string): Promise<{ dataset: Dataset; budget: BudgetView }> {
    const knownId = this.knownDatasets.get(name)?.id;
    const [dataset, early] = await Promise.all([this.readDataset(name), knownId ? this.deps.ledger.getBudget(userId, knownId) : null]);
    const budget = !dataset ? null : dataset.id === knownId ? early : await this.deps.ledger.getBudget(userId, dataset.id);
    if (!dataset || !budget) throw notAvailable(name);
    return { dataset, budget };
  }

  /** Reads a dataset by name and remembers it (see knownDatasets). */
  private async readDataset(name: string): Promise<Dataset | null> {
    const dataset = await this.writes.datasetByName(name);
    if (!dataset) {
      this.knownDatasets.delete(name);
      return null;
    }
    if (this.knownDatasets.size >= KNOWN_DATASETS_MAX) this.knownDatasets.clear();
    this.knownDatasets.set(name, dataset);
    return dataset;
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
    const request: AdmissionRequest = { userId, sql, privacy, idempotencyKey, running: options.startsNow === true };
    // A dataset read before and a query that plans on it: its version is checked through the job row's
    // insert (reserveAndRecord). Otherwise the grant is checked first, so that a dataset the caller may not
    // see is a 404 before a planning error could tell that it exists.
    const known = this.knownDatasets.get(datasetName);
    const plan = known ? await this.plan(known, sql, privacy).catch(() => undefined) : undefined;
    if (known && plan) return this.reserveAndRecord(request, known, plan, true);
    const { dataset } = await this.grantedDataset(userId, datasetName);
    let checked: PlannedQuery;
    try {
      checked = await this.plan(dataset, sql, privacy);
    } catch (error) {
      await this.archive(userId, dataset.id, sql, null, { error: outcomeOf(error) });
      throw error;
    }
    return this.reserveAndRecord(request, dataset, checked, false);
  }

  /**
   * Records the job and reserves its charge, at once: both are keyed by the job id, and a replayed key finds
   * its first reservation in the ledger too, so nothing is charged twice either way. With `remembered`, the
   * dataset was planned on as read earlier: the job row's insert reports its current version, and the
   * admission stands only if the query still plans to the same cost on it; nothing has been read from the
   * data by then.
   */
  private async reserveAndRecord(request: AdmissionRequest, dataset: Dataset, plan: PlannedQuery, remembered: boolean): Promise<Admission> {
    const { userId, sql, privacy, running } = request;
    const jobId = request.idempotencyKey ? jobIdForKey(userId, request.idempotencyKey) : randomUUID();
    const params: QueryJobParams = { sql, epsilon: privacy.epsilon, delta: privacy.delta, fingerprint: requestFingerprint(dataset.id, sql, privacy), cost: plan.cost };
    const [created, reserved] = await Promise.allSettled([
      this.createJob(jobId, userId, dataset.id, params, running),
      this.deps.ledger.reserve({ userId, datasetId: dataset.id, cost: plan.cost, key: jobId, ttlMs: running ? this.runningTtlMs() : this.deps.reservationTtlMs, running }),
    ]);
    // A reservation made by this call, not a replay: released (nothing read) if the admission fails below,
    // rather than left for the sweeper, which would commit a running one.
    const ours = reserved.status === 'fulfilled' && !reserved.value.replayed && (reserved.value.state === 'reserved' || reserved.value.state === 'running') ? reserved.value : undefined;
    const giveBack = () => (ours ? this.deps.ledger.release(ours.reservationId).catch(() => undefined) : undefined);
    if (created.status === 'rejected') {
      await giveBack();
      // The dataset was removed since this process last read it.
      if (created.reason instanceof StoreError && created.reason.code === 'not_found') {
        this.knownDatasets.delete(dataset.name);
        throw notAvailable(dataset.name);
      }
      throw created.reason;
    }
    const { admission, datasetUpdatedAt } = created.value;
    if (!admission.fresh) return admission;
    // Without a grant, the same 404 as for a dataset that does not exist (the ledger's own words differ),
    // before anything else could tell that the dataset exists; nothing archived.
    const refused: unknown = reserved.status === 'rejected' ? reserved.reason : undefined;
    if (refused instanceof QueryError && refused.code === 'not_found') return this.refuse(jobId, userId, dataset, sql, notAvailable(dataset.name), false);
    let outcome: Replanned;
    try {
      const stale = remembered && datasetUpdatedAt?.getTime() !== dataset.updatedAt.getTime();
      outcome = stale ? await this.replanned(await this.readDataset(dataset.name), dataset, plan, sql, privacy) : { dataset, plan };
    } catch (error) {
      outcome = { error };
    }
    if ('error' in outcome) {
      await giveBack();
      return this.refuse(jobId, userId, dataset, sql, outcome.error, outcome.archive ?? false);
    }
    if (reserved.status === 'rejected') return this.refuse(jobId, userId, dataset, sql, refused, true);
    // An earlier attempt's reservation (same key, its job row lost): no hint, so the worker asks the ledger
    // what state it is in and never reads data under a reservation that may already have read it.
    if (reserved.value.replayed) return admission;
    const reservation = { reservationId: reserved.value.reservationId, cost: reserved.value.cost, datasetId: dataset.id };
    const { state, remaining } = reserved.value;
    this.rememberAdmitted({ job: admission.job, dataset: outcome.dataset, plan: outcome.plan, reservationId: reservation.reservationId, running: state === 'running', remaining, at: Date.now() });
    return { ...admission, reservation };
  }

  /**
   * The dataset as just read against the one the query was planned on: the same version keeps the plan; a
   * changed one is planned again and must cost the same; a removed or replaced one is a 404.
   */
  private async replanned(current: Dataset | null, planned: Dataset, plan: PlannedQuery, sql: string, privacy: PrivacyRequest): Promise<Replanned> {
    if (!current || current.id !== planned.id) return { error: notAvailable(planned.name) };
    if (current.updatedAt.getTime() === planned.updatedAt.getTime()) return { dataset: current, plan };
    try {
      const again = await this.plan(current, sql, privacy);
      if (sameCost(again.cost, plan.cost)) return { dataset: current, plan: again };
      return { error: new QueryError('cancelled', "the dataset's metadata changed just now; nothing was charged, run the query again"), archive: true };
    } catch (error) {
      return { error, archive: true };
    }
  }

  /** Ends a fresh job refused at admission (archived unless the caller may not see the dataset) and throws. */
  private async refuse(jobId: string, userId: string, dataset: Dataset, sql: string, error: unknown, archive: boolean): Promise<never> {
    const outcome = { status: 'failed' as const, error: outcomeOf(error) };
    if (archive) await this.writes.finishJobAndArchive(jobId, outcome, this.archiveEntry(userId, dataset.id, sql, null));
    else await this.writes.finishJob(jobId, outcome);
    throw error;
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

  private async createJob(jobId: string, userId: string, datasetId: string, params: QueryJobParams, running: boolean): Promise<{ admission: Admission; datasetUpdatedAt?: Date | null }> {
    try {
      const { job, datasetUpdatedAt } = await this.writes.createJob({ id: jobId, kind: QUERY_JOB_KIND, userId, datasetId, params, running });
      return { admission: { job, fresh: true }, datasetUpdatedAt };
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
    }
    const existing = await this.deps.store.jobs.get(jobId);
    const sameRequest = existing?.userId === userId && (existing.params as Partial<QueryJobParams> | null)?.fingerprint === params.fingerprint;
    if (!existing || !sameRequest) throw new QueryError('idempotency_conflict', 'this Idempotency-Key was already used for a different request');
    return { admission: { job: existing, fresh: false } };
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
      const held: HeldReservation = { reservationId: admitted.reservationId, cost: hint.cost, state: admitted.running ? 'running' : 'reserved', remaining: admitted.remaining };
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
    // The budget shown with the answer: what remained right after the reservation, or else read while the
    // engine runs. Our reservation already counts in the grant's used total (committed + held), a commit
    // leaves that total unchanged, and what remains is computed from it alone.
    const budgetRead = held.remaining ? Promise.resolve({ remaining: held.remaining }) : this.deps.ledger.getBudget(job.userId, dataset.id);
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
    // Handed back at once; the commit and the stored answer follow (see land). The charge already holds:
    // the reservation is running, and a running reservation is only ever committed (by us, or by the
    // sweeper if the commit is lost), never released.
    const json = new JsonText(JSON.stringify(result));
    this.answerTexts.set(result, json.text);
    this.land(
      job.id,
      () => this.deps.ledger.commit(held.reservationId),
      () => this.writes.finishJobAndArchive(job.id, { status: 'succeeded', result: json }, this.archiveEntry(job.userId, dataset.id, sql, held.cost)),
    );
    return result;
  }

  /** The JSON text of an answer this process just produced (the same text it stores), if it has it. */
  answerJson(answer: QueryAnswer): string | undefined {
    return this.answerTexts.get(answer);
  }

  /**
   * The final writes of an answered job: the ledger commit, and the job row's answer with its archive
   * entry (retried a few times). Failures are logged with the job id and error code only. Until both have
   * landed, jobSettled(jobId) waits for them: the worker holds the job meanwhile, so a retry of the same
   * job cannot run it again, and this process's routes read the job and archive after them.
   */
  private land(jobId: string, commit: () => Promise<unknown>, record: () => Promise<unknown>): void {
    const note = (what: string) => (error: unknown) => {
      process.stderr.write(`veil: ${what} of query job ${jobId} did not land (${errorCode(error)})\n`);
    };
    // The answer's JSON (tens of kB to serialise and send) waits for setImmediate: after the reply is written.
    const landed = Promise.all([
      commit().catch(note('the ledger commit (the sweeper commits its running reservation)')),
      new Promise((resolve) => setImmediate(resolve)).then(() => retried(record)).catch(note('the stored answer and archive entry')),
    ]).then(() => undefined);
    this.landing.set(jobId, landed);
    void landed.finally(() => this.landing.delete(jobId));
  }

  /** Resolves once the final writes of `jobId` made by this process, if any are in flight, have landed. */
  async jobSettled(jobId: string): Promise<void> {
    await this.landing.get(jobId);
  }

  /** Resolves once every final write in flight in this process has landed (archive reads, shutdown). */
  async writesSettled(): Promise<void> {
    await Promise.all(this.landing.values());
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
    const outcome = { status: 'failed' as const, error: { code: error.code, message: error.message } };
    if (dataset && sql !== undefined) await this.writes.finishJobAndArchive(job.id, outcome, this.archiveEntry(job.userId, dataset.id, sql, charged));
    else await this.writes.finishJob(job.id, outcome);
    throw error;
  }

  /** An archive entry for a query that never got a job row (refused at admission). */
  private async archive(userId: string, datasetId: string, sql: string, cost: PrivacyCost | null, outcome: { error: Outcome }): Promise<void> {
    await this.writes.appendArchive({ ...this.archiveEntry(userId, datasetId, sql, cost), ...outcome });
  }

  private archiveEntry(userId: string, datasetId: string, sql: string, cost: PrivacyCost | null) {
    return { userId, datasetId, queryText: sql, cost: cost ? { ...cost } : null };
  }
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

function notAvailable(name: string): QueryError {
  return new QueryError('not_found', `no dataset named "${name}" is available to you`);
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
