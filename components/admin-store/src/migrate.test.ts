// The migration runner: applies each migration once even when replicas start together, refuses edited or
// unknown applied migrations, and leaves nothing behind when a migration fails.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createFreshDatabase, postgresTestUrl } from '@veil/test-services';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_DIR, openStore, readMigrations, StoreError } from './index.js';
import { pgliteExecutor, pgPoolExecutor } from './sql.js';
import type { SqlExecutor } from './types.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'veil-admin-store-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the real migrations folder that a test may change. */
async function migrationsCopy(name: string): Promise<string> {
  const dir = join(scratch, name);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, script: string): Promise<void> {
  await mkdir(join(dir, name));
  await writeFile(join(dir, name, 'migration.sql'), script);
}

describe('migrations on PGlite', () => {
  /** One PGlite for the runner tests (starting PGlite costs seconds); each test starts from an empty schema. */
  let sql: SqlExecutor;
  beforeAll(async () => {
    sql = pgliteExecutor(await PGlite.create());
  });
  afterAll(async () => {
    await sql?.close();
  });
  beforeEach(async () => {
    await sql.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  });

  it('reads the folder in order with Prisma checksums', async () => {
    const migrations = await readMigrations();
    expect(migrations[0]?.name).toBe('20261122000100_init');
    expect(migrations.map((m) => m.name)).toEqual([...migrations.map((m) => m.name)].sort());
    for (const m of migrations) expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies everything once, then nothing; an edited applied migration stops start-up', async () => {
    const dir = await migrationsCopy('edited');
    const first = await applyMigrations(sql, dir);
      const names = (await readMigrations(dir)).map((m) => m.name);
      expect(first).toEqual({ applied: names, alreadyApplied: [] });
      expect(await applyMigrations(sql, dir)).toEqual({ applied: [], alreadyApplied: names });

      await writeFile(join(dir, '20261122000100_init', 'migration.sql'), '-- edited\n', { flag: 'a' });
      const error = await applyMigrations(sql, dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('migration');
    expect((error as StoreError).message).toContain('20261122000100_init was edited after it was applied');
  });

  it('refuses a database that has a migration this build does not know', async () => {
    const dir = await migrationsCopy('newer');
    await addMigration(dir, '20991231000000_future', 'CREATE TABLE "future_thing" (id TEXT PRIMARY KEY);');
    await applyMigrations(sql, dir);
    await expect(applyMigrations(sql)).rejects.toThrow(/20991231000000_future is applied in the database but missing/);
  });

  it('rolls back the whole run when a migration fails, naming it', async () => {
    const dir = await migrationsCopy('failing');
    await addMigration(dir, '20991231000000_broken', 'CREATE TABLE "half_done" (id TEXT); SELECT no_such_function();');
    await expect(applyMigrations(sql, dir)).rejects.toThrow(/migration 20991231000000_broken failed: .*no_such_function/);
    const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('users', 'half_done', '_prisma_migrations')`);
    expect(rows[0]?.n).toBe(0);
  });

  it('persists under dataDir, one process at a time: reopening finds the data and applies nothing', async () => {
    const dataDir = join(scratch, 'store');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'veil-store.pid'), '2147483000'); // left by a crashed process: taken over
    const first = await openStore({ kind: 'pglite', dataDir });
    await first.users.create({ name: 'persisted', role: 'admin' });
    await expect(openStore({ kind: 'pglite', dataDir })).rejects.toThrow(`the embedded store in ${dataDir} is in use by process ${process.pid} (this one)`);
    await first.close();
    const second = await openStore({ kind: 'pglite', dataDir });
    try {
      expect(second.migrations.applied).toEqual([]);
      expect((await second.users.getByName('persisted'))?.role).toBe('admin');
    } finally {
      await second.close();
    }
    expect(existsSync(join(dataDir, 'veil-store.pid'))).toBe(false);
  });
});

describe('opening a store that is not there', () => {
  it('says where it looked, without the password', async () => {
    const error = await openStore({ kind: 'postgres', url: 'postgres://veil:s3cret@127.0.0.1:1/veil' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('unavailable');
    expect((error as StoreError).message).toMatch(/^cannot open the admin store at postgres:\/\/127\.0\.0\.1:1\/veil: /);
    expect((error as StoreError).message).not.toContain('s3cret');
  });
});

const postgres = postgresTestUrl();
describe.skipIf(!postgres.url)('migrations on PostgreSQL', () => {
  it('applies each migration exactly once when several replicas start at once', async () => {
    const db = await createFreshDatabase(postgres.url!, 'veil_admin_store');
    const replicas = Array.from({ length: 6 }, () => pgPoolExecutor(new pg.Pool({ connectionString: db.url, max: 2 })));
    try {
      const results = await Promise.all(replicas.map((sql) => applyMigrations(sql)));
      const names = (await readMigrations()).map((m) => m.name);
      const appliedByAnyone = results.flatMap((r) => r.applied).sort();
      expect(appliedByAnyone).toEqual(names);
      for (const r of results) expect([...r.applied, ...r.alreadyApplied].sort()).toEqual(names);
      const { rows } = await replicas[0]!.query<{ migration_name: string; n: number }>(
        `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name`,
      );
      expect(rows).toEqual(names.map((name) => ({ migration_name: name, n: 1 })));
    } finally {
      await Promise.all(replicas.map((sql) => sql.close()));
      await db.drop();
    }
  });
});
