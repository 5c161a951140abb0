// One job-queue contract for both ways of running Veil: in-process (embedded) and BullMQ over Redis
// (distributed). Job payloads are plain JSON; the job's id is chosen by the caller (the admin store's job
// id), so enqueueing the same id twice runs it once.

export interface JobSpec<T = unknown> {
  id: string;
  /** What to run, e.g. `query`; later `synthetic`, `masking`. */
  kind: string;
  data: T;
}

export interface QueuedJob<T = unknown> extends JobSpec<T> {
  /** 1 on the first run, higher when the queue retries the job (after an error or a crashed worker). */
  attempt: number;
}

export interface JobContext {
  /** Aborted when the consumer is being shut down and cannot wait for the job any more. */
  signal: AbortSignal;
  /** Records progress (0..1) with the queue; listeners get it through the event channel separately. */
  reportProgress(fraction: number): Promise<void>;
}

/**
 * Runs one job. Throw `PermanentJobError` for a failure a retry cannot fix (bad input, budget exhausted);
 * any other error is retried by queues that retry, up to their limit.
 */
export type JobHandler = (job: QueuedJob, ctx: JobContext) => Promise<unknown>;

export interface ConsumeOptions {
  /** Jobs run at once by this consumer. Default 4. */
  concurrency?: number;
}

export interface CloseOptions {
  /** How long to let running jobs finish before handing them back to the queue. Default 10,000 ms. */
  graceMs?: number;
}

/** A worker slot held for one job about to be enqueued (see JobQueue.claimSlot). */
export interface SlotClaim {
  /** Gives the slot back when the job will not be enqueued after all; a no-op once used. */
  release(): void;
}

export interface EnqueueOptions {
  /** A claim from this queue's claimSlot(): the job starts at once, in the claimed slot. */
  claim?: SlotClaim;
}

export interface JobQueue {
  readonly kind: 'in-process' | 'bullmq';
  enqueue(job: JobSpec, options?: EnqueueOptions): Promise<void>;
  /**
   * Only queues whose consumer runs in this process: holds a free worker slot, if there is one now, so
   * that the job enqueued with it starts at once instead of waiting behind others. Lets the caller prepare
   * the job for an immediate start (the query flow reserves it as already running).
   */
  claimSlot?(): SlotClaim | undefined;
  /** Starts taking jobs; resolves when the consumer is ready. One consumer per queue object. */
  consume(handler: JobHandler, options?: ConsumeOptions): Promise<void>;
  /** Stops taking jobs, lets running ones finish within the grace period, then hands the rest back. */
  close(options?: CloseOptions): Promise<void>;
}

/** A failure that retrying cannot fix: the queue marks the job failed at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** What happened to a job, as told to whoever waits on it (the API answering a request, an SSE stream). */
export type JobEvent =
  | { type: 'progress'; jobId: string; progress: number }
  | { type: 'completed'; jobId: string; result: unknown }
  | { type: 'failed'; jobId: string; error: { code: string; message: string; details?: unknown } };

/** The @nestjs/microservices event pattern under which workers emit JobEvents over Redis. */
export const JOB_EVENT_PATTERN = 'veil.job.event';
