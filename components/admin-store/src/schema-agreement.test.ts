// The hand-written migrations and schema.prisma describe the same database: same tables, columns, types,
// nullability and enums, and every model (the ledger's too) round-trips a row with every field set — on
// PGlite and on PostgreSQL.
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type AdminStore } from './index.js';
import { roundTripDifferences, schemaDifferences } from './test-support/agreement.js';
import { readSchema } from './test-support/schema-model.js';

function agreementSuite(open: () => Promise<{ store: AdminStore; cleanup?: () => Promise<void> }>) {
  let store: AdminStore;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('has exactly the tables, columns, types and enums of schema.prisma', async () => {
    expect(await schemaDifferences(store.sql)).toEqual([]);
  });

  it('round-trips a row with every field set through every model', async () => {
    expect(await roundTripDifferences(store)).toEqual([]);
  });

  it('notices a difference (so the checks above have teeth)', async () => {
    await store.sql.exec('ALTER TABLE "jobs" ADD COLUMN "stray" TEXT; ALTER TABLE "users" ALTER COLUMN "disabled_at" SET NOT NULL');
    const differences = await schemaDifferences(store.sql);
    expect(differences).toContain('User.disabledAt ("users"."disabled_at"): column is NOT NULL, schema says optional');
    expect(differences).toContain('table "jobs": column "stray" has no field in model Job');
  });
}

describe('schema agreement on PGlite', () => {
  agreementSuite(async () => ({ store: await openStore({ kind: 'pglite', dataDir: 'memory://' }) }));
});

const postgres = postgresTestUrl();
describe.skipIf(!postgres.url)('schema agreement on PostgreSQL', () => {
  let db: FreshDatabase;
  agreementSuite(async () => {
    db = await createFreshDatabase(postgres.url!, 'veil_admin_store');
    return { store: await openStore({ kind: 'postgres', url: db.url }), cleanup: () => db.drop() };
  });
});

describe('the schema reader', () => {
  it('sees the models this brick owns', () => {
    const tables = readSchema().models.map((m) => m.table);
    expect(tables).toEqual(expect.arrayContaining(['users', 'api_keys', 'datasets', 'query_archive', 'jobs', 'audit_log']));
  });
});
