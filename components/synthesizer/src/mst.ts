// MST (McKenna, Miklau, Sheldon, "Winning the NIST Contest", 2021) over an encoded table, following
// Private-PGM's mechanisms/mst.py: measure all 1-way marginals, compress rare values, select a spanning tree
// of 2-way marginals with the exponential mechanism, measure the tree's 2-way marginals, fit a tree model
// by mirror descent, and sample with deterministic rounding.
import { compressDomain, estimateTotal, type Compression, type Measurement } from './compress.js';
import { gaussianVariance, selectionEpsilon, type MstBudget } from './budget.js';
import { countOneWay, countTwoWay, remapColumn } from './marginals.js';
import { fitTreeModel, flattenMeasurements, Layout, orientForest } from './model.js';
import type { MstNoise } from './noise.js';
import { shuffleRange, type UniformSource } from './random.js';
import { allocate, sampleRows } from './sample.js';
import { fitOneWay, pairScores, SCORE_SCALE, selectTree } from './select.js';
import type { EncodedTable } from './table.js';

export type SynthesisPhase = 'planning' | 'reading' | 'measuring-1way' | 'selecting' | 'measuring-2way' | 'fitting' | 'sampling' | 'decoding' | 'done';

export interface SynthesisProgress {
  phase: SynthesisPhase;
  /** Within a phase with steps: the step just finished and the number of steps. */
  iteration?: number;
  total?: number;
}

/** Mirror-descent iterations: on adult at ε = 1, 500 measured at least as accurate as 300, 1000 or 3000
 * (running the fit to convergence overfits the noise). */
export const DEFAULT_ITERATIONS = 500;

export const ignoreProgress = (_progress: SynthesisProgress): void => undefined;

export interface MstRunOptions {
  budget: MstBudget;
  noise: MstNoise;
  /** Post-processing randomness (rounding order, shuffles). */
  random: UniformSource;
  /** Mirror-descent iterations. */
  iterations?: number;
  /** Rows to generate; default the noisy estimate of the row count. */
  rows?: number;
  /** Rows one privacy unit may contribute (the caller bounds them); scales every sensitivity. */
  contribution?: number;
  onProgress?: (progress: SynthesisProgress) => void;
  signal?: AbortSignal;
}

/** What the run did, in terms that are safe to show (all derived from noisy values or public parameters). */
export interface MstReport {
  /** Tree edges as pairs of column indices. */
  tree: [number, number][];
  /** Compressed domain size per column. */
  compressedSizes: number[];
  /** Noise variance of each 1-way and each 2-way cell, as exact fractions. */
  oneWayVariance: string;
  twoWayVariance: string;
  selectionEpsilon: string;
  iterations: number;
  /** Rows generated. */
  rows: number;
}

export interface MstResult {
  /** Synthetic codes in the original (uncompressed) domains, one column per input column. */
  columns: Int32Array[];
  rows: number;
  report: MstReport;
}

export function runMst(table: EncodedTable, options: MstRunOptions): MstResult {
  const { budget, noise, random, signal } = options;
  const progress = options.onProgress ?? ignoreProgress;
  const contribution = options.contribution ?? 1;
  const d = table.names.length;

  // 1. All 1-way marginals: d marginals share the first third.
  progress({ phase: 'measuring-1way' });
  const oneWayVariance = gaussianVariance(budget.oneWay, d, contribution);
  const sigma = Math.sqrt(Number(oneWayVariance.num) / Number(oneWayVariance.den));
  const compressions: Compression[] = table.columns.map((column, j) => compressDomain(noise.gaussian(countOneWay(column, table.sizes[j]!), oneWayVariance), sigma));
  signal?.throwIfAborted();
  const columns = table.columns.map((column, j) => remapColumn(column, compressions[j]!.mapping));
  const sizes = compressions.map((c) => c.size);
  const oneWay = compressions.map((c) => c.measurement);

  // 2. Select the tree: the independent model from the noisy 1-way marginals, scored against true 2-way ones.
  let tree: { a: number; b: number }[] = [];
  let epsilon = '0';
  if (d > 1) {
    progress({ phase: 'selecting', iteration: 0, total: d - 1 });
    const total = estimateTotal(oneWay);
    const fitted = oneWay.map((m) => fitOneWay(m, total));
    const { pairs, scores } = pairScores(columns, sizes, fitted, total);
    epsilon = selectionEpsilon(budget.selection, d - 1);
    tree = selectTree(d, pairs, scores, noise, {
      epsilon,
      sensitivity: contribution * SCORE_SCALE,
      onRound: (iteration, rounds) => {
        signal?.throwIfAborted();
        progress({ phase: 'selecting', iteration, total: rounds });
      },
    });
  }

  // 3. Measure the tree's 2-way marginals (oriented parent → child): d − 1 marginals share the last third.
  progress({ phase: 'measuring-2way' });
  const forest = orientForest(sizes, tree);
  const layout = new Layout(forest);
  const twoWayVariance = d > 1 ? gaussianVariance(budget.twoWay, d - 1, contribution) : undefined;
  const edges: (Measurement | undefined)[] = sizes.map((_, c) => {
    const p = forest.parent[c]!;
    if (p < 0 || !twoWayVariance) return undefined;
    const y = noise.gaussian(countTwoWay(columns[p]!, sizes[p]!, columns[c]!, sizes[c]!), twoWayVariance);
    const precision = new Float64Array(y.length).fill(Number(twoWayVariance.den) / Number(twoWayVariance.num));
    return { y, precision };
  });
  signal?.throwIfAborted();

  // 4. Fit the tree model to all noisy measurements.
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const measured = edges.filter((e): e is Measurement => e !== undefined);
  const total = estimateTotal([...oneWay, ...measured]);
  const model = fitTreeModel(layout, flattenMeasurements(layout, oneWay, edges), total, {
    iterations,
    signal,
    onIteration: (iteration, of) => {
      if (iteration % 50 === 0 || iteration === of) progress({ phase: 'fitting', iteration, total: of });
    },
  });

  // 5. Sample in tree order, then undo the compression.
  progress({ phase: 'sampling' });
  const rows = options.rows ?? Math.round(total);
  const sampled = sampleRows(model, rows, random);
  const decoded = sampled.map((column, j) => uncompress(column, compressions[j]!, random));
  return {
    columns: decoded,
    rows,
    report: {
      tree: tree.map(({ a, b }) => [a, b]),
      compressedSizes: sizes,
      oneWayVariance: `${oneWayVariance.num}/${oneWayVariance.den}`,
      twoWayVariance: twoWayVariance ? `${twoWayVariance.num}/${twoWayVariance.den}` : '0',
      selectionEpsilon: epsilon,
      iterations,
      rows,
    },
  };
}

/** Compressed codes back to original codes. The rows with the "other" code are spread over the merged
 * values in proportion to their (already released) noisy counts, with the same deterministic rounding as
 * sampling, in random order. */
function uncompress(column: Int32Array, compression: Compression, random: UniformSource): Int32Array {
  const { mapping, merged, mergedWeights } = compression;
  const inverse = new Int32Array(compression.size).fill(-1);
  for (let v = 0; v < mapping.length; v++) if (!merged.includes(v)) inverse[mapping[v]!] = v;
  const other = merged.length > 0 ? compression.size - 1 : -1;
  const out = new Int32Array(column.length);
  const otherRows: number[] = [];
  for (let i = 0; i < column.length; i++) {
    const code = column[i]!;
    if (code === other) otherRows.push(i);
    else out[i] = inverse[code]!;
  }
  if (otherRows.length === 0) return out;
  const values = new Int32Array(otherRows.length);
  let k = 0;
  allocate(mergedWeights, otherRows.length).forEach((count, j) => values.fill(merged[j]!, k, (k += count)));
  shuffleRange(values, 0, values.length, random);
  otherRows.forEach((row, i) => (out[row] = values[i]!));
  return out;
}
