// Public interface of @veil/worker: runs queued jobs through the query flow and publishes job events.
export { startWorker } from './worker.js';
export type { RunningWorker, WorkerDeps } from './worker.js';
export { redisEventPublisher } from './redis-events.js';
export type { EventPublisher } from './redis-events.js';
export { privacyToolJobs } from './privacy-tool-jobs.js';
export type { PrivacyToolJobsDeps } from './privacy-tool-jobs.js';
