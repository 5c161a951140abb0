// Everything the API needs, handed in by the project that assembles it (embedded or distributed). Nest
// gets it under one explicit token, so no decorator metadata is needed (tsx/esbuild do not emit it).
import type { AdminStore, User, ApiKeyInfo } from '@veil/admin-store';
import type { JobEventHub, JobQueue } from '@veil/job-queue';
import type { AdapterPool, BudgetLedgerPort, PrivacyTools, QueryFlow } from '@veil/query-execution';

export const API_DEPS = Symbol('veil.api.deps');

export interface ApiSettings {
  /** Requests per minute per API key (per client address for requests without a key). */
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  /** How long a query request waits for its answer before answering 202 with the job id. */
  syncWaitMs: number;
  /** Redis for rate-limit counters shared by replicas; in-memory counters when unset. */
  rateLimitRedisUrl?: string;
  /** Shown in the OpenAPI document. */
  version?: string;
}

export interface ApiDeps {
  settings: ApiSettings;
  store: AdminStore;
  ledger: BudgetLedgerPort;
  flow: QueryFlow;
  adapters: AdapterPool;
  queue: JobQueue;
  events: JobEventHub;
  /** Extra readiness checks (the queue's Redis, …); the store is always checked. */
  readinessChecks?: (() => Promise<void>)[];
  /** Synthetic data, masking and derived-dataset queries; their routes answer 503 without them. */
  privacyTools?: PrivacyTools;
}

export interface Principal {
  user: User;
  key: ApiKeyInfo;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
