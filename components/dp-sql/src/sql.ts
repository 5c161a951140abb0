// SQL generation from the validated query. Identifiers come from metadata (plain identifiers, quoted),
// analyst literals are bound parameters ($n, cast to their type), Veil's own numbers are rendered from
// doubles. The same text runs on DuckDB and PostgreSQL: only constructs both engines define identically are
// used (CASE instead of LEAST/GREATEST, FLOOR(x + 0.5) instead of ROUND, NULLIF for division, LIKE … ESCAPE).
import type { Literal, RowExpr } from './ir.js';
import type { Contribution, Measurement, QuantileMeasurement, SumMeasurement } from './measurements.js';

export type Dialect = 'duckdb' | 'postgres';
export type SqlParam = string | number | boolean | null;

export interface GeneratedStatement {
  sql: string;
  params: SqlParam[];
}

/**
 * The statements of a plan. `main` returns one row per non-empty group: the keys (veil_k0…), the count of
 * distinct units (veil_units), the rows (veil_rows), each aggregated column's non-NULL count (veil_n0…) and
 * each count/sum measurement (veil_m0…; quantile slots are NULL). Sums need exactSum() to become values.
 * `histograms[i]` (for quantile measurement i) returns keys, veil_bin, veil_n.
 * When there is a privacy unit, $1 is the sampling salt, supplied per run.
 */
export interface GeneratedSql {
  main: GeneratedStatement;
  histograms: Map<number, GeneratedStatement>;
  /** Parameter slot of the sampling salt, or null without a privacy unit. */
  saltIndex: number | null;
  /** Columns read by aggregates, in the order of their non-NULL counts veil_n0… in `main`. */
  aggregatedColumns: string[];
}

const DOUBLE = 'DOUBLE PRECISION';

/** Everything the generator needs from the plan. */
export interface SqlInput {
  where: RowExpr | null;
  /** Group keys; `clampsColumn` for numeric bins, whose public domain assumes the column clamped. */
  keys: { expr: RowExpr; clampsColumn: boolean; numeric: boolean }[];
  /** Dataset columns of type int or float. */
  numericColumns: Set<string>;
  measurements: Measurement[];
  contribution: Contribution;
  /** Bounds of numeric columns, for clamping binned keys. */
  bounds: Record<string, { lower: number; upper: number }>;
}

export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error('internal: identifier is not a plain identifier');
  return `"${name}"`;
}

/** Veil's own numbers (bounds, centres, grid factors), never analyst text. */
export function renderNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error('internal: non-finite constant');
  if (Number.isSafeInteger(value) && Math.abs(value) < 2 ** 31) return value < 0 ? `(${value})` : String(value);
  return `CAST('${String(value)}' AS ${DOUBLE})`;
}

class Params {
  readonly values: SqlParam[] = [];
  add(value: SqlParam): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export function generateSql(input: SqlInput): GeneratedSql {
  const params = new Params();
  const unit = input.contribution.unitColumn;
  const salt = unit === null ? null : params.add('');
  const columns = aggregatedColumns(input.measurements);
  const base = baseRows(input, params, columns);
  const cte = unit === null ? `WITH veil_bounded AS (${base})` : boundedCte(base, input, columns, salt!);
  const keyNames = input.keys.map((_, i) => `veil_k${i}`);
  const units = unit === null ? 'COUNT(*)' : 'COUNT(DISTINCT veil_unit)';
  const measurementSql = input.measurements.map((m, i) => `${measurementExpr(m, columns)} AS veil_m${i}`);
  const nonNullCounts = columns.map((_, i) => `COUNT(veil_c${i}) AS veil_n${i}`);
  const groupBy = keyNames.length ? ` GROUP BY ${keyNames.join(', ')}` : '';
  const select = [...keyNames, `${units} AS veil_units`, 'COUNT(*) AS veil_rows', ...nonNullCounts, ...measurementSql];
  const main = `${cte} SELECT ${select.join(', ')} FROM veil_bounded${groupBy}`;
  const histograms = new Map<number, GeneratedStatement>();
  input.measurements.forEach((m, i) => {
    if (m.kind !== 'quantile') return;
    const column = columnName(columns, m.column);
    const bin = binExpr(m, column);
    const positions = [...keyNames, 'veil_bin'].map((_, j) => String(j + 1)).join(', ');
    const sql = `${cte} SELECT ${[...keyNames, `${bin} AS veil_bin`, 'COUNT(*) AS veil_n'].join(', ')} FROM veil_bounded WHERE ${column} IS NOT NULL GROUP BY ${positions}`;
    histograms.set(i, { sql, params: params.values });
  });
  return { main: { sql: main, params: params.values }, histograms, saltIndex: salt === null ? null : 0, aggregatedColumns: columns };
}

/** The dataset columns aggregates read, each projected once as veil_c<i>. */
function aggregatedColumns(measurements: Measurement[]): string[] {
  const names: string[] = [];
  for (const m of measurements) {
    if (m.column !== null && !names.includes(m.column)) names.push(m.column);
  }
  return names;
}

function columnName(columns: string[], column: string): string {
  return `veil_c${columns.indexOf(column)}`;
}

function baseRows(input: SqlInput, params: Params, columns: string[]): string {
  const renderer = new RowRenderer(params, input.bounds);
  const select = [
    ...(input.contribution.unitColumn === null ? [] : [`${quoteIdentifier(input.contribution.unitColumn)} AS veil_unit`]),
    ...input.keys.map((k, i) => `${renderer.render(k.expr, k.clampsColumn)} AS veil_k${i}`),
    ...columns.map((c, i) => `${quoteIdentifier(c)} AS veil_c${i}`),
  ];
  if (select.length === 0) select.push('1 AS veil_one');
  const where = input.where === null ? '' : ` WHERE ${renderer.render(input.where, false)}`;
  return `SELECT ${select.join(', ')} FROM "dataset"${where}`;
}

/**
 * Contribution bounding in the engine. Groups of a unit are ranked by md5(salt, unit, key) (ties broken by
 * the key itself, so distinct groups never share a rank) and the first maxGroups kept; then the unit's rows
 * in those groups are ranked by md5(salt, unit, row values) and the first maxRows kept. The salt is fresh per
 * run, so the choice is a data-independent uniform permutation (identical rows are interchangeable).
 * md5 is not a CSPRNG, and need not be: sampling only needs data-independence; the noise is what needs
 * cryptographic randomness. The same hash makes DuckDB and PostgreSQL choose the same rows.
 */
function boundedCte(base: string, input: SqlInput, columns: string[], salt: string): string {
  const keyNames = input.keys.map((_, i) => `veil_k${i}`);
  const columnNames = columns.map((_, i) => `veil_c${i}`);
  const kinds = new Map<string, boolean>([
    ['veil_unit', input.numericColumns.has(input.contribution.unitColumn!)],
    ...input.keys.map((k, i): [string, boolean] => [`veil_k${i}`, k.numeric]),
    ...columns.map((c, i): [string, boolean] => [`veil_c${i}`, input.numericColumns.has(c)]),
  ]);
  const hash = (names: string[]): string =>
    `md5(CONCAT(CAST(${salt} AS VARCHAR)${['veil_unit', ...names].map((n) => `, '|', ${hashText(n, kinds.get(n) ?? false)}`).join('')}))`;
  const { maxRows, maxGroups } = input.contribution;
  const parts = [`veil_rows AS (${base})`];
  let previous = 'veil_rows';
  if (keyNames.length > 0) {
    const order = [hash(keyNames), ...keyNames].join(', ');
    parts.push(`veil_grouped AS (SELECT *, DENSE_RANK() OVER (PARTITION BY veil_unit ORDER BY ${order}) AS veil_group_rank FROM veil_rows)`);
    previous = `veil_grouped WHERE veil_group_rank <= ${maxGroups}`;
  }
  const rowOrder = [hash([...keyNames, ...columnNames]), ...keyNames, ...columnNames].join(', ');
  parts.push(`veil_sampled AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY veil_unit ORDER BY ${rowOrder}) AS veil_row_rank FROM ${previous})`);
  parts.push(`veil_bounded AS (SELECT * FROM veil_sampled WHERE veil_row_rank <= ${maxRows})`);
  return `WITH ${parts.join(', ')}`;
}

/**
 * Text of a value for the sampling hash, identical on both engines: numbers go through a BIGINT (DuckDB and
 * PostgreSQL print doubles differently), clamped to ±1e15 so the cast never overflows (NaN sorts above all
 * numbers on both engines, so it clamps too). Rows whose hash text ties are ordered by their values.
 */
function hashText(column: string, numeric: boolean): string {
  if (!numeric) return `CAST(${column} AS VARCHAR)`;
  const value = `CAST(${column} AS ${DOUBLE})`;
  return `CAST(CAST(FLOOR(${clamp(value, -1e15, 1e15)} * 1024) AS BIGINT) AS VARCHAR)`;
}

function clamp(value: string, lower: number, upper: number): string {
  return `(CASE WHEN ${value} < ${renderNumber(lower)} THEN ${renderNumber(lower)} WHEN ${value} > ${renderNumber(upper)} THEN ${renderNumber(upper)} ELSE ${value} END)`;
}

function measurementExpr(m: Measurement, columns: string[]): string {
  switch (m.kind) {
    case 'count':
      return m.column === null ? 'COUNT(*)' : `COUNT(${columnName(columns, m.column)})`;
    case 'sum':
      return `SUM(${sumValue(m, columnName(columns, m.column))})`;
    case 'quantile':
      return 'NULL';
  }
}

/** One row's grid value: an exact integer in both engines. */
/**
 * One row's summand, an exact integer on both engines. Clamping uses LEAST/GREATEST (vectorised, several times
 * cheaper than CASE in DuckDB); both engines skip NULL arguments there, so a NULL row adds the value of the
 * lower bound, which exactSum() removes using COUNT(*) − COUNT(column). The integer path sums the clamped
 * integers themselves; scaling and centring happen in exactSum(), not per row.
 */
function sumValue(m: SumMeasurement, column: string): string {
  if (m.integerPath) return fastClamp(`CAST(${column} AS BIGINT)`, m.lower, m.upper);
  const clamped = fastClamp(`CAST(${column} AS ${DOUBLE})`, m.lower, m.upper);
  const centred = m.centre === 0 ? clamped : `(${clamped} - ${renderNumber(m.centre)})`;
  const value = m.squared ? `(${centred} * ${centred} - ${renderNumber(m.offset)})` : centred;
  return `CAST(FLOOR(${value} * ${renderNumber(2 ** m.gridExponent)} + 0.5) AS BIGINT)`;
}

/** The bin of a clamped value; the last bin is closed (values at the upper bound), fixed up in Node. */
/** LEAST/GREATEST clamp: NULL becomes `lower` on both engines (callers correct for or exclude NULLs). */
function fastClamp(value: string, lower: number, upper: number): string {
  return `LEAST(GREATEST(${value}, ${renderNumber(lower)}), ${renderNumber(upper)})`;
}

/** What a NULL row adds to a sum measurement's SQL summand (the summand of the lower bound). */
export function nullSummand(m: SumMeasurement): bigint {
  if (m.integerPath) return BigInt(m.lower);
  const centred = m.lower - m.centre;
  const value = m.squared ? centred * centred - m.offset : centred;
  return BigInt(Math.floor(value * 2 ** m.gridExponent + 0.5));
}

/**
 * The measurement's exact grid sum over non-NULL values, from the SQL sum, the group's row count and the
 * column's non-NULL count. Integer path: 2^k·(Σ clamp(x) − centre·n), all in bigint.
 */
export function exactSum(m: SumMeasurement, sqlSum: bigint, rows: bigint, nonNull: bigint): bigint {
  const sum = sqlSum - nullSummand(m) * (rows - nonNull);
  if (!m.integerPath) return sum;
  const factor = 2n ** BigInt(m.gridExponent);
  // 2^k·centre is an integer for the integer path (k = 1 when the centre is a half-integer).
  return factor * sum - BigInt(2 ** m.gridExponent * m.centre) * nonNull;
}

function binExpr(m: QuantileMeasurement, column: string): string {
  const clamped = fastClamp(`CAST(${column} AS ${DOUBLE})`, m.lower, m.upper);
  if (m.integerBins) return `CAST(${clamped} - ${renderNumber(m.lower)} AS BIGINT)`;
  const width = (m.upper - m.lower) / m.bins;
  if (width === 0) return '0';
  return `CAST(FLOOR((${clamped} - ${renderNumber(m.lower)}) / ${renderNumber(width)}) AS BIGINT)`;
}

/** Renders row expressions; every analyst literal becomes a typed parameter. */
class RowRenderer {
  constructor(
    private readonly params: Params,
    private readonly bounds: Record<string, { lower: number; upper: number }>,
  ) {}

  render(expr: RowExpr, clampColumns: boolean): string {
    const r = (e: RowExpr): string => this.render(e, clampColumns);
    switch (expr.kind) {
      case 'column': {
        const name = quoteIdentifier(expr.name);
        if (expr.valueKind !== 'number') return name;
        const value = `CAST(${name} AS ${DOUBLE})`;
        const bounds = this.bounds[expr.name];
        return clampColumns && bounds ? clamp(value, bounds.lower, bounds.upper) : value;
      }
      case 'literal':
        return this.literal(expr.value, expr.valueKind);
      case 'arith':
        return expr.op === '/' ? `(${r(expr.left)} / NULLIF(${r(expr.right)}, 0))` : `(${r(expr.left)} ${expr.op} ${r(expr.right)})`;
      case 'negate':
        return `(- ${r(expr.operand)})`;
      case 'func':
        return expr.name === 'round' ? `FLOOR(${r(expr.arg)} + 0.5)` : `${expr.name.toUpperCase()}(${r(expr.arg)})`;
      case 'compare':
        return `(${r(expr.left)} ${expr.op} ${r(expr.right)})`;
      case 'in':
        return `(${r(expr.operand)} ${expr.negated ? 'NOT IN' : 'IN'} (${expr.list.map(r).join(', ')}))`;
      case 'between':
        return `(${r(expr.operand)} ${expr.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${r(expr.low)} AND ${r(expr.high)})`;
      case 'like': {
        const op = `${expr.negated ? 'NOT ' : ''}${expr.caseInsensitive ? 'ILIKE' : 'LIKE'}`;
        return `(${r(expr.operand)} ${op} ${r(expr.pattern)} ESCAPE '\\')`;
      }
      case 'isNull':
        return `(${r(expr.operand)} IS ${expr.negated ? 'NOT ' : ''}NULL)`;
      case 'logic':
        return `(${r(expr.left)} ${expr.op.toUpperCase()} ${r(expr.right)})`;
      case 'not':
        return `(NOT ${r(expr.operand)})`;
      case 'case': {
        const branches = expr.branches.map((b) => `WHEN ${r(b.when)} THEN ${r(b.then)}`).join(' ');
        return `(CASE ${branches}${expr.otherwise ? ` ELSE ${r(expr.otherwise)}` : ''} END)`;
      }
    }
  }

  private literal(value: Literal, kind: string): string {
    if (value === null) return 'NULL';
    if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
    const type = kind === 'number' ? DOUBLE : kind === 'date' ? 'DATE' : kind === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR';
    return `CAST(${this.params.add(value)} AS ${type})`;
  }
}
