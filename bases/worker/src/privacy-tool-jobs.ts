// Job handlers for synthetic data and masked exports, plugged into the worker by kind (WorkerDeps.extraJobs).
// As for queries: a QueryError from a flow is final (the flow has recorded it on the job row); anything
// else is left to the queue's retries, and after the last attempt the job is abandoned through its flow,
// which keeps the ledger protocol (a synthetic job's running reservation is committed, a reserved one released).
import { Logger } from '@nestjs/common';
import { PermanentJobError } from '@veil/job-queue';
import type { JobContext, JobEvent, QueuedJob } from '@veil/job-queue';
import { MASKED_EXPORT_JOB_KIND, QueryError, SYNTHETIC_JOB_KIND } from '@veil/query-execution';
import type { PrivacyTools } from '@veil/query-execution';

export interface PrivacyToolJobsDeps {
  tools: PrivacyTools;
  publish: (event: JobEvent) => void | Promise<void>;
  maxAttempts: number;
}

type Handler = (job: QueuedJob, ctx: JobContext) => Promise<unknown>;

export function privacyToolJobs(deps: PrivacyToolJobsDeps): Record<string, Handler> {
  const logger = new Logger('veil-worker');
  const emit = async (event: JobEvent) => {
    try {
      await deps.publish(event);
    } catch {
      // Events are a convenience: the job row is the record.
      logger.warn(`could not publish a ${event.type} event for job ${event.jobId}`);
    }
  };
  const handler =
    (run: (job: QueuedJob, ctx: JobContext, progress: (fraction: number) => void) => Promise<unknown>, abandon: (jobId: string, error: QueryError) => Promise<void>): Handler =>
    async (job, ctx) => {
      await emit({ type: 'progress', jobId: job.id, progress: 0 });
      let reported = 0;
      const progress = (fraction: number) => {
        // Steps of at least 1%: MST's fit reports every iteration.
        if (fraction - reported < 0.01) return;
        reported = fraction;
        void emit({ type: 'progress', jobId: job.id, progress: fraction });
        void ctx.reportProgress(fraction).catch(() => undefined);
      };
      try {
        const result = await run(job, ctx, progress);
        await emit({ type: 'completed', jobId: job.id, result });
        return { ok: true };
      } catch (error) {
        if (error instanceof QueryError) {
          await emit({ type: 'failed', jobId: job.id, error: error.toBody() });
          throw new PermanentJobError(error.code);
        }
        if (job.attempt < deps.maxAttempts && !ctx.signal.aborted) {
          logger.warn(`job ${job.id} (${job.kind}) attempt ${job.attempt} failed (${error instanceof Error ? error.name : 'error'}); it will be retried`);
          throw error;
        }
        const final = new QueryError('query_failed', `the ${job.kind} job failed while running`);
        await abandon(job.id, final).catch(() => undefined);
        await emit({ type: 'failed', jobId: job.id, error: final.toBody() });
        throw new PermanentJobError(final.code);
      }
    };
  return {
    [SYNTHETIC_JOB_KIND]: handler(
      (job, ctx, progress) => deps.tools.synthetic.run(job.id, ctx.signal, progress),
      (id, error) => deps.tools.synthetic.abandon(id, error),
    ),
    [MASKED_EXPORT_JOB_KIND]: handler(
      (job, ctx) => deps.tools.masking.runExport(job.id, ctx.signal),
      async () => undefined,
    ),
  };
}
