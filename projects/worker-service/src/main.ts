// worker-service: runs query jobs from BullMQ (Redis) against the datasets, with the ledger and archive
// on PostgreSQL, and publishes job events over Redis. SIGTERM: running jobs finish within the grace
// period, the rest are handed back to the queue for another worker.
import { BullMqJobQueue } from '@veil/job-queue';
import { dpSqlPlanner, openPrivacyTools, openQueryRuntime } from '@veil/query-execution';
import { loadConfigOrExit, runService } from '@veil/service-config';
import { privacyToolJobs, redisEventPublisher, startWorker } from '@veil/worker';

const GRACE_MS = Number(process.env.VEIL_SHUTDOWN_GRACE_MS ?? 20_000);

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker-service', 'distributed');
  const redisUrl = config.redisUrl!;
  const runtime = await openQueryRuntime(config, dpSqlPlanner());
  const publisher = await redisEventPublisher(redisUrl);
  const worker = await startWorker({
    queue: new BullMqJobQueue({ redisUrl, prefix: config.queuePrefix, attempts: config.jobAttempts }),
    flow: runtime.flow,
    publish: (event) => publisher.publish(event),
    maxAttempts: config.jobAttempts,
    concurrency: config.workerConcurrency,
    housekeeping: { run: () => runtime.ledger.sweep(), everyMs: 15_000 },
    extraJobs: privacyToolJobs({ tools: await openPrivacyTools(runtime, config), publish: (event) => publisher.publish(event), maxAttempts: config.jobAttempts }),
  });
  console.log(`worker-service running ${config.workerConcurrency} jobs at a time`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Whatever hangs (a connection that will not close), the process still ends.
    setTimeout(() => process.exit(1), 30_000).unref();
    await worker.stop(GRACE_MS);
    await publisher.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

runService('worker-service', main);
