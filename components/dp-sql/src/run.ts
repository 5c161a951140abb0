// run(): execute the plan's generated SQL on a dataset engine, then the noise stage. readPreNoise is the
// internal, test-only window on pre-noise aggregates: it is not exported from the brick's index, and run()
// has no way to skip the noise.
import type { CryptoRandom } from '@veil/mechanisms';
import type { QueryPlan } from './plan.js';
import { release, type Answer, type PreNoiseGroup } from './release.js';
import { exactSum, type GeneratedStatement, type SqlParam } from './sql.js';
import { keyString } from './domain.js';

/** The part of @veil/dataset-adapters' DatasetAdapter that dp-sql needs. */
export interface QueryEngine {
  readonly dialect: 'duckdb' | 'postgres';
  query(sql: string, params?: readonly SqlParam[], opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<{ columns: string[]; rows: unknown[][] }>;
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function run(plan: QueryPlan, engine: QueryEngine, rng: CryptoRandom, opts: RunOptions = {}): Promise<Answer> {
  const groups = await readPreNoise(plan, engine, samplingSalt(rng), opts);
  return release(plan, groups, rng);
}

/** 128 random bits for the contribution-bounding hash; fresh per run. */
function samplingSalt(rng: CryptoRandom): string {
  return [rng.uint32(), rng.uint32(), rng.uint32(), rng.uint32()].map((w) => w.toString(16).padStart(8, '0')).join('');
}

/** The statement with the salt bound (a no-op without a privacy unit). */
export function bindSalt(statement: GeneratedStatement, saltIndex: number | null, salt: string): GeneratedStatement {
  if (saltIndex === null) return statement;
  const params = [...statement.params];
  params[saltIndex] = salt;
  return { sql: statement.sql, params };
}

/** Runs the generated statements and returns each non-empty group's pre-noise values. Never released as is. */
export async function readPreNoise(plan: QueryPlan, engine: QueryEngine, salt: string, opts: RunOptions = {}): Promise<PreNoiseGroup[]> {
  const { main, histograms, saltIndex } = plan.statements;
  const keyCount = plan.query.keys.length;
  const bound = bindSalt(main, saltIndex, salt);
  const result = await engine.query(bound.sql, bound.params, opts);
  const groups = new Map<string, PreNoiseGroup>();
  const columns = plan.statements.aggregatedColumns;
  for (const row of result.rows) {
    const key = row.slice(0, keyCount);
    const rowCount = toBigInt(row[keyCount + 1]);
    const nonNull = (column: string) => toBigInt(row[keyCount + 2 + columns.indexOf(column)]);
    const first = keyCount + 2 + columns.length;
    const values = plan.measurements.map((m, i) => {
      if (m.kind === 'quantile') return 0n;
      const value = toBigInt(row[first + i]);
      return m.kind === 'sum' ? exactSum(m, value, rowCount, nonNull(m.column)) : value;
    });
    groups.set(groupId(key), { key, units: toBigInt(row[keyCount]), values, histograms: new Map() });
  }
  for (const [index, statement] of histograms) {
    const m = plan.measurements[index]!;
    if (m.kind !== 'quantile') continue;
    const boundHistogram = bindSalt(statement, saltIndex, salt);
    const rows = (await engine.query(boundHistogram.sql, boundHistogram.params, opts)).rows;
    for (const row of rows) {
      const group = groups.get(groupId(row.slice(0, keyCount)));
      if (!group) continue;
      let counts = group.histograms.get(index);
      if (!counts) group.histograms.set(index, (counts = new Array<bigint>(m.bins).fill(0n)));
      const bin = Math.min(m.bins - 1, Math.max(0, Number(row[keyCount])));
      counts[bin] = counts[bin]! + toBigInt(row[keyCount + 1]);
    }
  }
  return [...groups.values()];
}

function groupId(key: unknown[]): string {
  return key.map(keyString).join('\u0000');
}

function toBigInt(value: unknown): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'bigint') return value;
  // Only safe integers: a larger double may already have been rounded, and the aggregate must be exact.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error('internal: the engine returned a non-integer aggregate');
}
