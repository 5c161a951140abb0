// PostgreSQL values and types in the shared mapping of values.ts (see README: parity with DuckDB).
import type { ColumnType } from '@veil/dataset-metadata';
import pg from 'pg';
import { decimalTextToJs, integerToJs, pgTimestampText } from './values.js';

const OID = { bool: 16, name: 19, int8: 20, int2: 21, int4: 23, text: 25, float4: 700, float8: 701, bpchar: 1042, varchar: 1043, date: 1082, timestamp: 1114, timestamptz: 1184, numeric: 1700 } as const;

const TEXT_PARSERS: Record<number, (text: string) => unknown> = {
  [OID.int8]: (text) => integerToJs(BigInt(text)),
  [OID.numeric]: decimalTextToJs,
  // DuckDB hands back a REAL widened exactly to a double; the float4 text re-rounded to float32 is that value.
  [OID.float4]: (text) => Math.fround(Number(text)),
  [OID.date]: (text) => text,
  [OID.timestamp]: (text) => pgTimestampText(text, false),
  [OID.timestamptz]: (text) => pgTimestampText(text, true),
};

/** Type parsers for every pool Veil opens; the process-wide pg defaults stay untouched. */
export const veilPgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const parser = format === 'binary' ? undefined : TEXT_PARSERS[oid];
    return parser ?? pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const VEIL_TYPES: Record<number, ColumnType> = {
  [OID.bool]: 'bool',
  [OID.int2]: 'int',
  [OID.int4]: 'int',
  [OID.int8]: 'int',
  [OID.float4]: 'float',
  [OID.float8]: 'float',
  [OID.text]: 'string',
  [OID.varchar]: 'string',
  [OID.bpchar]: 'string',
  [OID.name]: 'string',
  [OID.date]: 'date',
  [OID.timestamp]: 'timestamp',
  [OID.timestamptz]: 'timestamp',
};

/** numeric(p, 0) holds integers; numeric with a scale or none at all is treated as float. */
export function pgTypeToVeil(oid: number, typmod: number): ColumnType | null {
  if (oid === OID.numeric) return typmod >= 4 && ((typmod - 4) & 0xffff) === 0 ? 'int' : 'float';
  return VEIL_TYPES[oid] ?? null;
}
