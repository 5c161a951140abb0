// Real services for tests: a fresh PostgreSQL database per run and the Redis URL, read from
// VEIL_TEST_DATABASE_URL / VEIL_TEST_REDIS_URL. Unset: suites skip with a visible message; under CI
// (CI=true) an unset variable is an error, so CI fails instead of silently skipping.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ServiceUrl {
  url: string | undefined;
  /** Why the suite is skipped, when it is. */
  skipReason?: string;
}

function serviceUrl(variable: string, what: string): ServiceUrl {
  const url = process.env[variable];
  if (url) return { url };
  if (process.env.CI === 'true') {
    throw new Error(`${variable} is not set but CI=true: the ${what} suites must run in CI (see .ci/run).`);
  }
  const skipReason = `SKIPPED: ${what} suites need ${variable} (see README, "Tests that need services").`;
  console.warn(`\n  ⚠ ${skipReason}\n`);
  return { url: undefined, skipReason };
}

export const postgresTestUrl = (): ServiceUrl => serviceUrl('VEIL_TEST_DATABASE_URL', 'PostgreSQL');
export const redisTestUrl = (): ServiceUrl => serviceUrl('VEIL_TEST_REDIS_URL', 'Redis');

export interface FreshDatabase {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

/** Creates a database with a unique name on the server of `serverUrl`, so test runs never collide. */
export async function createFreshDatabase(serverUrl: string, prefix = 'veil_test'): Promise<FreshDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
