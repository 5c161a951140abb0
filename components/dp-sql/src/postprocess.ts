// Post-processing of released values (free under DP): arithmetic over aggregates, HAVING, ORDER BY, LIMIT.
// Intervals follow exactly through affine maps (x + c, c·x); other combinations keep the mechanism but no
// interval.
import type { Literal, OutputExpr, ValidatedQuery } from './ir.js';
import type { ReleasedValue, ValueAccuracy } from './release.js';

export interface ReleasedGroup {
  key: Literal[];
  aggregates: ReleasedValue[];
}

interface Evaluated {
  value: unknown;
  accuracy: ValueAccuracy | null;
}

export function postProcess(query: ValidatedQuery, groups: ReleasedGroup[]): { rows: unknown[][]; accuracy: (ValueAccuracy | null)[][] } {
  let rows = groups.map((group) => ({ group, cells: query.outputs.map((o) => evaluate(o.expr, group)) }));
  if (query.having) rows = rows.filter((r) => evaluate(query.having!, r.group).value === true);
  if (query.orderBy.length > 0) {
    const keyed = rows.map((r) => ({ r, sortKeys: query.orderBy.map((o) => evaluate(o.expr, r.group).value) }));
    keyed.sort((a, b) => {
      for (const [i, spec] of query.orderBy.entries()) {
        const order = compareValues(a.sortKeys[i], b.sortKeys[i], spec.descending, spec.nullsFirst ?? spec.descending);
        if (order !== 0) return order;
      }
      return 0;
    });
    rows = keyed.map((k) => k.r);
  }
  if (query.limit !== null) rows = rows.slice(0, query.limit);
  return { rows: rows.map((r) => r.cells.map((c) => c.value)), accuracy: rows.map((r) => r.cells.map((c) => c.accuracy)) };
}

/** PostgreSQL's defaults: NULLS LAST ascending, NULLS FIRST descending. */
function compareValues(a: unknown, b: unknown, descending: boolean, nullsFirst: boolean): number {
  if (a === null || a === undefined || b === null || b === undefined) {
    if (a === b || ((a === null || a === undefined) && (b === null || b === undefined))) return 0;
    return (a === null || a === undefined) === nullsFirst ? -1 : 1;
  }
  const order = a < b ? -1 : a > b ? 1 : 0;
  return descending ? -order : order;
}

function evaluate(expr: OutputExpr, group: ReleasedGroup): Evaluated {
  switch (expr.kind) {
    case 'key':
      return { value: group.key[expr.index] ?? null, accuracy: null };
    case 'aggregate': {
      const released = group.aggregates[expr.index]!;
      return { value: released.value, accuracy: released.accuracy };
    }
    case 'number':
    case 'string':
      return { value: expr.value, accuracy: null };
    case 'negate': {
      const inner = evaluate(expr.operand, group);
      return { value: typeof inner.value === 'number' ? -inner.value : null, accuracy: affine(inner.accuracy, -1, 0) };
    }
    case 'arith':
      return arithmetic(expr.op, evaluate(expr.left, group), evaluate(expr.right, group));
    case 'compare': {
      const l = evaluate(expr.left, group).value;
      const r = evaluate(expr.right, group).value;
      return { value: compare(expr.op, l, r), accuracy: null };
    }
    case 'logic': {
      const l = evaluate(expr.left, group).value;
      const r = evaluate(expr.right, group).value;
      return { value: logic(expr.op, l, r), accuracy: null };
    }
    case 'not': {
      const v = evaluate(expr.operand, group).value;
      return { value: typeof v === 'boolean' ? !v : null, accuracy: null };
    }
    case 'isNull': {
      const v = evaluate(expr.operand, group).value;
      return { value: (v === null || v === undefined) !== expr.negated, accuracy: null };
    }
  }
}

function arithmetic(op: '+' | '-' | '*' | '/', l: Evaluated, r: Evaluated): Evaluated {
  if (typeof l.value !== 'number' || typeof r.value !== 'number') return { value: null, accuracy: l.accuracy ?? r.accuracy };
  const a = l.value;
  const b = r.value;
  const value = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : b === 0 ? null : a / b;
  let accuracy: ValueAccuracy | null = null;
  if (l.accuracy && !r.accuracy) {
    accuracy = op === '+' ? affine(l.accuracy, 1, b) : op === '-' ? affine(l.accuracy, 1, -b) : op === '*' ? affine(l.accuracy, b, 0) : b === 0 ? null : affine(l.accuracy, 1 / b, 0);
  } else if (r.accuracy && !l.accuracy) {
    accuracy = op === '+' ? affine(r.accuracy, 1, a) : op === '-' ? affine(r.accuracy, -1, a) : op === '*' ? affine(r.accuracy, a, 0) : derived(r.accuracy);
  } else if (l.accuracy && r.accuracy) {
    accuracy = derived(l.accuracy);
  }
  return { value, accuracy };
}

/** The accuracy of a·x + b given that of x. */
function affine(accuracy: ValueAccuracy | null, a: number, b: number): ValueAccuracy | null {
  if (!accuracy) return null;
  const ci = accuracy.ci95;
  const ends = ci ? [a * ci[0] + b, a * ci[1] + b] : null;
  return {
    ...accuracy,
    // An exponential mechanism's scale is in ranks, which an affine map of the value leaves unchanged.
    scale: accuracy.scale === null || accuracy.mechanism === 'exponential' ? accuracy.scale : Math.abs(a) * accuracy.scale,
    stddev: accuracy.stddev === null ? null : Math.abs(a) * accuracy.stddev,
    ci95: ends ? [Math.min(ends[0]!, ends[1]!), Math.max(ends[0]!, ends[1]!)] : null,
  };
}

function derived(accuracy: ValueAccuracy): ValueAccuracy {
  return { mechanism: accuracy.mechanism, scale: null, stddev: null, ci95: null, approximate: true };
}

function compare(op: string, l: unknown, r: unknown): boolean | null {
  if (l === null || l === undefined || r === null || r === undefined) return null;
  const a = l as number | string;
  const b = r as number | string;
  switch (op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** SQL three-valued logic. */
function logic(op: 'and' | 'or', l: unknown, r: unknown): boolean | null {
  const a = typeof l === 'boolean' ? l : null;
  const b = typeof r === 'boolean' ? r : null;
  if (op === 'and') return a === false || b === false ? false : a === null || b === null ? null : true;
  return a === true || b === true ? true : a === null || b === null ? null : false;
}
