import { parseMetadata } from '@veil/dataset-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftMetadata, openDataset, type DatasetAdapter } from './index.js';

let dir: string;
let adapter: DatasetAdapter;
const source = { kind: 'file', path: 'visits.csv' } as const;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'veil-draft-'));
  const rows = ['patient_id,age,region,cost,visit_date,seen_at,insured,"odd name"'];
  for (let i = 0; i < 40; i++) {
    const cost = i % 10 === 0 ? '' : String(i * 12.5);
    rows.push(`p${i},${18 + i},${['north', 'south', 'east'][i % 3]},${cost},2024-01-${String(1 + (i % 28)).padStart(2, '0')},2024-01-01 10:00:${String(i).padStart(2, '0')},${i % 2 === 0},x`);
  }
  await writeFile(path.join(dir, 'visits.csv'), rows.join('\n'));
  adapter = await openDataset(source, { dataDir: dir });
});

afterAll(async () => {
  await adapter.close();
  await rm(dir, { recursive: true, force: true });
});

describe('draftMetadata', () => {
  it('drafts types, bounds and low-cardinality categories, flagging every value read from the data', async () => {
    const draft = await draftMetadata(adapter, source, { categoryThreshold: 5, includeRowCount: true });
    expect(draft.metadata.source).toEqual(source);
    expect(draft.metadata.rows).toBe(40);
    expect(draft.metadata.columns).toEqual({
      patient_id: { type: 'string' },
      age: { type: 'int', lower: 18, upper: 57 },
      region: { type: 'string', categories: ['east', 'north', 'south'] },
      cost: { type: 'float', lower: 12.5, upper: 487.5, nullable: true },
      visit_date: { type: 'date', lower: '2024-01-01', upper: '2024-01-28' },
      seen_at: { type: 'timestamp', lower: '2024-01-01T10:00:00', upper: '2024-01-01T10:00:39' },
      insured: { type: 'bool' },
    });
    expect(draft.needsReview.map((r) => r.path).sort()).toEqual([
      'columns.age.lower', 'columns.age.upper', 'columns.cost.lower', 'columns.cost.nullable', 'columns.cost.upper',
      'columns.region.categories', 'columns.seen_at.lower', 'columns.seen_at.upper', 'columns.visit_date.lower',
      'columns.visit_date.upper', 'rows',
    ]);
    expect(draft.skipped).toEqual([{ column: 'odd name', reason: expect.stringMatching(/not a plain identifier/) }]);
  });

  it('renders YAML that parses back to the same metadata, with a REVIEW comment on each flagged value', async () => {
    const draft = await draftMetadata(adapter, source, { categoryThreshold: 5 });
    expect(parseMetadata(draft.yaml)).toEqual(draft.metadata);
    expect(draft.yaml).toMatch(/^# DRAFT metadata/);
    const reviewComments = draft.yaml.split('\n').filter((line) => line.includes('# REVIEW:'));
    expect(reviewComments).toHaveLength(draft.needsReview.length);
    expect(draft.yaml).toMatch(/lower: 18 # REVIEW: the smallest value in the data/);
  });

  it('leaves categories out above the threshold and passes a privacy unit through', async () => {
    const draft = await draftMetadata(adapter, source, { categoryThreshold: 2, privacyUnit: { column: 'patient_id', max_rows: 1, max_groups: 1 } });
    expect(draft.metadata.columns.region).toEqual({ type: 'string' });
    expect(draft.metadata.privacy_unit).toEqual({ column: 'patient_id', max_rows: 1, max_groups: 1 });
    expect(draft.needsReview.some((r) => r.field === 'rows')).toBe(false);
  });
});
