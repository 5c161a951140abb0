// The repositories and the raw SQL executor, on PGlite and on PostgreSQL.
import { createHash } from 'node:crypto';
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_TOKEN_PREFIX, openStore, parseApiKeyToken, StoreError, type AdminStore, type User } from './index.js';

const METADATA_YAML = `
source: { kind: file, path: /srv/data/visits.parquet }
privacy_unit: { column: patient_id, max_rows: 5, max_groups: 3 }
columns:
  patient_id: { type: string }
  age: { type: int, lower: 0, upper: 100 }
`;
const METADATA = {
  source: { kind: 'postgres', connection: 'warehouse', table: 'public.visits' },
  columns: { age: { type: 'int', lower: 0, upper: 100 } },
};

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

function repositorySuite(open: () => Promise<{ store: AdminStore; cleanup?: () => Promise<void> }>) {
  let store: AdminStore;
  let cleanup: (() => Promise<void>) | undefined;
  let admin: User;
  let analyst: User;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    admin = await store.users.create({ name: 'ada', role: 'admin' });
    analyst = await store.users.create({ name: 'alan@example.org', role: 'analyst' });
  });
  afterAll(async () => {
    await store?.close();
    await store?.close();
    await cleanup?.();
  });

  describe('users', () => {
    it('finds users by id and name and lists them', async () => {
      expect(await store.users.get(admin.id)).toEqual(admin);
      expect(await store.users.getByName('alan@example.org')).toEqual(analyst);
      expect((await store.users.list()).map((u) => u.name)).toEqual(expect.arrayContaining(['ada', 'alan@example.org']));
      expect(await store.users.get('no-such-id')).toBeNull();
    });

    it('refuses a taken name, a bad name and a bad role with clear errors', async () => {
      expect((await storeError(store.users.create({ name: 'ada', role: 'analyst' }))).code).toBe('conflict');
      const badName = await storeError(store.users.create({ name: "x'; drop table users --", role: 'analyst' }));
      expect(badName.code).toBe('invalid');
      expect(badName.message).toMatch(/user name must be/);
      const badRole = await storeError(store.users.create({ name: 'mallory', role: 'root' as never }));
      expect(badRole.message).toBe('role must be "admin" or "analyst", not "root"');
      expect((await storeError(store.users.setRole('no-such-id', 'admin'))).code).toBe('not_found');
    });
  });

  describe('API keys', () => {
    it('issues a veil_<prefix>_<secret> token once and stores only its SHA-256', async () => {
      const { token, key } = await store.apiKeys.create(analyst.id, { label: 'laptop' });
      expect(token).toMatch(/^veil_[a-z2-9]{8}_[A-Za-z0-9_-]{43}$/);
      expect(token.startsWith(`${API_KEY_TOKEN_PREFIX}${key.prefix}_`)).toBe(true);
      expect(parseApiKeyToken(token)).toEqual({ prefix: key.prefix });
      expect(key).not.toHaveProperty('tokenHash');
      const { rows } = await store.sql.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE prefix = $1', [key.prefix]);
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(token.slice(14));
      expect(Buffer.from(rows[0]!.token_hash as Uint8Array).equals(createHash('sha256').update(token).digest())).toBe(true);
    });

    it('authenticates the right token and nothing else', async () => {
      const { token, key } = await store.apiKeys.create(analyst.id);
      const auth = await store.apiKeys.authenticate(token);
      expect(auth?.user).toEqual(analyst);
      expect(auth?.key.id).toBe(key.id);
      const lastChar = token.at(-1) === 'A' ? 'B' : 'A';
      expect(await store.apiKeys.authenticate(token.slice(0, -1) + lastChar)).toBeNull();
      expect(await store.apiKeys.authenticate('veil_aaaaaaaa_' + 'x'.repeat(43))).toBeNull();
      expect(await store.apiKeys.authenticate('Bearer nonsense')).toBeNull();
      expect(await store.apiKeys.authenticate('')).toBeNull();
    });

    it('writes last use at most once a minute', async () => {
      const { token, key } = await store.apiKeys.create(analyst.id);
      expect(key.lastUsedAt).toBeNull();
      const first = await store.apiKeys.authenticate(token);
      const second = await store.apiKeys.authenticate(token);
      expect(first?.key.lastUsedAt).toBeInstanceOf(Date);
      expect(second?.key.lastUsedAt).toEqual(first?.key.lastUsedAt);
      expect((await store.apiKeys.getByPrefix(key.prefix))?.lastUsedAt).toEqual(first?.key.lastUsedAt);
    });

    it('stops authenticating revoked and expired keys and keys of disabled users', async () => {
      const revoked = await store.apiKeys.create(analyst.id);
      const revokedInfo = await store.apiKeys.revoke(revoked.key.prefix);
      expect(revokedInfo.revokedAt).toBeInstanceOf(Date);
      expect((await store.apiKeys.revoke(revoked.key.prefix)).revokedAt).toEqual(revokedInfo.revokedAt);
      expect(await store.apiKeys.authenticate(revoked.token)).toBeNull();

      const expired = await store.apiKeys.create(analyst.id, { expiresAt: new Date(Date.now() - 1000) });
      expect(await store.apiKeys.authenticate(expired.token)).toBeNull();

      const someone = await store.users.create({ name: 'leaver', role: 'analyst' });
      const theirs = await store.apiKeys.create(someone.id);
      await store.users.setDisabled(someone.id, true);
      expect(await store.apiKeys.authenticate(theirs.token)).toBeNull();
      await store.users.setDisabled(someone.id, false);
      expect((await store.apiKeys.authenticate(theirs.token))?.user.name).toBe('leaver');
    });

    it('names unknown users and prefixes', async () => {
      expect((await storeError(store.apiKeys.create('no-such-user'))).code).toBe('not_found');
      expect((await storeError(store.apiKeys.revoke('zzzzzzzz'))).code).toBe('not_found');
      expect((await storeError(store.apiKeys.revoke('NOT A PREFIX'))).code).toBe('invalid');
      expect((await store.apiKeys.listForUser(analyst.id)).length).toBeGreaterThan(3);
    });
  });

  describe('datasets', () => {
    it('registers datasets from YAML text or objects, validated, with a source reference', async () => {
      const visits = await store.datasets.create({ name: 'visits', description: 'Clinic visits', metadata: METADATA_YAML, ownerId: admin.id });
      expect(visits.sourceRef).toBe('file:/srv/data/visits.parquet');
      expect(visits.metadata.privacy_unit).toEqual({ column: 'patient_id', max_rows: 5, max_groups: 3 });
      const warehouse = await store.datasets.create({ name: 'warehouse_visits', metadata: METADATA, ownerId: admin.id });
      expect(warehouse.sourceRef).toBe('postgres:warehouse/public.visits');
      expect(await store.datasets.get('visits')).toEqual(visits);
      expect(await store.datasets.getById(warehouse.id)).toEqual(warehouse);
      expect((await store.datasets.list({ ownerId: admin.id })).map((d) => d.name)).toEqual(['visits', 'warehouse_visits']);
      const signed = await store.datasets.create({
        name: 'signed_url',
        metadata: { ...METADATA, source: { kind: 'http', url: 'https://user:pw@data.example.org/v.parquet?X-Amz-Signature=abc' } },
        ownerId: analyst.id,
      });
      expect(signed.sourceRef).toBe('https://data.example.org/v.parquet');
    });

    it('refuses bad metadata with the issues, a taken name and an unknown owner', async () => {
      const bad = await storeError(
        store.datasets.create({ name: 'bad', metadata: { ...METADATA, columns: { age: { type: 'int', lower: 5, upper: 1 } } }, ownerId: admin.id }),
      );
      expect(bad.code).toBe('invalid');
      expect(bad.message).toContain('columns.age.lower: lower (5) is above upper (1)');
      expect(bad.details).toEqual([{ path: 'columns.age.lower', message: 'lower (5) is above upper (1)' }]);
      expect((await storeError(store.datasets.create({ name: 'visits', metadata: METADATA, ownerId: admin.id }))).code).toBe('conflict');
      const orphan = await storeError(store.datasets.create({ name: 'orphan', metadata: METADATA, ownerId: 'nobody' }));
      expect(orphan.code).toBe('not_found');
      expect(orphan.message).toBe('dataset "orphan": owner nobody does not exist');
      expect(await store.datasets.get('orphan')).toBeNull();
    });

    it('updates metadata (revalidated) and description, and removes unreferenced datasets', async () => {
      const created = await store.datasets.create({ name: 'scratch', metadata: METADATA, ownerId: admin.id });
      const updated = await store.datasets.update('scratch', { description: 'now described', metadata: METADATA_YAML });
      expect(updated).toMatchObject({ id: created.id, description: 'now described', sourceRef: 'file:/srv/data/visits.parquet' });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
      expect((await storeError(store.datasets.update('scratch', { metadata: { columns: {} } }))).code).toBe('invalid');
      expect((await storeError(store.datasets.update('nope', { description: 'x' }))).code).toBe('not_found');
      await store.datasets.remove('scratch');
      expect(await store.datasets.get('scratch')).toBeNull();
      expect((await storeError(store.datasets.remove('scratch'))).code).toBe('not_found');
    });
  });

  describe('query archive', () => {
    it('appends answers and errors and lists them newest first, per user and for everyone', async () => {
      const visits = (await store.datasets.get('visits'))!;
      const cost = { epsilon: '0.5', delta: '0', rho: '0.125', rhoDelta: '0' };
      const ok = await store.archive.append({ userId: analyst.id, datasetId: visits.id, queryText: 'SELECT COUNT(*) FROM visits', cost, result: { rows: [[41]] } });
      const failed = await store.archive.append({ userId: analyst.id, datasetId: visits.id, queryText: 'SELECT * FROM visits', error: { code: 'bad_query', message: 'SELECT * is not allowed' } });
      await store.archive.append({ userId: admin.id, datasetId: visits.id, queryText: 'SELECT 1' });
      expect(ok).toMatchObject({ cost, result: { rows: [[41]] }, error: null });
      expect(failed).toMatchObject({ cost: null, result: null, error: { code: 'bad_query', message: 'SELECT * is not allowed' } });

      const mine = await store.archive.listForUser(analyst.id);
      expect(mine.map((q) => q.id)).toEqual(orderNewestFirst([ok, failed]).map((q) => q.id));
      expect((await store.archive.list()).length).toBe(3);
      expect((await store.archive.list({ userId: admin.id })).map((q) => q.queryText)).toEqual(['SELECT 1']);
      expect(await store.archive.list({ limit: 1, before: new Date(0) })).toEqual([]);
      // Paging does not lose rows that share a millisecond.
      await store.sql.query(`UPDATE query_archive SET created_at = '2026-01-01T00:00:00.000Z'`);
      const pages: string[] = [];
      for (let page = await store.archive.list({ limit: 1 }); page.length > 0; ) {
        pages.push(page[0]!.id);
        page = await store.archive.list({ limit: 1, before: page[0]!.createdAt, beforeId: page[0]!.id });
      }
      expect(pages).toEqual((await store.archive.list()).map((q) => q.id));
      expect(pages.length).toBe(3);
      expect((await storeError(store.archive.list({ before: new Date('nonsense') }))).code).toBe('invalid');
      expect((await storeError(store.archive.list({ limit: 0 }))).code).toBe('invalid');
      expect((await storeError(store.datasets.remove('visits'))).code).toBe('conflict');
    });
  });

  describe('jobs', () => {
    it('tracks status, progress, result and stamps start and finish', async () => {
      const visits = (await store.datasets.get('visits'))!;
      const job = await store.jobs.create({ kind: 'synthesize', userId: analyst.id, datasetId: visits.id, params: { rows: 1000 } });
      expect(job).toMatchObject({ status: 'queued', progress: 0, params: { rows: 1000 }, result: null, startedAt: null, finishedAt: null });
      const running = await store.jobs.update(job.id, { status: 'running', progress: 0.25 });
      expect(running.startedAt).toBeInstanceOf(Date);
      expect(running.progress).toBe(0.25);
      const done = await store.jobs.update(job.id, { status: 'succeeded', result: { rows: 1000 }, resultPath: '/var/veil/jobs/x.csv' });
      expect(done).toMatchObject({ status: 'succeeded', progress: 1, result: { rows: 1000 }, resultPath: '/var/veil/jobs/x.csv' });
      expect(done.finishedAt).toBeInstanceOf(Date);
      expect(await store.jobs.get(job.id)).toEqual(done);
      expect((await store.jobs.listForUser(analyst.id)).map((j) => j.id)).toContain(job.id);
    });

    it('refuses bad progress, unknown jobs and unknown users', async () => {
      const job = await store.jobs.create({ kind: 'export', userId: analyst.id });
      expect((await storeError(store.jobs.update(job.id, { progress: 1.5 }))).message).toBe('job progress must be between 0 and 1, not 1.5');
      expect((await storeError(store.jobs.update(job.id, { progress: Number.NaN }))).code).toBe('invalid');
      expect((await storeError(store.jobs.update('nope', { status: 'failed' }))).code).toBe('not_found');
      expect((await storeError(store.jobs.create({ kind: 'export', userId: 'nobody' }))).code).toBe('not_found');
      expect(await store.jobs.get('nope')).toBeNull();
    });
  });

  describe('audit log', () => {
    it('appends admin actions and lists them by actor and target', async () => {
      await store.audit.append({ actorId: null, action: 'store.initialise' });
      const entry = await store.audit.append({ actorId: admin.id, action: 'dataset.create', targetType: 'dataset', targetId: 'visits', details: { rows: 10 } });
      expect(entry).toMatchObject({ actorId: admin.id, action: 'dataset.create', details: { rows: 10 } });
      expect(await store.audit.list({ actorId: admin.id })).toEqual([entry]);
      expect((await store.audit.list({ targetType: 'dataset', targetId: 'visits' })).map((e) => e.id)).toEqual([entry.id]);
      expect((await store.audit.list()).length).toBe(2);
    });
  });

  describe('raw SQL executor', () => {
    it('returns int8 and numeric as strings and rolls a failed transaction back', async () => {
      const { rows } = await store.sql.query<{ big: string; exact: string }>('SELECT 9007199254740993::int8 AS big, 0.1::numeric + 0.2 AS exact');
      expect(rows).toEqual([{ big: '9007199254740993', exact: '0.3' }]);
      await expect(
        store.sql.transaction(async (tx) => {
          await tx.query(`INSERT INTO users (id, name, role) VALUES ('tx-user', 'tx_user', 'analyst')`);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await store.users.get('tx-user')).toBeNull();
      const committed = await store.sql.transaction(async (tx) => {
        await tx.query(`INSERT INTO users (id, name, role) VALUES ($1, $2, 'analyst')`, ['tx-user', 'tx_user']);
        return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE id = $1', ['tx-user'])).rows[0]?.n;
      });
      expect(committed).toBe(1);
      expect((await store.users.get('tx-user'))?.name).toBe('tx_user');
    });
  });
}

function orderNewestFirst<T extends { createdAt: Date; id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id < a.id ? -1 : 1));
}

describe('admin store on PGlite', () => {
  repositorySuite(async () => ({ store: await openStore({ kind: 'pglite', dataDir: 'memory://' }) }));
});

const postgres = postgresTestUrl();
describe.skipIf(!postgres.url)('admin store on PostgreSQL', () => {
  let db: FreshDatabase;
  repositorySuite(async () => {
    db = await createFreshDatabase(postgres.url!, 'veil_admin_store');
    return { store: await openStore({ kind: 'postgres', url: db.url, maxConnections: 4 }), cleanup: () => db.drop() };
  });
});
