// MST's selection step: score every pair of columns by how badly the independence model built from the
// noisy 1-way marginals explains their true 2-way marginal (L1 error), then grow a spanning tree Kruskal-style
// where each edge is picked by the exponential mechanism among the pairs that join two components.
import type { Measurement } from './compress.js';
import { countTwoWay } from './marginals.js';
import type { MstNoise } from './noise.js';

/**
 * The non-negative vector summing to `total` closest to the noisy measurement in precision-weighted L2:
 * x_v = max(0, y_v + τ / precision_v), with τ found by bisection. This is the optimum of the independent
 * (1-way only) model that the reference fits before selection.
 */
export function fitOneWay(m: Measurement, total: number): Float64Array {
  const { y, precision } = m;
  const mass = (tau: number): number => {
    let s = 0;
    for (let v = 0; v < y.length; v++) s += Math.max(0, y[v]! + tau / precision[v]!);
    return s;
  };
  let lo = -1;
  let hi = 1;
  while (mass(lo) > total) lo *= 2;
  while (mass(hi) < total) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (mass(mid) < total) lo = mid;
    else hi = mid;
  }
  const tau = (lo + hi) / 2;
  const x = new Float64Array(y.length);
  let sum = 0;
  for (let v = 0; v < y.length; v++) sum += x[v] = Math.max(0, y[v]! + tau / precision[v]!);
  if (sum > 0) for (let v = 0; v < y.length; v++) x[v] = (x[v]! * total) / sum;
  else x.fill(total / y.length);
  return x;
}

export interface Pair {
  readonly a: number;
  readonly b: number;
}

/** Scores are computed on a 2^−10 grid so that they are exact integers (see pairScores). */
export const SCORE_SCALE = 1024;

/**
 * Scores of all pairs a < b: Σ |S·x_ab − round(S·x̂_ab)| with S = SCORE_SCALE, where x is the true 2-way count
 * and x̂ the product of the fitted 1-way marginals (post-processing of noisy values, so rounding it is free).
 * Every term is an integer, so the sum is exact in a double, and adding or removing one row moves it by at
 * most S: the sensitivity is exactly S per row, with no floating-point slack.
 */
export function pairScores(columns: readonly Int32Array[], sizes: readonly number[], oneWay: readonly Float64Array[], total: number): { pairs: Pair[]; scores: number[] } {
  const pairs: Pair[] = [];
  const scores: number[] = [];
  for (let a = 0; a < columns.length; a++) {
    for (let b = a + 1; b < columns.length; b++) {
      const sb = sizes[b]!;
      const counts = countTwoWay(columns[a]!, sizes[a]!, columns[b]!, sb);
      const pa = oneWay[a]!;
      const pb = oneWay[b]!;
      let error = 0;
      for (let i = 0; i < pa.length; i++) {
        const scale = (pa[i]! * SCORE_SCALE) / total;
        for (let j = 0; j < sb; j++) error += Math.abs(counts[i * sb + j]! * SCORE_SCALE - Math.round(scale * pb[j]!));
      }
      pairs.push({ a, b });
      scores.push(error);
    }
  }
  return { pairs, scores };
}

/** Disjoint sets over column indices. */
class Components {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]!]!;
      x = this.parent[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/** Picks `rounds` edges, each by the exponential mechanism at `epsilon` over pairs joining two components. */
export function selectTree(
  columns: number,
  pairs: readonly Pair[],
  scores: readonly number[],
  noise: MstNoise,
  options: { epsilon: string; sensitivity: number; onRound?: (round: number, rounds: number) => void },
): Pair[] {
  const components = new Components(columns);
  const rounds = columns - 1;
  const tree: Pair[] = [];
  for (let round = 0; round < rounds; round++) {
    const open: number[] = [];
    for (let i = 0; i < pairs.length; i++) if (components.find(pairs[i]!.a) !== components.find(pairs[i]!.b)) open.push(i);
    const chosen = pairs[open[noise.choose(open.map((i) => scores[i]!), options.sensitivity, options.epsilon)]!]!;
    components.union(chosen.a, chosen.b);
    tree.push(chosen);
    options.onRound?.(round + 1, rounds);
  }
  return tree;
}
