import { SeededRandom } from '@veil/mechanisms';
import { validateMetadata } from '@veil/dataset-metadata';
import { describe, expect, it } from 'vitest';
import { buildCodecs, SynthesisError } from './encoding.js';
import { encodeRows } from './table.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: '/data/x.csv' },
  privacy_unit: { column: 'person', max_rows: 2, max_groups: 1 },
  columns: {
    person: { type: 'string' },
    region: { type: 'string', categories: ['north', 'south'], nullable: true },
    grade: { type: 'int', categories: [3, 1, 2] },
    age: { type: 'int', lower: 0, upper: 99 },
    small: { type: 'int', lower: 1, upper: 3 },
    cost: { type: 'float', lower: 0, upper: 100, nullable: true },
    member: { type: 'bool' },
    day: { type: 'date', lower: '2024-01-01', upper: '2024-12-31' },
    at: { type: 'timestamp', lower: '2024-01-01T00:00:00Z', upper: '2024-01-02T00:00:00Z' },
    note: { type: 'string', nullable: true },
    score: { type: 'float', lower: 0 },
  },
});
const random = new SeededRandom(7);

describe('domains from metadata', () => {
  it('encodes categories as declared, with null as its own last code', () => {
    const [region, grade] = buildCodecs(metadata, ['region', 'grade']);
    expect(region!.size).toBe(3);
    expect(['north', 'south', null].map((v) => region!.encode(v))).toEqual([0, 1, 2]);
    expect(region!.encode('east')).toBe(-1);
    expect([0, 1, 2].map((c) => region!.decode(c, random))).toEqual(['north', 'south', null]);
    expect(grade!.size).toBe(3);
    expect([3, 1, 2, 2n, '1'].map((v) => grade!.encode(v))).toEqual([0, 1, 2, 2, 1]);
    expect(grade!.decode(0, random)).toBe(3);
  });

  it('bins bounded numbers (configurable bins) and decodes uniformly inside the bin', () => {
    const [age, small, cost] = buildCodecs(metadata, ['age', 'small', 'cost'], { bins: { age: 10, cost: 4 } });
    expect(age!.size).toBe(10);
    expect([0, 9, 10, 99, -5, 150].map((v) => age!.encode(v))).toEqual([0, 0, 1, 9, 0, 9]);
    for (let i = 0; i < 200; i++) {
      const value = age!.decode(3, random) as number;
      expect(Number.isInteger(value) && value >= 30 && value <= 39).toBe(true);
    }
    expect(small!.size).toBe(3); // fewer integers than bins: one bin per value, decoded exactly
    expect([1, 2, 3].map((v) => small!.decode(small!.encode(v), random))).toEqual([1, 2, 3]);
    expect(cost!.size).toBe(5); // 4 bins + null
    expect([0, 24.9, 25, 100, null].map((v) => cost!.encode(v))).toEqual([0, 0, 1, 3, 4]);
    const value = cost!.decode(2, random) as number;
    expect(value >= 50 && value <= 75).toBe(true);
    expect(cost!.decode(4, random)).toBeNull();
  });

  it('bins dates and timestamps by their bounds and decodes them as ISO strings within bounds', () => {
    const [day, at] = buildCodecs(metadata, ['day', 'at'], { bins: 12 });
    expect(day!.encode('2024-01-01')).toBe(0);
    expect(day!.encode('2024-12-31')).toBe(11);
    const decoded = day!.decode(day!.encode('2024-06-15'), random) as string;
    expect(decoded >= '2024-05-01' && decoded <= '2024-07-31').toBe(true);
    expect(at!.encode(new Date('2024-01-01T23:59:59Z'))).toBe(11);
    expect(at!.decode(0, random) as string).toMatch(/^2024-01-01T0[0-1]:/);
  });

  it('encodes booleans, also as the engines return them', () => {
    const [member] = buildCodecs(metadata, ['member']);
    expect([false, true, 0, 1, 't', 'f', 'maybe'].map((v) => member!.encode(v))).toEqual([0, 1, 0, 1, 1, 0, -1]);
  });

  it('refuses columns without a declared domain, naming them all', () => {
    expect(() => buildCodecs(metadata, ['region', 'note', 'score'])).toThrow(SynthesisError);
    expect(() => buildCodecs(metadata, ['region', 'note', 'score'])).toThrow(/columns "note", "score": no public domain is declared/);
    expect(() => buildCodecs(metadata, ['nope'])).toThrow(/column "nope" is not declared/);
    expect(() => buildCodecs(metadata, ['age'], { bins: 0 })).toThrow(/bins for column "age" must be an integer/);
  });

  it('reads row batches into codes, skipping rows with a value outside the declared domain', async () => {
    const codecs = buildCodecs(metadata, ['region', 'grade']);
    async function* batches(): AsyncGenerator<unknown[][]> {
      yield [['north', 3], ['east', 1]];
      yield [[null, 2], ['south', 7]];
    }
    const table = await encodeRows(codecs, batches());
    expect(table.rows).toBe(2);
    expect(Array.from(table.columns[0]!)).toEqual([0, 2]);
    expect(Array.from(table.columns[1]!)).toEqual([0, 2]);
    expect(table.sizes).toEqual([3, 3]);
  });
});
