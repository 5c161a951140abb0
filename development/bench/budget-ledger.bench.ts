// Budget ledger throughput: reserve+commit pairs per second with 64 concurrent clients, against a baseline of
// the same number of plain single-row UPDATEs through the same driver, on the same database, in the same run.
// PostgreSQL (a fresh database on VEIL_TEST_DATABASE_URL, default the local server) and embedded PGlite.
//   npx tsx development/bench/budget-ledger.bench.ts        (or: npm run bench -- budget-ledger)
import { applyMigrations, openStore, pgPoolExecutor } from '@veil/admin-store';
import { createBudgetLedger, type BudgetLedger, type LedgerSql } from '@veil/budget-ledger';
import { createFreshDatabase } from '@veil/test-services';
import pg from 'pg';
import { runBenchmark, type BenchReport, type CaseResult } from './harness.js';

const CLIENTS = 64;
/**
 * Connections the 64 clients share. PostgreSQL on 2 cores serves them best through a pool a few times the core
 * count (64 connections measured ~1,500 pairs/s on the shared-dataset case, 16 connections ~2,300); the
 * services default to VEIL_DATABASE_POOL=10. BENCH_POOL overrides it.
 */
const POOL = Number(process.env.BENCH_POOL ?? 16);
const COST = { epsilon: '0.001', delta: '0', rho: '0.0000005', rhoDelta: '0' };

/** Runs `total` calls of `step` from `clients` concurrent loops. */
async function concurrently(total: number, clients: number, step: (i: number, client: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (next < total) await step(next++, client);
    }),
  );
}

/** The same executor with the statement names dropped: every call parsed and planned again. */
const unprepared = (sql: LedgerSql): LedgerSql => ({ query: (text, params) => sql.query(text, params) });

interface Prepared {
  ledger: BudgetLedger;
  hotGrant: string;
  /** A grant and a dataset per client. */
  ownGrants: string[];
  /** A grant per client, all on one dataset without a cap (many analysts on one dataset). */
  sharedDatasetGrants: string[];
}

async function prepare(sql: LedgerSql): Promise<Prepared> {
  await sql.query(`CREATE TABLE bench_counter (id int PRIMARY KEY, n bigint NOT NULL) WITH (fillfactor = 50)`);
  await sql.query(`INSERT INTO bench_counter SELECT i, 0 FROM generate_series(0, ${CLIENTS}) i`);
  const ledger = createBudgetLedger({ sql });
  const grant = (userId: string, datasetId: string) =>
    ledger.setGrant({ userId, datasetId, epsilon: '1000000', delta: '1e-6', mode: 'zcdp' }).then((g) => g.id);
  const hotGrant = await grant('analyst-hot', 'dataset-hot');
  const ownGrants = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => grant(`analyst-${i}`, `dataset-${i}`)));
  const sharedDatasetGrants = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => grant(`analyst-${i}`, 'dataset-shared')));
  return { ledger, hotGrant, ownGrants, sharedDatasetGrants };
}

async function pair(ledger: BudgetLedger, grantId: string): Promise<void> {
  const { reservation } = await ledger.reserve({ grantId, cost: COST });
  await ledger.commit(reservation.id, { response: { ok: true } });
}

async function benchmark(backend: 'postgres' | 'pglite', sql: LedgerSql, units: number, target: number): Promise<BenchReport> {
  const { ledger, hotGrant, ownGrants, sharedDatasetGrants } = await prepare(sql);
  const unpreparedLedger = createBudgetLedger({ sql: unprepared(sql) });
  const rate = (r: Map<string, CaseResult>, name: string) => r.get(name)?.unitsPerSecond ?? 0;
  const hot = 'reserve+commit pairs, one grant (all clients)';
  const spread = 'reserve+commit pairs, a grant and dataset per client';
  const sharedDataset = `reserve+commit pairs, ${CLIENTS} clients, a grant each, one shared uncapped dataset`;
  return runBenchmark({
    name: `budget-ledger-${backend}`,
    unitName: 'pairs',
    repeats: 3,
    warmups: 1,
    baseline: {
      name: 'plain single-row UPDATE, a row per client',
      units,
      run: () => concurrently(units, CLIENTS, (_, client) => sql.query(`UPDATE bench_counter SET n = n + 1 WHERE id = $1`, [client + 1])),
    },
    cases: [
      { name: hot, units, run: () => concurrently(units, CLIENTS, () => pair(ledger, hotGrant)) },
      { name: spread, units, run: () => concurrently(units, CLIENTS, (_, client) => pair(ledger, ownGrants[client]!)) },
      { name: sharedDataset, units, run: () => concurrently(units, CLIENTS, (_, client) => pair(ledger, sharedDatasetGrants[client]!)) },
      ...(backend === 'postgres'
        ? [{ name: `${hot}, statements not prepared`, units, run: () => concurrently(units, CLIENTS, () => pair(unpreparedLedger, hotGrant)) }]
        : []),
      {
        name: 'plain single-row UPDATE, one row (all clients)',
        units,
        run: () => concurrently(units, CLIENTS, () => sql.query(`UPDATE bench_counter SET n = n + 1 WHERE id = 0`)),
      },
    ],
    targets: [
      {
        description: `≥ ${target.toLocaleString('en-US')} reserve+commit pairs/s, ${CLIENTS} concurrent clients with a grant each on one shared dataset (${backend})`,
        holds: (r) => rate(r, sharedDataset) >= target,
      },
    ],
    notes: [
      `${CLIENTS} concurrent clients${backend === 'postgres' ? ` over a pg Pool of ${POOL} connections, ledger statements prepared per connection unless noted` : ' on one PGlite instance (it runs one statement at a time; statements are not prepared)'}; ${units} units per repetition.`,
      'A pair is two statements, each one round trip: reserve (a CTE that locks the dataset row — FOR KEY SHARE without a cap, FOR NO KEY UPDATE with one —, checks grant and cap, adds to the grant\'s `used` sums and, with a cap, the dataset\'s, inserts the reservation and the entry) and commit (flips the reservation state and appends the entry; `used` does not change, so the hot rows are not touched).',
      'The datasets here have no cap: reserves of different grants on one dataset only share-lock its row, so they do not queue behind each other.',
      'The baseline is one statement per unit, so a pair doing the work of two statements lands near 0.5× of it at best.',
      'One grant shared by all clients is bounded by its own row: every reserve updates it under a row lock held to commit, as a plain UPDATE of one row is (see that case); it is reported, not targeted.',
    ],
  });
}

const serverUrl = process.env.VEIL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const fresh = await createFreshDatabase(serverUrl, 'veil_bench_ledger');
try {
  const pool = new pg.Pool({ connectionString: fresh.url, max: POOL });
  // Idle connections are cut when the database is dropped at the end; expected, not a failure.
  pool.on('error', () => undefined);
  const sql = pgPoolExecutor(pool);
  try {
    await applyMigrations(sql);
    await benchmark('postgres', sql, 2000, 2000);
  } finally {
    await sql.close();
  }
} finally {
  await fresh.drop();
}
const embedded = await openStore({ kind: 'pglite', dataDir: 'memory://' });
try {
  await benchmark('pglite', embedded.sql, 500, 300);
} finally {
  await embedded.close();
}
