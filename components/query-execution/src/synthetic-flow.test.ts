// The ledger protocol of synthetic-data jobs (DESIGN §4) on a real store, ledger and DuckDB: the charge
// is committed once data has been read (also when storing the result fails), released when the data was
// never touched (source unavailable, cancelled before reading), and a job a crashed worker had started is
// charged once and never run again.
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
import type { BudgetLedgerPort } from './ports.js';
import { SyntheticFlow } from './synthetic-flow.js';
import type { SyntheticRequest } from './synthetic-flow.js';

let dir: string;
let store: AdminStore;
let ledger: BudgetLedgerPort;
let adapters: AdapterPool;
let user: User;
let dataset: Dataset;
const request: SyntheticRequest = { method: 'mst', epsilon: '1', delta: '1e-9', rows: 20 };

const flowWith = (dataDir: string) => new SyntheticFlow({ store, ledger, adapters, dataDir, reservationTtlMs: 60_000, queryTimeoutMs: 30_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-synth-flow-'));
  const rows = Array.from({ length: 60 }, (_, i) => `${['a', 'b', 'c'][i % 3]},${i % 2 === 0}`);
  await writeFile(join(dir, 'data.csv'), `kind,flag\n${rows.join('\n')}\n`);
  store = await openStore({ kind: 'pglite', dataDir: 'memory://' });
  ledger = ledgerPort(createBudgetLedger({ sql: store.sql }));
  adapters = new AdapterPool({ dataDir: dir });
  user = await store.users.create({ name: 'ana', role: 'analyst' });
  const metadata = { source: { kind: 'file', path: 'data.csv' }, columns: { kind: { type: 'string', categories: ['a', 'b', 'c'] }, flag: { type: 'bool' } } };
  dataset = await store.datasets.create({ name: 'things', metadata, ownerId: user.id });
  await ledger.setGrant(user.id, dataset.id, { epsilon: '10', delta: '1e-6' });
});

afterAll(async () => {
  await adapters?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const spentRho = async () => (await ledger.getBudget(user.id, dataset.id))!.spent.rho;
const reservedRho = async () => (await ledger.getBudget(user.id, dataset.id))!.reserved.rho;

describe('synthetic-data jobs and the ledger', () => {
  it('commits the charge and stores the result', async () => {
    const flow = flowWith(dir);
    const before = await spentRho();
    const job = await flow.admit(user.id, 'things', request);
    expect(await reservedRho()).not.toBe('0');
    const result = await flow.run(job.id, new AbortController().signal);
    expect(result.rows).toBe(20);
    expect(await reservedRho()).toBe('0');
    expect(Number(await spentRho()) - Number(before)).toBeCloseTo(Number(result.charge.rho), 12);
    // A second run of the same job returns the stored result and charges nothing more.
    const spent = await spentRho();
    expect(await flow.run(job.id, new AbortController().signal)).toEqual(result);
    expect(await spentRho()).toBe(spent);
  });

  it('keeps the charge when storing the result fails after the data was read', async () => {
    const notADirectory = join(dir, 'data.csv');
    const flow = flowWith(notADirectory);
    const before = await spentRho();
    const job = await flow.admit(user.id, 'things', request);
    await expect(flow.run(job.id, new AbortController().signal)).rejects.toMatchObject({ code: 'answer_lost' });
    expect(await spentRho()).not.toBe(before);
    expect(await reservedRho()).toBe('0');
    expect((await store.jobs.get(job.id))!.status).toBe('failed');
  });

  it('releases the reservation when the data was never read', async () => {
    const before = await spentRho();
    const cancelled = new AbortController();
    cancelled.abort();
    const flow = flowWith(dir);
    const job = await flow.admit(user.id, 'things', request);
    await expect(flow.run(job.id, cancelled.signal)).rejects.toBeInstanceOf(QueryError);
    expect(await spentRho()).toBe(before);
    expect(await reservedRho()).toBe('0');

    const missing = await store.datasets.create({ name: 'missing', metadata: { source: { kind: 'file', path: 'nope.csv' }, columns: { kind: { type: 'string', categories: ['a'] } } }, ownerId: user.id });
    await ledger.setGrant(user.id, missing.id, { epsilon: '10', delta: '1e-6' });
    const unavailable = await flow.admit(user.id, 'missing', { ...request, columns: ['kind'] });
    await expect(flow.run(unavailable.id, new AbortController().signal)).rejects.toMatchObject({ code: 'dataset_unavailable' });
    expect((await ledger.getBudget(user.id, missing.id))!.spent.rho).toBe('0');
    expect((await ledger.getBudget(user.id, missing.id))!.reserved.rho).toBe('0');
  });

  it('charges a job a crashed worker had started, once, and never runs it again', async () => {
    const flow = flowWith(dir);
    const job = await flow.admit(user.id, 'things', request);
    const held = await ledger.reserve({ userId: user.id, datasetId: dataset.id, cost: (job.params as { cost: never }).cost, key: job.id, ttlMs: 60_000 });
    await ledger.markRunning(held.reservationId, 60_000); // the crashed attempt had started reading
    const before = await spentRho();
    await expect(flow.run(job.id, new AbortController().signal)).rejects.toMatchObject({ code: 'answer_lost' });
    expect(Number(await spentRho()) - Number(before)).toBeCloseTo(Number(held.cost.rho), 12);
    expect(await reservedRho()).toBe('0');
  });

  it('refuses, before anything is reserved or read, what the grant cannot cover', async () => {
    const flow = flowWith(dir);
    const before = await spentRho();
    await expect(flow.admit(user.id, 'things', { ...request, epsilon: '50' })).rejects.toMatchObject({ code: 'budget_exhausted' });
    await expect(flow.admit(user.id, 'things', { ...request, delta: '0' })).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await spentRho()).toBe(before);
    expect(await reservedRho()).toBe('0');
  });
});
