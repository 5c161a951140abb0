// Veil's service configuration from environment variables, validated once at start-up so a typo fails
// loudly with the variable's name instead of surfacing later as a confusing runtime error.
import { resolve } from 'node:path';
import { z } from 'zod';

export type RunMode = 'embedded' | 'distributed';

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be above 0').default(fallback);

const postgresUrl = z
  .string({ error: 'is required in distributed mode (e.g. postgres://user:password@host:5432/veil)' })
  .regex(/^postgres(ql)?:\/\/.+/, 'must be a PostgreSQL URL starting with postgres:// or postgresql://');
const redisUrl = z
  .string({ error: 'is required in distributed mode (e.g. redis://host:6379)' })
  .regex(/^rediss?:\/\/.+/, 'must be a Redis URL starting with redis:// or rediss://');

const commonSchema = {
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535, 'must be a port number (0–65535)').default(8080),
  VEIL_HOST: z.string().min(1).optional(),
  VEIL_DATA_DIR: z.string().min(1).default('./.veil'),
  /** Requests per minute per API key. */
  VEIL_RATE_LIMIT: positiveInt(600),
  /** Largest request body accepted, in bytes. */
  VEIL_BODY_LIMIT: positiveInt(1_048_576),
  /** How long a query request waits for its answer before it returns 202 with a job id. */
  VEIL_SYNC_WAIT_MS: positiveInt(10_000),
  /** Wall-clock limit for one engine statement. */
  VEIL_QUERY_TIMEOUT_MS: positiveInt(300_000),
  /** Budget reservations left by a crashed worker expire after this long. */
  VEIL_RESERVATION_TTL_MS: positiveInt(900_000),
  VEIL_WORKER_CONCURRENCY: positiveInt(4),
  /** Comma-separated directories that file datasets must lie in; unset allows any path. */
  VEIL_ALLOWED_ROOTS: z.string().optional(),
  VEIL_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /** Redis key prefix of the job queue; separate installations sharing one Redis use different ones. */
  VEIL_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -').default('veil'),
  /** Attempts per job in distributed mode (retries after errors or a crashed worker). */
  VEIL_JOB_ATTEMPTS: positiveInt(3),
  /** PostgreSQL connections per process for the admin store and ledger. */
  VEIL_DATABASE_POOL: positiveInt(10),
};

const embeddedSchema = z.object({
  ...commonSchema,
  /** Optional: put the admin store on PostgreSQL even in the all-in-one process. */
  VEIL_DATABASE_URL: postgresUrl.optional(),
});
const distributedSchema = z.object({ ...commonSchema, VEIL_DATABASE_URL: postgresUrl, VEIL_REDIS_URL: redisUrl });

export type StoreLocation = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };

export interface VeilConfig {
  mode: RunMode;
  port: number;
  host: string;
  dataDir: string;
  store: StoreLocation;
  redisUrl: string | undefined;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  syncWaitMs: number;
  queryTimeoutMs: number;
  reservationTtlMs: number;
  workerConcurrency: number;
  allowedRoots: string[] | undefined;
  /** PostgreSQL connection strings for `postgres` datasets, from VEIL_PG_<SECRET_NAME> variables. */
  postgresConnections: Record<string, string>;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  queuePrefix: string;
  jobAttempts: number;
  databasePoolSize: number;
}

/** Configuration that cannot be used; the message lists every offending variable and why. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration for `mode` from `env` (default: process.env). */
export function loadConfig(mode: RunMode, env: Record<string, string | undefined> = process.env): VeilConfig {
  const schema = mode === 'embedded' ? embeddedSchema : distributedSchema;
  const result = schema.safeParse(withoutEmptyValues(env));
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  }
  const e = result.data;
  const dataDir = resolve(e.VEIL_DATA_DIR);
  const databaseUrl = e.VEIL_DATABASE_URL;
  return {
    mode,
    port: e.PORT,
    host: e.VEIL_HOST ?? (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0'),
    dataDir,
    store: databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'pglite', dataDir: resolve(dataDir, 'store') },
    redisUrl: 'VEIL_REDIS_URL' in e ? (e.VEIL_REDIS_URL as string) : undefined,
    rateLimitPerMinute: e.VEIL_RATE_LIMIT,
    bodyLimitBytes: e.VEIL_BODY_LIMIT,
    syncWaitMs: e.VEIL_SYNC_WAIT_MS,
    queryTimeoutMs: e.VEIL_QUERY_TIMEOUT_MS,
    reservationTtlMs: e.VEIL_RESERVATION_TTL_MS,
    workerConcurrency: e.VEIL_WORKER_CONCURRENCY,
    allowedRoots: e.VEIL_ALLOWED_ROOTS?.split(',').map((r) => resolve(r.trim())).filter((r) => r.length > 0),
    postgresConnections: postgresConnectionsFrom(env),
    logLevel: e.VEIL_LOG_LEVEL,
    queuePrefix: e.VEIL_QUEUE_PREFIX,
    jobAttempts: e.VEIL_JOB_ATTEMPTS,
    databasePoolSize: e.VEIL_DATABASE_POOL,
  };
}

/** An empty variable (`PORT=`) means "not set", as a shell user expects. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

const CONNECTION_PREFIX = 'VEIL_PG_';

function postgresConnectionsFrom(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(CONNECTION_PREFIX) && value) out[name.slice(CONNECTION_PREFIX.length).toLowerCase()] = value;
  }
  return out;
}
