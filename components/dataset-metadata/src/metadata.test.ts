import { describe, expect, it } from 'vitest';
import { MetadataError, parseMetadata, validateMetadata } from './index.js';

const yaml = `
source: { kind: file, path: /srv/data/visits.parquet }
privacy_unit: { column: patient_id, max_rows: 5, max_groups: 3 }
rows: 100000
columns:
  patient_id: { type: string }
  age:        { type: int, lower: 0, upper: 100 }
  region:     { type: string, categories: [north, south, east, west] }
  cost:       { type: float, lower: 0, upper: 5000, nullable: true }
  visit_date: { type: date, lower: 2020-01-01, upper: 2024-12-31 }
`;

const errorsOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(MetadataError);
    return (error as Error).message;
  }
  throw new Error('expected a MetadataError');
};

describe('dataset metadata', () => {
  it('reads the example of DESIGN §3 from YAML', () => {
    const meta = parseMetadata(yaml);
    expect(meta.privacy_unit).toEqual({ column: 'patient_id', max_rows: 5, max_groups: 3 });
    expect(meta.columns.visit_date).toEqual({ type: 'date', lower: '2020-01-01', upper: '2024-12-31' });
    expect(meta.columns.region).toMatchObject({ categories: ['north', 'south', 'east', 'west'] });
  });

  it('reads the same keys from JSON', () => {
    const meta = parseMetadata(JSON.stringify({ source: { kind: 'postgres', connection: 'warehouse', table: 'public.visits' }, columns: { n: { type: 'int', lower: 0, upper: 9 } } }));
    expect(meta.source).toEqual({ kind: 'postgres', connection: 'warehouse', table: 'public.visits' });
  });

  it('says what is wrong and where', () => {
    const base = { source: { kind: 'file', path: 'x.csv' } };
    expect(errorsOf(() => validateMetadata({ ...base, columns: { age: { type: 'int', lower: 10, upper: 1 } } }))).toMatch(/columns\.age\.lower: lower \(10\) is above upper \(1\)/);
    expect(errorsOf(() => validateMetadata({ ...base, columns: { 'a;drop': { type: 'int' } } }))).toMatch(/plain identifier/);
    expect(errorsOf(() => validateMetadata({ ...base, privacy_unit: { column: 'pid', max_rows: 1, max_groups: 1 }, columns: { a: { type: 'bool' } } }))).toMatch(/privacy_unit\.column: column "pid" is not declared/);
    expect(errorsOf(() => validateMetadata({ ...base, columns: { f: { type: 'float', categories: [1] } } }))).toMatch(/columns\.f/);
    expect(errorsOf(() => validateMetadata({ ...base, columns: { d: { type: 'date', lower: '2020-13-45' } } }))).toMatch(/not a valid calendar date/);
    expect(errorsOf(() => validateMetadata({ ...base, columns: { s: { type: 'string', categories: ['a', 'a'] } } }))).toMatch(/distinct/);
    expect(errorsOf(() => validateMetadata({ ...base, columns: {} }))).toMatch(/at least one column/);
    expect(errorsOf(() => parseMetadata('columns: [unclosed'))).toMatch(/not valid YAML or JSON/);
  });

  it('refuses a connection string where a secret name belongs', () => {
    expect(errorsOf(() => validateMetadata({ source: { kind: 'postgres', connection: 'postgres://u:p@h/db', table: 't' }, columns: { a: { type: 'bool' } } }))).toMatch(/source\.connection/);
  });
});
