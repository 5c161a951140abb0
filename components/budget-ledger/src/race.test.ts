// Acceptance: concurrent reservations on a grant that fits exactly 100 of them — 8 OS processes against
// PostgreSQL, and in-process concurrency on PGlite. Exactly 100 commit; totals and remainders are exact.
import { cdpEpsilon, cdpRho, gaussianCost } from '@veil/mechanisms';
import { Decimal as DecimalBase } from 'decimal.js';

const Decimal = DecimalBase.clone({ precision: 100 });
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetExhaustedError, createBudgetLedger, type BudgetLedger, type Grant } from './index.js';
import { ledgerBackends, type Backend } from './testing/backends.js';
import type { LedgerDatabase } from './testing/databases.js';
import { exited, forkWorker } from './testing/processes.js';
import type { RaceOrder, RaceReport } from './testing/race-worker.js';

const PROCESSES = 8;
const PER_PROCESS = 125;
const FITS = 100;

/** Basic mode: ε_g = 100 × ε and δ_g = 100 × δ, exactly. */
const basicCost = { epsilon: '0.013', delta: '1e-9', rho: '0.0000845', rhoDelta: '0' };
/** zCDP mode: Gaussian counts at σ = 30 (ρ = 1/1800, rounded up to 24 places). */
const zcdpCost = gaussianCost(1, 30, '1e-7');
const ZCDP_DELTA = '1e-6';

const floor24 = (x: string | InstanceType<typeof Decimal>) => new Decimal(x).toDecimalPlaces(24, Decimal.ROUND_FLOOR);
const rho24 = new Decimal(zcdpCost.rho).toDecimalPlaces(24, Decimal.ROUND_CEIL);

async function makeGrants(ledger: BudgetLedger, tag: string): Promise<{ basic: Grant; zcdp: Grant }> {
  const basic = await ledger.setGrant({ userId: `analyst-${tag}`, datasetId: 'basic-ds', epsilon: '1.3', delta: '1e-7', mode: 'basic' });
  // ε_g chosen so the ρ cap cdp_rho(ε_g, δ_g) sits half a query above 100 queries: exactly 100 fit.
  const epsilon = cdpEpsilon(rho24.times(FITS + 0.5).toFixed(), ZCDP_DELTA);
  const zcdp = await ledger.setGrant({ userId: `analyst-${tag}`, datasetId: 'zcdp-ds', epsilon, delta: ZCDP_DELTA });
  const cap = floor24(cdpRho(zcdp.epsilon, ZCDP_DELTA));
  expect(cap.gte(rho24.times(FITS)) && cap.lt(rho24.times(FITS + 1))).toBe(true);
  return { basic, zcdp };
}

async function expectExactly100(ledger: BudgetLedger, grants: { basic: Grant; zcdp: Grant }): Promise<void> {
  const basic = await ledger.remaining({ grantId: grants.basic.id });
  expect(basic.committed.epsilon).toBe(new Decimal(basicCost.epsilon).times(FITS).toFixed());
  expect(basic.committed.delta).toBe(new Decimal(basicCost.delta).times(FITS).toFixed());
  expect(basic.remaining).toMatchObject({ epsilon: '0', delta: '0' });
  expect(basic.reserved).toEqual({ epsilon: '0', delta: '0', rho: '0', rhoDelta: '0' });

  const zcdp = await ledger.remaining({ grantId: grants.zcdp.id });
  expect(zcdp.committed.rho).toBe(rho24.times(FITS).toFixed());
  const cap = floor24(cdpRho(grants.zcdp.epsilon, ZCDP_DELTA));
  expect(zcdp.remaining.rho).toBe(cap.minus(rho24.times(FITS)).toFixed());
  expect(zcdp.remaining.delta).toBe(new Decimal(ZCDP_DELTA).toFixed());
  expect(zcdp.reserved.rho).toBe('0');
  expect(await ledger.checkConsistency()).toEqual([]);
}

const [pglite, postgres] = ledgerBackends() as [Backend, Backend];

/** Opens the backend's database for the suite (when it is not skipped) and closes it after. */
function useDatabase(backend: Backend): () => LedgerDatabase {
  let db: LedgerDatabase | undefined;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
  });
  return () => db!;
}

describe.skipIf(postgres.skip)('race on PostgreSQL', () => {
  const database = useDatabase(postgres);

  it(`${PROCESSES} processes × ${PER_PROCESS} concurrent reservations per grant: exactly ${FITS} commit`, async () => {
    const ledger = createBudgetLedger({ sql: database().sql });
    const grants = await makeGrants(ledger, 'processes');
    const workers = Array.from({ length: PROCESSES }, () => forkWorker<RaceOrder, RaceReport>('race-worker.ts', { VEIL_LEDGER_DB_URL: database().url! }));
    try {
      await Promise.all(workers.map((w) => w.ready));
      const order: RaceOrder = { count: PER_PROCESS, grants: [{ grantId: grants.basic.id, cost: basicCost }, { grantId: grants.zcdp.id, cost: zcdpCost }] };
      const reports = await Promise.all(workers.map((w) => w.run(order)));
      expect(reports.flatMap((r) => r.failures)).toEqual([]);
      for (const grant of [grants.basic, grants.zcdp]) {
        const committed = reports.flatMap((r) => r.committed[grant.id] ?? []);
        expect(committed).toHaveLength(FITS);
        expect(new Set(committed).size).toBe(FITS);
        expect(reports.reduce((sum, r) => sum + (r.exhausted[grant.id] ?? 0), 0)).toBe(PROCESSES * PER_PROCESS - FITS);
      }
      await expectExactly100(ledger, grants);
    } finally {
      await Promise.all(workers.map((w) => exited(w.child)));
    }
  });

  // The cap, not the grants, binds: one grant per process on one dataset, uncapped while the race starts; the
  // cap (250 × ε) is set while reservations are in flight. It must count everything spent before it, exactly.
  const CAP_FITS = 250;
  const CAP_PER_PROCESS = 75;
  const capRace = async (tag: string, releaseEvery?: number): Promise<{ committed: number; datasetUsed: string }> => {
    const ledger = createBudgetLedger({ sql: database().sql });
    const datasetId = `capped-ds-${tag}`;
    const grants = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) => ledger.setGrant({ userId: `cap-analyst-${tag}-${i}`, datasetId, epsilon: '100', delta: '1e-3', mode: 'basic' })),
    );
    const workers = Array.from({ length: PROCESSES }, () => forkWorker<RaceOrder, RaceReport>('race-worker.ts', { VEIL_LEDGER_DB_URL: database().url! }));
    try {
      await Promise.all(workers.map((w) => w.ready));
      const running = Promise.all(workers.map((w, i) => w.run({ count: CAP_PER_PROCESS, grants: [{ grantId: grants[i]!.id, cost: basicCost }], releaseEvery })));
      await reservationsOn(database(), datasetId, 20);
      const spentBefore = await reservationsOn(database(), datasetId, 0);
      await ledger.setDatasetCap(datasetId, { epsilon: new Decimal(basicCost.epsilon).times(CAP_FITS).toFixed(), delta: new Decimal(basicCost.delta).times(CAP_FITS).toFixed(), mode: 'basic' });
      const reports = await running;
      expect(reports.flatMap((r) => r.failures)).toEqual([]);
      expect(spentBefore).toBeLessThan(CAP_FITS); // the cap really was set mid-race
      expect(await ledger.checkConsistency()).toEqual([]);
      const { rows } = await database().sql.query<{ used: string }>(`SELECT epsilon_used::text AS used FROM dataset_budgets WHERE dataset_id = $1`, [datasetId]);
      return { committed: reports.reduce((n, r) => n + Object.values(r.committed).flat().length, 0), datasetUsed: rows[0]!.used };
    } finally {
      await Promise.all(workers.map((w) => exited(w.child)));
    }
  };

  it(`a dataset cap set mid-race by ${PROCESSES} processes on one uncapped dataset: exactly ${CAP_FITS} commit`, async () => {
    const { committed, datasetUsed } = await capRace('commits');
    expect(committed).toBe(CAP_FITS);
    expect(new Decimal(datasetUsed).eq(new Decimal(basicCost.epsilon).times(CAP_FITS))).toBe(true);
  });

  it('a dataset cap set mid-race with releases in flight: never overspent, `used` exact', async () => {
    const { committed, datasetUsed } = await capRace('releases', 3);
    expect(committed).toBeLessThanOrEqual(CAP_FITS);
    expect(new Decimal(datasetUsed).eq(new Decimal(basicCost.epsilon).times(committed))).toBe(true);
  });
});

/** Waits until the dataset has at least `atLeast` reservations (open or resolved); returns how many hold budget. */
async function reservationsOn(db: LedgerDatabase, datasetId: string, atLeast: number): Promise<number> {
  for (;;) {
    const { rows } = await db.sql.query<{ n: number; held: number }>(
      `SELECT count(*)::int AS n, (count(*) FILTER (WHERE state <> 'released'))::int AS held FROM budget_reservations WHERE dataset_id = $1`,
      [datasetId],
    );
    if (rows[0]!.n >= atLeast) return rows[0]!.held;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('race on PGlite', () => {
  const database = useDatabase(pglite);

  it(`${PROCESSES} in-process replicas × ${PER_PROCESS} concurrent reservations per grant: exactly ${FITS} commit`, async () => {
    const grants = await makeGrants(createBudgetLedger({ sql: database().sql }), 'in-process');
    const replicas = Array.from({ length: PROCESSES }, () => createBudgetLedger({ sql: database().sql }));
    const outcomes = await Promise.all(
      replicas.flatMap((ledger) =>
        [grants.basic, grants.zcdp].flatMap((grant) =>
          Array.from({ length: PER_PROCESS }, async () => {
            try {
              const { reservation } = await ledger.reserve({ grantId: grant.id, cost: grant === grants.basic ? basicCost : zcdpCost });
              await ledger.commit(reservation.id);
              return `${grant.id}:committed`;
            } catch (error) {
              if (error instanceof BudgetExhaustedError) return `${grant.id}:exhausted`;
              throw error;
            }
          }),
        ),
      ),
    );
    for (const grant of [grants.basic, grants.zcdp]) {
      expect(outcomes.filter((o) => o === `${grant.id}:committed`)).toHaveLength(FITS);
      expect(outcomes.filter((o) => o === `${grant.id}:exhausted`)).toHaveLength(PROCESSES * PER_PROCESS - FITS);
    }
    await expectExactly100(replicas[0]!, grants);
  });
});
