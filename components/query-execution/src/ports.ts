// What the query flow needs from the DP SQL engine and from the budget ledger, stated narrowly so the flow
// reads as the protocol of DESIGN §4 and the glue to each brick stays in one place (bindings.ts).
import type { DatasetAdapter } from '@veil/dataset-adapters';
import type { DatasetMetadata } from '@veil/dataset-metadata';
import type { PrivacyCost } from '@veil/mechanisms';

/** The privacy parameters an analyst asks a query to spend, as decimal strings. */
export interface PrivacyRequest {
  epsilon: string;
  delta: string;
}

/** A query checked against the metadata, with its exact charge and expected accuracy; nothing read yet. */
export interface PlannedQuery {
  cost: PrivacyCost;
  /** Per output column: mechanism, scale and 95% interval half-width, as the DP SQL engine reports them. */
  accuracy: unknown;
  /** The engine's own plan, handed back to `run`. */
  native: unknown;
}

export interface DpAnswer {
  columns: string[];
  rows: unknown[][];
  /** Per row and column: the noise on that value (mechanism, scale, 95% interval), null for keys. */
  accuracy: unknown;
  /** How the released groups were chosen (public domains, or partition selection and its threshold). */
  groups?: unknown;
}

export interface QueryPlanner {
  /** Throws BadQueryError-like errors (see errors.ts: toQueryError) for anything outside the DP subset. */
  plan(sql: string, metadata: DatasetMetadata, privacy: PrivacyRequest, dialect: DatasetAdapter['dialect']): Promise<PlannedQuery>;
  /** Runs the plan on the adapter, draws the noise and post-processes. */
  run(plan: PlannedQuery, adapter: DatasetAdapter, options: { signal: AbortSignal; timeoutMs: number }): Promise<DpAnswer>;
}

/** A grant as shown to people: the total (ε, δ), the mode, what is spent and what is left. */
export interface BudgetView {
  mode: 'zcdp' | 'basic';
  grant: { epsilon: string; delta: string };
  /** Committed charges, summed field by field. */
  spent: PrivacyCost;
  /** Held by queries in flight. */
  reserved: PrivacyCost;
  /**
   * What is left in the currency the mode composes in: ρ (and δ) under zCDP, ε and δ under basic
   * composition. A committed charge lowers it by exactly the charge's figure in that currency.
   */
  remaining: { epsilon?: string; delta: string; rho?: string };
}

export type ReservationState = 'reserved' | 'running' | 'committed' | 'released';

export interface HeldReservation {
  reservationId: string;
  state: ReservationState;
  /** The amount held or charged: the plan's cost as the ledger records it (rounded up). */
  cost: PrivacyCost;
  /** True when the key had been used before and this is that first reservation. */
  replayed?: boolean;
  /** A fresh reservation: what the grant admits right after it (BudgetView.remaining). */
  remaining?: BudgetView['remaining'];
}

export interface BudgetLedgerPort {
  /** The budget of a grant, or null when the user holds no grant on the dataset. */
  getBudget(userId: string, datasetId: string): Promise<BudgetView | null>;
  setGrant(userId: string, datasetId: string, grant: { epsilon: string; delta: string; mode?: 'zcdp' | 'basic' }): Promise<BudgetView>;
  /**
   * Atomic conditional reservation in state `reserved` (data not read yet), or `running` with `running`
   * (data about to be read: for a job that starts at once; markRunning is then not needed). The same `key`
   * (the job id) returns the first reservation, whatever its state now. Throws QueryError budget_exhausted.
   */
  reserve(input: { userId: string; datasetId: string; cost: PrivacyCost; key: string; ttlMs: number; running?: boolean }): Promise<HeldReservation>;
  /** Declares that private data is about to be read; false when the reservation is no longer open. */
  markRunning(reservationId: string, ttlMs: number): Promise<boolean>;
  commit(reservationId: string): Promise<void>;
  /** Returns an unread reservation; a reservation the sweeper committed meanwhile stays committed. */
  release(reservationId: string): Promise<void>;
  /** Resolves reservations of crashed workers (running → committed, reserved → released). */
  sweep(): Promise<unknown>;
}
