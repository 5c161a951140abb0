// The value forms rows carry between the engines and the TypeScript functions. They follow the dataset
// adapters' mapping: integers are numbers (bigint beyond 2^53), dates 'YYYY-MM-DD', timestamps
// 'YYYY-MM-DDTHH:MM:SS[.ffffff]' (no zone). Both execution paths produce exactly these forms.
import type { ColumnType } from '@veil/dataset-metadata';

export type ValueType = ColumnType;
/** A rule's output type; 'null' is the type of null(), which fits any column. */
export type OutputType = ValueType | 'null';

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/;

export function isDateText(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Days since 1970-01-01 of a 'YYYY-MM-DD…' value (or a Date). */
export function toEpochDay(value: unknown): number {
  if (value instanceof Date) return Math.floor(value.getTime() / 86_400_000);
  const m = DATE.exec(String(value));
  if (!m) throw new TypeError('not a date');
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
}

export function fromEpochDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Microseconds since the epoch of a timestamp value, as a bigint (exact). */
export function toEpochMicros(value: unknown): bigint {
  if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
  const text = String(value);
  const m = TIMESTAMP.exec(text);
  if (!m) {
    if (DATE.test(text)) return BigInt(toEpochDay(text)) * 86_400_000_000n;
    throw new TypeError('not a timestamp');
  }
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const fraction = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(ms) * 1000n + BigInt(fraction === '' ? 0 : Number(fraction));
}

/** 'YYYY-MM-DDTHH:MM:SS[.ffffff]', the adapters' timestamp form (fraction only when non-zero). */
export function fromEpochMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return frac === 0n ? base : `${base}.${frac.toString().padStart(6, '0')}`;
}

/** The canonical text of a value, as the engines' CAST(x AS VARCHAR) writes it (for keyed hashing). */
export function canonicalText(type: ValueType, value: unknown): string {
  switch (type) {
    case 'date':
      return fromEpochDay(toEpochDay(value));
    case 'bool':
      return value ? 'true' : 'false';
    default:
      return String(value);
  }
}
