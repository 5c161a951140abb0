// The public entry point: metadata + (ε, δ) + a stream of row batches → synthetic rows. Planning (domains,
// cost) happens before anything is read; `authorize` is called with the cost before the first row is read,
// so a grant that cannot cover it refuses the run without touching the data.
import type { DatasetMetadata } from '@veil/dataset-metadata';
import { CryptoRandom, SeededRandom, type PrivacyCost } from '@veil/mechanisms';
import { mstBudget, type MstBudget } from './budget.js';
import { buildCodecs, SynthesisError, type ColumnCodec, type EncodingOptions } from './encoding.js';
import { ignoreProgress, runMst, type MstReport, type SynthesisProgress } from './mst.js';
import { cryptoNoise } from './noise.js';
import { encodeRows } from './table.js';

export interface SynthesisRequest extends EncodingOptions {
  epsilon: string | number;
  delta: string | number;
  /** Columns to synthesise, in output order; default every column except the privacy unit's. */
  columns?: string[];
  /** Rows to generate; default the noisy row count. */
  rows?: number;
  /** Mirror-descent iterations (default DEFAULT_ITERATIONS, 500). */
  iterations?: number;
  /** Seed of the post-processing randomness (shuffles, values within bins); default a fresh random one. */
  seed?: number | string;
}

export interface SynthesisPlan {
  readonly columns: string[];
  readonly codecs: ColumnCodec[];
  readonly budget: MstBudget;
  readonly cost: PrivacyCost;
  /** Rows one privacy unit may contribute: the source must already be limited to this many per unit. */
  readonly contribution: number;
}

export interface SynthesisRunOptions {
  /** Called with the cost before any row is read; throw to refuse (e.g. a budget reservation that failed). */
  authorize?: (cost: PrivacyCost) => void | Promise<void>;
  onProgress?: (progress: SynthesisProgress) => void;
  signal?: AbortSignal;
}

export interface SyntheticData {
  columns: string[];
  rows: unknown[][];
  cost: PrivacyCost;
  report: MstReport;
}

/** Validates the request against the metadata and prices it; reads no data. */
export function planSynthesis(metadata: DatasetMetadata, request: SynthesisRequest): SynthesisPlan {
  const unit = metadata.privacy_unit;
  const columns = request.columns ?? Object.keys(metadata.columns).filter((name) => name !== unit?.column);
  if (columns.length === 0) throw new SynthesisError('no columns to synthesise');
  if (new Set(columns).size !== columns.length) throw new SynthesisError('columns must not repeat');
  if (unit && columns.includes(unit.column)) {
    throw new SynthesisError(`column "${unit.column}" identifies the privacy unit and cannot be synthesised`);
  }
  checkPositiveInteger(request.rows, 'rows', 100_000_000);
  checkPositiveInteger(request.iterations, 'iterations', 100_000);
  const codecs = buildCodecs(metadata, columns, request);
  const budget = mstBudget(request.epsilon, request.delta, columns.length);
  return { columns, codecs, budget, cost: budget.cost, contribution: unit?.max_rows ?? 1 };
}

function checkPositiveInteger(value: number | undefined, what: string, max: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || value > max)) {
    throw new SynthesisError(`${what} must be an integer between 1 and ${max}`);
  }
}

/**
 * Runs MST. `source` yields batches of rows whose values follow `plan.columns` (e.g. a dataset adapter's
 * stream() of `SELECT <columns> FROM dataset`); with a privacy unit, each unit's rows must already be
 * limited to `plan.contribution`.
 */
export async function synthesize(
  metadata: DatasetMetadata,
  request: SynthesisRequest,
  source: AsyncIterable<unknown[][]>,
  options: SynthesisRunOptions = {},
): Promise<SyntheticData> {
  const progress = options.onProgress ?? ignoreProgress;
  progress({ phase: 'planning' });
  const plan = planSynthesis(metadata, request);
  await options.authorize?.(plan.cost);
  options.signal?.throwIfAborted();
  progress({ phase: 'reading' });
  const table = await encodeRows(plan.codecs, source, options.signal);
  const random = request.seed === undefined ? new CryptoRandom() : new SeededRandom(request.seed);
  const result = runMst(table, {
    budget: plan.budget,
    noise: cryptoNoise(),
    random,
    iterations: request.iterations,
    rows: request.rows,
    contribution: plan.contribution,
    onProgress: progress,
    signal: options.signal,
  });
  progress({ phase: 'decoding' });
  const rows: unknown[][] = new Array(result.rows);
  for (let i = 0; i < result.rows; i++) {
    rows[i] = plan.codecs.map((codec, j) => codec.decode(result.columns[j]![i]!, random));
  }
  progress({ phase: 'done' });
  return { columns: plan.columns, rows, cost: plan.cost, report: result.report };
}
