import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATE_RANGE, DEFAULT_NUMBER_RANGE, dummyRows } from './dummy.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: '/data/visits.csv' },
  privacy_unit: { column: 'patient', max_rows: 5, max_groups: 3 },
  columns: {
    patient: { type: 'string' },
    region: { type: 'string', categories: ['north', 'south'], nullable: true },
    grade: { type: 'int', categories: [10, 20, 30] },
    age: { type: 'int', lower: 18, upper: 99 },
    visits: { type: 'int' },
    cost: { type: 'float', lower: -5.5, upper: 500, nullable: true },
    weight: { type: 'float', lower: 40 },
    member: { type: 'bool', nullable: true },
    day: { type: 'date', lower: '2020-02-29', upper: '2020-03-02' },
    seen: { type: 'date' },
    at: { type: 'timestamp', lower: '2024-01-01T00:00:00Z', upper: '2024-01-01T01:00:00Z', nullable: true },
  },
});

/** Why a value does not fit its column, or undefined when it does. */
function problem(metadata: DatasetMetadata, name: string, value: unknown): string | undefined {
  const column = metadata.columns[name]!;
  if (value === null) return column.nullable ? undefined : 'null in a non-nullable column';
  const within = <T extends number | string>(x: T, lower: T | undefined, upper: T | undefined): boolean => (lower === undefined || x >= lower) && (upper === undefined || x <= upper);
  const time = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text));
  switch (column.type) {
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'not a boolean';
    case 'string':
      if (typeof value !== 'string') return 'not a string';
      return column.categories && !column.categories.includes(value) ? 'not a declared category' : undefined;
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'not an integer';
      if (column.categories) return column.categories.includes(value) ? undefined : 'not a declared category';
      return within(value, column.lower, column.upper) ? undefined : 'out of bounds';
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'not a finite number';
      return within(value, column.lower, column.upper) ? undefined : 'out of bounds';
    case 'date':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) return 'not a date';
      return within(value, column.lower, column.upper) ? undefined : 'out of bounds';
    case 'timestamp': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return 'not a timestamp';
      const ms = Date.parse(value);
      return within(ms, time(column.lower), time(column.upper)) ? undefined : 'out of bounds';
    }
  }
}

describe('dummy data', () => {
  it('generates rows that validate against the metadata, covering every type, nulls and categories', () => {
    const { columns, rows } = dummyRows(metadata, { rows: 2000, seed: 42 });
    expect(columns).toEqual(Object.keys(metadata.columns));
    expect(rows).toHaveLength(2000);
    for (const row of rows) {
      columns.forEach((name, j) => expect(problem(metadata, name, row[j]), `${name} = ${String(row[j])}`).toBeUndefined());
    }
    const values = (name: string): unknown[] => rows.map((r) => r[columns.indexOf(name)]);
    expect(new Set(values('region'))).toEqual(new Set(['north', 'south', null]));
    expect(new Set(values('grade'))).toEqual(new Set([10, 20, 30]));
    expect(new Set(values('day'))).toEqual(new Set(['2020-02-29', '2020-03-01', '2020-03-02']));
    expect(values('member')).toContain(null);
    const visits = values('visits') as number[];
    expect(Math.min(...visits) >= DEFAULT_NUMBER_RANGE.lower && Math.max(...visits) <= DEFAULT_NUMBER_RANGE.upper).toBe(true);
    expect((values('weight') as number[]).every((w) => w >= 40 && w <= 1040)).toBe(true);
    expect((values('seen') as string[]).every((s) => s >= DEFAULT_DATE_RANGE.lower && s <= DEFAULT_DATE_RANGE.upper)).toBe(true);
  });

  it('gives the same rows for the same seed, and other rows for another seed', () => {
    const first = dummyRows(metadata, { rows: 50, seed: 'abc' });
    expect(dummyRows(metadata, { rows: 50, seed: 'abc' })).toEqual(first);
    expect(dummyRows(metadata, { rows: 50, seed: 'abd' })).not.toEqual(first);
    expect(dummyRows(metadata, { rows: 5, seed: 7, columns: ['age', 'region'] }).columns).toEqual(['age', 'region']);
  });

  it('refuses a bad row count or an undeclared column', () => {
    expect(() => dummyRows(metadata, { rows: -1 })).toThrow(/rows must be an integer/);
    expect(() => dummyRows(metadata, { rows: 1, columns: ['nope'] })).toThrow(/column "nope" is not declared/);
  });
});
