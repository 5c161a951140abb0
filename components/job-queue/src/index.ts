// Public interface of @veil/job-queue: one queue contract with an in-process and a BullMQ implementation,
// and the in-process hub through which job events reach whoever waits on them.
export { InProcessJobQueue } from './in-process-queue.js';
export { BullMqJobQueue } from './bullmq-queue.js';
export type { BullMqOptions } from './bullmq-queue.js';
export { JobEventHub } from './event-hub.js';
export { JOB_EVENT_PATTERN, PermanentJobError } from './types.js';
export type { CloseOptions, ConsumeOptions, EnqueueOptions, JobContext, JobEvent, JobHandler, JobQueue, JobSpec, QueuedJob, SlotClaim } from './types.js';
export { redisConnectionOptions } from './redis-options.js';
export type { RedisConnectionOptions } from './redis-options.js';
