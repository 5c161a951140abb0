// Shared test metadata: a visits dataset with a privacy unit, and the same without one.
import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';

export const visitsMetadata: DatasetMetadata = validateMetadata({
  source: { kind: 'file', path: '/srv/data/visits.parquet' },
  privacy_unit: { column: 'patient_id', max_rows: 5, max_groups: 3 },
  columns: {
    patient_id: { type: 'int' },
    age: { type: 'int', lower: 0, upper: 100 },
    region: { type: 'string', categories: ['north', 'south', 'east', 'west'] },
    city: { type: 'string' },
    cost: { type: 'float', lower: 0, upper: 5000, nullable: true },
    visits: { type: 'int', lower: 0, upper: 20 },
    insured: { type: 'bool' },
    score: { type: 'float' },
    visit_date: { type: 'date', lower: '2020-01-01', upper: '2024-12-31' },
  },
});

export const rowLevelMetadata: DatasetMetadata = validateMetadata({
  ...visitsMetadata,
  privacy_unit: undefined,
});
