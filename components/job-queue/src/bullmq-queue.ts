// The distributed queue: BullMQ over Redis. Jobs are retried with backoff when a handler throws anything
// but PermanentJobError, and a job whose worker died (SIGKILL, lost lock) is detected as stalled and run
// again by another worker. Handlers must therefore be safe to run again for the same job id: the query
// flow is, because the ledger reservation and the stored answer are keyed by the job id.
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { CloseOptions, ConsumeOptions, JobHandler, JobQueue, JobSpec } from './types.js';
import { PermanentJobError } from './types.js';

export interface BullMqOptions {
  redisUrl: string;
  /** Queue name; default `veil-jobs`. Tests use a unique one. */
  name?: string;
  /** Redis key prefix; default `veil`. */
  prefix?: string;
  /** Runs per job before it is failed for good. Default 3. */
  attempts?: number;
  /** How long a worker's lock lasts without renewal; a dead worker's job is recovered after about this. Default 10,000 ms. */
  lockDurationMs?: number;
}

export class BullMqJobQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly shutdown = new AbortController();

  constructor(private readonly options: BullMqOptions) {
    this.queue = new Queue(this.name, { connection: { url: options.redisUrl }, prefix: this.prefix });
  }

  private get name(): string {
    return this.options.name ?? 'veil-jobs';
  }

  private get prefix(): string {
    return this.options.prefix ?? 'veil';
  }

  async enqueue(job: JobSpec): Promise<void> {
    await this.queue.add(job.kind, job.data, {
      jobId: job.id,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async consume(handler: JobHandler, options: ConsumeOptions = {}): Promise<void> {
    if (this.worker) throw new Error('this queue already has a consumer');
    const lockDuration = this.options.lockDurationMs ?? 10_000;
    this.worker = new Worker(this.name, (job: Job) => this.run(handler, job), {
      connection: { url: this.options.redisUrl },
      prefix: this.prefix,
      concurrency: options.concurrency ?? 4,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: 2,
    });
    // Errors of the worker's own connection are logged by the caller through events; keep the process up.
    this.worker.on('error', () => undefined);
    await this.worker.waitUntilReady();
  }

  private async run(handler: JobHandler, job: Job): Promise<unknown> {
    try {
      return await handler(
        { id: job.id!, kind: job.name, data: job.data as unknown, attempt: job.attemptsMade + 1 },
        { signal: this.shutdown.signal, reportProgress: (fraction) => job.updateProgress(Math.round(fraction * 100)) },
      );
    } catch (error) {
      if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  async close(options: CloseOptions = {}): Promise<void> {
    const worker = this.worker;
    if (worker) {
      const finished = worker.close().then(() => true);
      const grace = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.graceMs ?? 10_000).unref());
      if (!(await Promise.race([finished, grace]))) {
        // Hand the running jobs back: their locks lapse and another worker picks them up as stalled.
        this.shutdown.abort();
        await worker.close(true);
      }
    }
    await this.queue.close();
  }
}
