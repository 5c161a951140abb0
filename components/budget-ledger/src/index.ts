// Public interface of @veil/budget-ledger: the privacy-budget ledger of DESIGN §4 (reserve → commit or
// release, sweeper, idempotency, zCDP and basic accounting, dataset caps) over one SQL statement per step.
export { BudgetLedger, createBudgetLedger } from './ledger.js';
export { requestFingerprint } from './fingerprint.js';
export { SCALE } from './amounts.js';
export {
  BudgetExhaustedError,
  IdempotencyConflictError,
  LedgerContentionError,
  LedgerError,
  LedgerInputError,
  LedgerNotFoundError,
  ReservationClosedError,
} from './errors.js';
export type { BudgetShortfall } from './errors.js';
export type {
  BudgetLedgerOptions,
  BudgetMode,
  DatasetCap,
  Grant,
  GrantRef,
  LedgerEntry,
  LedgerSql,
  RemainingBudget,
  Reservation,
  ReservationState,
  ReserveOutcome,
  ReserveRequest,
  SweepResult,
} from './types.js';
