// plan(): parse → validate against metadata → measurements → budget split → generated SQL. Nothing here
// touches data; a plan can be estimated for free and run any number of times (each run is charged).
import type { DatasetMetadata } from '@veil/dataset-metadata';
import type { PrivacyCost } from '@veil/mechanisms';
import { parseBudget, splitBudget, type BudgetSplit, type QueryBudget } from './budget.js';
import { QueryRejectedError, reject } from './errors.js';
import type { GroupKey, Literal, OutputExpr, ValidatedQuery, ValueKind } from './ir.js';
import { contributionOf, planMeasurements, type AggregateRecipe, type Contribution, type Measurement } from './measurements.js';
import { parseSelect } from './parse.js';
import { generateSql, type GeneratedSql } from './sql.js';
import { kindOf, validateQuery } from './validate.js';

/** Most groups a query with public keys releases (the cross product of the key domains). */
export const MAX_PUBLIC_GROUPS = 100_000;

export type OutputType = 'number' | 'string' | 'bool' | 'date' | 'timestamp' | null;

export interface QueryPlan {
  readonly query: ValidatedQuery;
  readonly contribution: Contribution;
  readonly measurements: Measurement[];
  readonly recipes: AggregateRecipe[];
  /** Every key tuple released when all keys are public (empty groups included); null: partition selection. */
  readonly publicGroups: Literal[][] | null;
  readonly budget: BudgetSplit;
  /** What running this plan charges. */
  readonly cost: PrivacyCost;
  /** The SQL Veil generated (one text valid for DuckDB and PostgreSQL) and its parameters. */
  readonly statements: GeneratedSql;
  readonly columns: { name: string; type: OutputType }[];
}

export function plan(sql: string, metadata: DatasetMetadata, budget: QueryBudget): QueryPlan {
  try {
    return buildPlan(sql, metadata, budget);
  } catch (error) {
    if (error instanceof QueryRejectedError) throw error;
    // A parser or validator bug must still surface as a clear rejection, not a crash; the message is ours.
    if (error instanceof RangeError) reject('too_large', 'nesting depth', 'the query is too deeply nested');
    throw error;
  }
}

function buildPlan(sql: string, metadata: DatasetMetadata, budgetInput: QueryBudget): QueryPlan {
  const budget = parseBudget(budgetInput);
  const query = validateQuery(parseSelect(sql), metadata);
  const contribution = contributionOf(metadata);
  const { measurements, recipes } = planMeasurements(query.aggregates, metadata);
  const publicGroups = publicGroupsOf(query.keys);
  const split = splitBudget(measurements, contribution, budget, publicGroups === null);
  const statements = generateSql({
    where: query.where,
    keys: query.keys.map((k) => ({ expr: k.expr, clampsColumn: k.domain?.clampsColumn ?? false, numeric: k.valueKind === 'number' })),
    numericColumns: new Set(Object.keys(metadata.columns).filter((c) => ['int', 'float'].includes(metadata.columns[c]!.type))),
    measurements,
    contribution,
    bounds: numericBounds(metadata),
  });
  const columns = query.outputs.map((o) => ({ name: o.name, type: outputType(o.expr, query.keys) }));
  return { query, contribution, measurements, recipes, publicGroups, budget: split, cost: split.cost, statements, columns };
}

function publicGroupsOf(keys: GroupKey[]): Literal[][] | null {
  if (keys.some((k) => k.domain === null)) return null;
  const size = keys.reduce((n, k) => n * k.domain!.values.length, 1);
  if (size > MAX_PUBLIC_GROUPS) return null;
  let tuples: Literal[][] = [[]];
  for (const key of keys) tuples = tuples.flatMap((t) => key.domain!.values.map((v) => [...t, v]));
  return tuples;
}

function numericBounds(metadata: DatasetMetadata): Record<string, { lower: number; upper: number }> {
  const bounds: Record<string, { lower: number; upper: number }> = {};
  for (const [name, column] of Object.entries(metadata.columns)) {
    if ((column.type === 'int' || column.type === 'float') && column.lower !== undefined && column.upper !== undefined) {
      bounds[name] = { lower: column.lower, upper: column.upper };
    }
  }
  return bounds;
}

function outputType(expr: OutputExpr, keys: GroupKey[]): OutputType {
  switch (expr.kind) {
    case 'key': {
      const kind: ValueKind = keys[expr.index] ? kindOf(keys[expr.index]!.expr) : 'null';
      return kind === 'null' ? null : kind;
    }
    case 'string':
      return 'string';
    case 'compare':
    case 'logic':
    case 'not':
    case 'isNull':
      return 'bool';
    default:
      return 'number';
  }
}
