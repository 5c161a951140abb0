// The all-in-one Veil: the query API and the worker in one process, the admin store in PGlite under
// VEIL_DATA_DIR (or PostgreSQL when VEIL_DATABASE_URL is set), jobs on the in-process queue.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InProcessJobQueue, JobEventHub } from '@veil/job-queue';
import { openPrivacyTools, openQueryRuntime } from '@veil/query-execution';
import type { QueryPlanner, QueryRuntime } from '@veil/query-execution';
import { createQueryApi } from '@veil/query-api';
import type { VeilConfig } from '@veil/service-config';
import { privacyToolJobs, startWorker } from '@veil/worker';
import type { RunningWorker } from '@veil/worker';
import { bootstrap } from './bootstrap.js';
import type { BootstrapResult, DemoDataset } from './bootstrap.js';

export interface EmbeddedVeil {
  app: NestFastifyApplication;
  runtime: QueryRuntime;
  /** Where the server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  firstStart: BootstrapResult;
  close(): Promise<void>;
}

export async function startEmbedded(config: VeilConfig, planner: QueryPlanner, options: { demos?: DemoDataset[] } = {}): Promise<EmbeddedVeil> {
  const runtime = await openQueryRuntime(config, planner);
  let worker: RunningWorker | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    const firstStart = await bootstrap(runtime.store, config.dataDir, options.demos);
    const queue = new InProcessJobQueue();
    const events = new JobEventHub();
    const privacyTools = await openPrivacyTools(runtime, config);
    worker = await startWorker({
      queue,
      flow: runtime.flow,
      publish: (event) => events.publish(event),
      maxAttempts: 1,
      concurrency: config.workerConcurrency,
      housekeeping: { run: () => runtime.ledger.sweep(), everyMs: 30_000 },
      extraJobs: privacyToolJobs({ tools: privacyTools, publish: (event) => events.publish(event), maxAttempts: 1 }),
    });
    app = await createQueryApi({
      settings: { rateLimitPerMinute: config.rateLimitPerMinute, bodyLimitBytes: config.bodyLimitBytes, syncWaitMs: config.syncWaitMs },
      store: runtime.store,
      ledger: runtime.ledger,
      flow: runtime.flow,
      adapters: runtime.adapters,
      queue,
      events,
      privacyTools,
    });
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const started = app;
    const running = worker;
    return {
      app: started,
      runtime,
      url,
      firstStart,
      close: async () => {
        await started.close();
        await running.stop(10_000);
        await runtime.close();
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await worker?.stop(0).catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw error;
  }
}
