// End to end, embedded: the real Nest app on an ephemeral port, PGlite in a temp dir, DuckDB over the
// bundled penguins CSV. An admin creates an analyst and a grant through the admin API; the analyst queries
// through the SDK; the answer's shape, the exact budget arithmetic, the archive and an idempotent retry hold.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@veil/cli';
import { dpSqlPlanner } from '@veil/query-execution';
import { API_DEPS } from '@veil/query-api';
import type { ApiDeps } from '@veil/query-api';
import { loadConfig } from '@veil/service-config';
import { VeilApiError, VeilClient } from '@veil/veil-client';
import { startEmbedded } from './server.js';
import type { EmbeddedVeil } from './server.js';

let veil: EmbeddedVeil;
let dataDir: string;
let admin: VeilClient;
let analyst: VeilClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'veil-e2e-'));
  veil = await startEmbedded(loadConfig('embedded', { PORT: '0', VEIL_DATA_DIR: dataDir }), dpSqlPlanner());
  admin = new VeilClient({ server: veil.url, apiKey: veil.firstStart.adminKey! });
});

afterAll(async () => {
  await veil?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded Veil, end to end', () => {
  it('created the admin key once, readable by its owner only, and registered the demo dataset', async () => {
    expect(veil.firstStart.adminKey).toMatch(/^veil_/);
    expect((await stat(veil.firstStart.adminKeyFile)).mode & 0o777).toBe(0o600);
    expect(veil.firstStart.registered).toEqual(['penguins']);
    expect((await admin.admin.datasets()).map((d) => d.name)).toEqual(['penguins']);
  });

  it('lets an admin create an analyst, a key and a grant', async () => {
    await admin.admin.createUser('alice', 'analyst');
    const { key } = await admin.admin.createKey('alice');
    analyst = new VeilClient({ server: veil.url, apiKey: key });
    const budget = await admin.admin.setGrant('alice', 'penguins', { epsilon: '2', delta: '1e-6' });
    expect(budget.mode).toBe('zcdp');
    expect(await analyst.datasets()).toEqual([expect.objectContaining({ name: 'penguins', rows: 344 })]);
  });

  it('answers a DP query and lowers the budget by exactly the charge', async () => {
    const before = await analyst.budget('penguins');
    const answer = await analyst.query('penguins', { sql: 'SELECT species, COUNT(*) AS n FROM dataset GROUP BY species', epsilon: '0.25' }, { idempotencyKey: 'first-query' });
    expect(answer.columns).toEqual(['species', 'n']);
    expect(answer.rows.map((r) => r[0])).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    for (const row of answer.rows) expect(Number.isInteger(row[1])).toBe(true);
    expect(answer.accuracy[0]![1]).toMatchObject({ mechanism: 'discrete-laplace', ci95: expect.any(Array) });
    expect(answer.charge).toEqual({ epsilon: '0.25', delta: '0', rho: '0.03125', rhoDelta: '0' });

    const after = await analyst.budget('penguins');
    expect(new Decimal(before.remaining.rho!).minus(answer.charge.rho).toString()).toBe(new Decimal(after.remaining.rho!).toString());
    expect(after.spent.rho).toBe('0.03125');
    expect(answer.remaining).toEqual(after.remaining);

    const archive = await analyst.archive();
    expect(archive[0]).toMatchObject({ dataset: 'penguins', sql: 'SELECT species, COUNT(*) AS n FROM dataset GROUP BY species', charge: answer.charge, error: null });
  });

  it('returns the first answer to a retry with the same Idempotency-Key and charges once', async () => {
    const before = await analyst.budget('penguins');
    const request = { sql: 'SELECT island, COUNT(*) AS n FROM dataset GROUP BY island', epsilon: 0.1 };
    const first = await analyst.query('penguins', request, { idempotencyKey: 'retry-me' });
    const again = await analyst.query('penguins', request, { idempotencyKey: 'retry-me' });
    expect(again.rows).toEqual(first.rows);
    expect(again.jobId).toBe(first.jobId);
    const after = await analyst.budget('penguins');
    expect(new Decimal(before.remaining.rho!).minus(first.charge.rho).equals(after.remaining.rho!)).toBe(true);

    const conflict = await analyst.query('penguins', { ...request, epsilon: 0.2 }, { idempotencyKey: 'retry-me' }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(VeilApiError);
    expect(conflict).toMatchObject({ status: 409, code: 'idempotency_conflict' });
  });

  it('gives free estimates and dummy rows, and refuses what it must with the right codes', async () => {
    const before = await analyst.budget('penguins');
    const estimate = await analyst.estimate('penguins', { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 1 });
    expect(estimate.charge.rho).toBe('0.5');
    const dummy = await analyst.dummy('penguins', { rows: 5, seed: 1 });
    expect(dummy.rows).toHaveLength(5);
    expect((await analyst.budget('penguins')).spent).toEqual(before.spent);

    await expect(analyst.query('penguins', { sql: 'SELECT * FROM dataset a JOIN dataset b ON a.x = b.x', epsilon: 0.1 })).rejects.toMatchObject({ status: 400, code: 'bad_query' });
    await expect(analyst.query('penguins', { sql: 'SELECT COUNT(*) FROM dataset', epsilon: -1 })).rejects.toMatchObject({ status: 422 });
    await expect(analyst.query('penguins', { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 50 })).rejects.toMatchObject({ status: 403, code: 'budget_exhausted' });
    await expect(analyst.budget('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('answers 202 with a job when the query outlasts the wait, and the SDK follows it to the answer', async () => {
    const settings = veil.app.get<ApiDeps>(API_DEPS).settings;
    const wait = settings.syncWaitMs;
    settings.syncWaitMs = 0;
    try {
      const accepted = await analyst.query('penguins', { sql: 'SELECT sex, COUNT(*) AS n FROM dataset GROUP BY sex', epsilon: 0.1 }, { wait: false });
      const jobId = accepted.jobId;
      const progress: number[] = [];
      const job = await analyst.waitForJob(jobId, { onProgress: (p) => progress.push(p) });
      expect(job.status).toBe('succeeded');
      expect(job.result).toMatchObject({ columns: ['sex', 'n'], charge: { epsilon: '0.1' } });
      expect(progress.at(-1)).toBe(1);
      const followed = await analyst.query('penguins', { sql: 'SELECT COUNT(*) AS n FROM dataset', epsilon: 0.1 });
      expect(followed.columns).toEqual(['n']);
    } finally {
      settings.syncWaitMs = wait;
    }
  });

  it('shows a job to its owner only', async () => {
    const answer = await analyst.query('penguins', { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 0.1 });
    const job = await analyst.job(answer.jobId);
    expect(job.status).toBe('succeeded');
    await expect(admin.job(answer.jobId)).rejects.toMatchObject({ status: 404 });
    const followed = await analyst.waitForJob(answer.jobId);
    expect(followed.status).toBe('succeeded');
  });
});

describe('the veil CLI against the embedded server', () => {
  async function cli(args: string[], apiKey: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(args, {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: { VEIL_SERVER: veil.url, VEIL_API_KEY: apiKey, VEIL_CONFIG: join(dataDir, 'cli.json') },
    });
    return { code, out, err };
  }

  it('queries as a table or JSON, shows the budget, and reports errors with their code', async () => {
    const { key } = await admin.admin.createKey('alice');
    const table = await cli(['query', 'penguins', 'SELECT island, COUNT(*) AS n FROM dataset GROUP BY island', '-e', '0.1'], key);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/island\s+n\n/);
    expect(table.out).toContain('Torgersen');
    expect(table.out).toMatch(/charge: ε 0\.1, δ 0 \(ρ 0\.005\)/);

    const json = await cli(['--json', 'budget', 'penguins'], key);
    expect(JSON.parse(json.out)).toMatchObject({ dataset: 'penguins', mode: 'zcdp' });

    const refused = await cli(['query', 'penguins', 'SELECT nope FROM dataset', '-e', '0.1'], key);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('error (bad_query)');

    const adminList = await cli(['--json', 'admin', 'users'], veil.firstStart.adminKey!);
    expect(JSON.parse(adminList.out).map((u: { name: string }) => u.name)).toContain('alice');
  });
});
