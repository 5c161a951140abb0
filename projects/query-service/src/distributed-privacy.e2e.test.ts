// End to end, distributed, against the real PostgreSQL and Redis: synthetic data and masked exports run
// as BullMQ jobs on a worker-service, their files are served by a query-service from the shared data
// directory, the derived dataset answers for free, and the masking secret (VEIL_MASKING_SECRET) appears in
// no response and no line either service prints.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshDatabase, postgresTestUrl, redisTestUrl } from '@veil/test-services';
import { PENGUINS, ServiceProcesses } from './testing/service-processes.js';
import type { FreshDatabase } from '@veil/test-services';
import { VeilClient } from '@veil/veil-client';
import type { DerivedAnswer, MaskedExportResult } from '@veil/veil-client';

const postgres = postgresTestUrl();
const redis = redisTestUrl();
const SECRET = `test-secret-${randomBytes(16).toString('hex')}`;

describe.skipIf(!postgres.url || !redis.url)('distributed Veil: synthetic data and masking through BullMQ', () => {
  let database: FreshDatabase;
  let dataDir: string;
  const processes = new ServiceProcesses();
  const services = processes.all;
  const responses: string[] = [];
  let admin: VeilClient;
  let analyst: VeilClient;

  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    responses.push(await response.clone().text());
    return response;
  };

  beforeAll(async () => {
    database = await createFreshDatabase(postgres.url!, 'veil_dist_privacy');
    dataDir = await mkdtemp(join(tmpdir(), 'veil-dist-privacy-'));
    const env = {
      VEIL_DATABASE_URL: database.url,
      VEIL_REDIS_URL: redis.url!,
      VEIL_DATA_DIR: dataDir,
      VEIL_QUEUE_PREFIX: `veiltest-${randomBytes(4).toString('hex')}`,
      VEIL_DATABASE_POOL: '4',
      VEIL_SHUTDOWN_GRACE_MS: '2000',
      VEIL_HOST: '127.0.0.1',
      VEIL_MASKING_SECRET: SECRET,
      PORT: '0',
    };
    const url = await processes.listening(processes.start('query-service', 'query-service', env));
    await processes.waitFor(processes.start('worker-service', 'worker-service', env), /running \d+ jobs/);
    admin = new VeilClient({ server: url, apiKey: (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim(), fetch: recordingFetch });
    await admin.admin.createDataset('penguins', {
      source: { kind: 'file', path: PENGUINS },
      columns: {
        species: { type: 'string', categories: ['Adelie', 'Chinstrap', 'Gentoo'] },
        island: { type: 'string', categories: ['Biscoe', 'Dream', 'Torgersen'] },
        body_mass_g: { type: 'int', lower: 2000, upper: 7000, nullable: true },
      },
    });
    await admin.admin.createUser('ann', 'analyst');
    analyst = new VeilClient({ server: url, apiKey: (await admin.admin.createKey('ann')).key, fetch: recordingFetch });
    await admin.admin.setGrant('ann', 'penguins', { epsilon: 2, delta: '1e-6' });
  }, 180_000);

  afterAll(async () => {
    await processes.stopAll();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('runs a synthetic-data job on the worker, serves its files and answers the derived dataset for free', async () => {
    const result = await analyst.synthesizeAndWait('penguins', { epsilon: 1, delta: '1e-9', rows: 100 });
    expect(result.rows).toBe(100);
    const budget = await analyst.budget('penguins');
    expect(budget.spent.rho).toBe(result.charge.rho);
    const csv = new TextDecoder().decode(await analyst.downloadResult(result.jobId, 'csv'));
    expect(csv.trim().split('\n')).toHaveLength(101);
    const answer = (await analyst.query(result.dataset, { sql: 'SELECT COUNT(*) AS n FROM dataset', epsilon: 1 })) as unknown as DerivedAnswer;
    expect(answer).toMatchObject({ exact: true, rows: [[100]] });
    expect((await analyst.budget('penguins')).spent).toEqual(budget.spent);
  });

  it('masks through the engine on the worker, with the secret from VEIL_MASKING_SECRET', async () => {
    await admin.masking.setPolicy('penguins', 'viewer', { rules: { species: 'hash(16)', body_mass_g: 'generalize(1000)' }, public: ['island'], quasi_identifiers: ['island', 'body_mass_g'] });
    await admin.masking.setRoles('ann', ['viewer']);
    const sample = await analyst.maskedSample('penguins', { rows: 5 });
    const species = sample.columns.findIndex((c) => c.name === 'species');
    for (const row of sample.rows) expect(row[species]).toMatch(/^[0-9a-f]{16}$/);
    const job = await analyst.waitForJob((await analyst.maskedExport('penguins', { format: 'parquet', k: 5 })).jobId);
    const result = job.result as MaskedExportResult;
    expect(result).toMatchObject({ route: 'engine', format: 'parquet', kAnonymity: { requiredK: 5 } });
    expect(result.rows + result.suppressedRows).toBe(344);
    expect(new TextDecoder().decode((await analyst.downloadResult(job.id, 'parquet')).slice(0, 4))).toBe('PAR1');
    const everything = [...responses, ...services.flatMap((s) => s.output)].join('\n');
    expect(everything.includes(SECRET)).toBe(false);
  });
});
