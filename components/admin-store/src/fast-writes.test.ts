// The raw-SQL hot-path writes land exactly as the Prisma repos would have written them (read back through
// the repos), on PGlite and on PostgreSQL.
import { createFreshDatabase, postgresTestUrl } from '@veil/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastWrites, JsonText, openStore, StoreError, type AdminStore, type Dataset, type User } from './index.js';

const METADATA = { source: { kind: 'postgres', connection: 'warehouse', table: 'public.visits' }, columns: { age: { type: 'int', lower: 0, upper: 100 } } };

function suite(open: () => Promise<{ store: AdminStore; cleanup: () => Promise<void> }>) {
  let store: AdminStore;
  let cleanup: () => Promise<void>;
  let user: User;
  let dataset: Dataset;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    user = await store.users.create({ name: 'ada', role: 'analyst' });
    dataset = await store.datasets.create({ name: 'visits', metadata: METADATA, ownerId: user.id });
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('creates, starts and finishes a job as the repo reads it', async () => {
    const writes = fastWrites(store.sql);
    const { job: created, datasetUpdatedAt } = await writes.createJob({ id: crypto.randomUUID(), kind: 'query', userId: user.id, datasetId: dataset.id, params: { sql: 'SELECT 1', n: 2 } });
    expect(created).toEqual(await store.jobs.get(created.id));
    expect(datasetUpdatedAt).toEqual(dataset.updatedAt);
    expect(created).toMatchObject({ status: 'queued', progress: 0, params: { sql: 'SELECT 1', n: 2 }, result: null, finishedAt: null });
    const conflict = await writes.createJob({ id: created.id, kind: 'query', userId: user.id }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(StoreError);
    expect((conflict as StoreError).code).toBe('conflict');

    expect(await writes.startJob(created.id)).toBe(true);
    expect(await store.jobs.get(created.id)).toMatchObject({ status: 'running', progress: 0, startedAt: expect.any(Date) });
    const result = { columns: ['a'], rows: [[1], ['x"y']], nested: { ok: true } };
    expect(await writes.finishJob(created.id, { status: 'succeeded', result })).toBe(true);
    expect(await store.jobs.get(created.id)).toMatchObject({ status: 'succeeded', progress: 1, result, error: null, finishedAt: expect.any(Date) });
    expect(await writes.finishJob('no-such-job', { status: 'failed', error: { code: 'x', message: 'y' } })).toBe(false);
    // A final job stays final: a late failure cannot overwrite the stored answer.
    expect(await writes.finishJob(created.id, { status: 'failed', error: { code: 'answer_lost', message: 'late' } })).toBe(false);
    expect(await store.jobs.get(created.id)).toMatchObject({ status: 'succeeded', result, error: null });
  });

  it('creates a job already running; finishes it and archives its outcome in one statement', async () => {
    const writes = fastWrites(store.sql);
    const { job: created } = await writes.createJob({ id: crypto.randomUUID(), kind: 'query', userId: user.id, datasetId: dataset.id, running: true });
    expect(created).toMatchObject({ status: 'running', progress: 0, startedAt: expect.any(Date), finishedAt: null });
    const result = { columns: ['a'], rows: [[1.5], [null]] };
    const entry = { userId: user.id, datasetId: dataset.id, queryText: 'SELECT 4', cost: { epsilon: '0.5' } };
    expect(await writes.finishJobAndArchive(created.id, { status: 'succeeded', result: new JsonText(JSON.stringify(result)) }, entry)).toBe(true);
    expect(await store.jobs.get(created.id)).toMatchObject({ status: 'succeeded', progress: 1, result });
    const archived = (await store.archive.listForUser(user.id)).find((e) => e.queryText === 'SELECT 4');
    expect(archived).toMatchObject({ cost: { epsilon: '0.5' }, result, error: null });

    const error = { code: 'timeout', message: 'too slow' };
    expect(await writes.finishJobAndArchive('no-such-job', { status: 'failed', error }, { ...entry, queryText: 'SELECT 5' })).toBe(false);
    expect((await store.archive.listForUser(user.id)).some((e) => e.queryText === 'SELECT 5')).toBe(false);
  });

  it('reads a dataset by name as the Prisma repo does', async () => {
    const writes = fastWrites(store.sql);
    expect(await writes.datasetByName(dataset.name)).toEqual(await store.datasets.get(dataset.name));
    expect(await writes.datasetByName('no_such_dataset')).toBeNull();
  });

  it('appends archive entries; a missing user or dataset is not_found', async () => {
    const writes = fastWrites(store.sql);
    const id = await writes.appendArchive({ userId: user.id, datasetId: dataset.id, queryText: 'SELECT 2', cost: { epsilon: '1' }, result: { rows: [[2]] } });
    const [entry] = await store.archive.listForUser(user.id);
    expect(entry).toMatchObject({ id, queryText: 'SELECT 2', cost: { epsilon: '1' }, result: { rows: [[2]] }, error: null });
    const missing = await writes.appendArchive({ userId: 'nobody', datasetId: dataset.id, queryText: 'SELECT 3' }).catch((e: unknown) => e);
    expect((missing as StoreError).code).toBe('not_found');
  });
}

describe('fast writes on PGlite', () => {
  suite(async () => {
    return { store: await openStore({ kind: 'pglite', dataDir: 'memory://' }), cleanup: async () => undefined };
  });
});

const postgres = postgresTestUrl();
describe.skipIf(!postgres.url)('fast writes on PostgreSQL', () => {
  suite(async () => {
    const database = await createFreshDatabase(postgres.url!, 'veil_fast_writes');
    return { store: await openStore({ kind: 'postgres', url: database.url }), cleanup: () => database.drop() };
  });
});
