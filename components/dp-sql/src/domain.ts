// Public key domains (DESIGN §3 "Group keys"): a key whose every possible value follows from metadata alone
// is released in full, empty groups included. Public: declared categories, bool, CASE with literal (or
// categorical) branches, and bins of one bounded numeric column (arithmetic with FLOOR/CEIL/ROUND/ABS),
// enumerated here by evaluating the expression exactly as the engines do (IEEE doubles, x/0 → NULL).
import type { ColumnMetadata, DatasetMetadata } from '@veil/dataset-metadata';
import type { Literal, RowExpr } from './ir.js';

/** Most values one key may enumerate; beyond that the key is treated as private. */
export const MAX_KEY_DOMAIN = 10_000;

export interface KeyDomain {
  values: Literal[];
  /** True for numeric bins: the engine must clamp the column to its bounds, as the enumeration did. */
  clampsColumn: boolean;
}

export function publicDomain(expr: RowExpr, metadata: DatasetMetadata): KeyDomain | null {
  const categorical = categoricalDomain(expr, metadata);
  if (categorical) return { values: categorical, clampsColumn: false };
  const column = singleNumericColumn(expr, metadata);
  if (!column) return null;
  const values = enumerate(expr, column.meta);
  if (!values) return null;
  const withNull = column.meta.nullable ? [...values, null] : values;
  return { values: dedupe(withNull), clampsColumn: true };
}

function categoricalDomain(expr: RowExpr, metadata: DatasetMetadata): Literal[] | null {
  if (expr.kind === 'literal') return [expr.value];
  if (expr.kind === 'column') {
    const column = metadata.columns[expr.name] as ColumnMetadata;
    const nulls = column.nullable ? [null] : [];
    if (column.type === 'bool') return [false, true, ...nulls];
    if ('categories' in column && column.categories) return [...column.categories, ...nulls];
    return null;
  }
  if (expr.kind === 'case') {
    const results = [...expr.branches.map((b) => b.then), expr.otherwise ?? ({ kind: 'literal', value: null, valueKind: 'null' } as const)];
    const domains = results.map((r) => categoricalDomain(r, metadata));
    if (domains.some((d) => d === null)) return null;
    const all = dedupe(domains.flat() as Literal[]);
    return all.length <= MAX_KEY_DOMAIN ? all : null;
  }
  return null;
}

interface NumericColumn {
  name: string;
  meta: ColumnMetadata & { lower: number; upper: number };
}

/** The one bounded numeric column a pure arithmetic expression reads, if that is what it is. */
function singleNumericColumn(expr: RowExpr, metadata: DatasetMetadata): NumericColumn | null {
  const names = new Set<string>();
  const arithmeticOnly = (e: RowExpr): boolean => {
    switch (e.kind) {
      case 'column':
        names.add(e.name);
        return true;
      case 'literal':
        return typeof e.value === 'number';
      case 'arith':
        return arithmeticOnly(e.left) && arithmeticOnly(e.right);
      case 'negate':
        return arithmeticOnly(e.operand);
      case 'func':
        return arithmeticOnly(e.arg);
      default:
        return false;
    }
  };
  if (!arithmeticOnly(expr) || names.size !== 1) return null;
  const name = [...names][0]!;
  const meta = metadata.columns[name] as ColumnMetadata;
  if ((meta.type !== 'int' && meta.type !== 'float') || meta.lower === undefined || meta.upper === undefined) return null;
  return { name, meta: meta as NumericColumn['meta'] };
}

/** Every value of a numeric expression over the clamped column, or null when that set is too large. */
function enumerate(expr: RowExpr, column: NumericColumn['meta']): number[] | null {
  switch (expr.kind) {
    case 'literal':
      return [expr.value as number];
    case 'column':
      return column.type === 'int' && column.upper - column.lower < MAX_KEY_DOMAIN ? range(column.lower, column.upper) : null;
    case 'negate':
      return mapValues(enumerate(expr.operand, column), (x) => -x);
    case 'func': {
      const inner = enumerate(expr.arg, column);
      if (inner) return mapValues(inner, (x) => applyFunction(expr.name, x));
      const interval = intervalOf(expr.arg, column);
      if (!interval || expr.name === 'abs') return null;
      const lo = applyFunction(expr.name, interval.lo);
      const hi = applyFunction(expr.name, interval.hi);
      return hi - lo < MAX_KEY_DOMAIN ? range(lo, hi) : null;
    }
    case 'arith': {
      const left = enumerate(expr.left, column);
      const right = enumerate(expr.right, column);
      if (!left || !right || left.length * right.length > MAX_KEY_DOMAIN * 4) return null;
      const out: number[] = [];
      for (const l of left) for (const r of right) {
        const v = applyArithmetic(expr.op, l, r);
        if (v !== null) out.push(v);
      }
      const values = dedupe(out) as number[];
      return values.length <= MAX_KEY_DOMAIN ? values : null;
    }
    default:
      return null;
  }
}

/** Bounds of a monotone-piecewise expression over [lower, upper]; null when it cannot be bounded. */
function intervalOf(expr: RowExpr, column: NumericColumn['meta']): { lo: number; hi: number } | null {
  switch (expr.kind) {
    case 'literal':
      return { lo: expr.value as number, hi: expr.value as number };
    case 'column':
      return { lo: column.lower, hi: column.upper };
    case 'negate': {
      const i = intervalOf(expr.operand, column);
      return i && { lo: -i.hi, hi: -i.lo };
    }
    case 'func': {
      const i = intervalOf(expr.arg, column);
      if (!i) return null;
      if (expr.name === 'abs') return i.lo >= 0 ? i : i.hi <= 0 ? { lo: -i.hi, hi: -i.lo } : { lo: 0, hi: Math.max(-i.lo, i.hi) };
      return { lo: applyFunction(expr.name, i.lo), hi: applyFunction(expr.name, i.hi) };
    }
    case 'arith': {
      const l = intervalOf(expr.left, column);
      const r = intervalOf(expr.right, column);
      if (!l || !r) return null;
      if (expr.op === '/' && r.lo <= 0 && r.hi >= 0) return null;
      const corners = [l.lo, l.hi].flatMap((a) => [r.lo, r.hi].map((b) => applyArithmetic(expr.op, a, b) as number));
      if (corners.some((c) => !Number.isFinite(c))) return null;
      return { lo: Math.min(...corners), hi: Math.max(...corners) };
    }
    default:
      return null;
  }
}

/** Evaluates a numeric expression as the generated SQL does: doubles, x/0 is NULL, ROUND is FLOOR(x + 0.5). */
export function applyArithmetic(op: '+' | '-' | '*' | '/', l: number, r: number): number | null {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return r === 0 ? null : l / r;
  }
}

export function applyFunction(name: 'floor' | 'ceil' | 'round' | 'abs', x: number): number {
  switch (name) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round':
      return Math.floor(x + 0.5);
    case 'abs':
      return Math.abs(x);
  }
}

function mapValues(values: number[] | null, f: (x: number) => number): number[] | null {
  return values && (dedupe(values.map(f)) as number[]);
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let x = Math.ceil(lo); x <= hi; x++) out.push(x);
  return out;
}

function dedupe(values: Literal[]): Literal[] {
  const seen = new Map<string, Literal>();
  for (const v of values) seen.set(keyString(v), v);
  return [...seen.values()];
}

/** A canonical text for a key value, equal for equal values whatever the engine returned (number, bigint). */
export function keyString(value: unknown): string {
  if (value === null || value === undefined) return 'n:';
  if (typeof value === 'number') return `d:${Object.is(value, -0) ? 0 : value}`;
  if (typeof value === 'bigint') return `d:${Number(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  return `s:${String(value)}`;
}
