// Job status and a Server-Sent Events stream of its progress. Only the job's owner can see a job; anyone
// else gets the same 404 as for a job that does not exist.
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Job } from '@veil/admin-store';
import type { JobEvent } from '@veil/job-queue';
import { principalOf } from './auth.js';
import { API_DEPS } from './deps.js';
import type { ApiDeps } from './deps.js';
import { notFound } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const HEARTBEAT_MS = 15_000;
const POLL_MS = 2_000;

@Controller('v1/jobs')
export class JobsController implements BeforeApplicationShutdown {
  /** Open event streams, ended when the server shuts down so it does not wait for them. */
  private readonly streams = new Set<() => void>();

  constructor(@Inject(API_DEPS) private readonly deps: ApiDeps) {}

  beforeApplicationShutdown(): void {
    for (const finish of [...this.streams]) finish();
  }

  @Get(':id')
  async get(@Req() request: FastifyRequest, @Param('id') id: string) {
    return jobView(await this.ownJob(request, id));
  }

  @Get(':id/events')
  async events(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    const job = await this.ownJob(request, id);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('status', jobView(job));
    if (FINAL.has(job.status)) return void raw.end();

    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      this.streams.delete(finish);
      unsubscribe();
      clearInterval(heartbeat);
      clearInterval(poll);
      raw.end();
    };
    const unsubscribe = this.deps.events.subscribe(id, (event: JobEvent) => {
      if (event.type === 'progress') return void send('progress', { jobId: id, progress: event.progress });
      // The final event is re-read from the store (once its writes landed), so the stream ends with the same
      // view as GET /v1/jobs/{id}.
      void this.settledJob(id).then((latest) => latest && endWith(latest), finish);
    });
    const endWith = (latest: Job) => {
      if (closed) return;
      send('status', jobView(latest));
      if (FINAL.has(latest.status)) finish();
    };
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    // Events travel over pub/sub and can be missed (a replica restarting); the store is polled as a fallback.
    const poll = setInterval(() => {
      void this.deps.store.jobs.get(id).then((latest) => latest && FINAL.has(latest.status) && endWith(latest), finish);
    }, POLL_MS);
    this.streams.add(finish);
    request.raw.on('close', finish);
  }

  private async ownJob(request: FastifyRequest, id: string): Promise<Job> {
    const { user } = principalOf(request);
    const job = UUID.test(id) ? await this.settledJob(id) : null;
    if (!job || job.userId !== user.id) throw notFound(`no job ${id} of yours`);
    return job;
  }

  /** The job row, after this process's final writes for it (an answer just handed back) have landed. */
  private async settledJob(id: string): Promise<Job | null> {
    await this.deps.flow.jobSettled(id);
    return this.deps.store.jobs.get(id);
  }
}

function jobView(job: Job) {
  const done = job.status === 'succeeded';
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    result: done ? job.result : null,
    error: job.error,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}
