// Errors of the budget ledger. Messages are safe to show the analyst: they carry amounts of the analyst's own
// grant, never figures about other analysts (a dataset cap says only that it is reached).

export class LedgerError extends Error {
  override name = 'LedgerError';
}

/** Bad input to the ledger (a malformed amount, a missing id); → HTTP 400. */
export class LedgerInputError extends LedgerError {
  override name = 'LedgerInputError';
}

/** No such grant or reservation; → HTTP 404. */
export class LedgerNotFoundError extends LedgerError {
  override name = 'LedgerNotFoundError';
}

export interface BudgetShortfall {
  /** `grant`: the analyst's own grant; `dataset`: the dataset's cap across all analysts. */
  scope: 'grant' | 'dataset';
  mode: 'zcdp' | 'basic';
  /** What the request would consume (ρ in zCDP mode, ε and δ in basic mode), decimal strings. */
  needed: Record<string, string>;
  /** What the grant still admits (only for scope `grant`), decimal strings. */
  remaining?: Record<string, string>;
}

/** The budget cannot cover the request; → HTTP 403 `budget_exhausted`. */
export class BudgetExhaustedError extends LedgerError {
  override name = 'BudgetExhaustedError';
  constructor(readonly shortfall: BudgetShortfall) {
    super(
      shortfall.scope === 'dataset'
        ? 'the dataset has reached the privacy budget cap its owner set for all analysts'
        : `the privacy budget of this grant cannot cover the request (needs ${render(shortfall.needed)}; remaining ${render(shortfall.remaining ?? {})})`,
    );
  }
}

const render = (amounts: Record<string, string>): string =>
  Object.entries(amounts).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing';

/** The idempotency key was used before for a different request; → HTTP 409. */
export class IdempotencyConflictError extends LedgerError {
  override name = 'IdempotencyConflictError';
  constructor(readonly idempotencyKey: string) {
    super('this Idempotency-Key was already used for a different request');
  }
}

/**
 * The reservation is no longer open for this step: e.g. commit after it was released, or markRunning after
 * it expired (the caller must not read private data then); → HTTP 409.
 */
export class ReservationClosedError extends LedgerError {
  override name = 'ReservationClosedError';
  constructor(readonly reservationId: string, readonly state: string, step: string) {
    super(`reservation ${reservationId} is ${state}; it cannot be ${step}`);
  }
}

/** Too many concurrent changes to the same grant for the retry budget; the request may be retried. → 503. */
export class LedgerContentionError extends LedgerError {
  override name = 'LedgerContentionError';
}
