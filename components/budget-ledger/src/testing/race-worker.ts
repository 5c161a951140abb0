// A separate OS process for the race test: connects to the database given in VEIL_LEDGER_DB_URL, says
// `ready`, and on `go` fires `count` concurrent reserve+commit pairs on each grant it was given, then reports
// how many were committed and how many refused. Run with `node --import tsx` through child_process.fork.
import pg from 'pg';
import { BudgetExhaustedError, createBudgetLedger } from '../index.js';
import { pgPoolExecutor } from '@veil/admin-store';

export interface RaceOrder {
  grants: { grantId: string; cost: { epsilon: string; delta: string; rho: string; rhoDelta: string } }[];
  count: number;
  /** Release (instead of commit) every n-th reservation of a grant; never when absent. */
  releaseEvery?: number;
}

export interface RaceReport {
  committed: Record<string, string[]>;
  exhausted: Record<string, number>;
  failures: string[];
}

async function fire(order: RaceOrder, pool: pg.Pool): Promise<RaceReport> {
  const ledger = createBudgetLedger({ sql: pgPoolExecutor(pool) });
  const report: RaceReport = { committed: {}, exhausted: {}, failures: [] };
  const attempts = order.grants.flatMap(({ grantId, cost }) => {
    report.committed[grantId] = [];
    report.exhausted[grantId] = 0;
    return Array.from({ length: order.count }, async (_, i) => {
      try {
        const { reservation } = await ledger.reserve({ grantId, cost });
        if (order.releaseEvery !== undefined && i % order.releaseEvery === 0) {
          await ledger.release(reservation.id);
          return;
        }
        await ledger.commit(reservation.id);
        report.committed[grantId]!.push(reservation.id);
      } catch (error) {
        if (error instanceof BudgetExhaustedError) report.exhausted[grantId]! += 1;
        else report.failures.push(String(error));
      }
    });
  });
  await Promise.all(attempts);
  return report;
}

const pool = new pg.Pool({ connectionString: process.env.VEIL_LEDGER_DB_URL, max: Number(process.env.VEIL_LEDGER_POOL ?? 6) });
// Open the connections before `go`, so the race is between statements, not between connection set-ups.
const clients = await Promise.all(Array.from({ length: pool.options.max }, () => pool.connect()));
clients.forEach((c) => c.release());
process.send!({ ready: true });
process.on('message', (order: RaceOrder) => {
  void fire(order, pool)
    .then((report) => process.send!({ report }))
    .finally(() => pool.end().then(() => process.disconnect()));
});
