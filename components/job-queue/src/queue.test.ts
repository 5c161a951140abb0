import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { redisTestUrl } from '@veil/test-services';
import { BullMqJobQueue, InProcessJobQueue, JobEventHub, PermanentJobError } from './index.js';
import type { JobQueue, QueuedJob } from './index.js';

const redis = redisTestUrl();
const queues: JobQueue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close({ graceMs: 1000 })));
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('InProcessJobQueue', () => {
  it('runs each job once, at most `concurrency` at a time', async () => {
    const queue = new InProcessJobQueue();
    queues.push(queue);
    let active = 0;
    let peak = 0;
    const done = deferred<void>();
    const seen: string[] = [];
    await queue.consume(
      async (job) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(job.id);
        active--;
        if (seen.length === 5) done.resolve();
      },
      { concurrency: 2 },
    );
    for (const id of ['a', 'b', 'c', 'd', 'e']) await queue.enqueue({ id, kind: 'test', data: {} });
    await queue.enqueue({ id: 'e', kind: 'test', data: {} });
    await done.promise;
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(peak).toBe(2);
  });

  it('holds claimed slots: a claimed job starts at once, others wait, an unused claim is given back', async () => {
    const queue = new InProcessJobQueue();
    queues.push(queue);
    const started: string[] = [];
    const finish = deferred<void>();
    await queue.consume(
      async (job) => {
        started.push(job.id);
        await finish.promise;
      },
      { concurrency: 2 },
    );
    const first = queue.claimSlot();
    const second = queue.claimSlot();
    expect(first && second).toBeTruthy();
    expect(queue.claimSlot()).toBeUndefined();
    await queue.enqueue({ id: 'waits', kind: 'test', data: {} });
    expect(started).toEqual([]);
    await queue.enqueue({ id: 'claimed', kind: 'test', data: {} }, { claim: first });
    expect(started).toEqual(['claimed']);
    second!.release();
    second!.release();
    expect(started).toEqual(['claimed', 'waits']);
    expect(queue.claimSlot()).toBeUndefined();
    finish.resolve();
  });

  it('lets a running job finish on close', async () => {
    const queue = new InProcessJobQueue();
    let finished = false;
    await queue.consume(async () => {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
    });
    await queue.enqueue({ id: 'x', kind: 'test', data: {} });
    await queue.close({ graceMs: 5000 });
    expect(finished).toBe(true);
  });
});

describe('JobEventHub', () => {
  it('resolves a waiter with the final event and times out otherwise', async () => {
    const hub = new JobEventHub();
    const waiting = hub.waitForEnd('j1', 5000);
    hub.publish({ type: 'progress', jobId: 'j1', progress: 0.5 });
    hub.publish({ type: 'completed', jobId: 'j1', result: { ok: true } });
    expect(await waiting).toEqual({ type: 'completed', jobId: 'j1', result: { ok: true } });
    expect(await hub.waitForEnd('j2', 10)).toBeUndefined();
  });
});

describe.skipIf(!redis.url)('BullMqJobQueue (Redis)', () => {
  const make = (name: string) => {
    const queue = new BullMqJobQueue({ redisUrl: redis.url!, name, prefix: 'veil-test', lockDurationMs: 2000 });
    queues.push(queue);
    return queue;
  };

  it('runs a job, retries a transient failure and stops at a permanent one', async () => {
    const name = `q-${randomUUID()}`;
    const producer = make(name);
    const consumer = make(name);
    const runs: QueuedJob[] = [];
    const finished = deferred<void>();
    await consumer.consume(async (job) => {
      runs.push(job);
      if (job.id === 'flaky' && job.attempt === 1) throw new Error('transient');
      if (job.id === 'bad') throw new PermanentJobError('no retry');
      if (runs.filter((r) => r.id === 'flaky').length === 2) finished.resolve();
      return 'ok';
    });
    await producer.enqueue({ id: 'bad', kind: 'query', data: { n: 1 } });
    await producer.enqueue({ id: 'flaky', kind: 'query', data: { n: 2 } });
    await producer.enqueue({ id: 'flaky', kind: 'query', data: { n: 2 } });
    await finished.promise;
    await new Promise((r) => setTimeout(r, 100));
    expect(runs.filter((r) => r.id === 'bad')).toHaveLength(1);
    expect(runs.filter((r) => r.id === 'flaky').map((r) => r.attempt)).toEqual([1, 2]);
    expect(runs[0]!.data).toEqual({ n: 1 });
  });
});
