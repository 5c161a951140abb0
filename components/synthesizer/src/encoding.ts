// Maps metadata-declared domains to small integer codes and back. Every synthesised column needs a domain
// that is public (declared in metadata): categories as declared, bool, or bins of a bounded number, date or
// timestamp. A nullable column gets one more code for null. Nothing here looks at private values to decide
// a domain, so the encoding itself leaks nothing.
import type { ColumnMetadata, DatasetMetadata } from '@veil/dataset-metadata';
import { unitInterval, type UniformSource } from './random.js';

/** A synthesis request that cannot be served as asked; the message says what to change. */
export class SynthesisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynthesisError';
  }
}

export const DEFAULT_BINS = 32;
const MS_PER_DAY = 86_400_000;

/** Encodes one column's values to codes 0..size−1 and decodes codes back to values. */
export interface ColumnCodec {
  readonly name: string;
  readonly size: number;
  /** The code of a value, or −1 when the value lies outside the declared domain (the row is then skipped). */
  encode(value: unknown): number;
  /** A value for a code; values inside a bin are drawn uniformly from it. */
  decode(code: number, random: UniformSource): unknown;
}

export interface EncodingOptions {
  /** Number of bins for bounded numbers, dates and timestamps without categories: one count for all or per column. */
  bins?: number | Record<string, number>;
}

/** Builds the codecs of the given columns, refusing any column whose domain metadata does not declare. */
export function buildCodecs(metadata: DatasetMetadata, columns: string[], options: EncodingOptions = {}): ColumnCodec[] {
  const refused: string[] = [];
  const codecs: ColumnCodec[] = [];
  for (const name of columns) {
    const column = metadata.columns[name];
    if (!column) throw new SynthesisError(`column "${name}" is not declared in the dataset metadata`);
    const bins = binsFor(name, options.bins);
    const codec = codecFor(name, column, bins);
    if (codec) codecs.push(codec);
    else refused.push(name);
  }
  if (refused.length > 0) {
    throw new SynthesisError(
      `cannot synthesise column${refused.length > 1 ? 's' : ''} ${refused.map((n) => `"${n}"`).join(', ')}: ` +
        'no public domain is declared (declare categories, or lower and upper bounds for numbers, dates and timestamps), ' +
        'or leave the column out');
  }
  return codecs;
}

function binsFor(name: string, bins: EncodingOptions['bins']): number {
  const value = typeof bins === 'number' ? bins : bins?.[name] ?? DEFAULT_BINS;
  if (!Number.isSafeInteger(value) || value < 1 || value > 100_000) {
    throw new SynthesisError(`bins for column "${name}" must be an integer between 1 and 100000 (got ${String(value)})`);
  }
  return value;
}

function codecFor(name: string, column: ColumnMetadata, bins: number): ColumnCodec | undefined {
  const base = baseCodec(name, column, bins);
  if (!base) return undefined;
  return column.nullable ? withNull(base) : base;
}

function baseCodec(name: string, column: ColumnMetadata, bins: number): ColumnCodec | undefined {
  switch (column.type) {
    case 'bool':
      return categoricalCodec(name, [false, true], toBool);
    case 'string':
      return column.categories ? categoricalCodec(name, column.categories, (v) => (typeof v === 'string' ? v : undefined)) : undefined;
    case 'int':
      if (column.categories) return categoricalCodec(name, column.categories, toFiniteNumber);
      if (column.lower === undefined || column.upper === undefined) return undefined;
      return integerBinCodec(name, column.lower, column.upper, bins, (x) => x);
    case 'float':
      if (column.lower === undefined || column.upper === undefined) return undefined;
      return floatBinCodec(name, column.lower, column.upper, bins);
    case 'date':
      if (column.lower === undefined || column.upper === undefined) return undefined;
      return dateCodec(name, column.lower, column.upper, bins);
    case 'timestamp':
      if (column.lower === undefined || column.upper === undefined) return undefined;
      return timestampCodec(name, column.lower, column.upper, bins);
  }
}

function categoricalCodec<T extends string | number | boolean>(name: string, categories: readonly T[], normalise: (v: unknown) => unknown): ColumnCodec {
  const index = new Map<unknown, number>(categories.map((c, i) => [c, i]));
  return {
    name,
    size: categories.length,
    encode: (value) => index.get(normalise(value)) ?? -1,
    decode: (code) => categories[code],
  };
}

/** Integers lower..upper in `bins` contiguous runs of near-equal length; values outside are clamped. */
function integerBinCodec(name: string, lower: number, upper: number, bins: number, toValue: (x: number) => unknown): ColumnCodec {
  const width = upper - lower + 1;
  const size = Math.min(bins, width);
  const start = (bin: number): number => lower + Math.floor((bin * width) / size);
  return {
    name,
    size,
    encode(value) {
      const x = toFiniteNumber(value);
      if (x === undefined) return -1;
      const clamped = Math.min(upper, Math.max(lower, Math.round(x)));
      // The bin whose run holds `clamped`: the largest b with start(b) ≤ clamped.
      let bin = Math.min(size - 1, Math.floor(((clamped - lower) * size) / width));
      while (bin + 1 < size && start(bin + 1) <= clamped) bin++;
      while (bin > 0 && start(bin) > clamped) bin--;
      return bin;
    },
    decode(code, random) {
      const from = start(code);
      const to = code + 1 < size ? start(code + 1) : upper + 1;
      return toValue(from + random.uniformInt(to - from));
    },
  };
}

function floatBinCodec(name: string, lower: number, upper: number, bins: number): ColumnCodec {
  const size = upper > lower ? bins : 1;
  const width = (upper - lower) / size;
  return {
    name,
    size,
    encode(value) {
      const x = toFiniteNumber(value);
      if (x === undefined) return -1;
      if (size === 1) return 0;
      return Math.min(size - 1, Math.max(0, Math.floor((x - lower) / width)));
    },
    decode(code, random) {
      const value = lower + (code + unitInterval(random)) * width;
      return Math.min(upper, value);
    },
  };
}

function dateCodec(name: string, lower: string, upper: string, bins: number): ColumnCodec {
  const dayOf = (iso: string): number => Math.floor(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
  const inner = integerBinCodec(name, dayOf(lower), dayOf(upper), bins, (day) => new Date(day * MS_PER_DAY).toISOString().slice(0, 10));
  return {
    ...inner,
    encode: (value) => {
      const ms = toEpochMs(value);
      return ms === undefined ? -1 : inner.encode(Math.floor(ms / MS_PER_DAY));
    },
  };
}

function timestampCodec(name: string, lower: string, upper: string, bins: number): ColumnCodec {
  const lo = toEpochMs(lower)!;
  const hi = toEpochMs(upper)!;
  const inner = integerBinCodec(name, lo, hi, bins, (ms) => new Date(ms).toISOString());
  return { ...inner, encode: (value) => {
    const ms = toEpochMs(value);
    return ms === undefined ? -1 : inner.encode(ms);
  } };
}

/** Adds a last code for null (and undefined). */
function withNull(inner: ColumnCodec): ColumnCodec {
  const nullCode = inner.size;
  return {
    name: inner.name,
    size: inner.size + 1,
    encode: (value) => (value === null || value === undefined ? nullCode : inner.encode(value)),
    decode: (code, random) => (code === nullCode ? null : inner.decode(code, random)),
  };
}

function toFiniteNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const x = Number(value);
    return Number.isFinite(x) ? x : undefined;
  }
  return undefined;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 1n || value === 't' || value === 'true') return true;
  if (value === 0 || value === 0n || value === 'f' || value === 'false') return false;
  return undefined;
}

function toEpochMs(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string') {
    const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value.replace(' ', 'T');
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
