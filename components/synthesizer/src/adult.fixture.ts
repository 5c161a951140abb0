// Test fixture: the UCI Adult extract of ../shared/data (integer codes) as metadata, row batches and an
// encoded table, plus the accuracy measure of the acceptance criteria. Used by tests only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateMetadata, type DatasetMetadata } from '@veil/dataset-metadata';
import { countTwoWay } from './marginals.js';
import type { EncodedTable } from './table.js';

const dataDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');
export const adultCsv = resolve(dataDir, 'adult.csv');
export const adultAvailable = existsSync(adultCsv);

/** Column names made plain identifiers ("education-num" → "education_num"). */
const identifier = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');

export function loadAdult(): { metadata: DatasetMetadata; table: EncodedTable; rows: number[][] } {
  const lines = readFileSync(adultCsv, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const domain = JSON.parse(readFileSync(resolve(dataDir, 'adult-domain.json'), 'utf8')) as Record<string, number>;
  const names = header.map(identifier);
  const sizes = header.map((h) => domain[h]!);
  const rows = lines.slice(1).map((line) => line.split(',').map(Number));
  const columns = names.map((_, j) => Int32Array.from(rows, (r) => r[j]!));
  const metadata = validateMetadata({
    source: { kind: 'file', path: adultCsv, format: 'csv' },
    columns: Object.fromEntries(names.map((n, j) => [n, { type: 'int', categories: Array.from({ length: sizes[j]! }, (_, v) => v) }])),
  });
  return { metadata, table: { names, sizes, columns, rows: rows.length }, rows };
}

export async function* batchesOf<T>(rows: T[], size = 4096): AsyncGenerator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** 0.5·‖p − q‖₁ between the normalised 2-way marginals of columns a and b. */
export function twoWayTvd(real: EncodedTable, synthetic: readonly Int32Array[], a: number, b: number): number {
  const x = countTwoWay(real.columns[a]!, real.sizes[a]!, real.columns[b]!, real.sizes[b]!);
  const y = countTwoWay(synthetic[a]!, real.sizes[a]!, synthetic[b]!, real.sizes[b]!);
  const nx = real.rows;
  const ny = synthetic[0]!.length;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! / nx - y[i]! / ny);
  return sum / 2;
}

/** The acceptance measure: mean TVD over all 2-way marginals with at most 10,000 cells. */
export function averageTvd(real: EncodedTable, synthetic: readonly Int32Array[]): number {
  const errors: number[] = [];
  for (let a = 0; a < real.names.length; a++) {
    for (let b = a + 1; b < real.names.length; b++) {
      if (real.sizes[a]! * real.sizes[b]! <= 10_000) errors.push(twoWayTvd(real, synthetic, a, b));
    }
  }
  return errors.reduce((s, e) => s + e, 0) / errors.length;
}
