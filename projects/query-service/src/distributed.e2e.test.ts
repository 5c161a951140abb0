// End to end, distributed, against the real PostgreSQL and Redis: two query-service and two worker-service
// processes. 500 concurrent queries against a budget that fits exactly 50: exactly 50 answered, 450 refused
// with budget_exhausted, no 5xx. Then one worker is SIGKILLed while jobs run: every job still reaches a
// final state and the ledger is consistent (its balances match its entries; the spent budget is exactly
// the charges of the jobs that read data).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBudgetLedger } from '@veil/budget-ledger';
import { createFreshDatabase, postgresTestUrl, redisTestUrl } from '@veil/test-services';
import { PENGUINS, ServiceProcesses } from './testing/service-processes.js';
import type { FreshDatabase } from '@veil/test-services';
import { VeilClient } from '@veil/veil-client';

const postgres = postgresTestUrl();
const redis = redisTestUrl();
const QUERY = 'SELECT species, COUNT(*) AS n FROM dataset GROUP BY species';
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

describe.skipIf(!postgres.url || !redis.url)('distributed Veil (PostgreSQL + Redis, 2 query-service + 2 worker-service)', () => {
  let database: FreshDatabase;
  let dataDir: string;
  const processes = new ServiceProcesses();
  const services = processes.all;
  let admin: VeilClient;
  let env: Record<string, string>;

  function start(project: 'query-service' | 'worker-service', name: string, port?: number) {
    return processes.start(project, name, { ...env, ...(port !== undefined ? { PORT: String(port) } : {}) });
  }
  const waitFor = processes.waitFor.bind(processes);

  beforeAll(async () => {
    database = await createFreshDatabase(postgres.url!, 'veil_dist');
    dataDir = await mkdtemp(join(tmpdir(), 'veil-dist-'));
    env = {
      VEIL_DATABASE_URL: database.url,
      VEIL_REDIS_URL: redis.url!,
      VEIL_DATA_DIR: dataDir,
      VEIL_QUEUE_PREFIX: `veiltest-${randomBytes(4).toString('hex')}`,
      VEIL_RATE_LIMIT: '1000000',
      VEIL_SYNC_WAIT_MS: '5000',
      VEIL_WORKER_CONCURRENCY: '4',
      VEIL_DATABASE_POOL: '6',
      VEIL_SHUTDOWN_GRACE_MS: '2000',
      VEIL_HOST: '127.0.0.1',
    };
    // The first query-service migrates the database and creates the admin; then the rest start together.
    const first = start('query-service', 'query-service-1', 0);
    await waitFor(first, /listening on (\S+)/);
    const others = [start('query-service', 'query-service-2', 0), start('worker-service', 'worker-1'), start('worker-service', 'worker-2')];
    await Promise.all(others.map((s) => waitFor(s, /listening on|running \d+ jobs/)));
    for (const s of services.filter((s) => s.name.startsWith('query'))) await processes.listening(s);
    admin = new VeilClient({ server: services[0]!.url!, apiKey: (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim() });
    await admin.admin.createDataset('penguins', { source: { kind: 'file', path: PENGUINS }, columns: { species: { type: 'string', categories: ['Adelie', 'Chinstrap', 'Gentoo'] } } });
  }, 180_000);

  afterAll(async () => {
    await processes.stopAll();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function analyst(name: string, grant: { epsilon: string; mode: 'basic' }): Promise<VeilClient[]> {
    await admin.admin.createUser(name, 'analyst');
    const { key } = await admin.admin.createKey(name);
    await admin.admin.setGrant(name, 'penguins', grant);
    return services.filter((s) => s.url).map((s) => new VeilClient({ server: s.url!, apiKey: key }));
  }

  /** Posts a query and follows a 202 to the job's end; returns the HTTP status, error code and job id. */
  async function submit(client: VeilClient): Promise<{ status: number; code?: string; jobId?: string }> {
    try {
      const answer = await client.query('penguins', { sql: QUERY, epsilon: '0.01' }, { wait: false });
      if ('rows' in answer) return { status: 200, jobId: answer.jobId };
      const job = await followJob(client, answer.jobId);
      return { status: job.status === 'succeeded' ? 200 : 500, code: job.error?.code, jobId: job.id };
    } catch (error) {
      const e = error as { status: number; code: string };
      return { status: e.status, code: e.code };
    }
  }

  async function followJob(client: VeilClient, id: string) {
    for (;;) {
      const job = await client.job(id);
      if (FINAL.has(job.status)) return job;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('answers exactly the 50 queries a budget fits out of 500 concurrent ones, refusing 450, with no 5xx', async () => {
    const clients = await analyst('alice', { epsilon: '0.5', mode: 'basic' });
    const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => submit(clients[i % clients.length]!)));
    const answered = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 403 && o.code === 'budget_exhausted');
    expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
    expect(answered).toHaveLength(50);
    expect(refused).toHaveLength(450);
    const budget = await clients[0]!.budget('penguins');
    expect(budget.spent.epsilon).toBe('0.5');
    expect(new Decimal(budget.remaining.epsilon!).isZero()).toBe(true);
  }, 240_000);

  it('brings every job to a final state with a consistent ledger when a worker is SIGKILLed mid-run', async () => {
    const clients = await analyst('bob', { epsilon: '10', mode: 'basic' });
    const pending = Array.from({ length: 100 }, (_, i) => submit(clients[i % clients.length]!));
    // Kill once the workers are busy: some answers are in, most jobs are queued or running.
    while ((await admin.admin.queries({ user: 'bob', limit: 500 })).length < 5) await new Promise((r) => setTimeout(r, 50));
    const victim = services.find((s) => s.name === 'worker-1')!;
    victim.child.kill('SIGKILL');
    const outcomes = await Promise.all(pending);

    for (const o of outcomes) expect(o.jobId, JSON.stringify(o)).toBeDefined();
    const jobs = await Promise.all(outcomes.map((o) => clients[0]!.job(o.jobId!)));
    expect(jobs.every((j) => FINAL.has(j.status))).toBe(true);
    // A job is charged when it was answered, or when a dead worker had started reading data (answer_lost).
    const charged = jobs.filter((j) => j.status === 'succeeded' || j.error?.code === 'answer_lost').length;
    const tally = jobs.reduce<Record<string, number>>((t, j) => ({ ...t, [j.error?.code ?? j.status]: (t[j.error?.code ?? j.status] ?? 0) + 1 }), {});
    console.info(`after SIGKILL of a worker: ${JSON.stringify(tally)}`);
    expect(jobs.filter((j) => j.status === 'failed' && !['answer_lost', 'cancelled'].includes(j.error!.code))).toEqual([]);

    const budget = await clients[0]!.budget('penguins');
    expect(budget.reserved.epsilon).toBe('0');
    expect(new Decimal(budget.spent.epsilon).equals(new Decimal('0.01').times(charged))).toBe(true);
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      expect(await createBudgetLedger({ sql: pool }).checkConsistency()).toEqual([]);
    } finally {
      await pool.end();
    }
  }, 240_000);
});
