// Dummy data: random rows that match the metadata (types, bounds, categories, nulls), from a seeded faker,
// so the same seed gives the same rows. It reads no data and costs nothing: for writing code against the schema.
import { base, en, Faker } from '@faker-js/faker';
import type { ColumnMetadata, DatasetMetadata } from '@veil/dataset-metadata';
import { SynthesisError } from './encoding.js';

/** Range used for an int or float column without bounds (one declared bound: this width from it). */
export const DEFAULT_NUMBER_RANGE = { lower: 0, upper: 1000 } as const;
/** Range used for a date or timestamp column without bounds (one declared bound: ten years from it). */
export const DEFAULT_DATE_RANGE = { lower: '2000-01-01', upper: '2030-12-31' } as const;
/** Share of nulls in a nullable column. */
export const DUMMY_NULL_RATE = 0.1;

const MS_PER_DAY = 86_400_000;
const TEN_YEARS_MS = 3653 * MS_PER_DAY;

export interface DummyOptions {
  rows: number;
  seed?: number | string;
  /** Columns to generate, in output order; default all declared columns. */
  columns?: string[];
}

export function dummyRows(metadata: DatasetMetadata, options: DummyOptions): { columns: string[]; rows: unknown[][] } {
  if (!Number.isSafeInteger(options.rows) || options.rows < 0 || options.rows > 10_000_000) {
    throw new SynthesisError('rows must be an integer between 0 and 10000000');
  }
  const columns = options.columns ?? Object.keys(metadata.columns);
  const faker = new Faker({ locale: [en, base], seed: seedNumber(options.seed ?? 0) });
  const generators = columns.map((name) => {
    const column = metadata.columns[name];
    if (!column) throw new SynthesisError(`column "${name}" is not declared in the dataset metadata`);
    return generatorFor(column, faker);
  });
  const rows: unknown[][] = [];
  for (let i = 0; i < options.rows; i++) rows.push(generators.map((generate) => generate()));
  return { columns, rows };
}

function seedNumber(seed: number | string): number {
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return seed;
  const text = String(seed);
  let h = 0x811c9dc5; // FNV-1a of the text
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function generatorFor(column: ColumnMetadata, faker: Faker): () => unknown {
  const value = valueGenerator(column, faker);
  if (!column.nullable) return value;
  return () => (faker.number.float({ min: 0, max: 1 }) < DUMMY_NULL_RATE ? null : value());
}

function valueGenerator(column: ColumnMetadata, faker: Faker): () => unknown {
  switch (column.type) {
    case 'bool':
      return () => faker.datatype.boolean();
    case 'string': {
      const categories = column.categories;
      return categories ? () => faker.helpers.arrayElement(categories) : () => faker.lorem.word();
    }
    case 'int': {
      const categories = column.categories;
      if (categories) return () => faker.helpers.arrayElement(categories);
      const { lower, upper } = numberRange(column.lower, column.upper);
      return () => faker.number.int({ min: lower, max: upper });
    }
    case 'float': {
      const { lower, upper } = numberRange(column.lower, column.upper);
      return () => (lower === upper ? lower : faker.number.float({ min: lower, max: upper }));
    }
    case 'date': {
      const { lower, upper } = timeRange(column.lower, column.upper);
      const [from, to] = [Math.ceil(lower / MS_PER_DAY), Math.floor(upper / MS_PER_DAY)];
      return () => new Date(faker.number.int({ min: from, max: to }) * MS_PER_DAY).toISOString().slice(0, 10);
    }
    case 'timestamp': {
      const { lower, upper } = timeRange(column.lower, column.upper);
      return () => new Date(faker.number.int({ min: lower, max: upper })).toISOString();
    }
  }
}

function numberRange(lower: number | undefined, upper: number | undefined): { lower: number; upper: number } {
  const width = DEFAULT_NUMBER_RANGE.upper - DEFAULT_NUMBER_RANGE.lower;
  if (lower !== undefined && upper !== undefined) return { lower, upper };
  if (lower !== undefined) return { lower, upper: lower + width };
  if (upper !== undefined) return { lower: upper - width, upper };
  return { ...DEFAULT_NUMBER_RANGE };
}

function timeRange(lower: string | undefined, upper: string | undefined): { lower: number; upper: number } {
  const lo = lower === undefined ? undefined : epochMs(lower);
  const hi = upper === undefined ? undefined : epochMs(upper);
  if (lo !== undefined && hi !== undefined) return { lower: lo, upper: hi };
  if (lo !== undefined) return { lower: lo, upper: lo + TEN_YEARS_MS };
  if (hi !== undefined) return { lower: hi - TEN_YEARS_MS, upper: hi };
  return { lower: epochMs(DEFAULT_DATE_RANGE.lower), upper: epochMs(DEFAULT_DATE_RANGE.upper) };
}

function epochMs(text: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text.replace(' ', 'T'));
}
