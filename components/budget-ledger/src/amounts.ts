// Exact amounts. Every amount is a decimal string in the API and NUMERIC(60, 24) in SQL; arithmetic here is
// decimal.js at a precision far above what 60 digits need, so nothing is ever rounded by accident. Costs are
// rounded UP and caps DOWN to SCALE places before they are stored or compared (DESIGN §3, "costs round up").
import { Decimal as DecimalBase } from 'decimal.js';
import type { PrivacyCost } from '@veil/mechanisms';
import { LedgerInputError } from './errors.js';

/** Decimal places kept in the ledger (NUMERIC(60, 24)). */
export const SCALE = 24;

/** A decimal.js clone with room for exact sums of NUMERIC(60, 24) values, printing without exponents. */
export const Dec = DecimalBase.clone({ precision: 120, toExpNeg: -200, toExpPos: 200 });
export type Dec = InstanceType<typeof Dec>;


export const COST_FIELDS = ['epsilon', 'delta', 'rho', 'rhoDelta'] as const;

const DECIMAL_TEXT = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a non-negative decimal string (or a Decimal); `what` names the value in the error. */
export function parseAmount(value: unknown, what: string): Dec {
  if (DecimalBase.isDecimal(value)) {
    const d = new Dec(value as DecimalBase);
    if (d.isFinite() && !d.isNegative()) return d;
  } else if (typeof value === 'string' && DECIMAL_TEXT.test(value.trim())) {
    return new Dec(value.trim());
  }
  throw new LedgerInputError(`${what} must be a non-negative decimal string (e.g. "0.5" or "1e-6"), got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return `the number ${value} (pass amounts as decimal strings, not floats)`;
  return typeof value;
}

/** Rounds a cost up to SCALE places: the ledger never charges less than the mechanism spent. */
export const roundUp = (x: Dec): Dec => x.toDecimalPlaces(SCALE, DecimalBase.ROUND_CEIL);
/** Rounds a cap down to SCALE places: the ledger never grants more than the owner allowed. */
export const roundDown = (x: Dec): Dec => x.toDecimalPlaces(SCALE, DecimalBase.ROUND_FLOOR);

/** Canonical text of a stored amount: plain notation, no trailing zeros ("0.01", "0"). */
export const text = (x: Dec): string => x.toFixed();

/** A PrivacyCost validated and rounded up to the ledger's scale. */
export interface LedgerCost {
  epsilon: Dec;
  delta: Dec;
  rho: Dec;
  rhoDelta: Dec;
}

export function parseCost(cost: unknown): LedgerCost {
  if (typeof cost !== 'object' || cost === null) {
    throw new LedgerInputError('cost must be a PrivacyCost object { epsilon, delta, rho, rhoDelta } of decimal strings');
  }
  const record = cost as Record<string, unknown>;
  const [epsilon, delta, rho, rhoDelta] = COST_FIELDS.map((field) => roundUp(parseAmount(record[field], `cost.${field}`)));
  if (delta!.gte(1) || rhoDelta!.gte(1)) throw new LedgerInputError('cost.delta and cost.rhoDelta must be below 1');
  return { epsilon: epsilon!, delta: delta!, rho: rho!, rhoDelta: rhoDelta! };
}

export const costText = (c: LedgerCost): PrivacyCost => ({
  epsilon: text(c.epsilon),
  delta: text(c.delta),
  rho: text(c.rho),
  rhoDelta: text(c.rhoDelta),
});
