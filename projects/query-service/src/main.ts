// query-service: the HTTP API for distributed mode. Admin store on PostgreSQL, jobs to BullMQ on Redis,
// job events from the workers over Redis (@nestjs/microservices). Any number of replicas.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { BullMqJobQueue, JobEventHub } from '@veil/job-queue';
import { createQueryApi, ensureFirstAdmin } from '@veil/query-api';
import { dpSqlPlanner, openPrivacyTools, openQueryRuntime } from '@veil/query-execution';
import { loadConfigOrExit, runService } from '@veil/service-config';

async function main(): Promise<void> {
  const config = loadConfigOrExit('query-service', 'distributed');
  const redisUrl = config.redisUrl!;
  const runtime = await openQueryRuntime(config, dpSqlPlanner());
  await mkdir(config.dataDir, { recursive: true });
  const admin = await ensureFirstAdmin(runtime.store, join(config.dataDir, 'admin.key'));
  if (admin.createdKey) console.log(`First start: the admin API key (shown once, also in ${join(config.dataDir, 'admin.key')}):\n  ${admin.createdKey}`);

  const queue = new BullMqJobQueue({ redisUrl, prefix: config.queuePrefix, attempts: config.jobAttempts });
  const ping = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  const app = await createQueryApi(
    {
      settings: { rateLimitPerMinute: config.rateLimitPerMinute, bodyLimitBytes: config.bodyLimitBytes, syncWaitMs: config.syncWaitMs, rateLimitRedisUrl: redisUrl },
      store: runtime.store,
      ledger: runtime.ledger,
      flow: runtime.flow,
      adapters: runtime.adapters,
      queue,
      events: new JobEventHub(),
      readinessChecks: [async () => void (await ping.ping())],
      privacyTools: await openPrivacyTools(runtime, config),
    },
    { eventsRedisUrl: redisUrl },
  );
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  console.log(`query-service listening on ${config.host}:${typeof address === 'object' && address ? address.port : config.port}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Whatever hangs (a connection that will not close), the process still ends.
    setTimeout(() => process.exit(1), 30_000).unref();
    await app.close();
    await queue.close();
    ping.disconnect();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

runService('query-service', main);
