// Applies the hand-written migrations in prisma/migrations at start-up. Applied migrations are recorded in
// Prisma's own `_prisma_migrations` table, with Prisma's checksum (SHA-256 of migration.sql), so
// `prisma migrate status` and `migrate deploy` agree with the store wherever the schema engine exists.
// One transaction holds a transaction-level advisory lock (so replicas starting at once queue behind each
// other) and applies every pending migration with its record: a failure leaves nothing half-applied.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { StoreError } from './errors.js';
import type { SqlExecutor, SqlQueryable } from './types.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

/** Arbitrary constant naming "Veil's migration lock" among advisory locks (first 8 bytes of sha256('veil.migrations')). */
const MIGRATION_LOCK_KEY = BigInt.asIntN(64, createHash('sha256').update('veil.migrations').digest().readBigUInt64BE(0)).toString();

export interface Migration {
  /** Folder name, e.g. `20261122000100_init`; applied in this (lexical = chronological) order. */
  name: string;
  sql: string;
  /** Hex SHA-256 of migration.sql, as Prisma computes it. */
  checksum: string;
}

export interface MigrationResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations that were already applied. */
  alreadyApplied: string[];
}

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory() && /^\d{14}_[A-Za-z0-9_]+$/.test(e.name)).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(`${dir}/${name}/migration.sql`);
      return { name, sql: text.toString('utf8'), checksum: createHash('sha256').update(text).digest('hex') };
    }),
  );
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies every migration in `dir` not yet applied, under the advisory lock. Throws a StoreError('migration')
 * when an applied migration was edited or is missing on disk, or a previous attempt failed half-way.
 */
export async function applyMigrations(sql: SqlExecutor, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  // The transaction pins one connection; the lock is released by its COMMIT or ROLLBACK.
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(CREATE_MIGRATIONS_TABLE);
    const applied = await appliedMigrations(tx);
    checkAppliedAgainstDisk(applied, migrations);
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      if (applied.has(migration.name)) {
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(tx, migration);
      result.applied.push(migration.name);
    }
    return result;
  });
}

async function appliedMigrations(tx: SqlQueryable): Promise<Map<string, AppliedRow>> {
  const { rows } = await tx.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return new Map(rows.map((row) => [row.migration_name, row]));
}

function checkAppliedAgainstDisk(applied: Map<string, AppliedRow>, onDisk: Migration[]): void {
  const byName = new Map(onDisk.map((m) => [m.name, m]));
  for (const row of applied.values()) {
    const migration = byName.get(row.migration_name);
    if (!migration) {
      throw new StoreError('migration', `migration ${row.migration_name} is applied in the database but missing from the migrations folder; this build is older than the database`);
    }
    if (row.finished_at === null) {
      throw new StoreError('migration', `migration ${row.migration_name} failed part-way earlier; resolve it by hand before starting`);
    }
    if (row.checksum !== migration.checksum) {
      throw new StoreError('migration', `migration ${row.migration_name} was edited after it was applied (checksum differs); add a new migration instead`);
    }
  }
}

/**
 * One migration and its record. The whole run is one transaction (PostgreSQL DDL is transactional), so
 * a failing migration rolls back itself and every migration of this run; the error names it.
 */
async function applyOne(tx: SqlQueryable, migration: Migration): Promise<void> {
  try {
    await tx.exec(migration.sql);
  } catch (error) {
    throw new StoreError('migration', `migration ${migration.name} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  await tx.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, now(), $3, now(), 1)`,
    [randomUUID(), migration.checksum, migration.name],
  );
}
