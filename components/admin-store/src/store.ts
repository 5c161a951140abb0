// openStore: opens PGlite or PostgreSQL, applies the migrations, and returns small typed repositories
// over one Prisma client, plus the raw SQL executor on the same connections.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/prisma/client.js';
import { lockDataDir } from './data-dir-lock.js';
import { StoreError } from './errors.js';
import { applyMigrations, type MigrationResult } from './migrate.js';
import { apiKeysRepo, archiveRepo, auditRepo, datasetsRepo, jobsRepo, usersRepo } from './repos.js';
import type { SqlExecutor, StoreConfig } from './types.js';
import { pgliteExecutor, pgPoolExecutor } from './sql.js';

export type { ApiKeysRepo, ArchiveRepo, AuditRepo, DatasetsRepo, JobsRepo, UsersRepo } from './repos.js';
import type { ApiKeysRepo, ArchiveRepo, AuditRepo, DatasetsRepo, JobsRepo, UsersRepo } from './repos.js';

export interface AdminStore {
  readonly kind: StoreConfig['kind'];
  users: UsersRepo;
  apiKeys: ApiKeysRepo;
  datasets: DatasetsRepo;
  archive: ArchiveRepo;
  jobs: JobsRepo;
  audit: AuditRepo;
  /** Raw SQL on the store's own connections (the budget ledger's hot path). */
  sql: SqlExecutor;
  /** The Prisma client, for bricks that add their own models to the schema (the budget ledger). */
  prisma: PrismaClient;
  /** What start-up migrated. */
  migrations: MigrationResult;
  /** Disconnects Prisma and closes the pool or the PGlite database (and releases its directory); safe to call twice. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<AdminStore> {
  const { prisma, sql } = await connect(config);
  try {
    const migrations = options.migrate === false ? { applied: [], alreadyApplied: [] } : await applyMigrations(sql);
    let closing: Promise<void> | undefined;
    return {
      kind: config.kind,
      users: usersRepo(prisma),
      apiKeys: apiKeysRepo(prisma),
      datasets: datasetsRepo(prisma),
      archive: archiveRepo(prisma),
      jobs: jobsRepo(prisma),
      audit: auditRepo(prisma),
      sql,
      prisma,
      migrations,
      // Idempotent: shutdown paths often close twice.
      close: () =>
        (closing ??= (async () => {
          await prisma.$disconnect();
          await sql.close();
        })()),
    };
  } catch (error) {
    await prisma.$disconnect().catch(() => undefined);
    await sql.close().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    throw new StoreError('unavailable', `cannot open the admin store at ${describeLocation(config)}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/** Where the store is, for messages: never the password of a PostgreSQL URL. */
function describeLocation(config: StoreConfig): string {
  if (config.kind === 'pglite') return config.dataDir;
  try {
    const url = new URL(config.url);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'the configured PostgreSQL URL (not a valid URL)';
  }
}

async function connect(config: StoreConfig): Promise<{ prisma: PrismaClient; sql: SqlExecutor }> {
  if (config.kind === 'pglite') {
    const db = await openPglite(config.dataDir);
    return { prisma: new PrismaClient({ adapter: new PrismaPGlite(db.pglite) }), sql: withRelease(pgliteExecutor(db.pglite), db.release) };
  }
  const pool = new pg.Pool({ connectionString: config.url, max: config.maxConnections ?? 10 });
  const sql = pgPoolExecutor(pool); // first: it guards the pool's connections against unsolicited errors
  return { prisma: new PrismaClient({ adapter: new PrismaPg(pool) }), sql };
}

async function openPglite(dataDir: string): Promise<{ pglite: PGlite; release: () => Promise<void> }> {
  if (dataDir.startsWith('memory://')) return { pglite: await PGlite.create(dataDir), release: async () => undefined };
  await mkdir(dataDir, { recursive: true });
  const release = await lockDataDir(dataDir);
  try {
    return { pglite: await PGlite.create(dataDir), release };
  } catch (error) {
    await release();
    throw new StoreError('unavailable', `cannot open the embedded store in ${dataDir}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/** Closing the executor also releases the data directory. */
function withRelease(sql: SqlExecutor, release: () => Promise<void>): SqlExecutor {
  return {
    ...sql,
    close: async () => {
      try {
        await sql.close();
      } finally {
        await release();
      }
    },
  };
}
