// End to end, embedded: DP synthetic data as a job. The charge is exactly MST's cost and lowers the
// budget by exactly that; the rows download as CSV and Parquet; the derived dataset answers its owner's
// queries exactly and for free, and nobody else's; a grant too small is refused before any data is read;
// the CLI writes the file.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@veil/cli';
import { dpSqlPlanner } from '@veil/query-execution';
import { loadConfig } from '@veil/service-config';
import { mstCost } from '@veil/synthesizer';
import { VeilClient } from '@veil/veil-client';
import type { DerivedAnswer, SyntheticResult } from '@veil/veil-client';
import { startEmbedded } from './server.js';
import type { EmbeddedVeil } from './server.js';

let veil: EmbeddedVeil;
let dataDir: string;
let admin: VeilClient;
let alice: VeilClient;
let aliceKey: string;
let bob: VeilClient;
let first: SyntheticResult & { jobId: string };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'veil-synth-'));
  veil = await startEmbedded(loadConfig('embedded', { PORT: '0', VEIL_DATA_DIR: dataDir }), dpSqlPlanner());
  admin = new VeilClient({ server: veil.url, apiKey: veil.firstStart.adminKey! });
  await admin.admin.createUser('alice', 'analyst');
  await admin.admin.createUser('bob', 'analyst');
  aliceKey = (await admin.admin.createKey('alice')).key;
  alice = new VeilClient({ server: veil.url, apiKey: aliceKey });
  bob = new VeilClient({ server: veil.url, apiKey: (await admin.admin.createKey('bob')).key });
  await admin.admin.setGrant('alice', 'penguins', { epsilon: 3, delta: '1e-6' });
  await admin.admin.setGrant('bob', 'penguins', { epsilon: '0.5', delta: '1e-6' });
});

afterAll(async () => {
  await veil?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('synthetic data, end to end', () => {
  it('charges exactly MST’s cost, once, and reports progress to the end', async () => {
    const before = await alice.budget('penguins');
    const progress: number[] = [];
    first = await alice.synthesizeAndWait('penguins', { epsilon: 1, delta: '1e-9', rows: 200 }, { onProgress: (f) => progress.push(f) });
    const expected = mstCost('1', '1e-9');
    for (const field of ['epsilon', 'delta', 'rho', 'rhoDelta'] as const) expect(new Decimal(first.charge[field]).equals(expected[field])).toBe(true);
    expect(first.rows).toBe(200);
    expect([...first.columns].sort()).toEqual(['beak_depth_mm', 'beak_length_mm', 'body_mass_g', 'flipper_length_mm', 'island', 'sex', 'species']);
    expect(first.model.tree).toHaveLength(6);
    expect(progress.at(-1)).toBe(1);

    const after = await alice.budget('penguins');
    expect(new Decimal(before.remaining.rho!).minus(expected.rho).equals(after.remaining.rho!)).toBe(true);
    expect(after.spent.rho).toBe(first.charge.rho);
    expect(after.reserved.rho).toBe('0');
    expect(first.remaining).toEqual(after.remaining);
    const job = await alice.job(first.jobId);
    expect(job).toMatchObject({ kind: 'synthetic', status: 'succeeded', progress: 1 });
    expect((await alice.archive())[0]).toMatchObject({ dataset: 'penguins', charge: first.charge, error: null });
  });

  it('serves the rows as CSV and as Parquet, to the job’s owner only', async () => {
    const csv = new TextDecoder().decode(await alice.downloadResult(first.jobId, 'csv'));
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(first.columns.join(','));
    expect(lines).toHaveLength(201);
    const species = first.columns.indexOf('species');
    const values = new Set(lines.slice(1).map((l) => l.split(',')[species]));
    expect([...values].every((v) => ['Adelie', 'Chinstrap', 'Gentoo'].includes(v!))).toBe(true);

    const parquet = await alice.downloadResult(first.jobId, 'parquet');
    expect(new TextDecoder().decode(parquet.slice(0, 4))).toBe('PAR1');
    const file = join(dataDir, 'check.parquet');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, parquet));
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    const reader = await connection.runAndReadAll(`SELECT COUNT(*)::INTEGER, COUNT(DISTINCT species)::INTEGER FROM read_parquet('${file}')`);
    expect(reader.getRows()[0]![0]).toBe(200);
    connection.closeSync();
    duck.closeSync();

    await expect(bob.downloadResult(first.jobId, 'csv')).rejects.toMatchObject({ status: 404 });
    await expect(alice.downloadResult(first.jobId, 'json' as 'csv')).rejects.toMatchObject({ status: 422 });
  });

  it('registers a derived dataset its owner queries exactly and at no charge', async () => {
    expect(first.dataset).toMatch(/^penguins__synthetic_[0-9a-f]{8}$/);
    expect((await alice.datasets()).map((d) => d.name)).toContain(first.dataset);
    const metadata = await alice.metadata(first.dataset);
    expect(Object.keys(metadata.metadata.columns).sort()).toEqual([...first.columns].sort());
    expect(metadata).toMatchObject({ rows: 200 });
    expect(metadata.metadata).not.toHaveProperty('source');
    await expect(bob.metadata(first.dataset)).rejects.toMatchObject({ status: 404 });
    const before = await alice.budget('penguins');
    const answer = (await alice.query(first.dataset, { sql: 'SELECT species, COUNT(*) AS n FROM dataset GROUP BY species ORDER BY species', epsilon: 1 })) as unknown as DerivedAnswer;
    expect(answer.exact).toBe(true);
    expect(answer.charge).toEqual({ epsilon: '0', delta: '0', rho: '0', rhoDelta: '0' });
    expect(answer.derivedFrom).toBe('penguins');
    expect(answer.rows.reduce((sum, row) => sum + (row[1] as number), 0)).toBe(200);
    expect((await alice.budget('penguins')).spent).toEqual(before.spent);
    // The same subset as DP queries: anything else is refused with the construct named.
    await expect(alice.query(first.dataset, { sql: 'SELECT * FROM dataset', epsilon: 1 })).rejects.toMatchObject({ status: 400, code: 'bad_query' });
    // Nobody else sees it, exactly as for a dataset that does not exist.
    await expect(bob.query(first.dataset, { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 1 })).rejects.toMatchObject({ status: 404 });
    expect((await bob.datasets()).map((d) => d.name)).not.toContain(first.dataset);
  });

  it('refuses a request the grant cannot cover before touching the data, charging nothing', async () => {
    const before = await bob.budget('penguins');
    await expect(bob.synthesize('penguins', { epsilon: 1, delta: '1e-9' })).rejects.toMatchObject({ status: 403, code: 'budget_exhausted' });
    const after = await bob.budget('penguins');
    expect(after.spent).toEqual(before.spent);
    expect(after.reserved).toEqual(before.reserved);
    expect((await bob.archive())[0]).toMatchObject({ charge: null, error: { code: 'budget_exhausted' } });
  });

  it('rejects bad requests with the field named', async () => {
    await expect(alice.synthesize('penguins', { epsilon: 1, delta: 0 })).rejects.toMatchObject({ status: 422 });
    await expect(alice.synthesize('penguins', { epsilon: 1, delta: '1e-9', columns: ['nope'] })).rejects.toMatchObject({ status: 422 });
    await expect(alice.synthesize('penguins', { epsilon: 1, delta: '1e-9', method: 'pategan' as 'mst' })).rejects.toMatchObject({ status: 422 });
    await expect(alice.synthesize('nope', { epsilon: 1, delta: '1e-9' })).rejects.toMatchObject({ status: 404 });
  });

  it('veil synth writes the file and names the derived dataset', async () => {
    let out = '';
    let err = '';
    const file = join(dataDir, 'cli-synthetic.csv');
    const code = await runCli(['synth', 'penguins', '--epsilon', '0.5', '--delta', '1e-9', '--rows', '50', '--columns', 'species,island,sex', '--out', file], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: { VEIL_SERVER: veil.url, VEIL_API_KEY: aliceKey, VEIL_CONFIG: join(dataDir, 'cli.json') },
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/50 synthetic rows of species, island, sex written to/);
    expect(out).toMatch(/derived dataset: penguins__synthetic_[0-9a-f]{8}/);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines[0]!.split(',').sort()).toEqual(['island', 'sex', 'species']);
    expect(lines).toHaveLength(51);

    const derived = /derived dataset: (\S+)/.exec(out)![1]!;
    out = '';
    const query = await runCli(['query', derived, 'SELECT COUNT(*) AS n FROM dataset', '-e', '1'], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: { VEIL_SERVER: veil.url, VEIL_API_KEY: aliceKey, VEIL_CONFIG: join(dataDir, 'cli.json') },
    });
    expect(err).toBe('');
    expect(query).toBe(0);
    expect(out).toMatch(/n\n\S+\n\s*50\n/);
    expect(out).toContain('exact answer on synthetic data: no charge');
  });
});
