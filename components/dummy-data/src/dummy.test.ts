import { describe, expect, it } from 'vitest';
import { validateMetadata } from '@veil/dataset-metadata';
import { dummyRows } from './index.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: 'x.csv' },
  columns: {
    age: { type: 'int', lower: 18, upper: 90 },
    region: { type: 'string', categories: ['north', 'south'] },
    cost: { type: 'float', lower: 0, upper: 10, nullable: true },
    seen: { type: 'date', lower: '2020-01-01', upper: '2020-12-31' },
    ok: { type: 'bool' },
  },
});

describe('dummyRows', () => {
  it('follows the metadata and is reproducible from the seed', () => {
    const a = dummyRows(metadata, 200, 7);
    expect(a.columns).toEqual(['age', 'region', 'cost', 'seen', 'ok']);
    for (const [age, region, cost, seen, ok] of a.rows) {
      expect(age).toBeGreaterThanOrEqual(18);
      expect(age).toBeLessThanOrEqual(90);
      expect(['north', 'south']).toContain(region);
      if (cost !== null) expect(cost).toBeLessThanOrEqual(10);
      expect(String(seen) >= '2020-01-01' && String(seen) <= '2020-12-31').toBe(true);
      expect(typeof ok).toBe('boolean');
    }
    expect(dummyRows(metadata, 200, 7)).toEqual(a);
    expect(dummyRows(metadata, 200, 8)).not.toEqual(a);
  });

  it('refuses an unreasonable row count', () => {
    expect(() => dummyRows(metadata, 0, 1)).toThrow(/rows must be/);
    expect(() => dummyRows(metadata, 10_001, 1)).toThrow(/rows must be/);
  });
});
