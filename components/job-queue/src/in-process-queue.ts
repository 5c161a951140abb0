// The embedded queue: jobs run in this process, at most `concurrency` at a time, in arrival order. Nothing
// survives a restart; the admin store's job rows say which jobs were left unfinished.
import type { CloseOptions, ConsumeOptions, JobHandler, JobQueue, JobSpec, QueuedJob } from './types.js';

export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process' as const;
  private handler: JobHandler | undefined;
  private concurrency = 4;
  private readonly waiting: QueuedJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly known = new Set<string>();
  private readonly shutdown = new AbortController();
  private closed = false;

  async enqueue(job: JobSpec): Promise<void> {
    if (this.closed) throw new Error('the job queue is closed');
    if (this.known.has(job.id)) return;
    this.known.add(job.id);
    this.waiting.push({ ...job, attempt: 1 });
    this.pump();
  }

  async consume(handler: JobHandler, options: ConsumeOptions = {}): Promise<void> {
    if (this.handler) throw new Error('this queue already has a consumer');
    this.handler = handler;
    this.concurrency = options.concurrency ?? 4;
    this.pump();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, options.graceMs ?? 10_000).unref());
    await Promise.race([Promise.allSettled([...this.running]), grace]);
    this.shutdown.abort();
    await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const run = this.runOne(handler, job).finally(() => {
        this.running.delete(run);
        this.known.delete(job.id);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async runOne(handler: JobHandler, job: QueuedJob): Promise<void> {
    try {
      await handler(job, { signal: this.shutdown.signal, reportProgress: async () => undefined });
    } catch {
      // The handler records failures itself (job row, events); the in-process queue does not retry.
    }
  }
}
