// The validated query: Veil's own representation, built from the parser's AST by the allow-list in
// validate.ts. SQL for the engines is generated from this, never from the analyst's text.

/** The kinds of values a row expression can produce. */
export type ValueKind = 'number' | 'string' | 'bool' | 'date' | 'timestamp' | 'null';

export type Literal = string | number | boolean | null;

/** An expression evaluated per row, in the engine (WHERE, group keys, CASE). */
export type RowExpr =
  | { kind: 'column'; name: string; valueKind: ValueKind }
  | { kind: 'literal'; value: Literal; valueKind: ValueKind }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: RowExpr; right: RowExpr }
  | { kind: 'negate'; operand: RowExpr }
  | { kind: 'func'; name: 'floor' | 'ceil' | 'round' | 'abs'; arg: RowExpr }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; left: RowExpr; right: RowExpr }
  | { kind: 'in'; operand: RowExpr; list: RowExpr[]; negated: boolean }
  | { kind: 'between'; operand: RowExpr; low: RowExpr; high: RowExpr; negated: boolean }
  | { kind: 'like'; operand: RowExpr; pattern: RowExpr; negated: boolean; caseInsensitive: boolean }
  | { kind: 'isNull'; operand: RowExpr; negated: boolean }
  | { kind: 'logic'; op: 'and' | 'or'; left: RowExpr; right: RowExpr }
  | { kind: 'not'; operand: RowExpr }
  | { kind: 'case'; branches: { when: RowExpr; then: RowExpr }[]; otherwise: RowExpr | null };

export type AggregateFunction = 'count' | 'sum' | 'avg' | 'var_samp' | 'var_pop' | 'stddev_samp' | 'stddev_pop' | 'quantile';

/** One aggregate as the analyst wrote it; `column` null is COUNT(*). */
export interface AggregateCall {
  fn: AggregateFunction;
  column: string | null;
  /** For quantiles: the probability, 0 ≤ q ≤ 1. */
  q?: number;
}

/** Post-processing expressions over released values (select list, HAVING, ORDER BY). */
export type OutputExpr =
  | { kind: 'key'; index: number }
  | { kind: 'aggregate'; index: number }
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: OutputExpr; right: OutputExpr }
  | { kind: 'negate'; operand: OutputExpr }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; left: OutputExpr; right: OutputExpr }
  | { kind: 'logic'; op: 'and' | 'or'; left: OutputExpr; right: OutputExpr }
  | { kind: 'not'; operand: OutputExpr }
  | { kind: 'isNull'; operand: OutputExpr; negated: boolean };

export interface GroupKey {
  expr: RowExpr;
  /** Every value the key can take, when that is public (categories, bool, CASE literals, bins); else null.
   * `clampsColumn`: numeric bins are computed over the column clamped to its bounds. */
  domain: { values: Literal[]; clampsColumn: boolean } | null;
  valueKind: ValueKind;
}

export interface OutputColumn {
  name: string;
  expr: OutputExpr;
}

export interface ValidatedQuery {
  where: RowExpr | null;
  keys: GroupKey[];
  aggregates: AggregateCall[];
  outputs: OutputColumn[];
  having: OutputExpr | null;
  orderBy: { expr: OutputExpr; descending: boolean; nullsFirst: boolean | null }[];
  limit: number | null;
}
