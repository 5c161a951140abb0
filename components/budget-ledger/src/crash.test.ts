// Acceptance: a worker holding reservations dies by SIGKILL; the sweeper resolves each of them by the rule
// (running → committed, reserved-but-never-started → released), and running it again changes nothing.
import { Decimal as DecimalBase } from 'decimal.js';

const Decimal = DecimalBase.clone({ precision: 100 });
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBudgetLedger } from './index.js';
import { ledgerBackends } from './testing/backends.js';
import type { CrashOrder, CrashReport } from './testing/crash-worker.js';
import type { LedgerDatabase } from './testing/databases.js';
import { exited, forkWorker } from './testing/processes.js';

const postgres = ledgerBackends().find((b) => b.name === 'PostgreSQL')!;
const cost = { epsilon: '0.0123', delta: '0', rho: '0.0000756450000000000000001', rhoDelta: '0' };

describe.skipIf(postgres.skip)('a worker killed by SIGKILL while holding reservations (PostgreSQL)', () => {
  let db: LedgerDatabase;
  beforeAll(async () => {
    db = await postgres.open();
  });
  afterAll(async () => {
    await db.close();
  });

  it('has every reservation committed or released by the sweeper, once', async () => {
    const admin = createBudgetLedger({ sql: db.sql });
    const grant = await admin.setGrant({ userId: 'crashing-analyst', datasetId: 'visits', epsilon: '1', delta: '0', mode: 'basic' });
    const worker = forkWorker<CrashOrder, CrashReport>('crash-worker.ts', { VEIL_LEDGER_DB_URL: db.url! });
    await worker.ready;
    const report = await worker.run({ grantId: grant.id, cost });
    worker.child.kill('SIGKILL');
    await exited(worker.child);
    expect(worker.child.signalCode).toBe('SIGKILL');

    // Before expiry, the sweeper must not touch them (the worker might still be alive as far as it knows).
    expect(await admin.sweep()).toEqual({ committed: [], released: [] });
    // Two sweepers (replicas) at once, past the expiry.
    const later = new Date(Date.now() + 10 * 60_000);
    const sweeps = await Promise.all([createBudgetLedger({ sql: db.sql }), createBudgetLedger({ sql: db.sql })].map((l) => l.sweep({ now: later })));
    const committed = sweeps.flatMap((s) => s.committed).sort();
    const released = sweeps.flatMap((s) => s.released).sort();
    expect(committed).toEqual([...report.mustCommit].sort());
    expect(released).toEqual([...report.mustRelease].sort());
    expect(await admin.sweep({ now: later })).toEqual({ committed: [], released: [] });

    for (const id of report.mustCommit) expect(await admin.getReservation(id)).toMatchObject({ state: 'committed', resolvedBy: 'sweeper' });
    for (const id of report.mustRelease) expect(await admin.getReservation(id)).toMatchObject({ state: 'released', resolvedBy: 'sweeper' });
    expect(await admin.getReservation(report.committedByWorker[0]!)).toMatchObject({ state: 'committed', resolvedBy: 'client', response: { answer: 42 } });
    expect(await admin.getReservation(report.releasedByWorker[0]!)).toMatchObject({ state: 'released', resolvedBy: 'client' });

    // Nothing charged twice, nothing lost: exactly the committed ones, exactly; a late commit changes nothing.
    const charged = report.mustCommit.length + report.committedByWorker.length;
    const expectTotals = async () => {
      const remaining = await admin.remaining({ grantId: grant.id });
      expect(remaining.committed.epsilon).toBe(new Decimal(cost.epsilon).times(charged).toFixed());
      expect(remaining.committed.rho).toBe(new Decimal(cost.rho).toDecimalPlaces(24, Decimal.ROUND_CEIL).times(charged).toFixed());
      expect(remaining.reserved).toEqual({ epsilon: '0', delta: '0', rho: '0', rhoDelta: '0' });
      expect(remaining.remaining.epsilon).toBe(new Decimal(1).minus(new Decimal(cost.epsilon).times(charged)).toFixed());
    };
    await expectTotals();
    await admin.commit(report.mustCommit[0]!);
    await expect(admin.commit(report.mustRelease[0]!)).rejects.toThrow(/released/);
    await expectTotals();
    expect(await admin.checkConsistency()).toEqual([]);
  });
});
