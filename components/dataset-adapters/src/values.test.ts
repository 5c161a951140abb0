import { describe, expect, it } from 'vitest';
import { detectFormat } from './paths.js';
import { decimalTextToJs, formatDays, formatMicros, integerToJs, pgTimestampText } from './values.js';

describe('shared value mapping', () => {
  it('keeps integers as numbers only while they are safe', () => {
    expect(integerToJs(9007199254740991n)).toBe(9007199254740991);
    expect(integerToJs(9007199254740992n)).toBe(9007199254740992n);
    expect(integerToJs(-9007199254740992n)).toBe(-9007199254740992n);
  });

  it('reads exact decimals: integral ones as integers, others correctly rounded', () => {
    expect(decimalTextToJs('12.000')).toBe(12);
    expect(decimalTextToJs('-0.10')).toBe(-0.1);
    expect(decimalTextToJs('123456789012345678901')).toBe(123456789012345678901n);
    expect(decimalTextToJs('0.1000000000000000055511151231257827')).toBe(0.1);
  });

  it('formats timestamps and dates on both sides of the epoch', () => {
    expect(formatMicros(-1n, false)).toBe('1969-12-31T23:59:59.999999');
    expect(formatMicros(-1_000_000n, true)).toBe('1969-12-31T23:59:59Z');
    expect(formatMicros(1_500_000n, false)).toBe('1970-01-01T00:00:01.5');
    expect(formatDays(-1)).toBe('1969-12-31');
    expect(pgTimestampText('2024-01-02 03:04:05.25+00', true)).toBe('2024-01-02T03:04:05.25Z');
  });

  it('detects formats from extensions, skipping compression suffixes', () => {
    expect(detectFormat('/d/x.parquet', undefined)).toBe('parquet');
    expect(detectFormat('/d/x.csv.gz', undefined)).toBe('csv');
    expect(detectFormat('https://h/x.jsonl?sig=1', undefined)).toBe('json');
    expect(detectFormat('/d/x.data', 'csv')).toBe('csv');
    expect(() => detectFormat('/d/x.data', undefined)).toThrow(/set `format`/);
  });
});
