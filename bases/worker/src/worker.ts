// The worker: takes jobs from the queue (in-process or BullMQ), runs them through the query flow and
// publishes progress and completion events. A failure the flow reports (QueryError) is final; anything
// else (a database hiccup, a lost connection) is left to the queue's retries, and after the last attempt
// the job is abandoned through the flow, which keeps the ledger protocol (see QueryFlow.abandon).
import { Logger } from '@nestjs/common';
import { PermanentJobError } from '@veil/job-queue';
import type { JobContext, JobEvent, JobQueue, QueuedJob } from '@veil/job-queue';
import { QUERY_JOB_KIND, QueryError } from '@veil/query-execution';
import type { QueryFlow, QueryJobHint } from '@veil/query-execution';

export interface WorkerDeps {
  queue: JobQueue;
  flow: QueryFlow;
  /** Where job events go: the in-process hub (embedded) or Redis (distributed). */
  publish: (event: JobEvent) => void | Promise<void>;
  /** Attempts the queue makes per job (1 in-process, BullMQ's `attempts` otherwise). */
  maxAttempts: number;
  concurrency: number;
  /** Periodic housekeeping, e.g. the ledger's sweep of expired reservations. */
  housekeeping?: { run: () => Promise<unknown>; everyMs: number };
  /** Handlers of other job kinds (synthetic data, masked exports), by kind; see privacy-tool-jobs.ts. */
  extraJobs?: Record<string, (job: QueuedJob, ctx: JobContext) => Promise<unknown>>;
}

export interface RunningWorker {
  /** Stops taking jobs, lets running ones finish within `graceMs`, then hands the rest back. */
  stop(graceMs?: number): Promise<void>;
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const logger = new Logger('veil-worker');
  await deps.queue.consume((job, ctx) => runJob(deps, logger, job, ctx), { concurrency: deps.concurrency });
  const timer = deps.housekeeping
    ? setInterval(() => void deps.housekeeping!.run().catch(() => logger.warn('housekeeping failed; will try again')), deps.housekeeping.everyMs)
    : undefined;
  timer?.unref();
  return {
    stop: async (graceMs = 10_000) => {
      if (timer) clearInterval(timer);
      await deps.queue.close({ graceMs });
    },
  };
}

async function runJob(deps: WorkerDeps, logger: Logger, job: QueuedJob, ctx: JobContext): Promise<unknown> {
  const extra = deps.extraJobs?.[job.kind];
  if (extra) return extra(job, ctx);
  if (job.kind !== QUERY_JOB_KIND) throw new PermanentJobError(`unknown job kind "${job.kind}"`);
  await emit(deps, logger, { type: 'progress', jobId: job.id, progress: 0 });
  try {
    const answer = await deps.flow.run(job.id, ctx.signal, hintOf(job.data));
    // The answer's commit and stored copy may still be landing (QueryFlow.jobSettled). An API in this process
    // reads after them; one in another process cannot, so there the event waits for them.
    if (deps.queue.kind !== 'in-process') await deps.flow.jobSettled(job.id);
    await emit(deps, logger, { type: 'completed', jobId: job.id, result: answer });
    // The job stays ours until those writes land, so the queue cannot hand it out again.
    await deps.flow.jobSettled(job.id);
    return { ok: true };
  } catch (error) {
    if (error instanceof QueryError) {
      await emit(deps, logger, { type: 'failed', jobId: job.id, error: error.toBody() });
      throw new PermanentJobError(error.code);
    }
    if (job.attempt < deps.maxAttempts && !ctx.signal.aborted) {
      logger.warn(`job ${job.id} attempt ${job.attempt} failed (${error instanceof Error ? error.name : 'error'}); it will be retried`);
      throw error;
    }
    const final = new QueryError('query_failed', 'the query failed while running');
    await deps.flow.abandon(job.id, final).catch(() => undefined);
    await emit(deps, logger, { type: 'failed', jobId: job.id, error: final.toBody() });
    throw new PermanentJobError(final.code);
  }
}

/** The reservation the API passed along, when the payload has a well-formed one. */
function hintOf(data: unknown): QueryJobHint | undefined {
  const hint = data as Partial<QueryJobHint> | null;
  return typeof hint?.reservationId === 'string' && typeof hint.datasetId === 'string' && typeof hint.cost?.rho === 'string' ? (hint as QueryJobHint) : undefined;
}

async function emit(deps: WorkerDeps, logger: Logger, event: JobEvent): Promise<void> {
  try {
    await deps.publish(event);
  } catch {
    // Events are a convenience: the job row is the record, and waiters fall back to reading it.
    logger.warn(`could not publish a ${event.type} event for job ${event.jobId}`);
  }
}
