// The short-query path of the query flow on a real store, ledger, planner and DuckDB: a job admitted to
// start at once is reserved running, answered before its final writes land and then charged and archived
// exactly once; one that does not run after all gets its charge back; a dataset known from an earlier
// query is read again alongside the reservation without telling a caller without a grant that it exists.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@veil/admin-store';
import type { AdminStore, Dataset, User } from '@veil/admin-store';
import { createBudgetLedger } from '@veil/budget-ledger';
import { AdapterPool } from './adapter-pool.js';
import { QueryError } from './errors.js';
import { ledgerPort } from './ledger-binding.js';
import { dpSqlPlanner } from './planner-binding.js';
import type { BudgetLedgerPort, PrivacyRequest } from './ports.js';
import { QueryFlow } from './query-flow.js';

let dir: string;
let store: AdminStore;
let ledger: BudgetLedgerPort;
let adapters: AdapterPool;
let flow: QueryFlow;
let analyst: User;
let outsider: User;
let dataset: Dataset;
const SQL = 'SELECT kind, COUNT(*) FROM dataset GROUP BY kind';
const privacy: PrivacyRequest = { epsilon: '0.5', delta: '0' };
const metadata = (upper: number) => ({ source: { kind: 'file', path: 'data.csv' }, columns: { kind: { type: 'string', categories: ['a', 'b', 'c'] }, size: { type: 'int', lower: 0, upper } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-query-flow-'));
  const rows = Array.from({ length: 90 }, (_, i) => `${['a', 'b', 'c'][i % 3]},${i}`);
  await writeFile(join(dir, 'data.csv'), `kind,size\n${rows.join('\n')}\n`);
  store = await openStore({ kind: 'pglite', dataDir: 'memory://' });
  ledger = ledgerPort(createBudgetLedger({ sql: store.sql }));
  adapters = new AdapterPool({ dataDir: dir });
  flow = new QueryFlow({ store, ledger, planner: dpSqlPlanner(), adapters, reservationTtlMs: 60_000, queryTimeoutMs: 30_000 });
  analyst = await store.users.create({ name: 'ana', role: 'analyst' });
  outsider = await store.users.create({ name: 'otto', role: 'analyst' });
  dataset = await store.datasets.create({ name: 'things', metadata: metadata(100), ownerId: analyst.id });
  await ledger.setGrant(analyst.id, dataset.id, { epsilon: '10', delta: '0', mode: 'basic' });
});

afterAll(async () => {
  await adapters?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const budget = async () => (await ledger.getBudget(analyst.id, dataset.id))!;
const live = () => new AbortController().signal;

describe('the short-query path', () => {
  it('reserves a job that starts now as running, answers, then commits and archives it once', async () => {
    const before = await budget();
    const admission = await flow.admit(analyst.id, 'things', SQL, privacy, undefined, { startsNow: true });
    expect(admission.job.status).toBe('running');
    expect((await budget()).reserved.epsilon).toBe('0.5');

    const answer = await flow.run(admission.job.id, live(), admission.reservation);
    expect(answer.rows).toHaveLength(3);
    expect(answer.remaining).toMatchObject({ epsilon: '9.5', delta: '0' });
    expect(JSON.parse(flow.answerJson(answer)!)).toEqual(JSON.parse(JSON.stringify(answer)));

    await flow.jobSettled(admission.job.id);
    const after = await budget();
    expect(after.reserved.epsilon).toBe('0');
    expect(Number(after.spent.epsilon) - Number(before.spent.epsilon)).toBe(0.5);
    expect(await store.jobs.get(admission.job.id)).toMatchObject({ status: 'succeeded', result: JSON.parse(JSON.stringify(answer)) });
    const archived = (await store.archive.listForUser(analyst.id)).filter((e) => e.queryText === SQL && e.error === null);
    expect(archived).toHaveLength(1);
  });

  it('gives the charge back when an admitted job does not run after all', async () => {
    const before = await budget();
    const withdrawn = await flow.admit(analyst.id, 'things', SQL, privacy, undefined, { startsNow: true });
    await flow.withdraw(withdrawn, new QueryError('cancelled', 'the server is shutting down'));
    expect(await store.jobs.get(withdrawn.job.id)).toMatchObject({ status: 'cancelled' });

    // A worker stopping before it reads data releases the running reservation rather than leave it to the sweeper.
    const stopping = await flow.admit(analyst.id, 'things', SQL, privacy, undefined, { startsNow: true });
    const aborted = new AbortController();
    aborted.abort();
    await expect(flow.run(stopping.job.id, aborted.signal, stopping.reservation)).rejects.toMatchObject({ code: 'cancelled' });
    expect(await store.jobs.get(stopping.job.id)).toMatchObject({ status: 'failed' });

    expect(await budget()).toMatchObject({ spent: before.spent, reserved: { epsilon: '0' } });
  });

  it('plans on a known dataset but answers a caller without a grant with the same 404, charging and archiving nothing', async () => {
    await flow.grantedDataset(analyst.id, 'things'); // known to this process from now on
    const refused = await flow.admit(outsider.id, 'things', SQL, privacy).catch((error: unknown) => error);
    const missing = await flow.admit(outsider.id, 'nothing', SQL, privacy).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'not_found', message: 'no dataset named "things" is available to you' });
    expect(missing).toMatchObject({ code: 'not_found', message: 'no dataset named "nothing" is available to you' });
    expect(await store.archive.listForUser(outsider.id)).toEqual([]);
  });

  it('plans again when the metadata changed since the dataset was known', async () => {
    await flow.grantedDataset(analyst.id, 'things');
    await store.datasets.update('things', { metadata: metadata(1000) });
    const admission = await flow.admit(analyst.id, 'things', 'SELECT SUM(size) FROM dataset', privacy, undefined, { startsNow: true });
    const answer = await flow.run(admission.job.id, live(), admission.reservation);
    // The sum's 95% interval follows the new bound: about 12,000 wide (scale 1000/0.5), not 1,200 (100/0.5).
    const accuracy = (answer.accuracy as { ci95: [number, number] }[][])[0]![0]!;
    expect(accuracy.ci95[1] - accuracy.ci95[0]).toBeGreaterThan(5_000);
    await flow.jobSettled(admission.job.id);
  });
});
