// Public shapes of the budget ledger: plain objects, amounts as decimal strings.
import type { PrivacyCost } from '@veil/mechanisms';

/** zCDP (default): charges compose as approximate zCDP and are admitted while the tight (ε, δ) conversion
 * stays within the grant. basic: (ε, δ) add up linearly against the grant. */
export type BudgetMode = 'zcdp' | 'basic';

/**
 * reserved: budget held, private data NOT read yet (the worker promises to call markRunning first).
 * running: private data may have been read. committed: charged. released: returned, never charged.
 */
export type ReservationState = 'reserved' | 'running' | 'committed' | 'released';

/**
 * The raw SQL the ledger needs: admin-store's SqlExecutor (a pg Pool or the PGlite instance) fits. The hot-path
 * statements pass `options.name`: an executor may use it to prepare the statement once per connection (pg's
 * `{ name, text, values }`), which saves parsing and planning on every call; ignoring it is correct too.
 */
export interface LedgerSql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: { name?: string }): Promise<{ rows: T[] }>;
  /** Runs `fn` in one transaction on one connection. Needed by setDatasetCap only (admin-store's executor has it). */
  transaction?<R>(fn: (tx: Pick<LedgerSql, 'query'>) => Promise<R>): Promise<R>;
}

export interface BudgetLedgerOptions {
  sql: LedgerSql;
  /** The clock for expiry and timestamps; injectable for tests. Default: `() => new Date()`. */
  clock?: () => Date;
  /** Lifetime of a reservation when the request names none. Default 5 minutes. */
  defaultTtlMs?: number;
  /** Attempts of a reservation whose cached view of the grant turned out stale. Default 8. */
  maxAttempts?: number;
}

export interface Grant {
  id: string;
  userId: string;
  datasetId: string;
  mode: BudgetMode;
  epsilon: string;
  delta: string;
}

export interface DatasetCap {
  datasetId: string;
  mode: BudgetMode;
  epsilon: string;
  delta: string;
}

/** A grant to reserve from: by id, or by the analyst and dataset it belongs to. */
export type GrantRef = { grantId: string } | { userId: string; datasetId: string };

export type ReserveRequest = GrantRef & {
  cost: PrivacyCost;
  /** The client's Idempotency-Key: a retry with the same key and request is replayed, never charged twice. */
  idempotencyKey?: string;
  /** Hash of the canonical request (see requestFingerprint); default: the fingerprint of grant and cost. */
  fingerprint?: string;
  ttlMs?: number;
  /**
   * true (default): the reservation starts `running` — the caller goes straight to reading private data, so
   * if it dies the sweeper COMMITS. false: it starts `reserved`, and the caller must call markRunning before
   * touching data; if it dies before that, the sweeper RELEASES.
   */
  startRunning?: boolean;
};

export interface Reservation {
  id: string;
  grantId: string;
  userId: string;
  datasetId: string;
  state: ReservationState;
  /** The amounts held or charged (the request's cost rounded up to 24 decimal places). */
  cost: PrivacyCost;
  idempotencyKey: string | null;
  expiresAt: Date;
  createdAt: Date;
  resolvedAt: Date | null;
  resolvedBy: 'client' | 'sweeper' | null;
  /** The response stored at commit or release, replayed to retries; null when none was stored. */
  response: unknown;
}

export type ReserveOutcome =
  /** `remaining`: what the grant admits right after this reservation (as RemainingBudget.remaining). */
  | { kind: 'reserved'; reservation: Reservation; remaining: RemainingBudget['remaining'] }
  /** The idempotency key was used before for this very request: its first outcome, not charged again. */
  | { kind: 'replay'; reservation: Reservation; response: unknown };

export interface RemainingBudget {
  grantId: string;
  mode: BudgetMode;
  /** The grant's total. */
  grant: { epsilon: string; delta: string };
  /**
   * What is left, rounded down. basic: ε and δ not yet spent or held; ρ = ε²/2 of that ε.
   * zcdp: δ = δ_g − Σρδ; ρ = cdp_rho(ε_g, δ) − Σρ, the ρ still admitted; ε = ε_g − cdp_eps(Σρ, δ), the part
   * of ε_g the spent ρ does not yet use.
   */
  remaining: { epsilon: string; delta: string; rho: string };
  committed: PrivacyCost;
  reserved: PrivacyCost;
}

export interface LedgerEntry {
  id: string;
  kind: 'reserve' | 'run' | 'commit' | 'release';
  reservationId: string;
  actor: 'client' | 'sweeper';
  amounts: PrivacyCost;
  response: unknown;
  createdAt: Date;
}

export interface SweepResult {
  committed: string[];
  released: string[];
}
