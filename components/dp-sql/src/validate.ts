// The allow-list: walks libpg_query's SelectStmt and builds a ValidatedQuery, rejecting by name everything
// outside the DP subset of DESIGN §3. Unknown node types and unknown non-empty clauses are rejected too, so
// nothing the grammar accepts can widen what reaches an engine.
import { isBounded, type ColumnMetadata, type DatasetMetadata } from '@veil/dataset-metadata';
import { publicDomain } from './domain.js';
import { excerpt, reject } from './errors.js';
import type { AggregateCall, AggregateFunction, GroupKey, Literal, OutputExpr, RowExpr, ValidatedQuery, ValueKind } from './ir.js';
import type { AstNode } from './parse.js';

/** Deepest expression tree accepted. */
const MAX_EXPR_DEPTH = 64;
const MAX_STRING_LITERAL = 1_000;
const MAX_IN_LIST = 1_000;
/** Numeric literals beyond this magnitude are rejected: they cannot be compared exactly across engines. */
const MAX_ABS_LITERAL = 1e15;
export const MAX_LIMIT = 1_000_000;

/** SelectStmt fields and the construct each one means when present. */
const CLAUSES: Record<string, string | null> = {
  targetList: null, fromClause: null, whereClause: null, groupClause: null, havingClause: null, sortClause: null,
  limitCount: null, limitOption: null, op: null,
  limitOffset: 'OFFSET', distinctClause: 'SELECT DISTINCT', intoClause: 'SELECT INTO', withClause: 'WITH (common table expression)',
  windowClause: 'WINDOW clause', valuesLists: 'VALUES', lockingClause: 'FOR UPDATE/SHARE', larg: 'UNION/INTERSECT/EXCEPT',
  rarg: 'UNION/INTERSECT/EXCEPT', all: 'UNION/INTERSECT/EXCEPT', groupDistinct: 'GROUP BY DISTINCT',
};

/** Node types outside the subset, by the construct they are. */
const REJECTED_NODES: Record<string, string> = {
  SubLink: 'subquery', ParamRef: 'query parameter', CoalesceExpr: 'COALESCE', MinMaxExpr: 'GREATEST/LEAST',
  SQLValueFunction: 'current date/time or user function', BooleanTest: 'IS TRUE/IS FALSE', RowExpr: 'row constructor',
  A_ArrayExpr: 'ARRAY', A_Indirection: 'subscript', CollateClause: 'COLLATE', GroupingFunc: 'GROUPING()',
  GroupingSet: 'ROLLUP/CUBE/GROUPING SETS', XmlExpr: 'XML', JsonObjectConstructor: 'JSON', TypeCast: 'CAST',
  RangeSubselect: 'subquery', RangeFunction: 'table function', JoinExpr: 'JOIN', MergeSupportFunc: 'MERGE',
};

interface Scope {
  metadata: DatasetMetadata;
  /** Names the FROM item may be referred to by (table name and alias), lower case. */
  tableNames: Set<string>;
}

interface SelectItem {
  node: unknown;
  alias: string | null;
}

const isNode = (x: unknown): x is AstNode => typeof x === 'object' && x !== null && !Array.isArray(x);
const isEmpty = (x: unknown): boolean =>
  x === null || x === undefined || (Array.isArray(x) && x.length === 0) || (isNode(x) && Object.keys(x).length === 0);

/** A node is `{ Type: body }`; returns [Type, body]. */
function unwrap(node: unknown): [string, AstNode] {
  if (!isNode(node)) reject('syntax_error', 'expression', 'an expression could not be understood');
  const entries = Object.entries(node);
  if (entries.length !== 1 || !isNode(entries[0]![1])) reject('syntax_error', 'expression', 'an expression could not be understood');
  return [entries[0]![0], entries[0]![1] as AstNode];
}

const strings = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((n) => (isNode(n) && isNode(n.String) ? String(n.String.sval ?? '') : '\u0000')) : [];

export function validateQuery(select: AstNode, metadata: DatasetMetadata): ValidatedQuery {
  checkClauses(select);
  const scope: Scope = { metadata, tableNames: fromClause(select.fromClause) };
  const items = selectItems(select.targetList);
  const builder = new QueryBuilder(scope, items);
  const keys = builder.groupKeys(select.groupClause);
  const where = isEmpty(select.whereClause) ? null : builder.condition(select.whereClause, 'WHERE');
  const outputs = items.map((item, i) => ({ name: builder.outputName(item, i), expr: builder.output(item.node, 0) }));
  const having = isEmpty(select.havingClause) ? null : builder.output(select.havingClause, 0);
  const orderBy = builder.orderBy(select.sortClause, outputs);
  const limit = limitClause(select.limitCount);
  if (builder.aggregates.length === 0) {
    reject('no_aggregate', 'no aggregate', 'the query must compute at least one aggregate (COUNT, SUM, AVG…); rows are never released');
  }
  return { where, keys, aggregates: builder.aggregates, outputs, having, orderBy, limit };
}

function checkClauses(select: AstNode): void {
  if (select.op !== undefined && select.op !== 'SETOP_NONE') reject('unsupported_construct', 'UNION/INTERSECT/EXCEPT', 'UNION, INTERSECT and EXCEPT are not supported');
  for (const [key, value] of Object.entries(select)) {
    if (isEmpty(value) || value === false) continue;
    const construct = CLAUSES[key];
    if (construct === null) continue;
    const name = construct ?? `clause ${excerpt(key, 30)}`;
    reject('unsupported_construct', name, `${name} is not supported in DP queries`);
  }
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES') reject('unsupported_construct', 'FETCH … WITH TIES', 'WITH TIES is not supported');
}

function fromClause(from: unknown): Set<string> {
  if (!Array.isArray(from) || from.length === 0) reject('unsupported_construct', 'missing FROM', 'the query must read FROM the dataset');
  if (from.length > 1) reject('unsupported_construct', 'JOIN', 'joins are not supported: a query reads one dataset');
  const [type, item] = unwrap(from[0]);
  if (type === 'JoinExpr') reject('unsupported_construct', 'JOIN', 'joins are not supported: a query reads one dataset');
  if (type === 'RangeSubselect') reject('unsupported_construct', 'subquery', 'subqueries are not supported: FROM must name the dataset');
  if (type !== 'RangeVar') reject('unsupported_construct', REJECTED_NODES[type] ?? 'FROM', 'FROM must name the dataset');
  if (!isEmpty(item.schemaname) || !isEmpty(item.catalogname)) reject('unsupported_construct', 'schema-qualified table', 'FROM must name the dataset without a schema');
  if (item.inh === false) reject('unsupported_construct', 'ONLY', 'FROM ONLY is not supported');
  if (typeof item.relname !== 'string') reject('syntax_error', 'FROM', 'FROM must name the dataset');
  const names = new Set([item.relname.toLowerCase()]);
  const alias = isNode(item.alias) ? item.alias : null;
  if (alias && !isEmpty(alias.colnames)) reject('unsupported_construct', 'column aliases in FROM', 'FROM aliases cannot rename columns');
  if (alias && typeof alias.aliasname === 'string') names.add(alias.aliasname.toLowerCase());
  return names;
}

function selectItems(targets: unknown): SelectItem[] {
  if (!Array.isArray(targets) || targets.length === 0) reject('syntax_error', 'select list', 'the query selects nothing');
  return targets.map((target: unknown) => {
    const [type, body] = unwrap(target);
    if (type !== 'ResTarget') reject('syntax_error', 'select list', 'a select item could not be understood');
    if (isStar(body.val)) reject('unsupported_construct', 'SELECT *', 'SELECT * releases rows; select group keys and aggregates');
    const alias = typeof body.name === 'string' ? body.name : null;
    return { node: body.val, alias };
  });
}

function isStar(node: unknown): boolean {
  if (!isNode(node) || !isNode(node.ColumnRef)) return false;
  const fields = node.ColumnRef.fields;
  return Array.isArray(fields) && fields.some((f) => isNode(f) && 'A_Star' in f);
}

function limitClause(limit: unknown): number | null {
  if (isEmpty(limit)) return null;
  const [type, body] = unwrap(limit);
  if (type === 'A_Const' && body.isnull === true) return null; // LIMIT ALL
  const value = type === 'A_Const' ? constantNumber(body) : NaN;
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_LIMIT) {
    reject('unsupported_construct', 'LIMIT', `LIMIT must be a whole number from 0 to ${MAX_LIMIT}`);
  }
  return value;
}

const AGGREGATE_NAMES: Record<string, AggregateFunction> = {
  count: 'count', sum: 'sum', avg: 'avg', mean: 'avg',
  variance: 'var_samp', var_samp: 'var_samp', var_pop: 'var_pop',
  stddev: 'stddev_samp', stddev_samp: 'stddev_samp', stddev_pop: 'stddev_pop',
  median: 'quantile', percentile_cont: 'quantile', percentile_disc: 'quantile',
  quantile: 'quantile', quantile_cont: 'quantile', quantile_disc: 'quantile',
};
const REJECTED_AGGREGATES: Record<string, string> = {
  min: 'MIN is not supported (it depends on a single person); use a quantile such as PERCENTILE_CONT(0.01)',
  max: 'MAX is not supported (it depends on a single person); use a quantile such as PERCENTILE_CONT(0.99)',
  string_agg: 'STRING_AGG releases raw values and is not supported',
  array_agg: 'ARRAY_AGG releases raw values and is not supported',
  json_agg: 'JSON_AGG releases raw values and is not supported',
  bool_and: 'BOOL_AND is not supported', bool_or: 'BOOL_OR is not supported', every: 'EVERY is not supported',
  mode: 'MODE is not supported', any_value: 'ANY_VALUE releases raw values and is not supported',
  corr: 'CORR is not supported', covar_pop: 'COVAR_POP is not supported', covar_samp: 'COVAR_SAMP is not supported',
};
const WINDOW_FUNCTIONS = new Set(['row_number', 'rank', 'dense_rank', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value', 'percent_rank', 'cume_dist']);
const ROW_FUNCTIONS: Record<string, 'floor' | 'ceil' | 'round' | 'abs'> = { floor: 'floor', ceil: 'ceil', ceiling: 'ceil', round: 'round', abs: 'abs' };
const COMPARISONS: Record<string, '=' | '<>' | '<' | '<=' | '>' | '>='> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const ARITHMETIC = new Set(['+', '-', '*', '/']);

/** The function's name, lower case; a pg_catalog qualifier is dropped, any other qualifier kept. */
function functionName(call: AstNode): string {
  const parts = strings(call.funcname);
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1]!.toLowerCase();
  return parts.join('.').toLowerCase();
}

function isAggregateCall(type: string, body: AstNode): boolean {
  if (type !== 'FuncCall') return false;
  const name = functionName(body);
  return name in AGGREGATE_NAMES || name in REJECTED_AGGREGATES || body.agg_star === true;
}

function containsAggregate(node: unknown, depth = 0): boolean {
  if (depth > MAX_EXPR_DEPTH * 4) reject('too_large', 'nesting depth', 'the expression is nested too deeply');
  if (Array.isArray(node)) return node.some((n) => containsAggregate(n, depth + 1));
  if (!isNode(node)) return false;
  if (isNode(node.FuncCall) && isAggregateCall('FuncCall', node.FuncCall)) return true;
  return Object.values(node).some((value) => containsAggregate(value, depth + 1));
}

/** Builds keys, aggregates and output expressions; aggregates are de-duplicated as they are met. */
class QueryBuilder {
  readonly aggregates: AggregateCall[] = [];
  private readonly keys: GroupKey[] = [];
  private readonly keySignatures: string[] = [];

  constructor(
    private readonly scope: Scope,
    private readonly items: SelectItem[],
  ) {}

  groupKeys(groupClause: unknown): GroupKey[] {
    if (isEmpty(groupClause)) return this.keys;
    if (!Array.isArray(groupClause)) reject('syntax_error', 'GROUP BY', 'the GROUP BY clause could not be understood');
    for (const node of groupClause as unknown[]) {
      const expr = this.row(this.groupTarget(node), 0, 'GROUP BY');
      const signature = JSON.stringify(expr);
      if (this.keySignatures.includes(signature)) continue;
      this.keySignatures.push(signature);
      this.keys.push({ expr, valueKind: kindOf(expr), domain: publicDomain(expr, this.scope.metadata) });
    }
    return this.keys;
  }

  /** GROUP BY 2 and GROUP BY alias refer to select items; a dataset column wins over an alias, as in PostgreSQL. */
  private groupTarget(node: unknown): unknown {
    const [type, body] = unwrap(node);
    if (type === 'A_Const') {
      const item = this.items[constantNumber(body) - 1];
      if (!item) reject('unsupported_construct', 'GROUP BY position', 'GROUP BY position does not name a select item');
      return item.node;
    }
    const name = plainColumnName(node);
    if (name !== null && this.findColumn(name) === null) {
      const item = this.items.find((i) => i.alias !== null && i.alias.toLowerCase() === name.toLowerCase());
      if (item) return item.node;
    }
    return node;
  }

  outputName(item: SelectItem, index: number): string {
    if (item.alias !== null) return item.alias;
    const column = plainColumnName(item.node);
    if (column !== null) return column;
    if (isNode(item.node) && isNode(item.node.FuncCall)) return functionName(item.node.FuncCall);
    return `column${index + 1}`;
  }

  orderBy(sortClause: unknown, outputs: { name: string; expr: OutputExpr }[]): ValidatedQuery['orderBy'] {
    if (isEmpty(sortClause)) return [];
    if (!Array.isArray(sortClause)) reject('syntax_error', 'ORDER BY', 'the ORDER BY clause could not be understood');
    return sortClause.map((item: unknown) => {
      const [type, sort] = unwrap(item);
      if (type !== 'SortBy') reject('syntax_error', 'ORDER BY', 'an ORDER BY item could not be understood');
      if (sort.sortby_dir === 'SORTBY_USING') reject('unsupported_construct', 'ORDER BY … USING', 'ORDER BY … USING is not supported');
      const descending = sort.sortby_dir === 'SORTBY_DESC';
      const nullsFirst = sort.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sort.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : null;
      const [nodeType, nodeBody] = unwrap(sort.node);
      if (nodeType === 'A_Const') {
        const output = outputs[constantNumber(nodeBody) - 1];
        if (!output) reject('unsupported_construct', 'ORDER BY position', 'ORDER BY position does not name a select item');
        return { expr: output.expr, descending, nullsFirst };
      }
      const name = plainColumnName(sort.node);
      const output = name === null ? undefined : outputs.find((o) => o.name.toLowerCase() === name.toLowerCase());
      if (output && (this.findColumn(name!) === null || output.expr.kind !== 'key')) return { expr: output.expr, descending, nullsFirst };
      return { expr: this.output(sort.node, 0), descending, nullsFirst };
    });
  }

  /** A post-processing expression: aggregates, group keys, literals and arithmetic or comparisons over them. */
  output(node: unknown, depth: number): OutputExpr {
    if (depth > MAX_EXPR_DEPTH) reject('too_large', 'nesting depth', 'the expression is nested too deeply');
    const [type, body] = unwrap(node);
    if (isAggregateCall(type, body)) return { kind: 'aggregate', index: this.aggregate(body) };
    if (!containsAggregate(node)) {
      if (type === 'A_Const' && !isNode(body.sval) && body.isnull !== true && !isNode(body.boolval)) return { kind: 'number', value: constantNumber(body) };
      if (type === 'A_Const' && isNode(body.sval)) return { kind: 'string', value: stringConstant(body) };
      const expr = this.row(node, depth, 'select list');
      const index = this.keySignatures.indexOf(JSON.stringify(expr));
      if (index >= 0) return { kind: 'key', index };
      // Operators over keys (HAVING region = 'north', key * 2) are post-processing too: decompose below.
      if (!['A_Expr', 'BoolExpr', 'NullTest'].includes(type)) {
        const what = expr.kind === 'column' ? `column "${expr.name}"` : 'expression';
        reject('not_grouped', what, `${what} must appear in GROUP BY or be used inside an aggregate`);
      }
    }
    rejectNode(type);
    const next = depth + 1;
    if (type === 'A_Expr' && body.kind === 'AEXPR_OP') {
      const op = strings(body.name).join('.');
      if (body.lexpr === undefined) {
        if (op === '-') return { kind: 'negate', operand: this.output(body.rexpr, next) };
        if (op === '+') return this.output(body.rexpr, next);
      } else {
        if (ARITHMETIC.has(op)) return { kind: 'arith', op: op as '+', left: this.output(body.lexpr, next), right: this.output(body.rexpr, next) };
        const comparison = COMPARISONS[op];
        if (comparison) return { kind: 'compare', op: comparison, left: this.output(body.lexpr, next), right: this.output(body.rexpr, next) };
      }
      reject('unsupported_construct', `operator ${excerpt(op, 20)}`, `the operator ${excerpt(op, 20)} is not supported over aggregates`);
    }
    if (type === 'BoolExpr') {
      const args = Array.isArray(body.args) ? body.args : [];
      if (body.boolop === 'NOT_EXPR') return { kind: 'not', operand: this.output(args[0], next) };
      const op = body.boolop === 'AND_EXPR' ? 'and' : 'or';
      return args.slice(1).reduce<OutputExpr>((left, arg) => ({ kind: 'logic', op, left, right: this.output(arg, next) }), this.output(args[0], next));
    }
    if (type === 'NullTest') return { kind: 'isNull', operand: this.output(body.arg, next), negated: body.nulltesttype === 'IS_NOT_NULL' };
    return reject('unsupported_construct', describe(type, body), `${describe(type, body)} is not supported over aggregates; use arithmetic and comparisons`);
  }

  condition(node: unknown, clause: string): RowExpr {
    const expr = this.row(node, 0, clause);
    if (kindOf(expr) !== 'bool' && kindOf(expr) !== 'null') reject('type_mismatch', clause, `${clause} needs a true/false condition`);
    return expr;
  }

  /** Validates one aggregate call and returns its index in `aggregates`. */
  private aggregate(call: AstNode): number {
    const name = functionName(call);
    const label = name.toUpperCase();
    if (!isEmpty(call.over)) reject('unsupported_construct', 'window function', `${label} … OVER (…) is a window function; window functions are not supported`);
    if (!isEmpty(call.agg_filter)) reject('unsupported_construct', 'FILTER clause', 'aggregate FILTER (WHERE …) is not supported; use WHERE or CASE in GROUP BY');
    const rejected = REJECTED_AGGREGATES[name];
    if (rejected) reject('unsupported_construct', label, rejected);
    const fn = AGGREGATE_NAMES[name];
    if (!fn) reject('unknown_function', excerpt(label, 30), `${excerpt(label, 30)}(*) is not a supported aggregate`);
    if (call.agg_distinct === true) reject('unsupported_construct', `${label}(DISTINCT …)`, `${label}(DISTINCT …) is not supported`);
    if (call.func_variadic === true) reject('unsupported_construct', 'VARIADIC', 'VARIADIC is not supported');
    const args = Array.isArray(call.args) ? (call.args as unknown[]) : [];
    const order = Array.isArray(call.agg_order) ? (call.agg_order as unknown[]) : [];
    if (containsAggregate(args) || containsAggregate(order)) reject('aggregate_of_aggregate', 'aggregate of aggregate', `${label} of another aggregate is not supported`);
    const { column, q } = this.aggregateArguments(call, name, label, args, order);
    if (column !== null && fn !== 'count') this.checkNumericBounded(column, label);
    const aggregate: AggregateCall = q === undefined ? { fn, column } : { fn, column, q };
    const signature = JSON.stringify(aggregate);
    const existing = this.aggregates.findIndex((a) => JSON.stringify(a) === signature);
    if (existing >= 0) return existing;
    this.aggregates.push(aggregate);
    return this.aggregates.length - 1;
  }

  private aggregateArguments(call: AstNode, name: string, label: string, args: unknown[], order: unknown[]): { column: string | null; q?: number } {
    if (call.agg_within_group === true) {
      if (name !== 'percentile_cont' && name !== 'percentile_disc') reject('unsupported_construct', 'WITHIN GROUP', `${label} does not take WITHIN GROUP`);
      if (args.length !== 1 || order.length !== 1) reject('syntax_error', label, `${label}(q) needs one probability and WITHIN GROUP (ORDER BY column)`);
      const [, sort] = unwrap(order[0]);
      return { column: this.aggregateColumn(sort.node, label), q: quantileProbability(args[0], label) };
    }
    if (order.length > 0) reject('unsupported_construct', `${label}(… ORDER BY …)`, 'ORDER BY inside an aggregate is not supported');
    if (call.agg_star === true) {
      if (name !== 'count') reject('unsupported_construct', `${label}(*)`, `${label}(*) is not supported; only COUNT(*)`);
      return { column: null };
    }
    if (name === 'percentile_cont' || name === 'percentile_disc') reject('syntax_error', label, `${label}(q) needs WITHIN GROUP (ORDER BY column)`);
    if (name === 'quantile' || name === 'quantile_cont' || name === 'quantile_disc') {
      if (args.length !== 2) reject('syntax_error', label, `${label}(column, q) takes a column and a probability`);
      return { column: this.aggregateColumn(args[0], label), q: quantileProbability(args[1], label) };
    }
    if (args.length !== 1) reject('syntax_error', label, `${label} takes one column`);
    const column = this.aggregateColumn(args[0], label);
    return name === 'median' ? { column, q: 0.5 } : { column };
  }

  private aggregateColumn(node: unknown, label: string): string {
    if (!isNode(node) || !isNode(node.ColumnRef)) {
      reject('unsupported_construct', `expression inside ${label}`, `${label} takes a column: expressions inside an aggregate are not supported because they break its bounds`);
    }
    const expr = this.columnRef(node.ColumnRef);
    if (expr.kind !== 'column') reject('unsupported_construct', `expression inside ${label}`, `${label} takes a column`);
    return expr.name;
  }

  private checkNumericBounded(name: string, label: string): void {
    const column = this.scope.metadata.columns[name] as ColumnMetadata;
    if (column.type !== 'int' && column.type !== 'float') {
      reject('type_mismatch', `${label}("${name}")`, `${label} needs a numeric column; "${name}" is ${column.type}`);
    }
    if (!isBounded(column)) {
      reject('unbounded_column', `column "${name}"`, `${label}("${name}") needs bounds: the metadata declares no lower and upper for "${name}"`);
    }
  }

  private findColumn(name: string): string | null {
    const columns = this.scope.metadata.columns;
    if (Object.hasOwn(columns, name)) return name;
    const matches = Object.keys(columns).filter((c) => c.toLowerCase() === name.toLowerCase());
    return matches.length === 1 ? matches[0]! : null;
  }

  /** A row-level expression, evaluated by the engine. */
  row(node: unknown, depth: number, clause: string): RowExpr {
    if (depth > MAX_EXPR_DEPTH) reject('too_large', 'nesting depth', 'the expression is nested too deeply');
    const [type, body] = unwrap(node);
    if (isAggregateCall(type, body)) {
      if (!isEmpty(body.over)) reject('unsupported_construct', 'window function', 'window functions are not supported');
      reject('unsupported_construct', `aggregate in ${clause}`, `aggregates are not allowed in ${clause}`);
    }
    const next = depth + 1;
    switch (type) {
      case 'ColumnRef':
        return this.columnRef(body);
      case 'A_Const':
        return constant(body);
      case 'TypeCast':
        return typedLiteral(body);
      case 'A_Expr':
        return this.expression(body, next, clause);
      case 'BoolExpr':
        return this.boolExpr(body, next, clause);
      case 'NullTest':
        return { kind: 'isNull', operand: this.row(body.arg, next, clause), negated: body.nulltesttype === 'IS_NOT_NULL' };
      case 'CaseExpr':
        return this.caseExpr(body, next, clause);
      case 'FuncCall':
        return this.func(body, next, clause);
      default:
        rejectNode(type);
        return reject('unsupported_construct', describe(type, body), `${describe(type, body)} is not supported`);
    }
  }

  private columnRef(ref: AstNode): RowExpr & { kind: 'column' } {
    const fields = Array.isArray(ref.fields) ? ref.fields : [];
    if (fields.some((f) => isNode(f) && 'A_Star' in f)) reject('unsupported_construct', '*', '* is only allowed in COUNT(*)');
    const parts = strings(fields);
    if (parts.length === 0 || parts.length > 2 || parts.includes('\u0000')) reject('unknown_column', 'qualified column', 'columns may be qualified by the dataset name only');
    if (parts.length === 2 && !this.scope.tableNames.has(parts[0]!.toLowerCase())) {
      reject('unknown_column', `table "${excerpt(parts[0]!, 30)}"`, `"${excerpt(parts[0]!, 30)}" is not the dataset of this query`);
    }
    const name = parts[parts.length - 1]!;
    const found = this.findColumn(name);
    if (found === null) {
      reject('unknown_column', `column "${excerpt(name, 40)}"`, `unknown column "${excerpt(name, 40)}"; the dataset has: ${Object.keys(this.scope.metadata.columns).join(', ')}`);
    }
    return { kind: 'column', name: found, valueKind: columnKind(this.scope.metadata.columns[found] as ColumnMetadata) };
  }

  private expression(body: AstNode, depth: number, clause: string): RowExpr {
    const op = strings(body.name).join('.');
    const left = (): RowExpr => this.row(body.lexpr, depth, clause);
    const right = (): RowExpr => this.row(body.rexpr, depth, clause);
    switch (body.kind) {
      case 'AEXPR_OP': {
        if (body.lexpr === undefined) {
          const operand = expectKind(right(), 'number', `unary ${op}`);
          if (op === '+') return operand;
          if (op === '-') return operand.kind === 'literal' && typeof operand.value === 'number' ? { ...operand, value: -operand.value } : { kind: 'negate', operand };
          break;
        }
        if (ARITHMETIC.has(op)) return { kind: 'arith', op: op as '+', left: expectKind(left(), 'number', op), right: expectKind(right(), 'number', op) };
        const comparison = COMPARISONS[op];
        if (comparison) {
          const [l, r] = unify(left(), right(), op);
          return { kind: 'compare', op: comparison, left: l, right: r };
        }
        break;
      }
      case 'AEXPR_IN': {
        const list = this.list(body.rexpr, depth, clause, 'IN');
        if (list.length > MAX_IN_LIST) reject('too_large', 'IN list', `IN lists hold at most ${MAX_IN_LIST} values`);
        let operand = left();
        const unified = list.map((item) => {
          const [o, i] = unify(operand, item, 'IN');
          operand = o;
          return i;
        });
        return { kind: 'in', operand, list: unified, negated: op === '<>' };
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN': {
        const bounds = this.list(body.rexpr, depth, clause, 'BETWEEN');
        if (bounds.length !== 2) reject('syntax_error', 'BETWEEN', 'BETWEEN needs two bounds');
        const [operand, low] = unify(left(), bounds[0]!, 'BETWEEN');
        const [operand2, high] = unify(operand, bounds[1]!, 'BETWEEN');
        return { kind: 'between', operand: operand2, low, high, negated: body.kind === 'AEXPR_NOT_BETWEEN' };
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const label = body.kind === 'AEXPR_LIKE' ? 'LIKE' : 'ILIKE';
        if (!isEmpty(body.rexpr) && isNode(body.rexpr) && isNode(body.rexpr.FuncCall)) reject('unsupported_construct', `${label} … ESCAPE`, `${label} … ESCAPE is not supported; the escape character is \\`);
        const operand = expectKind(left(), 'string', label);
        const pattern = expectKind(right(), 'string', label);
        return { kind: 'like', operand, pattern, negated: op.startsWith('!'), caseInsensitive: label === 'ILIKE' };
      }
      default:
        break;
    }
    const construct = EXPRESSION_KINDS[String(body.kind)] ?? `operator ${excerpt(op, 20)}`;
    return reject('unsupported_construct', construct, `${construct} is not supported`);
  }

  private boolExpr(body: AstNode, depth: number, clause: string): RowExpr {
    const args = (Array.isArray(body.args) ? body.args : []).map((a: unknown) => expectBool(this.row(a, depth, clause), String(body.boolop)));
    if (args.length === 0) reject('syntax_error', 'boolean expression', 'a boolean expression could not be understood');
    if (body.boolop === 'NOT_EXPR') return { kind: 'not', operand: args[0]! };
    const op = body.boolop === 'AND_EXPR' ? 'and' : 'or';
    return args.slice(1).reduce<RowExpr>((left, right) => ({ kind: 'logic', op, left, right }), args[0]!);
  }

  private list(node: unknown, depth: number, clause: string, op: string): RowExpr[] {
    const [type, body] = unwrap(node);
    if (type === 'SubLink') reject('unsupported_construct', 'subquery', 'subqueries are not supported');
    if (type !== 'List' || !Array.isArray(body.items)) reject('syntax_error', op, `${op} takes a list of values`);
    return body.items.map((item: unknown) => this.row(item, depth, clause));
  }

  private caseExpr(body: AstNode, depth: number, clause: string): RowExpr {
    const args = Array.isArray(body.args) ? body.args : [];
    if (args.length === 0) reject('syntax_error', 'CASE', 'CASE needs at least one WHEN');
    const subject = isEmpty(body.arg) ? null : this.row(body.arg, depth, clause);
    const branches = args.map((arg: unknown) => {
      const [type, when] = unwrap(arg);
      if (type !== 'CaseWhen') reject('syntax_error', 'CASE', 'a CASE branch could not be understood');
      let condition = this.row(when.expr, depth, clause);
      if (subject !== null) {
        const [l, r] = unify(subject, condition, 'CASE');
        condition = { kind: 'compare', op: '=', left: l, right: r };
      }
      return { when: expectBool(condition, 'CASE WHEN'), then: this.row(when.result, depth, clause) };
    });
    const otherwise = isEmpty(body.defresult) ? null : this.row(body.defresult, depth, clause);
    const results = [...branches.map((b) => b.then), ...(otherwise ? [otherwise] : [])];
    const kinds = new Set(results.map(kindOf).filter((k) => k !== 'null'));
    if (kinds.size > 1) reject('type_mismatch', 'CASE', `CASE branches must all have the same type (found ${[...kinds].join(', ')})`);
    return { kind: 'case', branches, otherwise };
  }

  private func(call: AstNode, depth: number, clause: string): RowExpr {
    const name = functionName(call);
    const label = excerpt(name.toUpperCase(), 30);
    if (!isEmpty(call.over) || WINDOW_FUNCTIONS.has(name)) reject('unsupported_construct', 'window function', `${label} is a window function; window functions are not supported`);
    const fn = ROW_FUNCTIONS[name];
    if (!fn) reject('unknown_function', `function ${label}`, `the function ${label} is not supported; row functions allowed: FLOOR, CEIL, ROUND, ABS`);
    const args = Array.isArray(call.args) ? call.args : [];
    if (args.length !== 1 || call.agg_distinct === true || !isEmpty(call.agg_order) || !isEmpty(call.agg_filter)) {
      reject('unsupported_construct', `function ${label}`, `${label} takes exactly one argument`);
    }
    return { kind: 'func', name: fn, arg: expectKind(this.row(args[0], depth, clause), 'number', label) };
  }
}

const EXPRESSION_KINDS: Record<string, string> = {
  AEXPR_OP_ANY: 'ANY', AEXPR_OP_ALL: 'ALL', AEXPR_DISTINCT: 'IS DISTINCT FROM', AEXPR_NOT_DISTINCT: 'IS NOT DISTINCT FROM',
  AEXPR_NULLIF: 'NULLIF', AEXPR_SIMILAR: 'SIMILAR TO', AEXPR_BETWEEN_SYM: 'BETWEEN SYMMETRIC', AEXPR_NOT_BETWEEN_SYM: 'BETWEEN SYMMETRIC',
};

function rejectNode(type: string): void {
  const construct = REJECTED_NODES[type];
  if (construct) reject('unsupported_construct', construct, `${construct} is not supported`);
}

function describe(type: string, body: AstNode): string {
  if (type === 'FuncCall') return `function ${excerpt(functionName(body).toUpperCase(), 30)}`;
  return REJECTED_NODES[type] ?? excerpt(type.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' '), 30);
}

function plainColumnName(node: unknown): string | null {
  if (!isNode(node) || !isNode(node.ColumnRef)) return null;
  const parts = strings(node.ColumnRef.fields);
  return parts.length === 1 && parts[0] !== '\u0000' ? parts[0]! : null;
}

function constant(body: AstNode): RowExpr {
  if (body.isnull === true) return { kind: 'literal', value: null, valueKind: 'null' };
  if (isNode(body.sval)) return { kind: 'literal', value: stringConstant(body), valueKind: 'string' };
  if (isNode(body.boolval)) return { kind: 'literal', value: body.boolval.boolval === true, valueKind: 'bool' };
  if (isNode(body.bsval)) reject('unsupported_construct', 'bit string', 'bit strings are not supported');
  return { kind: 'literal', value: constantNumber(body), valueKind: 'number' };
}

/** ival (0 is an empty object in libpg_query's JSON) or fval (a decimal string). */
function constantNumber(body: AstNode): number {
  let value = NaN;
  if (isNode(body.ival)) value = typeof body.ival.ival === 'number' ? body.ival.ival : 0;
  else if (isNode(body.fval) && typeof body.fval.fval === 'string' && /^[0-9.eE+-]+$/.test(body.fval.fval)) value = Number(body.fval.fval);
  else reject('type_mismatch', 'literal', 'a number was expected');
  if (!Number.isFinite(value) || Math.abs(value) > MAX_ABS_LITERAL) {
    reject('too_large', 'numeric literal', `numeric literals must be finite and at most ${MAX_ABS_LITERAL} in magnitude`);
  }
  return value;
}

function stringConstant(body: AstNode): string {
  const value = isNode(body.sval) ? (body.sval.sval ?? '') : null;
  if (typeof value !== 'string') reject('syntax_error', 'string literal', 'a string literal could not be understood');
  if (value.length > MAX_STRING_LITERAL) reject('too_large', 'string literal', `string literals are at most ${MAX_STRING_LITERAL} characters`);
  return value;
}

/** DATE '…' and TIMESTAMP '…' are typed literals; any other cast is rejected. */
function typedLiteral(body: AstNode): RowExpr {
  const type = strings(isNode(body.typeName) ? body.typeName.names : []).filter((n) => n !== 'pg_catalog').join('.');
  const arg = isNode(body.arg) && isNode(body.arg.A_Const) && isNode(body.arg.A_Const.sval) ? stringConstant(body.arg.A_Const) : null;
  if (arg !== null && type === 'date') return { kind: 'literal', value: dateLiteral(arg), valueKind: 'date' };
  if (arg !== null && type === 'timestamp') return { kind: 'literal', value: timestampLiteral(arg), valueKind: 'timestamp' };
  return reject('unsupported_construct', 'CAST', 'casts are not supported: compare columns with literals of their own type');
}

function quantileProbability(node: unknown, label: string): number {
  const [type, body] = unwrap(node);
  const value = type === 'A_Const' && !isNode(body.sval) && !isNode(body.boolval) && body.isnull !== true ? constantNumber(body) : NaN;
  if (!(value >= 0 && value <= 1)) reject('unsupported_construct', `${label} probability`, `${label} needs a literal probability between 0 and 1`);
  return value;
}

function dateLiteral(raw: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
    reject('type_mismatch', 'DATE literal', "dates are written 'YYYY-MM-DD'");
  }
  return raw;
}

function timestampLiteral(raw: string): string {
  if (!/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/.test(raw) || Number.isNaN(Date.parse(raw.replace(' ', 'T')))) {
    reject('type_mismatch', 'TIMESTAMP literal', "timestamps are written 'YYYY-MM-DD HH:MM:SS'");
  }
  return raw;
}

function columnKind(column: ColumnMetadata): ValueKind {
  switch (column.type) {
    case 'int':
    case 'float':
      return 'number';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
  }
}

export function kindOf(expr: RowExpr): ValueKind {
  switch (expr.kind) {
    case 'column':
    case 'literal':
      return expr.valueKind;
    case 'arith':
    case 'negate':
    case 'func':
      return 'number';
    case 'case': {
      const kinds = [...expr.branches.map((b) => kindOf(b.then)), ...(expr.otherwise ? [kindOf(expr.otherwise)] : [])];
      return kinds.find((k) => k !== 'null') ?? 'null';
    }
    default:
      return 'bool';
  }
}

function expectKind(expr: RowExpr, kind: ValueKind, op: string): RowExpr {
  const actual = kindOf(expr);
  if (actual !== kind && actual !== 'null') reject('type_mismatch', excerpt(op, 20), `${excerpt(op, 20)} needs ${kind} operands, not ${actual}`);
  return expr;
}

function expectBool(expr: RowExpr, op: string): RowExpr {
  const label = op === 'AND_EXPR' ? 'AND' : op === 'OR_EXPR' ? 'OR' : op === 'NOT_EXPR' ? 'NOT' : op;
  return expectKind(expr, 'bool', label);
}

/** Makes two operands comparable; a string literal compared with a date or timestamp becomes one. */
function unify(left: RowExpr, right: RowExpr, op: string): [RowExpr, RowExpr] {
  const l = kindOf(left);
  const r = kindOf(right);
  if (l === r || l === 'null' || r === 'null') return [left, right];
  if ((l === 'date' || l === 'timestamp') && right.kind === 'literal' && r === 'string') return [left, temporal(right, l)];
  if ((r === 'date' || r === 'timestamp') && left.kind === 'literal' && l === 'string') return [temporal(left, r), right];
  if ((l === 'date' && r === 'timestamp') || (l === 'timestamp' && r === 'date')) return [left, right];
  return reject('type_mismatch', excerpt(op, 20), `${excerpt(op, 20)} compares ${l} with ${r}`);
}

function temporal(literal: RowExpr & { kind: 'literal' }, kind: 'date' | 'timestamp'): RowExpr {
  const value = kind === 'date' ? dateLiteral(String(literal.value)) : timestampLiteral(String(literal.value));
  return { kind: 'literal', value, valueKind: kind };
}

export type { Literal };
