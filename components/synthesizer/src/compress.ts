// Domain compression (MST): values whose noisy count is below 3σ are too rare to model; when there is more
// than one, they are merged into a single "other" code. The noisy 1-way measurement is re-expressed on the
// compressed domain: the "other" cell is the sum of the merged noisy counts, whose noise variance is m·σ².
// Pure post-processing of noisy counts.

/** A noisy measurement of a marginal: values and the inverse noise variance of each cell. */
export interface Measurement {
  readonly y: Float64Array;
  readonly precision: Float64Array;
}

export interface Compression {
  /** Compressed size of the domain. */
  readonly size: number;
  /** Original code → compressed code. */
  readonly mapping: Int32Array;
  /** Original codes merged into the last compressed code (empty when nothing was merged). */
  readonly merged: readonly number[];
  /** Their noisy counts clipped at zero: how decoding spreads the "other" rows back over them. */
  readonly mergedWeights: Float64Array;
  /** The 1-way measurement on the compressed domain. */
  readonly measurement: Measurement;
}

export function compressDomain(noisy: Float64Array, sigma: number): Compression {
  const threshold = 3 * sigma;
  const rare: number[] = [];
  for (let v = 0; v < noisy.length; v++) if (noisy[v]! < threshold) rare.push(v);
  const variance = sigma * sigma;
  if (rare.length <= 1) {
    return {
      size: noisy.length,
      mapping: Int32Array.from({ length: noisy.length }, (_, v) => v),
      merged: [],
      mergedWeights: new Float64Array(0),
      measurement: { y: Float64Array.from(noisy), precision: new Float64Array(noisy.length).fill(1 / variance) },
    };
  }
  const kept = noisy.length - rare.length;
  const mapping = new Int32Array(noisy.length);
  const y = new Float64Array(kept + 1);
  const precision = new Float64Array(kept + 1).fill(1 / variance);
  let next = 0;
  for (let v = 0; v < noisy.length; v++) {
    if (noisy[v]! < threshold) {
      mapping[v] = kept;
      y[kept]! += noisy[v]!;
    } else {
      mapping[v] = next;
      y[next++] = noisy[v]!;
    }
  }
  precision[kept] = 1 / (rare.length * variance);
  const mergedWeights = Float64Array.from(rare, (v) => Math.max(0, noisy[v]!));
  return { size: kept + 1, mapping, merged: rare, mergedWeights, measurement: { y, precision } };
}

/** The minimum-variance estimate of the number of rows from noisy 1-way measurements of the full domain
 * (each sums to the total; inverse-variance weighting), at least 1. */
export function estimateTotal(measurements: readonly Measurement[]): number {
  let weightSum = 0;
  let weighted = 0;
  for (const { y, precision } of measurements) {
    let sum = 0;
    let variance = 0;
    for (let v = 0; v < y.length; v++) {
      sum += y[v]!;
      variance += 1 / precision[v]!;
    }
    weightSum += 1 / variance;
    weighted += sum / variance;
  }
  return Math.max(1, weighted / weightSum);
}
