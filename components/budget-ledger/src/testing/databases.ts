// Real databases for the ledger's tests and benchmark: a fresh PostgreSQL database, or an in-memory PGlite,
// with every migration of the admin store applied (the ledger's tables come with them).
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations, pgliteExecutor, pgPoolExecutor, type SqlExecutor } from '@veil/admin-store';
import { createFreshDatabase } from '@veil/test-services';
import pg from 'pg';

export interface LedgerDatabase {
  sql: SqlExecutor;
  /** The connection URL of the PostgreSQL database (undefined for PGlite). */
  url?: string;
  /** Closes connections and drops the database. */
  close(): Promise<void>;
}

/** A fresh database on the PostgreSQL server of `serverUrl`, migrated, with a pool of `connections`. */
export async function openPostgresLedgerDatabase(serverUrl: string, connections = 10): Promise<LedgerDatabase> {
  const fresh = await createFreshDatabase(serverUrl, 'veil_ledger');
  const pool = new pg.Pool({ connectionString: fresh.url, max: connections });
  // pgPoolExecutor ignores idle connections cut when the database is dropped at the end.
  const sql = pgPoolExecutor(pool);
  await applyMigrations(sql);
  return {
    sql,
    url: fresh.url,
    close: async () => {
      await sql.close();
      await fresh.drop();
    },
  };
}

/** An in-memory PGlite, migrated. */
export async function openPgliteLedgerDatabase(): Promise<LedgerDatabase> {
  const sql = pgliteExecutor(await PGlite.create());
  await applyMigrations(sql);
  return { sql, close: () => sql.close() };
}
