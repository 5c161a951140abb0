// A worker that dies holding reservations, for the crash test: it makes reservations in every state the
// protocol has, reports their ids and what the sweeper must do with each, then waits to be SIGKILLed.
import pg from 'pg';
import { createBudgetLedger } from '../index.js';
import { pgPoolExecutor } from '@veil/admin-store';

export interface CrashOrder {
  grantId: string;
  cost: { epsilon: string; delta: string; rho: string; rhoDelta: string };
}

/** Reservation ids by the outcome the protocol prescribes once the worker is dead and the sweeper ran. */
export interface CrashReport {
  /** Started running (the default), or marked running: data may have been read → the sweeper commits. */
  mustCommit: string[];
  /** Reserved without running and never marked: data never read → the sweeper releases. */
  mustRelease: string[];
  /** Committed / released by the worker itself before it died: the sweeper must leave them alone. */
  committedByWorker: string[];
  releasedByWorker: string[];
}

const pool = new pg.Pool({ connectionString: process.env.VEIL_LEDGER_DB_URL, max: 4 });
const ledger = createBudgetLedger({ sql: pgPoolExecutor(pool) });

process.on('message', (order: CrashOrder) => {
  void hold(order).then((report) => process.send!({ report }));
});
process.send!({ ready: true });

async function hold({ grantId, cost }: CrashOrder): Promise<CrashReport> {
  const reserve = async (startRunning: boolean): Promise<string> =>
    (await ledger.reserve({ grantId, cost, startRunning, ttlMs: 60_000 })).reservation.id;
  const report: CrashReport = { mustCommit: [], mustRelease: [], committedByWorker: [], releasedByWorker: [] };
  for (let i = 0; i < 4; i++) report.mustCommit.push(await reserve(true));
  for (let i = 0; i < 3; i++) report.mustRelease.push(await reserve(false));
  for (let i = 0; i < 2; i++) {
    const id = await reserve(false);
    await ledger.markRunning(id, { ttlMs: 60_000 });
    report.mustCommit.push(id);
  }
  const committed = await reserve(true);
  await ledger.commit(committed, { response: { answer: 42 } });
  report.committedByWorker.push(committed);
  const released = await reserve(false);
  await ledger.release(released);
  report.releasedByWorker.push(released);
  return report;
}
// Keep the process (and its open connections) alive until it is killed.
setInterval(() => undefined, 60_000);
