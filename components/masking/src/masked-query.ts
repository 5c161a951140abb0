// Compiles a policy into one engine statement over the relation `dataset`: columns whose functions the
// engine can compute are masked in SQL; the others are selected raw and masked in TypeScript right after
// (post-processors). SQL is built from Veil's own AST: identifiers come from validated metadata, every
// literal and the key are bound parameters.
import type { CompiledPolicy } from './policy.js';
import type { Dialect, EvalEnv, QueryParam, SqlBuilder } from './functions.js';
import { sqlType } from './functions.js';
import type { MaskingKey } from './masking-key.js';
import { FakerPool } from './fakers.js';
import { cryptoSource, type UniformSource } from './random.js';
import type { OutputType } from './values.js';

/** 'auto': SQL wherever the function allows; 'typescript': every function in TypeScript (tests compare). */
export type ExecutionMode = 'auto' | 'typescript';

export interface PostProcessor {
  /** Position of the column in each row. */
  index: number;
  column: string;
  evaluate: (value: unknown, env: EvalEnv) => unknown;
}

export interface MaskedQuery {
  sql: string;
  params: QueryParam[];
  columns: { name: string; type: Exclude<OutputType, 'null'> }[];
  postProcessors: PostProcessor[];
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

class ParamCollector implements SqlBuilder {
  readonly params: QueryParam[] = [];
  private pads: { inner: string; outer: string } | undefined;

  constructor(readonly dialect: Dialect, private readonly key: MaskingKey) {}

  param(value: QueryParam): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  keyPads(): { inner: string; outer: string } {
    if (!this.pads) {
      const { inner, outer } = this.key.sqlPads();
      this.pads = { inner: this.param(inner), outer: this.param(outer) };
    }
    return this.pads;
  }
}

export interface MaskedQueryOptions {
  mode?: ExecutionMode;
  /** Adds LIMIT (a masked sample). */
  limit?: number;
}

/** The statement that produces the masked rows (before post-processing). */
export function maskedQuery(compiled: CompiledPolicy, dialect: Dialect, key: MaskingKey, options: MaskedQueryOptions = {}): MaskedQuery {
  const builder = new ParamCollector(dialect, key);
  const postProcessors: PostProcessor[] = [];
  const lookups: string[] = [];
  const joins: string[] = [];
  const select = compiled.columns.map((column, index) => {
    const input = `dataset.${quoteIdent(column.name)}`;
    const output = quoteIdent(column.name);
    if (options.mode === 'typescript' || !column.op.sql) {
      postProcessors.push({ index, column: column.name, evaluate: column.op.evaluate });
      return `${input} AS ${output}`;
    }
    const type = sqlType(column.outputType, dialect);
    if (column.op.perDistinctValue) {
      // Keyed hashes cost two SHA-256 per value: compute them once per distinct value and join.
      const lookup = quoteIdent(`__veil_lookup_${lookups.length}`);
      lookups.push(`${lookup} AS (SELECT k, ${column.op.sql('k', builder)} AS v FROM (SELECT DISTINCT ${input} AS k FROM dataset) AS distinct_values)`);
      joins.push(` LEFT JOIN ${lookup} ON ${input} = ${lookup}.k`);
      return `CAST(${lookup}.v AS ${type}) AS ${output}`;
    }
    return `CAST(${column.op.sql(input, builder)} AS ${type}) AS ${output}`;
  });
  const withClause = lookups.length ? `WITH ${lookups.join(', ')} ` : '';
  let sql = `${withClause}SELECT ${select.join(', ')} FROM dataset${joins.join('')}`;
  if (options.limit !== undefined) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) throw new RangeError('limit must be a non-negative integer');
    sql += ` LIMIT ${builder.param(options.limit)}`;
  }
  return {
    sql,
    params: builder.params,
    columns: compiled.columns.map((c) => ({ name: c.name, type: c.outputType })),
    postProcessors,
  };
}

const MEMO_LIMIT = 200_000;

/** Run-time state of the TypeScript functions for one sample or export. */
export function createEvalEnv(key: MaskingKey, random: UniformSource = cryptoSource()): EvalEnv {
  const memos = new Map<object, Map<string, unknown>>();
  return {
    key,
    random,
    fakers: new FakerPool(),
    memo(op, input, compute) {
      let memo = memos.get(op);
      if (!memo) memos.set(op, (memo = new Map()));
      if (memo.has(input)) return memo.get(input);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      const value = compute();
      memo.set(input, value);
      return value;
    },
  };
}

/** Applies the TypeScript-side functions to a batch, in place. */
export function applyPostProcessors(rows: unknown[][], postProcessors: PostProcessor[], env: EvalEnv): unknown[][] {
  if (postProcessors.length === 0) return rows;
  for (const row of rows) {
    for (const p of postProcessors) row[p.index] = p.evaluate(row[p.index] ?? null, env);
  }
  return rows;
}
