import { SeededRandom } from '@veil/mechanisms';
import { describe, expect, it } from 'vitest';
import { fitOneWay, pairScores, SCORE_SCALE } from './select.js';

describe('selection scores', () => {
  const random = new SeededRandom(5);
  const sizes = [3, 4, 2];
  const rows = 500;
  const columns = sizes.map((s) => Int32Array.from({ length: rows }, () => random.uniformInt(s)));
  const oneWay = sizes.map((s) => Float64Array.from({ length: s }, () => 10 + random.uniformInt(200) + random.uniformInt(1000) / 1000));
  const total = 480.5;

  it('are exact integers whose change is at most SCORE_SCALE when one row is removed', () => {
    const { pairs, scores } = pairScores(columns, sizes, oneWay, total);
    expect(pairs).toEqual([{ a: 0, b: 1 }, { a: 0, b: 2 }, { a: 1, b: 2 }]);
    expect(scores.every(Number.isSafeInteger)).toBe(true);
    for (const removed of [0, 17, rows - 1]) {
      const neighbour = columns.map((c) => Int32Array.from([...c.slice(0, removed), ...c.slice(removed + 1)]));
      const other = pairScores(neighbour, sizes, oneWay, total).scores;
      scores.forEach((s, i) => expect(Math.abs(s - other[i]!)).toBeLessThanOrEqual(SCORE_SCALE));
    }
  });

  it('fits the 1-way model as the closest non-negative vector with the given total', () => {
    const fitted = fitOneWay({ y: Float64Array.from([50, -10, 30]), precision: Float64Array.from([1, 1, 1]) }, 70);
    // x = max(0, y + τ) with τ = −5: [45, 0, 25].
    expect(Array.from(fitted).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([45, 0, 25]);
  });
});
