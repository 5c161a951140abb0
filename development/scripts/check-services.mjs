#!/usr/bin/env node
// Checks that the PostgreSQL and Redis named by VEIL_TEST_DATABASE_URL / VEIL_TEST_REDIS_URL answer.
// Used by .ci/run so that CI fails with a clear message rather than skipping suites.
import pg from 'pg';
import { Redis } from 'ioredis';

const failures = [];
const timeout = 5000;

async function checkPostgres(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeout });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRedis(url) {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeout, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError;
  redis.on('error', (error) => { lastError = error; });
  try {
    await redis.connect().catch((error) => { throw lastError ?? error; });
    if ((await redis.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
  } finally {
    redis.disconnect();
  }
}

for (const [variable, what, check] of [
  ['VEIL_TEST_DATABASE_URL', 'PostgreSQL', checkPostgres],
  ['VEIL_TEST_REDIS_URL', 'Redis', checkRedis],
]) {
  const url = process.env[variable];
  if (!url) {
    failures.push(`${variable} is not set.`);
    continue;
  }
  try {
    await check(url);
    console.log(`ok: ${what} answers at ${new URL(url).host}`);
  } catch (error) {
    failures.push(`${what} does not answer at ${variable}=${url}: ${error.message || error.code || error}`);
  }
}
if (failures.length) {
  console.error(['Test services are not reachable; the suites that need them cannot run:', ...failures.map((f) => `  - ${f}`)].join('\n'));
  process.exit(1);
}
