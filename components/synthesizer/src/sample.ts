// Synthetic rows from the fitted tree model, in tree order with deterministic rounding (as Private-PGM's
// synthetic_data): the root gets ⌊n·p⌋ rows per value plus one for the largest remainders; each child, within
// each group of rows sharing its parent's value, gets values by the conditional probabilities with the same
// rounding, assigned in random order. Post-processing only.
import type { FittedModel } from './model.js';
import { shuffleRange, type UniformSource } from './random.js';

/** Splits n into integer counts proportional to `weights`: floors, then +1 for the largest remainders. */
export function allocate(weights: Float64Array, n: number): Int32Array {
  const k = weights.length;
  const counts = new Int32Array(k);
  if (n === 0) return counts;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.max(0, weights[i]!);
  const remainders = new Float64Array(k);
  let assigned = 0;
  for (let i = 0; i < k; i++) {
    const exact = sum > 0 ? (Math.max(0, weights[i]!) * n) / sum : n / k;
    const whole = Math.min(n, Math.floor(exact));
    counts[i] = whole;
    remainders[i] = exact - whole;
    assigned += whole;
  }
  if (assigned < n) {
    const byRemainder = Array.from({ length: k }, (_, i) => i).sort((a, b) => remainders[b]! - remainders[a]! || a - b);
    for (let r = 0; assigned < n; r = (r + 1) % k, assigned++) counts[byRemainder[r]!]!++;
  }
  return counts;
}

/** Fills `target[rows[from..to)]` with values by `counts`, in random order. */
function assignShuffled(counts: Int32Array, rows: Int32Array, from: number, target: Int32Array, values: Int32Array, random: UniformSource): void {
  let k = from;
  for (let v = 0; v < counts.length; v++) for (let c = counts[v]!; c > 0; c--) values[k++] = v;
  shuffleRange(values, from, k, random);
  for (let i = from; i < k; i++) target[rows[i]!] = values[i]!;
}

/** `rows` synthetic rows of compressed codes, one Int32Array per column. */
export function sampleRows(model: FittedModel, rows: number, random: UniformSource): Int32Array[] {
  const { layout, marginals } = model;
  const { sizes, parent, order } = layout.forest;
  const columns = sizes.map(() => new Int32Array(rows));
  const identity = Int32Array.from({ length: rows }, (_, i) => i);
  const values = new Int32Array(rows);
  const grouped = new Int32Array(rows);
  for (const c of order) {
    const p = parent[c]!;
    if (p < 0) {
      assignShuffled(allocate(layout.node(marginals, c), rows), identity, 0, columns[c]!, values, random);
      continue;
    }
    // Counting sort of the rows by their parent's value, then allocate the child within each group.
    const sp = sizes[p]!;
    const sc = sizes[c]!;
    const parentColumn = columns[p]!;
    const start = new Int32Array(sp + 1);
    for (let i = 0; i < rows; i++) start[parentColumn[i]! + 1]!++;
    for (let v = 0; v < sp; v++) start[v + 1]! += start[v]!;
    const cursor = start.slice(0, sp);
    for (let i = 0; i < rows; i++) grouped[cursor[parentColumn[i]!]!++] = i;
    const edge = layout.edge(marginals, c);
    for (let v = 0; v < sp; v++) {
      const from = start[v]!;
      const size = start[v + 1]! - from;
      if (size === 0) continue;
      assignShuffled(allocate(edge.subarray(v * sc, (v + 1) * sc), size), grouped, from, columns[c]!, values, random);
    }
  }
  // Shuffle the rows so that their order carries nothing.
  shuffleRange(identity, 0, rows, random);
  return columns.map((column) => {
    const shuffled = new Int32Array(rows);
    for (let i = 0; i < rows; i++) shuffled[i] = column[identity[i]!]!;
    return shuffled;
  });
}
