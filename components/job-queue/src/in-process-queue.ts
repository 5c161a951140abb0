// The embedded queue: jobs run in this process, at most `concurrency` at a time, in arrival order. Nothing
// survives a restart; the admin store's job rows say which jobs were left unfinished.
import type { CloseOptions, ConsumeOptions, EnqueueOptions, JobHandler, JobQueue, JobSpec, QueuedJob, SlotClaim } from './types.js';

/** A slot held by claimSlot(); `open` until released or used by enqueue. */
class Claim implements SlotClaim {
  open = true;
  constructor(
    readonly queue: InProcessJobQueue,
    private readonly onRelease: () => void,
  ) {}

  release(): void {
    if (!this.open) return;
    this.open = false;
    this.onRelease();
  }
}

export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process' as const;
  private handler: JobHandler | undefined;
  private concurrency = 4;
  private readonly waiting: QueuedJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly known = new Set<string>();
  /** Slots held by claims, not yet used: counted as busy. */
  private claimed = 0;
  private readonly shutdown = new AbortController();
  private closed = false;

  async enqueue(job: JobSpec, options: EnqueueOptions = {}): Promise<void> {
    const claim = options.claim instanceof Claim && options.claim.queue === this && options.claim.open ? options.claim : undefined;
    if (this.closed) {
      claim?.release();
      throw new Error('the job queue is closed');
    }
    if (this.known.has(job.id)) {
      claim?.release();
      return;
    }
    this.known.add(job.id);
    if (claim) {
      // The claimed slot is this job's: it starts now, ahead of any waiting job.
      claim.open = false;
      this.claimed--;
      this.start(this.handler!, { ...job, attempt: 1 });
      return;
    }
    this.waiting.push({ ...job, attempt: 1 });
    this.pump();
  }

  claimSlot(): SlotClaim | undefined {
    if (!this.handler || this.closed || this.running.size + this.claimed >= this.concurrency) return undefined;
    this.claimed++;
    return new Claim(this, () => {
      this.claimed--;
      this.pump();
    });
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
    while (this.running.size + this.claimed < this.concurrency && this.waiting.length > 0) this.start(handler, this.waiting.shift()!);
  }

  private start(handler: JobHandler, job: QueuedJob): void {
    const run = this.runOne(handler, job).finally(() => {
      this.running.delete(run);
      this.known.delete(job.id);
      this.pump();
    });
    this.running.add(run);
  }

  private async runOne(handler: JobHandler, job: QueuedJob): Promise<void> {
    try {
      await handler(job, { signal: this.shutdown.signal, reportProgress: async () => undefined });
    } catch {
      // The handler records failures itself (job row, events); the in-process queue does not retry.
    }
  }
}
