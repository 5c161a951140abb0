// From aggregates to noisy measurements: what the engine computes per group (counts, sums on an integer
// grid, quantile histograms) and each measurement's sensitivity under add/remove-one-unit neighbouring.
import type { ColumnMetadata, DatasetMetadata } from '@veil/dataset-metadata';
import type { AggregateCall } from './ir.js';

/** Contribution bounds: a unit keeps at most `maxRows` rows in total and touches at most `maxGroups` groups. */
export interface Contribution {
  unitColumn: string | null;
  maxRows: number;
  maxGroups: number;
}

/** A count of rows (column null) or of non-null values of a column, after bounding. */
export interface CountMeasurement {
  kind: 'count';
  column: string | null;
}

/**
 * A sum on an integer grid: the engine sums round(f(clamp(x)) · 2^gridExponent) exactly as integers, where
 * f(v) = v − centre, or (v − centre)² − offset for `squared`. `rowBound` bounds |grid value| of one row.
 * `integerPath`: int column with 2·centre integral: the grid value is 2^k·(clamp(x) − centre) in exact integer
 * arithmetic (k ∈ {0, 1}), no rounding at all.
 */
export interface SumMeasurement {
  kind: 'sum';
  column: string;
  lower: number;
  upper: number;
  centre: number;
  squared: boolean;
  /** Subtracted from squares to centre them: h²/2 with h = (upper − lower)/2. */
  offset: number;
  gridExponent: number;
  integerPath: boolean;
  rowBound: bigint;
}

/** A histogram of the clamped column over `bins` equal bins, for the exponential mechanism. */
export interface QuantileMeasurement {
  kind: 'quantile';
  column: string;
  q: number;
  lower: number;
  upper: number;
  bins: number;
  /** Integer columns with few values: one bin per integer, released as that integer. */
  integerBins: boolean;
}

export type Measurement = CountMeasurement | SumMeasurement | QuantileMeasurement;

/** At most this many bins for quantiles; integer columns with fewer values get one bin per value. */
export const QUANTILE_BINS = 1024;
/** Grid rows are scaled so |value| ≤ 2^30: sums of billions of rows stay exact in BIGINT/HUGEINT/NUMERIC. */
const GRID_MAGNITUDE_BITS = 30;

export function contributionOf(metadata: DatasetMetadata): Contribution {
  const unit = metadata.privacy_unit;
  return unit
    ? { unitColumn: unit.column, maxRows: unit.max_rows, maxGroups: unit.max_groups }
    : { unitColumn: null, maxRows: 1, maxGroups: 1 };
}

/** How each aggregate is built from measurements (indices into the measurement list). */
export interface AggregateRecipe {
  call: AggregateCall;
  count?: number;
  sum?: number;
  sumOfSquares?: number;
  quantile?: number;
}

export function planMeasurements(aggregates: AggregateCall[], metadata: DatasetMetadata): { measurements: Measurement[]; recipes: AggregateRecipe[] } {
  const measurements: Measurement[] = [];
  const index = (m: Measurement): number => {
    const signature = JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const found = measurements.findIndex((x) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) === signature);
    if (found >= 0) return found;
    measurements.push(m);
    return measurements.length - 1;
  };
  const recipes = aggregates.map((call): AggregateRecipe => {
    const column = call.column === null ? null : (metadata.columns[call.column] as ColumnMetadata);
    // COUNT(col) over a non-nullable column is COUNT(*): one measurement serves both.
    const countOf = (name: string | null): CountMeasurement => ({ kind: 'count', column: name !== null && column?.nullable ? name : null });
    switch (call.fn) {
      case 'count':
        return { call, count: index(countOf(call.column)) };
      case 'sum':
        return { call, sum: index(sumMeasurement(call.column!, column!, false, false)) };
      case 'avg':
        return { call, count: index(countOf(call.column)), sum: index(sumMeasurement(call.column!, column!, true, false)) };
      case 'var_samp':
      case 'var_pop':
      case 'stddev_samp':
      case 'stddev_pop':
        return {
          call,
          count: index(countOf(call.column)),
          sum: index(sumMeasurement(call.column!, column!, true, false)),
          sumOfSquares: index(sumMeasurement(call.column!, column!, true, true)),
        };
      case 'quantile':
        return { call, quantile: index(quantileMeasurement(call.column!, column!, call.q ?? 0.5)) };
    }
  });
  return { measurements, recipes };
}

function numericBounds(column: ColumnMetadata): { lower: number; upper: number } {
  return { lower: (column as { lower: number }).lower, upper: (column as { upper: number }).upper };
}

function sumMeasurement(name: string, column: ColumnMetadata, centred: boolean, squared: boolean): SumMeasurement {
  const { lower, upper } = numericBounds(column);
  const centre = centred ? lower / 2 + upper / 2 : 0;
  const half = upper / 2 - lower / 2;
  const offset = squared ? (half * half) / 2 : 0;
  const maxAbs = squared ? offset : Math.max(Math.abs(lower - centre), Math.abs(upper - centre));
  const twiceCentre = 2 * centre;
  if (column.type === 'int' && !squared && Number.isSafeInteger(twiceCentre) && maxAbs <= 2 ** 52) {
    const gridExponent = Number.isInteger(centre) ? 0 : 1;
    return { kind: 'sum', column: name, lower, upper, centre, squared, offset, gridExponent, integerPath: true, rowBound: BigInt(Math.ceil(maxAbs * 2 ** gridExponent)) };
  }
  const gridExponent = maxAbs > 0 ? Math.max(-60, Math.min(60, GRID_MAGNITUDE_BITS - Math.ceil(Math.log2(maxAbs)))) : 0;
  // One grid unit of slack covers double rounding in the engine's subtraction and squaring.
  const rowBound = BigInt(Math.ceil(maxAbs * 2 ** gridExponent * (1 + 1e-12))) + 1n;
  return { kind: 'sum', column: name, lower, upper, centre, squared, offset, gridExponent, integerPath: false, rowBound };
}

function quantileMeasurement(name: string, column: ColumnMetadata, q: number): QuantileMeasurement {
  const { lower, upper } = numericBounds(column);
  const integerBins = column.type === 'int' && upper - lower + 1 <= QUANTILE_BINS;
  return { kind: 'quantile', column: name, q, lower, upper, bins: integerBins ? upper - lower + 1 : QUANTILE_BINS, integerBins };
}

/**
 * Sensitivity of the vector of one measurement over all groups, add/remove one unit. A unit keeps at most
 * m = maxRows rows in total (spread over at most maxGroups groups), so a count vector moves by at most m in
 * L1 and, since Σc² ≤ (Σc)², at most m in L2; a grid sum by m·rowBound in both. Quantile scores (ranks)
 * move by at most m. In grid units for sums.
 */
export function sensitivityOf(m: Measurement, contribution: Contribution): bigint {
  const rows = BigInt(contribution.maxRows);
  return m.kind === 'sum' ? rows * m.rowBound : rows;
}
