// Reading rows into typed views, and the exact admission rule the SQL enforces, evaluated in the application
// for the parameters of the one-statement reserve and for the messages when it refuses.
import { cdpEpsilon, cdpRho } from '@veil/mechanisms';
import { Dec, roundDown, text, type LedgerCost } from './amounts.js';
import type { BudgetMode, RemainingBudget, Reservation } from './types.js';

interface Terms {
  mode: BudgetMode;
  epsilon: Dec;
  delta: Dec;
}

export interface GrantView extends Terms {
  id: string;
  userId: string;
  datasetId: string;
  version: number;
  /** Committed + reserved, as of the read (our own later reservations added). */
  used: LedgerCost;
  dataset: { version: number; cap: Terms | null; used: LedgerCost };
}

type Row = Record<string, unknown>;

const str = (row: Row, column: string): string => String(row[column]);

/** The four amounts of a row: columns `${prefix}epsilon${suffix}` etc. */
export function amountsOf(row: Row, prefix = '', suffix = ''): LedgerCost {
  return {
    epsilon: new Dec(str(row, `${prefix}epsilon${suffix}`)),
    delta: new Dec(str(row, `${prefix}delta${suffix}`)),
    rho: new Dec(str(row, `${prefix}rho${suffix}`)),
    rhoDelta: new Dec(str(row, `${prefix}rho_delta${suffix}`)),
  };
}

export function grantViewOf(row: Row): GrantView {
  const capMode = row.cap_mode as BudgetMode | null;
  return {
    id: str(row, 'id'),
    userId: str(row, 'user_id'),
    datasetId: str(row, 'dataset_id'),
    mode: row.mode as BudgetMode,
    epsilon: new Dec(str(row, 'epsilon')),
    delta: new Dec(str(row, 'delta')),
    version: Number(row.version),
    used: amountsOf(row, 'g_', '_used'),
    dataset: {
      version: Number(row.ds_version),
      cap: capMode ? { mode: capMode, epsilon: new Dec(str(row, 'cap_epsilon')), delta: new Dec(str(row, 'cap_delta')) } : null,
      used: amountsOf(row, 'd_', '_used'),
    },
  };
}

export function reservationOf(row: Row): Reservation {
  return {
    id: str(row, 'id'),
    grantId: str(row, 'grant_id'),
    userId: str(row, 'user_id'),
    datasetId: str(row, 'dataset_id'),
    state: row.state as Reservation['state'],
    cost: {
      epsilon: text(new Dec(str(row, 'epsilon'))),
      delta: text(new Dec(str(row, 'delta'))),
      rho: text(new Dec(str(row, 'rho'))),
      rhoDelta: text(new Dec(str(row, 'rho_delta'))),
    },
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    expiresAt: new Date(row.expires_at as Date),
    createdAt: new Date(row.created_at as Date),
    resolvedAt: row.resolved_at ? new Date(row.resolved_at as Date) : null,
    resolvedBy: (row.resolved_by as Reservation['resolvedBy']) ?? null,
    response: row.response ?? null,
  };
}

/** a − b, field by field. */
export function minus(a: LedgerCost, b: LedgerCost): LedgerCost {
  return { epsilon: a.epsilon.minus(b.epsilon), delta: a.delta.minus(b.delta), rho: a.rho.minus(b.rho), rhoDelta: a.rhoDelta.minus(b.rhoDelta) };
}

const rhoCapMemo = new Map<string, Dec>();

/** cdp_rho(ε, δ') rounded down to the ledger's scale, memoised (the hot path asks for the same few). */
export function rhoCap(epsilon: Dec, deltaLeft: Dec): Dec {
  if (deltaLeft.isZero() || epsilon.isZero()) return new Dec(0);
  const key = `${epsilon.toFixed()}|${deltaLeft.toFixed()}`;
  let cap = rhoCapMemo.get(key);
  if (!cap) {
    cap = roundDown(new Dec(cdpRho(epsilon.toFixed(), deltaLeft.toFixed())));
    if (rhoCapMemo.size > 10_000) rhoCapMemo.clear();
    rhoCapMemo.set(key, cap);
  }
  return cap;
}

/** The SQL parameters of one zCDP check: ρcap for the δ-consumption bound D. Null when D exceeds δ. */
export interface ZcdpParams {
  rhoCap: string;
  bound: string;
}

/**
 * D = the δ already consumed (as the caller believes it) plus this request's; ρcap = cdp_rho(ε, δ − D).
 * Returns null when D > δ: the request cannot be admitted on these figures.
 */
export function zcdpParams(terms: Terms, usedRhoDelta: Dec, cost: LedgerCost): ZcdpParams | null {
  const bound = usedRhoDelta.plus(cost.rhoDelta);
  if (bound.gt(terms.delta)) return null;
  return { rhoCap: text(rhoCap(terms.epsilon, terms.delta.minus(bound))), bound: text(bound) };
}

/** Exactly the rule the reserve statement enforces, on fresh balances. */
export function admits(terms: Terms, used: LedgerCost, cost: LedgerCost): boolean {
  if (terms.mode === 'basic') {
    return used.epsilon.plus(cost.epsilon).lte(terms.epsilon) && used.delta.plus(cost.delta).lte(terms.delta);
  }
  const params = zcdpParams(terms, used.rhoDelta, cost);
  return params !== null && used.rho.plus(cost.rho).lte(params.rhoCap);
}

const nonNegative = (x: Dec): Dec => (x.isNegative() ? new Dec(0) : x);

/** What a grant still admits in its own mode's terms (cheap: no ε conversion), rounded down. */
export function shortRemainingOf(terms: Terms, used: LedgerCost): Record<string, string> {
  if (terms.mode === 'basic') {
    return { epsilon: text(nonNegative(terms.epsilon.minus(used.epsilon))), delta: text(nonNegative(terms.delta.minus(used.delta))) };
  }
  const delta = nonNegative(terms.delta.minus(used.rhoDelta));
  return { rho: text(nonNegative(rhoCap(terms.epsilon, delta).minus(used.rho))), delta: text(delta) };
}

/** What a grant (or cap) still admits, rounded down; see RemainingBudget. */
export function remainingOf(terms: Terms, used: LedgerCost): RemainingBudget['remaining'] {
  if (terms.mode === 'basic') {
    const epsilon = nonNegative(terms.epsilon.minus(used.epsilon));
    const delta = nonNegative(terms.delta.minus(used.delta));
    return { epsilon: text(epsilon), delta: text(delta), rho: text(roundDown(epsilon.pow(2).div(2))) };
  }
  const delta = nonNegative(terms.delta.minus(used.rhoDelta));
  const rho = nonNegative(rhoCap(terms.epsilon, delta).minus(used.rho));
  const spentEpsilon = used.rho.isZero() ? new Dec(0) : delta.isZero() ? terms.epsilon : new Dec(cdpEpsilon(used.rho.toFixed(), delta.toFixed()));
  const epsilon = nonNegative(roundDown(terms.epsilon.minus(spentEpsilon)));
  return { epsilon: text(epsilon), delta: text(delta), rho: text(rho) };
}

