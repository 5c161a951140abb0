import { SeededRandom } from '@veil/mechanisms';
import { describe, expect, it } from 'vitest';
import { countTwoWay } from './marginals.js';
import { BeliefPropagation, fitTreeModel, Layout, orientForest, type FlatMeasurements } from './model.js';
import { allocate, sampleRows } from './sample.js';

const sizes = [3, 2, 4, 2, 3];
// A tree 0–1, 1–2, 1–3 plus a separate node 4 (a forest of two components).
const forest = orientForest(sizes, [{ a: 1, b: 0 }, { a: 1, b: 2 }, { a: 3, b: 1 }]);
const layout = new Layout(forest);

/** Marginals by summing the joint distribution over every assignment. */
function bruteForce(theta: Float64Array, total: number): Float64Array {
  const out = new Float64Array(layout.length);
  const assignments: number[][] = [[]];
  for (const s of sizes) assignments.splice(0, assignments.length, ...assignments.flatMap((a) => Array.from({ length: s }, (_, v) => [...a, v])));
  const weights = assignments.map((x) => {
    let log = 0;
    for (let v = 0; v < sizes.length; v++) {
      log += layout.node(theta, v)[x[v]!]!;
      const p = forest.parent[v]!;
      if (p >= 0) log += layout.edge(theta, v)[x[p]! * sizes[v]! + x[v]!]!;
    }
    return Math.exp(log);
  });
  const z = weights.reduce((s, w) => s + w, 0);
  assignments.forEach((x, i) => {
    for (let v = 0; v < sizes.length; v++) {
      layout.node(out, v)[x[v]!]! += (total * weights[i]!) / z;
      const p = forest.parent[v]!;
      if (p >= 0) layout.edge(out, v)[x[p]! * sizes[v]! + x[v]!]! += (total * weights[i]!) / z;
    }
  });
  return out;
}

function randomVector(length: number, seed: number, scale: number): Float64Array {
  const random = new SeededRandom(seed);
  return Float64Array.from({ length }, () => (random.uniformInt(1_000_001) / 1_000_000 - 0.5) * scale);
}

describe('tree model', () => {
  it('orients the forest so that every node comes after its parent', () => {
    expect(forest.order[0]).toBe(0);
    for (const v of forest.order) if (forest.parent[v]! >= 0) expect(forest.order.indexOf(forest.parent[v]!)).toBeLessThan(forest.order.indexOf(v));
    expect(forest.parent[4]).toBe(-1);
  });

  it('computes exact marginals by belief propagation (against brute force), also for extreme potentials', () => {
    for (const [seed, scale] of [[1, 4], [2, 200]] as const) {
      const theta = randomVector(layout.length, seed, scale);
      const marginals = new Float64Array(layout.length);
      new BeliefPropagation(layout).run(theta, 100, marginals);
      const expected = bruteForce(theta, 100);
      for (let i = 0; i < marginals.length; i++) expect(marginals[i]).toBeCloseTo(expected[i]!, 8);
    }
  });

  it('fits consistent measurements exactly by mirror descent, from the uniform model too', () => {
    const truth = bruteForce(randomVector(layout.length, 3, 3), 1000);
    const measurements: FlatMeasurements = { y: truth, precision: new Float64Array(layout.length).fill(0.01) };
    for (const warmStart of [true, false]) {
      const fitted = fitTreeModel(layout, measurements, 1000, { iterations: 2000, warmStart });
      for (let i = 0; i < truth.length; i++) expect(fitted.marginals[i]).toBeCloseTo(truth[i]!, 2);
    }
  });

  it('reports every iteration and stops when cancelled', () => {
    const measurements: FlatMeasurements = { y: bruteForce(new Float64Array(layout.length), 10), precision: new Float64Array(layout.length).fill(1) };
    const seen: number[] = [];
    fitTreeModel(layout, measurements, 10, { iterations: 5, onIteration: (t) => seen.push(t) });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const controller = new AbortController();
    expect(() => fitTreeModel(layout, measurements, 10, {
      iterations: 100,
      signal: controller.signal,
      onIteration: (t) => t === 3 && controller.abort(),
    })).toThrow(/abort/i);
  });
});

describe('sampling with deterministic rounding', () => {
  it('allocates floor(n·p) and the rest to the largest remainders', () => {
    expect(Array.from(allocate(Float64Array.from([0.5, 0.3, 0.2]), 10))).toEqual([5, 3, 2]);
    expect(Array.from(allocate(Float64Array.from([1, 1, 1]), 4))).toEqual([2, 1, 1]);
    expect(Array.from(allocate(Float64Array.from([0.26, 0.37, 0.37]), 3))).toEqual([1, 1, 1]);
    expect(Array.from(allocate(Float64Array.from([-5, 2, 6]), 8))).toEqual([0, 2, 6]);
    expect(Array.from(allocate(Float64Array.from([0, 0]), 3))).toEqual([2, 1]);
  });

  it('reproduces the model\'s edge marginals up to rounding, and the same seed gives the same rows', () => {
    const theta = randomVector(layout.length, 4, 3);
    const marginals = new Float64Array(layout.length);
    new BeliefPropagation(layout).run(theta, 5000, marginals);
    const model = { layout, marginals, total: 5000, loss: 0 };
    const columns = sampleRows(model, 5000, new SeededRandom(1));
    for (let c = 0; c < sizes.length; c++) {
      const p = forest.parent[c]!;
      if (p < 0) continue;
      const counts = countTwoWay(columns[p]!, sizes[p]!, columns[c]!, sizes[c]!);
      const expected = layout.edge(marginals, c);
      // Each cell is off by less than one row per parent value group plus one for the parent's own rounding.
      for (let i = 0; i < counts.length; i++) expect(Math.abs(counts[i]! - expected[i]!)).toBeLessThan(sizes[p]! + 2);
    }
    expect(sampleRows(model, 5000, new SeededRandom(1))).toEqual(columns);
    expect(sampleRows(model, 5000, new SeededRandom(2))).not.toEqual(columns);
  });
});
