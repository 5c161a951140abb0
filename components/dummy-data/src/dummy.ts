// Dummy rows (DESIGN §5): random values that follow only the metadata (types, bounds, categories,
// nullability), never the data, so they are free to hand out. Seeded, so the same request gives the same
// rows and analysts can write code and tests against them.
import type { ColumnMetadata, DatasetMetadata } from '@veil/dataset-metadata';
import { SeededRandom } from '@veil/mechanisms';
import type { RandomSource } from '@veil/mechanisms';

export const MAX_DUMMY_ROWS = 10_000;
const NULL_PER_MILLE = 100;
const DAY_MS = 86_400_000;

export interface DummyRows {
  columns: string[];
  rows: unknown[][];
}

/** `count` rows (1..10,000) of random values shaped like `metadata`, reproducible from `seed`. */
export function dummyRows(metadata: DatasetMetadata, count: number, seed: number | string): DummyRows {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DUMMY_ROWS) {
    throw new RangeError(`rows must be a whole number from 1 to ${MAX_DUMMY_ROWS}`);
  }
  const random = new SeededRandom(seed);
  const entries = Object.entries(metadata.columns);
  const rows: unknown[][] = [];
  for (let i = 0; i < count; i++) rows.push(entries.map(([name, column]) => dummyValue(name, column, random)));
  return { columns: entries.map(([name]) => name), rows };
}

function dummyValue(name: string, column: ColumnMetadata, random: RandomSource): unknown {
  if (column.nullable && random.uniformInt(1000) < NULL_PER_MILLE) return null;
  switch (column.type) {
    case 'bool':
      return random.bit() === 1;
    case 'int': {
      if (column.categories) return pick(column.categories, random);
      const lower = column.lower ?? 0;
      const upper = column.upper ?? lower + 100;
      return lower + random.uniformInt(upper - lower + 1);
    }
    case 'float': {
      const lower = column.lower ?? 0;
      const upper = column.upper ?? lower + 100;
      // A grid of 10^6 steps: plenty of distinct values, no floating-point sampling subtleties.
      return lower + ((upper - lower) * random.uniformInt(1_000_001)) / 1_000_000;
    }
    case 'string':
      return column.categories ? pick(column.categories, random) : `${name}_${random.uniformInt(1000)}`;
    case 'date':
      return new Date(timeBetween(column.lower, column.upper, random, DAY_MS)).toISOString().slice(0, 10);
    case 'timestamp':
      return new Date(timeBetween(column.lower, column.upper, random, 1000)).toISOString().replace('.000Z', 'Z');
  }
}

function pick<T>(values: readonly T[], random: RandomSource): T {
  return values[random.uniformInt(values.length)]!;
}

function timeBetween(lower: string | undefined, upper: string | undefined, random: RandomSource, stepMs: number): number {
  const from = lower ? Date.parse(lower.replace(' ', 'T')) : Date.UTC(2020, 0, 1);
  const to = upper ? Date.parse(upper.replace(' ', 'T')) : from + 365 * DAY_MS;
  const steps = Math.max(0, Math.floor((to - from) / stepMs));
  return from + random.uniformInt(steps + 1) * stepMs;
}
