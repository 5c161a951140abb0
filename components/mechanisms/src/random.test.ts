import { describe, expect, it } from 'vitest';
import { CryptoRandom, SeededRandom, type RandomSource } from './random.js';

function chiSquareUniform(rng: RandomSource, n: number, draws: number): number {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) counts[rng.uniformInt(n)]!++;
  const expected = draws / n;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

describe('random sources', () => {
  it('SeededRandom is deterministic per seed and differs between seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.uint32())(new SeededRandom('x')));
    const b = Array.from({ length: 5 }, ((r) => () => r.uint32())(new SeededRandom('x')));
    const c = Array.from({ length: 5 }, ((r) => () => r.uint32())(new SeededRandom('y')));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new SeededRandom(5n).uint32()).toBe(new SeededRandom(5).uint32());
  });

  it.each([['SeededRandom', () => new SeededRandom(42)], ['CryptoRandom', () => new CryptoRandom()]] as const)(
    '%s gives unbiased integers below n (χ², 6 bins, 60k draws, df 5 critical 20.5 at 0.001)',
    (_name, make) => {
      const rng = make();
      expect(chiSquareUniform(rng, 6, 60_000)).toBeLessThan(20.52);
      // a bound that is not a power of two and close to 2^32: rejection keeps it in range
      for (let i = 0; i < 1000; i++) {
        const x = rng.uniformInt(3_000_000_000);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(3_000_000_000);
      }
    },
  );

  it('draws 53-bit and BigInt integers in range, each half equally often', () => {
    const rng = new SeededRandom(9);
    const big = 2n ** 100n + 12345n;
    let low = 0;
    for (let i = 0; i < 4000; i++) {
      const x = rng.uniformBigInt(big);
      expect(x >= 0n && x < big).toBe(true);
      if (x < big / 2n) low++;
      const y = rng.uniformInt(2 ** 53 - 7);
      expect(Number.isSafeInteger(y) && y >= 0).toBe(true);
    }
    expect(Math.abs(low - 2000)).toBeLessThan(5 * Math.sqrt(1000));
  });

  it('gives fair bits', () => {
    const rng = new SeededRandom(10);
    let ones = 0;
    for (let i = 0; i < 64_000; i++) ones += rng.bit();
    expect(Math.abs(ones - 32_000)).toBeLessThan(5 * Math.sqrt(16_000));
  });

  it('rejects bad bounds with a clear message', () => {
    const rng = new SeededRandom(1);
    expect(() => rng.uniformInt(0)).toThrow(/integer ≥ 1/);
    expect(() => rng.uniformInt(2.5)).toThrow(/integer ≥ 1/);
    expect(() => rng.uniformInt(2 ** 54)).toThrow(/uniformBigInt/);
    expect(() => rng.uniformBigInt(0n)).toThrow(/≥ 1/);
  });

  it('a SeededRandom is not a CryptoRandom, at run time either', () => {
    expect(new SeededRandom(1) instanceof CryptoRandom).toBe(false);
    expect(new CryptoRandom().cryptographic).toBe(true);
  });
});
