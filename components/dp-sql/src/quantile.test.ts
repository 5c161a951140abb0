// Quantile scores are exact integers on private counts (q = a/b), with the declared sensitivity checked
// against every neighbouring histogram; released quantiles carry the rank bound, not a fake value interval.
import { describe, expect, it } from 'vitest';
import { CryptoRandom, SeededRandom } from '@veil/mechanisms';
import type { QuantileMeasurement } from './measurements.js';
import { plan } from './plan.js';
import { quantileFraction, quantileScores, quantileSensitivity, release } from './release.js';
import { rowLevelMetadata, visitsMetadata } from './testing/fixtures.js';

const PROBABILITIES = [0.5, 0.1, 0.3, 0.9, 0.25, 1 / 3, 0.999, 0.123456789, 0, 1];

function randomHistogram(random: SeededRandom, bins: number): bigint[] {
  return Array.from({ length: bins }, () => (random.uniformInt(3) === 0 ? 0n : BigInt(random.uniformInt(50))));
}

describe('quantile scores', () => {
  it('read q as the decimal the analyst wrote', () => {
    expect(quantileFraction(0.9)).toEqual({ a: 9n, b: 10n });
    expect(quantileFraction(0.5)).toEqual({ a: 1n, b: 2n });
    expect(quantileFraction(1e-7)).toEqual({ a: 1n, b: 10_000_000n });
    expect(quantileFraction(0)).toEqual({ a: 0n, b: 1n });
  });

  it('are exact integers: b times minus the rank distance from q·n to each bin', () => {
    const scores = quantileScores([3n, 0n, 4n, 3n], { a: 1n, b: 10n }); // n = 10, q·n = 1
    expect(scores.map(BigInt)).toEqual([0n, -20n, -20n, -60n]);
    expect(scores.every((s) => Number.isSafeInteger(s))).toBe(true);
    expect(quantileScores([5n, 5n], { a: 1n, b: 2n }).map(BigInt)).toEqual([0n, 0n]);
    expect(quantileScores([0n, 0n], { a: 1n, b: 2n }).map(BigInt)).toEqual([0n, 0n]);
  });

  it('equal b times minus the rank distance, in numbers below 2^53 and in BigInt beyond', () => {
    /** The definition, in BigInt: b·max(0, below − q·n, q·n − above). */
    const reference = (histogram: bigint[], q: { a: bigint; b: bigint }): bigint[] => {
      const n = histogram.reduce((x, y) => x + y, 0n);
      let below = 0n;
      return histogram.map((c) => {
        const d = [0n, q.b * below - q.a * n, q.a * n - q.b * (below + c)].reduce((x, y) => (y > x ? y : x));
        below += c;
        return -d;
      });
    };
    const random = new SeededRandom('quantile-reference');
    const q = quantileFraction(0.123456789);
    for (let trial = 0; trial < 200; trial++) {
      const scale = trial % 2 === 0 ? 1n : 2n ** 40n;
      const histogram = randomHistogram(random, 1 + random.uniformInt(20)).map((c) => c * scale);
      const scores = quantileScores(histogram, q);
      const big = q.b * histogram.reduce((x, y) => x + y, 0n) >= 2n ** 53n - 1n;
      expect(scores.every((s) => typeof s === (big ? 'bigint' : 'number'))).toBe(true);
      if (scale > 1n && histogram.some((c) => c > 0n)) expect(big).toBe(true);
      expect(scores.map(BigInt)).toEqual(reference(histogram, q));
    }
  });

  it('stay exact for a probability with a huge denominator, even in an empty group', () => {
    const q = quantileFraction(5e-324);
    expect(q.b > 10n ** 300n).toBe(true);
    expect(quantileScores([0n, 0n, 0n], q).map(BigInt)).toEqual([0n, 0n, 0n]);
    expect(quantileScores([1n, 0n, 2n], q).map(BigInt)).toEqual([0n, -(q.b - 3n * q.a), -(q.b - 3n * q.a)]);
  });

  it('move by at most the declared sensitivity when a unit adds up to m rows anywhere (exact, 10,000 neighbours)', () => {
    const random = new SeededRandom('quantile-neighbours');
    for (const p of PROBABILITIES) {
      const q = quantileFraction(p);
      for (let trial = 0; trial < 1000; trial++) {
        const bins = 1 + random.uniformInt(12);
        const m = 1 + random.uniformInt(5);
        const histogram = randomHistogram(random, bins);
        const neighbour = [...histogram];
        for (let r = 0; r < m; r++) {
          const bin = random.uniformInt(bins);
          neighbour[bin] = neighbour[bin]! + 1n;
        }
        const before = quantileScores(histogram, q).map(BigInt);
        const after = quantileScores(neighbour, q).map(BigInt);
        const bound = quantileSensitivity(q, BigInt(m));
        before.forEach((s, i) => {
          const change = s > after[i]! ? s - after[i]! : after[i]! - s;
          expect(change <= bound, `q=${p} bin ${i}`).toBe(true);
        });
      }
    }
  });

  it('the sensitivity is tight for one row (some neighbour reaches max(a, b − a))', () => {
    const q = quantileFraction(0.9);
    const before = quantileScores([5n, 5n], q).map(BigInt);
    const after = quantileScores([5n, 6n], q).map(BigInt);
    const changes = before.map((s, i) => (s > after[i]! ? s - after[i]! : after[i]! - s));
    expect(changes.some((c) => c === quantileSensitivity(q, 1n))).toBe(true);
  });
});

describe('released quantiles', () => {
  it('report the rank bound of the exponential mechanism and no value interval', () => {
    const p = plan('SELECT region, MEDIAN(age), QUANTILE(cost, 0.9) + 1 FROM visits GROUP BY region', visitsMetadata, { epsilon: 1 });
    const histograms = new Map<number, bigint[]>();
    p.measurements.forEach((m, i) => {
      if (m.kind === 'quantile') histograms.set(i, Array.from({ length: m.bins }, (_, j) => BigInt(j % 7)));
    });
    const groups = [{ key: ['north'], units: 10n, values: p.measurements.map(() => 0n), histograms }];
    const answer = release(p, groups, new CryptoRandom());
    for (const row of answer.accuracy) {
      for (const column of [1, 2]) {
        const accuracy = row[column]!;
        expect(accuracy.mechanism).toBe('exponential');
        expect(accuracy.ci95).toBeNull();
        expect(accuracy.rankHalfWidth95).toBeGreaterThan(0);
      }
    }
    // Median (q = 1/2), ε/2 each: Δ per rank = m·max(a, b − a)/b = 5/2; temperature 2Δ/ε = 10 ranks.
    expect(answer.accuracy[0]![1]!.scale).toBe(10);
    const m = p.measurements.find((x) => x.kind === 'quantile') as QuantileMeasurement;
    expect(answer.accuracy[0]![1]!.rankHalfWidth95).toBeCloseTo(10 * Math.log(m.bins / 0.05), 6);
  });

  it('q = 0.9 per row: the rank scale is 2·max(q, 1 − q)/ε', () => {
    const p = plan('SELECT QUANTILE(age, 0.9) FROM visits', rowLevelMetadata, { epsilon: '0.5' });
    const m = p.measurements[0] as QuantileMeasurement;
    const groups = [{ key: [], units: 0n, values: [0n], histograms: new Map([[0, new Array<bigint>(m.bins).fill(1n)]]) }];
    const answer = release(p, groups, new CryptoRandom());
    expect(answer.accuracy[0]![0]!.scale).toBeCloseTo(3.6, 12);
  });
});
