// Submitting a query and answering the request: 200 with the answer when the job ends within the wait,
// 202 with the job id otherwise, the flow's error when it is refused or fails. A retry with the same
// Idempotency-Key gets the first job's outcome.
import type { Job } from '@veil/admin-store';
import { QueryError } from '@veil/query-execution';
import type { Admission, PrivacyRequest, QueryAnswer } from '@veil/query-execution';
import type { ApiDeps } from './deps.js';

export interface Outcome {
  status: number;
  body: unknown;
  /** `body` as JSON text, when it was serialised already (send this instead). */
  json?: string;
}

export async function answerQuery(deps: ApiDeps, userId: string, dataset: string, sql: string, privacy: PrivacyRequest, idempotencyKey?: string): Promise<Outcome> {
  // When this process runs the worker and a slot is free, the job is admitted ready to start (see
  // AdmitOptions.startsNow) and enqueued into that slot.
  const claim = deps.queue.claimSlot?.();
  let admission: Admission;
  try {
    admission = await deps.flow.admit(userId, dataset, sql, privacy, idempotencyKey, { startsNow: claim !== undefined });
  } catch (error) {
    claim?.release();
    throw error;
  }
  const job = admission.job;
  const settled = settledOutcome(job);
  if (settled || !admission.fresh) claim?.release();
  if (settled) return settled;
  // Subscribe before enqueueing, so a fast job's completion cannot slip past.
  const ending = deps.events.waitForEnd(job.id, deps.settings.syncWaitMs);
  try {
    await deps.queue.enqueue({ id: job.id, kind: job.kind, data: admission.reservation ?? {} }, { claim });
  } catch (error) {
    if (!admission.fresh) throw error;
    // The queue is closing: nothing ran, so nothing is charged.
    const refusal = new QueryError('cancelled', 'the server is shutting down; nothing was charged, try again');
    await deps.flow.withdraw(admission, refusal);
    throw refusal;
  }
  const event = await ending;
  if (event?.type === 'completed') return answered(deps, event.result as QueryAnswer, job.id);
  if (event?.type === 'failed') throw QueryError.fromBody(event.error);
  // No event in time (or it was missed): the store has the last word.
  const latest = await deps.store.jobs.get(job.id);
  return (latest && settledOutcome(latest)) ?? accepted(job.id);
}

function settledOutcome(job: Job): Outcome | undefined {
  if (job.status === 'succeeded') return { status: 200, body: withJob(job.result as QueryAnswer, job.id) };
  if (job.status === 'failed' || job.status === 'cancelled') throw QueryError.fromBody(job.error ?? { code: 'query_failed', message: 'the query failed' });
  return undefined;
}

function withJob(answer: QueryAnswer, jobId: string) {
  return { ...answer, jobId };
}

/** A fresh answer of this process comes with its JSON text (made once, also stored): reused with the job id. */
function answered(deps: ApiDeps, answer: QueryAnswer, jobId: string): Outcome {
  const text = deps.flow.answerJson(answer);
  const json = text?.endsWith('}') ? `${text.slice(0, -1)},"jobId":${JSON.stringify(jobId)}}` : undefined;
  return { status: 200, body: withJob(answer, jobId), json };
}

function accepted(jobId: string): Outcome {
  return {
    status: 202,
    body: { jobId, status: 'queued', links: { job: `/v1/jobs/${jobId}`, events: `/v1/jobs/${jobId}/events` } },
  };
}
