import { describe, expect, it } from 'vitest';
import { ExpNegExpansion, bernoulliByExpansion, expNegBounds } from './expansion.js';
import { SeededRandom } from './random.js';

describe('binary expansions of e^(−x)', () => {
  // Reference words: ⌊e^(−x)·2^192⌋ computed independently with 120-digit decimal arithmetic.
  it.each([
    [1n, 1n, [1580030168, 3015499546, 3135162242, 2421487885, 3667396010, 3043784499]],
    [1n, 10n, [3886247118, 2841236481, 1373976591, 753788931, 3006370704, 2708629878]],
    [5n, 2n, [352552384, 2499028135, 1581790379, 3607266304, 127474043, 1415479351]],
    [1n, 1000000n, [4294963001, 149685979, 1764296109, 2756614103, 1973871126, 1383759975]],
  ])('e^(−%s/%s) word by word', (num, den, words) => {
    const c = new ExpNegExpansion(num, den);
    expect(c.first).toBe(words[0]);
    expect(words.map((_, j) => c.word(j))).toEqual(words);
  });

  it('bounds enclose the value and tighten with precision', () => {
    const [lo, hi] = expNegBounds(7n, 3n, 80);
    const exact = Math.exp(-7 / 3) * 2 ** 80;
    expect(Number(lo)).toBeLessThanOrEqual(exact * (1 + 1e-15));
    expect(Number(hi)).toBeGreaterThanOrEqual(exact * (1 - 1e-15));
    expect(hi - lo).toBeLessThan(1n << 8n);
  });

  it('Bernoulli by expansion has the right frequency', () => {
    const rng = new SeededRandom('expansion');
    const c = new ExpNegExpansion(3n, 4n);
    let hits = 0;
    for (let i = 0; i < 40_000; i++) if (bernoulliByExpansion(c, rng)) hits++;
    const p = Math.exp(-0.75);
    expect(Math.abs(hits / 40_000 - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 40_000));
    expect(() => new ExpNegExpansion(0n, 1n)).toThrow(/x > 0/);
  });
});
