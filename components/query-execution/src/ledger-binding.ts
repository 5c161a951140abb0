// The flow's view of @veil/budget-ledger: reservations keyed by job id, ledger errors as QueryErrors.
import {
  BudgetExhaustedError,
  IdempotencyConflictError,
  LedgerContentionError,
  LedgerInputError,
  LedgerNotFoundError,
  ReservationClosedError,
} from '@veil/budget-ledger';
import type { BudgetLedger, RemainingBudget } from '@veil/budget-ledger';
import { QueryError } from './errors.js';
import type { BudgetLedgerPort, BudgetView } from './ports.js';

export function ledgerPort(ledger: BudgetLedger): BudgetLedgerPort {
  return {
    getBudget: async (userId, datasetId) => {
      try {
        return budgetView(await ledger.remaining({ userId, datasetId }));
      } catch (error) {
        if (error instanceof LedgerNotFoundError) return null;
        throw error;
      }
    },
    setGrant: async (userId, datasetId, grant) =>
      translate(async () => {
        await ledger.setGrant({ userId, datasetId, ...grant });
        return budgetView(await ledger.remaining({ userId, datasetId }));
      }),
    reserve: (input) =>
      translate(async () => {
        const outcome = await ledger.reserve({
          userId: input.userId,
          datasetId: input.datasetId,
          cost: input.cost,
          idempotencyKey: input.key,
          ttlMs: input.ttlMs,
          startRunning: input.running ?? false,
        });
        const r = outcome.reservation;
        const remaining = outcome.kind === 'reserved' ? outcome.remaining : undefined;
        return { reservationId: r.id, state: r.state, cost: r.cost, replayed: outcome.kind === 'replay', remaining };
      }),
    markRunning: async (reservationId, ttlMs) => {
      try {
        await ledger.markRunning(reservationId, { ttlMs });
        return true;
      } catch (error) {
        if (error instanceof ReservationClosedError) return false;
        throw error;
      }
    },
    commit: async (reservationId) => {
      await ledger.commit(reservationId);
    },
    release: async (reservationId) => {
      try {
        await ledger.release(reservationId);
      } catch (error) {
        // The sweeper committed it meanwhile (it expired while running): the charge stands.
        if (!(error instanceof ReservationClosedError)) throw error;
      }
    },
    sweep: () => ledger.sweep(),
  };
}

function budgetView(r: RemainingBudget): BudgetView {
  return { mode: r.mode, grant: r.grant, spent: r.committed, reserved: r.reserved, remaining: r.remaining };
}

async function translate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof BudgetExhaustedError) throw new QueryError('budget_exhausted', error.message, error.shortfall);
    if (error instanceof IdempotencyConflictError) throw new QueryError('idempotency_conflict', error.message);
    if (error instanceof LedgerInputError) throw new QueryError('invalid_request', error.message);
    if (error instanceof LedgerNotFoundError) throw new QueryError('not_found', error.message);
    if (error instanceof LedgerContentionError) throw new QueryError('busy', error.message);
    throw error;
  }
}
