import { randomUUID } from 'node:crypto';
import { gaussianCost, laplaceCost, partitionSelectionCost } from '@veil/mechanisms';
import { Decimal as DecimalBase } from 'decimal.js';

const Decimal = DecimalBase.clone({ precision: 100 });
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BudgetExhaustedError,
  IdempotencyConflictError,
  LedgerInputError,
  LedgerNotFoundError,
  ReservationClosedError,
  createBudgetLedger,
  type BudgetLedger,
} from './index.js';
import { ledgerBackends, manualClock } from './testing/backends.js';
import type { LedgerDatabase } from './testing/databases.js';

const cost = (epsilon: string, delta = '0', rho = '0', rhoDelta = '0') => ({ epsilon, delta, rho, rhoDelta });
const eq = (a: string, b: string | InstanceType<typeof Decimal>) => expect(new Decimal(a).eq(b), `${a} = ${b.toString()}`).toBe(true);

describe.each(ledgerBackends())('budget ledger on $name', ({ open, skip }) => {
  let db: LedgerDatabase;
  let ledger: BudgetLedger;
  const time = manualClock();
  let n = 0;
  const fresh = () => `${++n}-${randomUUID()}`;

  beforeAll(async () => {
    if (skip) return;
    db = await open();
    ledger = createBudgetLedger({ sql: db.sql, clock: time.clock });
  });
  afterAll(async () => {
    if (skip) return;
    expect(await ledger.checkConsistency()).toEqual([]);
    await db.close();
  });

  describe.skipIf(skip)('protocol', () => {
    it('reserves, commits and releases with exact balances and an append-only record', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '1e-6', mode: 'basic' });
      const a = await ledger.reserve({ grantId: grant.id, cost: cost('0.1', '1e-7') });
      const b = await ledger.reserve({ userId: grant.userId, datasetId: grant.datasetId, cost: cost('0.2') });
      expect(a.kind).toBe('reserved');
      const held = await ledger.remaining({ grantId: grant.id });
      // Each reservation reports what remained right after it, as remaining() reads it.
      expect(a.kind === 'reserved' && a.remaining.epsilon).toBe('0.9');
      expect(b.kind === 'reserved' && b.remaining).toEqual(held.remaining);
      eq(held.remaining.epsilon, '0.7');
      eq(held.reserved.epsilon, '0.3');
      await ledger.commit(a.reservation.id, { response: { rows: [[1]] } });
      await ledger.release(b.reservation.id);
      const after = await ledger.remaining({ grantId: grant.id });
      eq(after.remaining.epsilon, '0.9');
      eq(after.remaining.delta, '9e-7');
      eq(after.committed.epsilon, '0.1');
      eq(after.reserved.epsilon, '0');
      expect((await ledger.entries(a.reservation.id)).map((e) => e.kind)).toEqual(['reserve', 'commit']);
      expect((await ledger.entries(b.reservation.id)).map((e) => e.kind)).toEqual(['reserve', 'release']);
      const history = await ledger.history({ userId: grant.userId, datasetId: grant.datasetId });
      expect(history.map((r) => [r.id, r.state]).sort()).toEqual(
        [[a.reservation.id, 'committed'], [b.reservation.id, 'released']].sort(),
      );
      await expect(db.sql.query(`UPDATE ledger_entries SET epsilon = 0`)).rejects.toThrow(/append-only/);
      await expect(db.sql.query(`DELETE FROM ledger_entries`)).rejects.toThrow(/append-only/);
    });

    it('commits and releases once: repeats are idempotent, a release after a commit is refused', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      const { reservation } = await ledger.reserve({ grantId: grant.id, cost: cost('0.25') });
      await ledger.commit(reservation.id, { response: { ok: true } });
      const again = await ledger.commit(reservation.id, { response: { ok: 'second' } });
      expect(again.response).toEqual({ ok: true });
      await expect(ledger.release(reservation.id)).rejects.toBeInstanceOf(ReservationClosedError);
      eq((await ledger.remaining({ grantId: grant.id })).committed.epsilon, '0.25');
      const other = await ledger.reserve({ grantId: grant.id, cost: cost('0.25') });
      await ledger.release(other.reservation.id);
      await ledger.release(other.reservation.id);
      await expect(ledger.commit(other.reservation.id)).rejects.toBeInstanceOf(ReservationClosedError);
      eq((await ledger.remaining({ grantId: grant.id })).remaining.epsilon, '0.75');
      await expect(ledger.commit('no-such-reservation')).rejects.toBeInstanceOf(LedgerNotFoundError);
    });

    it('refuses what the grant cannot cover, naming what is needed and what remains', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '0.5', delta: '0', mode: 'basic' });
      await ledger.reserve({ grantId: grant.id, cost: cost('0.3') });
      const refusal = await ledger.reserve({ grantId: grant.id, cost: cost('0.3') }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(BudgetExhaustedError);
      expect((refusal as BudgetExhaustedError).shortfall).toMatchObject({ scope: 'grant', needed: { epsilon: '0.3' }, remaining: { epsilon: '0.2' } });
      await expect(ledger.reserve({ userId: fresh(), datasetId: fresh(), cost: cost('0.1') })).rejects.toBeInstanceOf(LedgerNotFoundError);
    });

    it('rounds costs up and grants down to 24 decimal places', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '0.3000000000000000000000009', delta: '0', mode: 'basic' });
      expect(grant.epsilon).toBe('0.3');
      const { reservation } = await ledger.reserve({ grantId: grant.id, cost: cost('0.1000000000000000000000001') });
      expect(reservation.cost.epsilon).toBe('0.100000000000000000000001');
      await ledger.reserve({ grantId: grant.id, cost: cost('0.1') });
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('0.1') })).rejects.toBeInstanceOf(BudgetExhaustedError);
    });

    it('rejects bad input with a clear error', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '1e-6' });
      await expect(ledger.reserve({ grantId: grant.id, cost: { epsilon: 0.1, delta: '0', rho: '0', rhoDelta: '0' } as never })).rejects.toThrow(/cost.epsilon must be a non-negative decimal string.*not floats/);
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('-1') })).rejects.toBeInstanceOf(LedgerInputError);
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('NaN') })).rejects.toBeInstanceOf(LedgerInputError);
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('0.1'), ttlMs: -5 })).rejects.toThrow(/ttlMs/);
      await expect(ledger.setGrant({ userId: 'u', datasetId: 'd', epsilon: '1', delta: '0' })).rejects.toThrow(/zCDP mode needs delta > 0.*basic/);
      await expect(ledger.setGrant({ userId: 'u', datasetId: 'd', epsilon: '1', delta: '1', mode: 'basic' })).rejects.toThrow(/delta must be below 1/);
      await expect(ledger.setGrant({ userId: '', datasetId: 'd', epsilon: '1', delta: '0', mode: 'basic' })).rejects.toThrow(/userId/);
    });
  });

  describe.skipIf(skip)('idempotency', () => {
    it('replays the first outcome for the same key and request, without a second charge', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      const request = { grantId: grant.id, cost: cost('0.2'), idempotencyKey: 'key-1', fingerprint: 'sha-of-request-1' };
      const first = await ledger.reserve(request);
      await ledger.commit(first.reservation.id, { response: { answer: 7 } });
      const retry = await ledger.reserve(request);
      expect(retry).toMatchObject({ kind: 'replay', response: { answer: 7 }, reservation: { id: first.reservation.id, state: 'committed' } });
      const remaining = await ledger.remaining({ grantId: grant.id });
      eq(remaining.committed.epsilon, '0.2');
      eq(remaining.reserved.epsilon, '0');
    });

    it('answers a reused key with a different request by IdempotencyConflictError', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      await ledger.reserve({ grantId: grant.id, cost: cost('0.2'), idempotencyKey: 'key-2', fingerprint: 'request-A' });
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('0.2'), idempotencyKey: 'key-2', fingerprint: 'request-B' })).rejects.toBeInstanceOf(IdempotencyConflictError);
      // Without explicit fingerprints, a different cost is a different request.
      await ledger.reserve({ grantId: grant.id, cost: cost('0.1'), idempotencyKey: 'key-3' });
      await expect(ledger.reserve({ grantId: grant.id, cost: cost('0.3'), idempotencyKey: 'key-3' })).rejects.toBeInstanceOf(IdempotencyConflictError);
      eq((await ledger.remaining({ grantId: grant.id })).reserved.epsilon, '0.3');
    });

    it('charges once when the same request races with itself', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      const request = { grantId: grant.id, cost: cost('0.1'), idempotencyKey: 'racing-key', fingerprint: 'same' };
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => ledger.reserve(request)));
      expect(outcomes.filter((o) => o.kind === 'reserved')).toHaveLength(1);
      expect(new Set(outcomes.map((o) => o.reservation.id)).size).toBe(1);
      eq((await ledger.remaining({ grantId: grant.id })).reserved.epsilon, '0.1');
    });

    it('replays a key even when the budget is now exhausted', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '0.1', delta: '0', mode: 'basic' });
      const request = { grantId: grant.id, cost: cost('0.1'), idempotencyKey: 'last-one', fingerprint: 'f' };
      const first = await ledger.reserve(request);
      await ledger.commit(first.reservation.id, { response: 'done' });
      await expect(ledger.reserve(request)).resolves.toMatchObject({ kind: 'replay', response: 'done' });
    });
  });

  describe.skipIf(skip)('dataset cap', () => {
    it('is enforced in the same atomic step: a refusal by either leaves both balances untouched', async () => {
      const datasetId = fresh();
      const wide = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '10', delta: '0', mode: 'basic' });
      const other = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '10', delta: '0', mode: 'basic' });
      await ledger.setDatasetCap(datasetId, { epsilon: '1', delta: '0', mode: 'basic' });
      await ledger.reserve({ grantId: wide.id, cost: cost('0.6') });
      const refusal = await ledger.reserve({ grantId: other.id, cost: cost('0.6') }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(BudgetExhaustedError);
      expect((refusal as BudgetExhaustedError).shortfall.scope).toBe('dataset');
      expect((refusal as BudgetExhaustedError).message).not.toMatch(/0\.6|0\.4/);
      eq((await ledger.remaining({ grantId: other.id })).reserved.epsilon, '0');
      await ledger.reserve({ grantId: other.id, cost: cost('0.4') });
      // The grant refuses while the cap has room: the cap's balance must not move either.
      const small = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '0.1', delta: '0', mode: 'basic' });
      await ledger.setDatasetCap(datasetId, { epsilon: '5', delta: '0', mode: 'basic' });
      await expect(ledger.reserve({ grantId: small.id, cost: cost('0.2') })).rejects.toMatchObject({ shortfall: { scope: 'grant' } });
      const { rows } = await db.sql.query<{ reserved: string }>(`SELECT epsilon_used::text AS reserved FROM dataset_budgets WHERE dataset_id = $1`, [datasetId]);
      eq(rows[0]!.reserved, '1');
      await ledger.setDatasetCap(datasetId, null);
      await ledger.reserve({ grantId: wide.id, cost: cost('4') });
    });

    it('is seen by a replica whose cached view predates it (versions fence stale views)', async () => {
      const datasetId = fresh();
      const grant = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '10', delta: '1e-6' });
      const replica = createBudgetLedger({ sql: db.sql, clock: time.clock });
      await replica.reserve({ grantId: grant.id, cost: laplaceCost('0.1') }); // caches the view
      await ledger.setDatasetCap(datasetId, { epsilon: '0.2', delta: '0', mode: 'basic' });
      await replica.reserve({ grantId: grant.id, cost: laplaceCost('0.1') });
      await expect(replica.reserve({ grantId: grant.id, cost: laplaceCost('0.1') })).rejects.toMatchObject({ shortfall: { scope: 'dataset' } });
      await ledger.setGrant({ userId: grant.userId, datasetId, epsilon: '0.01', delta: '1e-6', mode: 'basic' });
      await ledger.setDatasetCap(datasetId, null);
      await expect(replica.reserve({ grantId: grant.id, cost: laplaceCost('0.1') })).rejects.toMatchObject({ shortfall: { scope: 'grant', mode: 'basic' } });
    });
  });

  describe.skipIf(skip)('dataset cap set on a dataset used without one', () => {
    // Without a cap the dataset row's `used` sums are not maintained; setting a cap recomputes them.
    const datasetUsed = async (datasetId: string): Promise<string> =>
      (await db.sql.query<{ used: string }>(`SELECT epsilon_used::text AS used FROM dataset_budgets WHERE dataset_id = $1`, [datasetId])).rows[0]!.used;

    it('counts the spending made before the cap exactly', async () => {
      const datasetId = fresh();
      const a = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '10', delta: '0', mode: 'basic' });
      const b = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '10', delta: '0', mode: 'basic' });
      const held = await ledger.reserve({ grantId: a.id, cost: cost('0.3') });
      await ledger.commit((await ledger.reserve({ grantId: b.id, cost: cost('0.25') })).reservation.id);
      await ledger.release((await ledger.reserve({ grantId: b.id, cost: cost('0.5') })).reservation.id);
      await ledger.setDatasetCap(datasetId, { epsilon: '1', delta: '0', mode: 'basic' });
      eq(await datasetUsed(datasetId), '0.55');
      await expect(ledger.reserve({ grantId: a.id, cost: cost('0.46') })).rejects.toMatchObject({ shortfall: { scope: 'dataset' } });
      await ledger.reserve({ grantId: a.id, cost: cost('0.45') });
      await expect(ledger.reserve({ grantId: b.id, cost: cost('0.000001') })).rejects.toMatchObject({ shortfall: { scope: 'dataset' } });
      await ledger.release(held.reservation.id);
      eq(await datasetUsed(datasetId), '0.7');
      await ledger.reserve({ grantId: b.id, cost: cost('0.3') });
      expect(await ledger.checkConsistency()).toEqual([]);
    });

    it('stays exact when the cap is removed, the dataset used, and the cap set again', async () => {
      const datasetId = fresh();
      const grant = await ledger.setGrant({ userId: fresh(), datasetId, epsilon: '100', delta: '1e-6' });
      await ledger.setDatasetCap(datasetId, { epsilon: '1', delta: '0', mode: 'basic' });
      const underCap = await ledger.reserve({ grantId: grant.id, cost: laplaceCost('0.4') });
      await ledger.setDatasetCap(datasetId, null);
      await ledger.release(underCap.reservation.id); // reserved under the cap, released without it
      await ledger.commit((await ledger.reserve({ grantId: grant.id, cost: laplaceCost('2') })).reservation.id);
      const open = await ledger.reserve({ grantId: grant.id, cost: laplaceCost('0.5') });
      await ledger.setDatasetCap(datasetId, { epsilon: '3', delta: '0', mode: 'basic' });
      eq(await datasetUsed(datasetId), '2.5');
      await expect(ledger.reserve({ grantId: grant.id, cost: laplaceCost('0.6') })).rejects.toMatchObject({ shortfall: { scope: 'dataset' } });
      await ledger.release(open.reservation.id);
      await ledger.reserve({ grantId: grant.id, cost: laplaceCost('1') });
      eq(await datasetUsed(datasetId), '3');
      expect(await ledger.checkConsistency()).toEqual([]);
    });

    it('is never overspent when set while reservations and releases are in flight', async () => {
      const datasetId = fresh();
      const grants = await Promise.all(
        Array.from({ length: 4 }, () => ledger.setGrant({ userId: fresh(), datasetId, epsilon: '100', delta: '0', mode: 'basic' })),
      );
      const replicas = grants.map(() => createBudgetLedger({ sql: db.sql, clock: time.clock }));
      let capped: Promise<unknown> | undefined;
      const outcomes = await Promise.all(
        grants.flatMap((grant, g) =>
          Array.from({ length: 40 }, async (_, i) => {
            if (g === 0 && i === 5) capped = ledger.setDatasetCap(datasetId, { epsilon: '2', delta: '0', mode: 'basic' });
            try {
              const { reservation } = await replicas[g]!.reserve({ grantId: grant.id, cost: cost('0.1') });
              if (i % 4 === 0) return void (await replicas[g]!.release(reservation.id));
              await replicas[g]!.commit(reservation.id);
              return 'committed';
            } catch (error) {
              if (error instanceof BudgetExhaustedError) return 'exhausted';
              throw error;
            }
          }),
        ),
      );
      await capped;
      const committed = outcomes.filter((o) => o === 'committed').length;
      expect(committed).toBeLessThanOrEqual(20);
      eq(await datasetUsed(datasetId), new Decimal('0.1').times(committed));
      expect(await ledger.checkConsistency()).toEqual([]);
    });
  });

  describe.skipIf(skip)('sweeper', () => {
    it('commits expired running reservations, releases expired unstarted ones, and changes nothing twice', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      const running = await ledger.reserve({ grantId: grant.id, cost: cost('0.1'), ttlMs: 1000 });
      const unstarted = await ledger.reserve({ grantId: grant.id, cost: cost('0.2'), ttlMs: 1000, startRunning: false });
      const marked = await ledger.reserve({ grantId: grant.id, cost: cost('0.3'), ttlMs: 1000, startRunning: false });
      await ledger.markRunning(marked.reservation.id, { ttlMs: 1000 });
      const late = await ledger.reserve({ grantId: grant.id, cost: cost('0.05'), ttlMs: 1000, startRunning: false });
      const alive = await ledger.reserve({ grantId: grant.id, cost: cost('0.15'), ttlMs: 60_000 });
      expect(await ledger.sweep()).toEqual({ committed: [], released: [] });
      time.advance(1001);
      const swept = await ledger.sweep();
      expect(swept.committed.sort()).toEqual([running.reservation.id, marked.reservation.id].sort());
      expect(swept.released.sort()).toEqual([unstarted.reservation.id, late.reservation.id].sort());
      expect(await ledger.sweep()).toEqual({ committed: [], released: [] });
      // A worker waking up after expiry must not start reading data.
      await expect(ledger.markRunning(late.reservation.id)).rejects.toBeInstanceOf(ReservationClosedError);
      // Committing what the sweeper committed is no second charge; its answer is kept for replays.
      const recommitted = await ledger.commit(running.reservation.id, { response: { late: true } });
      expect(recommitted).toMatchObject({ state: 'committed', resolvedBy: 'sweeper', response: { late: true } });
      const remaining = await ledger.remaining({ grantId: grant.id });
      eq(remaining.committed.epsilon, '0.4');
      eq(remaining.reserved.epsilon, '0.15');
      expect((await ledger.getReservation(alive.reservation.id)).state).toBe('running');
    });

    it('refuses markRunning on an expired reservation even before the sweeper ran', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '0', mode: 'basic' });
      const { reservation } = await ledger.reserve({ grantId: grant.id, cost: cost('0.1'), ttlMs: 10, startRunning: false });
      time.advance(11);
      await expect(ledger.markRunning(reservation.id)).rejects.toThrow(/expired/);
    });
  });

  describe.skipIf(skip)('zCDP accounting', () => {
    const admitted = async (mode: 'zcdp' | 'basic', queryCost: ReturnType<typeof gaussianCost>): Promise<number> => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '1e-6', mode });
      for (let count = 0; ; count++) {
        try {
          const { reservation } = await ledger.reserve({ grantId: grant.id, cost: queryCost });
          await ledger.commit(reservation.id);
        } catch (error) {
          expect(error).toBeInstanceOf(BudgetExhaustedError);
          return count;
        }
      }
    };

    it('admits 43 Gaussian count queries at σ = 30 under (1, 1e-6) in zCDP mode, 6 in basic mode', async () => {
      const countQuery = gaussianCost(1, 30, '1e-7');
      const zcdp = await admitted('zcdp', countQuery);
      const basic = await admitted('basic', countQuery);
      console.info(`Gaussian σ=30 count queries admitted by a (ε=1, δ=1e-6) grant: zCDP ${zcdp}, basic ${basic}`);
      expect(zcdp).toBe(43);
      expect(basic).toBeGreaterThanOrEqual(5);
      expect(basic).toBeLessThanOrEqual(7);
    });

    it('reports the remaining budget as ε, δ and ρ', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '1e-6' });
      const before = await ledger.remaining({ grantId: grant.id });
      expect(before.remaining.epsilon).toBe('1');
      expect(before.remaining.delta).toBe('0.000001');
      expect(Number(before.remaining.rho)).toBeCloseTo(0.0243559, 6);
      const { reservation } = await ledger.reserve({ grantId: grant.id, cost: laplaceCost('0.1') });
      await ledger.commit(reservation.id);
      const after = await ledger.remaining({ grantId: grant.id });
      eq(after.remaining.rho, new Decimal(before.remaining.rho).minus('0.005'));
      expect(Number(after.remaining.epsilon)).toBeGreaterThan(0.5);
      expect(Number(after.remaining.epsilon)).toBeLessThan(1);
    });

    it('accounts δ-consuming charges (partition selection) and adapts the ρ cap to them', async () => {
      const grant = await ledger.setGrant({ userId: fresh(), datasetId: fresh(), epsilon: '1', delta: '1e-6' });
      const selection = partitionSelectionCost('0.1', '4e-7');
      await ledger.reserve({ grantId: grant.id, cost: selection });
      await ledger.reserve({ grantId: grant.id, cost: selection });
      // δ left is 2e-7: a third selection of 4e-7 cannot fit, whatever its ρ.
      await expect(ledger.reserve({ grantId: grant.id, cost: selection })).rejects.toBeInstanceOf(BudgetExhaustedError);
      const remaining = await ledger.remaining({ grantId: grant.id });
      eq(remaining.remaining.delta, '2e-7');
      // A replica with a stale view of the δ consumption is fenced by the bound D and retries on fresh figures.
      const replica = createBudgetLedger({ sql: db.sql, clock: time.clock });
      await replica.reserve({ grantId: grant.id, cost: laplaceCost('0.01') });
      await ledger.reserve({ grantId: grant.id, cost: partitionSelectionCost('0.01', '5e-8') });
      await replica.reserve({ grantId: grant.id, cost: partitionSelectionCost('0.01', '5e-8') });
      eq((await ledger.remaining({ grantId: grant.id })).remaining.delta, '1e-7');
      await expect(replica.reserve({ grantId: grant.id, cost: partitionSelectionCost('0.01', '1e-7') })).rejects.toBeInstanceOf(BudgetExhaustedError);
      await replica.reserve({ grantId: grant.id, cost: partitionSelectionCost('0.01', '5e-8') });
    });
  });
});
