// End to end, embedded: masking. An admin sets a policy per dataset and role and assigns roles; a user
// holding the role gets masked samples and masked exports (CSV, Parquet) with a k-anonymity report, never
// charged, needing no DP grant. Security: no route gives a masked-role user an unmasked value, users
// without a matching policy get the 404 of a missing dataset, and the masking secret appears in no
// response, file or log line.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@veil/cli';
import { dpSqlPlanner } from '@veil/query-execution';
import { loadConfig } from '@veil/service-config';
import { VeilClient } from '@veil/veil-client';
import type { MaskedExportResult } from '@veil/veil-client';
import { startEmbedded } from './server.js';
import type { EmbeddedVeil } from './server.js';

const PEOPLE = [
  ['Zebulon Quartermaine', 'zebulon.q@example.org', '123-45-6789', 34, 'north', 81234.5],
  ['Ysolde Fairweather', 'ysolde.f@example.org', '987-65-4321', 37, 'north', 90111.25],
  ['Xavier Montgomery', 'xavier.m@example.org', '555-12-3456', 52, 'south', 120456.75],
  ['Wilhelmina Ashdown', 'wilhelmina.a@example.org', '222-33-4444', 58, 'south', 101999.5],
  ['Valentin Oakenshield', 'valentin.o@example.org', '777-88-9999', 71, 'east', 65432.1],
  ['Ulrika Thistlewood', 'ulrika.t@example.org', '111-22-3333', 23, 'west', 45678.9],
] as const;
const SECRET_VALUES = PEOPLE.flatMap((p) => [p[0], p[0].split(' ')[1]!, p[1], p[2], String(p[5])]);

const METADATA = {
  source: { kind: 'file', path: 'people.csv' },
  columns: {
    name: { type: 'string' },
    email: { type: 'string' },
    ssn: { type: 'string' },
    age: { type: 'int', lower: 0, upper: 100 },
    region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
    salary: { type: 'float', lower: 0, upper: 500000 },
  },
};
const POLICY = {
  rules: { name: 'pseudo_last_name()', email: 'partial_email()', ssn: "partial(0, '***-**-', 4)", age: 'generalize(10)' },
  public: ['region'],
  quasi_identifiers: ['age', 'region'],
};

let veil: EmbeddedVeil;
let dataDir: string;
let admin: VeilClient;
let carol: VeilClient;
let carolKey: string;
let dave: VeilClient;
let secret: string;
const seen: string[] = [];
let restoreOutput: () => void;

/** Every response body the tests receive and everything the process prints, for the secret check. */
function captureOutput(): () => void {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => (seen.push(String(chunk)), out(chunk, ...(rest as [])))) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => (seen.push(String(chunk)), err(chunk, ...(rest as [])))) as typeof process.stderr.write;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  seen.push(await response.clone().text());
  return response;
};

beforeAll(async () => {
  restoreOutput = captureOutput();
  dataDir = await mkdtemp(join(tmpdir(), 'veil-mask-'));
  await writeFile(join(dataDir, 'people.csv'), `name,email,ssn,age,region,salary\n${PEOPLE.map((p) => p.join(',')).join('\n')}\n`);
  veil = await startEmbedded(loadConfig('embedded', { PORT: '0', VEIL_DATA_DIR: dataDir }), dpSqlPlanner());
  secret = (await readFile(join(dataDir, 'masking.secret'), 'utf8')).trim();
  admin = new VeilClient({ server: veil.url, apiKey: veil.firstStart.adminKey!, fetch: recordingFetch });
  await admin.admin.createDataset('people', METADATA);
  for (const name of ['carol', 'dave']) await admin.admin.createUser(name, 'analyst');
  carolKey = (await admin.admin.createKey('carol')).key;
  carol = new VeilClient({ server: veil.url, apiKey: carolKey, fetch: recordingFetch });
  dave = new VeilClient({ server: veil.url, apiKey: (await admin.admin.createKey('dave')).key, fetch: recordingFetch });
});

afterAll(async () => {
  restoreOutput?.();
  await veil?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function expectNoUnmaskedValue(text: string): void {
  for (const value of SECRET_VALUES) expect(text, `unmasked value ${value}`).not.toContain(value);
}

describe('masking policies and roles (admin)', () => {
  it('made the secret on first start, readable by its owner only', async () => {
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(dataDir, 'masking.secret'))).mode & 0o777).toBe(0o600);
  });

  it('sets, reads back and validates a policy per role', async () => {
    const view = await admin.masking.setPolicy('people', 'support', POLICY);
    expect(view).toMatchObject({ dataset: 'people', role: 'support', withheld: ['salary'] });
    // Columns follow the stored metadata's order (JSONB orders object keys), so compare as sets.
    expect(view.columns.map((c) => c.name).sort()).toEqual(['age', 'email', 'name', 'region', 'ssn']);
    expect((await admin.masking.policy('people', 'support')).policy).toEqual(POLICY);
    await admin.masking.setPolicy('people', 'auditor', { rules: { age: 'generalize(10)' }, public: ['region'], quasi_identifiers: ['age', 'region'] });

    const bad = await admin.masking.setPolicy('people', 'support', { rules: { salary: 'partial_email()', nope: 'null' } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 422, code: 'invalid_request' });
    expect(JSON.stringify((bad as { details: unknown }).details)).toMatch(/rules\.(salary|nope)/);
    await expect(admin.masking.setPolicy('nope', 'support', POLICY)).rejects.toMatchObject({ status: 404 });
    await expect(admin.masking.policy('people', 'nobody')).rejects.toMatchObject({ status: 404 });
    await expect(carol.masking.setPolicy('people', 'support', POLICY)).rejects.toMatchObject({ status: 403 });
  });

  it('assigns roles to users', async () => {
    expect(await admin.masking.setRoles('carol', ['support', 'support'])).toEqual({ user: 'carol', roles: ['support'] });
    expect(await admin.masking.roles('carol')).toEqual({ user: 'carol', roles: ['support'] });
    await expect(admin.masking.setRoles('carol', ['bad role'])).rejects.toMatchObject({ status: 422 });
    await expect(admin.masking.setRoles('nobody', ['support'])).rejects.toMatchObject({ status: 404 });
    await expect(carol.masking.setRoles('carol', ['auditor'])).rejects.toMatchObject({ status: 403 });
    const audit = await admin.admin.audit();
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['masking.policy.set', 'user.roles.set']));
  });
});

describe('masked access', () => {
  it('gives a masked sample with masked values only, without a grant and without charge', async () => {
    const sample = await carol.maskedSample('people', { rows: 10 });
    expect(sample.role).toBe('support');
    const names = sample.columns.map((c) => c.name);
    expect([...names].sort()).toEqual(['age', 'email', 'name', 'region', 'ssn']);
    expect(sample.rows).toHaveLength(PEOPLE.length);
    const at = (row: unknown[], column: string) => row[names.indexOf(column)];
    for (const row of sample.rows) {
      expect(at(row, 'email')).toMatch(/^[a-z]{2}\*+@ex\*+\.org$/);
      expect(at(row, 'ssn')).toMatch(/^\*\*\*-\*\*-\d{4}$/);
      expect(Number(at(row, 'age')) % 10).toBe(0);
      expect(['north', 'south', 'east', 'west']).toContain(at(row, 'region'));
    }
    expect(sample.kAnonymity).toMatchObject({ quasiIdentifiers: ['age', 'region'], rows: PEOPLE.length, k: 1 });
    expectNoUnmaskedValue(JSON.stringify(sample));
  });

  it('exports masked CSV and Parquet as jobs with a k-anonymity report, suppressing small groups', async () => {
    const accepted = await carol.maskedExport('people', { format: 'csv', k: 2 });
    const job = await carol.waitForJob(accepted.jobId);
    const result = job.result as MaskedExportResult;
    expect(job.kind).toBe('masked-export');
    expect(result.kAnonymity).toMatchObject({ requiredK: 2, kReleased: 2 });
    expect(result.rows + result.suppressedRows).toBe(PEOPLE.length);
    expect(result.rows).toBe(4); // (30, north) ×2 and (50, south) ×2; the rest are groups of one
    const csv = new TextDecoder().decode(await carol.downloadResult(accepted.jobId, 'csv'));
    expect(csv.split('\n')[0]!.split(',').sort()).toEqual(['age', 'email', 'name', 'region', 'ssn']);
    expect(csv.trim().split('\n')).toHaveLength(5);
    expectNoUnmaskedValue(csv);
    await expect(carol.downloadResult(accepted.jobId, 'parquet')).rejects.toMatchObject({ status: 404 });

    const parquetJob = await carol.waitForJob((await carol.maskedExport('people', { format: 'parquet' })).jobId);
    expect((parquetJob.result as MaskedExportResult).rows).toBe(PEOPLE.length);
    const parquet = await carol.downloadResult(parquetJob.id, 'parquet');
    expect(new TextDecoder().decode(parquet.slice(0, 4))).toBe('PAR1');
    expectNoUnmaskedValue(new TextDecoder('latin1').decode(parquet));

    // Pseudonyms are computed in TypeScript (stream route); a policy whose rules are all SQL runs in the engine.
    expect(result.route).toBe('stream');
    await admin.masking.setRoles('carol', ['support', 'auditor']);
    await expect(carol.maskedExport('people', { format: 'csv' })).rejects.toMatchObject({ status: 422, message: expect.stringContaining('role') });
    const engineJob = await carol.waitForJob((await carol.maskedExport('people', { format: 'parquet', role: 'auditor' })).jobId);
    expect(engineJob.result).toMatchObject({ route: 'engine', rows: PEOPLE.length, role: 'auditor' });
    await admin.masking.setRoles('carol', ['support']);

    await expect(carol.maskedExport('people', { format: 'csv', k: 0 })).rejects.toMatchObject({ status: 422 });
    await expect(dave.downloadResult(accepted.jobId, 'csv')).rejects.toMatchObject({ status: 404 });
  });

  it('never spends DP budget, and leaves DP routes as they are', async () => {
    await admin.admin.setGrant('carol', 'people', { epsilon: 1 });
    const before = await carol.budget('people');
    await carol.maskedSample('people', { rows: 3 });
    await carol.waitForJob((await carol.maskedExport('people', { format: 'csv' })).jobId);
    expect(await carol.budget('people')).toEqual(before);
    const answer = await carol.query('people', { sql: 'SELECT region, COUNT(*) AS n FROM dataset GROUP BY region', epsilon: '0.5' });
    expect(answer.charge.epsilon).toBe('0.5');
    expect(answer.accuracy[0]![1]).toMatchObject({ mechanism: 'discrete-laplace' });
  });
});

describe('security', () => {
  it('answers users without a matching policy exactly as for a dataset that does not exist', async () => {
    const refusal = (e: unknown) => e as { status: number; message: string };
    const missing = refusal(await dave.maskedSample('ghost').catch((e: unknown) => e));
    const denied = refusal(await dave.maskedSample('people').catch((e: unknown) => e));
    expect(denied.status).toBe(404);
    expect(denied.message).toBe(missing.message.replace('ghost', 'people'));
    await expect(dave.maskedExport('people', { format: 'csv' })).rejects.toMatchObject({ status: 404 });
    // A role with no policy on this dataset is no better than no role.
    await admin.masking.setRoles('dave', ['marketing']);
    await expect(dave.maskedSample('people')).rejects.toMatchObject({ status: 404 });
    // Naming a role one does not hold does not help either.
    await expect(dave.maskedSample('people', { role: 'support' })).rejects.toMatchObject({ status: 404 });
  });

  it('gives a masked-role user no unmasked value through any route', async () => {
    await admin.masking.setRoles('dave', ['support']);
    const responses: string[] = [];
    const probe = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${veil.url}${path}`, { ...init, headers: { authorization: `Bearer ${(await admin.admin.createKey('dave')).key}`, 'content-type': 'application/json', ...init.headers } });
      responses.push(await response.text());
      return response.status;
    };
    expect(await probe('/v1/datasets/people/metadata')).toBe(404);
    expect(await probe('/v1/datasets/people/dummy?rows=5')).toBe(404);
    expect(await probe('/v1/datasets/people/queries', { method: 'POST', body: JSON.stringify({ sql: 'SELECT COUNT(*) FROM dataset', epsilon: 1 }) })).toBe(404);
    expect(await probe('/v1/datasets/people/synthetic', { method: 'POST', body: JSON.stringify({ epsilon: 1, delta: '1e-9' }) })).toBe(404);
    expect(await probe('/v1/datasets/people/masked-sample?rows=50')).toBe(200);
    expect(await probe('/v1/datasets/people/masked-sample?rows=5&role=auditor')).toBe(404);
    expect(await probe('/v1/admin/datasets/people')).toBe(403);
    expect(await probe('/v1/admin/datasets/people/masking/support')).toBe(403);
    expect(await probe('/v1/datasets')).toBe(200);
    for (const text of responses) expectNoUnmaskedValue(text);
  });

  it('lets the CLI export masked data for a masked role', async () => {
    let out = '';
    let err = '';
    const file = join(dataDir, 'masked.csv');
    const code = await runCli(['mask', 'export', 'people', '--k', '2', '--out', file], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: { VEIL_SERVER: veil.url, VEIL_API_KEY: carolKey, VEIL_CONFIG: join(dataDir, 'cli.json') },
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/4 masked rows \(csv\) written to/);
    expect(out).toMatch(/k-anonymity over age, region: k = 2 \(required 2; 2 rows suppressed\)/);
    const csv = await readFile(file, 'utf8');
    expectNoUnmaskedValue(csv);
    seen.push(out, csv);

    out = '';
    const sample = await runCli(['mask', 'sample', 'people', '--rows', '3'], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: { VEIL_SERVER: veil.url, VEIL_API_KEY: carolKey, VEIL_CONFIG: join(dataDir, 'cli.json') },
    });
    expect(err).toBe('');
    expect(sample).toBe(0);
    expect(out).toMatch(/region/);
    expect(out).toMatch(/k-anonymity over age, region: k = 1/);
    expectNoUnmaskedValue(out);
    seen.push(out);
  });

  it('never shows the masking secret in a response, a file or a log line', async () => {
    const audit = await admin.admin.audit({ limit: 500 });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['masking.sample', 'masking.export']));
    seen.push(JSON.stringify(audit));
    expect(seen.length).toBeGreaterThan(20);
    for (const text of seen) expect(text.includes(secret)).toBe(false);
  });
});
