// DuckDB values and types in the shared mapping of values.ts, and JS parameters as typed DuckDB values.
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  HUGEINT,
  SQLNULL,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { ColumnType } from '@veil/dataset-metadata';
import { AdapterError } from './errors.js';
import type { QueryParam } from './types.js';
import { decimalTextToJs, formatDays, formatMicros, integerToJs } from './values.js';

export function duckValueToJs(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return integerToJs(value);
  if (value instanceof DuckDBDecimalValue) return decimalTextToJs(value.toString());
  if (value instanceof DuckDBDateValue) return value.isFinite ? formatDays(value.days) : value.toString();
  if (value instanceof DuckDBTimestampValue) return value.isFinite ? formatMicros(value.micros, false) : value.toString();
  if (value instanceof DuckDBTimestampTZValue) return value.isFinite ? formatMicros(value.micros, true) : value.toString();
  if (value instanceof DuckDBTimestampSecondsValue) return formatMicros(value.seconds * 1_000_000n, false);
  if (value instanceof DuckDBTimestampMillisecondsValue) return formatMicros(value.millis * 1000n, false);
  if (value instanceof DuckDBTimestampNanosecondsValue) return formatMicros(value.nanos / 1000n, false);
  return String(value);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Typed parameters, so `$1` binds an integer as BIGINT (as PostgreSQL would infer) rather than DOUBLE. */
export function bindDuckParams(params: readonly QueryParam[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  params.forEach((param, index) => {
    const [value, type] = bindOne(param, index);
    values.push(value);
    types.push(type);
  });
  return { values, types };
}

function bindOne(param: unknown, index: number): [DuckDBValue, DuckDBType] {
  if (param === null) return [null, SQLNULL];
  switch (typeof param) {
    case 'string':
      return [param, VARCHAR];
    case 'boolean':
      return [param, BOOLEAN];
    case 'number':
      return Number.isSafeInteger(param) ? [BigInt(param), BIGINT] : [param, DOUBLE];
    case 'bigint':
      return [param, param >= INT64_MIN && param <= INT64_MAX ? BIGINT : HUGEINT];
    default:
      throw new AdapterError('invalid-parameter', `parameter $${index + 1} has an unsupported type (${typeof param}); use string, number, bigint, boolean or null`);
  }
}

const VEIL_TYPES: Partial<Record<DuckDBTypeId, ColumnType>> = {
  [DuckDBTypeId.TINYINT]: 'int',
  [DuckDBTypeId.SMALLINT]: 'int',
  [DuckDBTypeId.INTEGER]: 'int',
  [DuckDBTypeId.BIGINT]: 'int',
  [DuckDBTypeId.HUGEINT]: 'int',
  [DuckDBTypeId.UTINYINT]: 'int',
  [DuckDBTypeId.USMALLINT]: 'int',
  [DuckDBTypeId.UINTEGER]: 'int',
  [DuckDBTypeId.UBIGINT]: 'int',
  [DuckDBTypeId.UHUGEINT]: 'int',
  [DuckDBTypeId.FLOAT]: 'float',
  [DuckDBTypeId.DOUBLE]: 'float',
  [DuckDBTypeId.VARCHAR]: 'string',
  [DuckDBTypeId.ENUM]: 'string',
  [DuckDBTypeId.BOOLEAN]: 'bool',
  [DuckDBTypeId.DATE]: 'date',
  [DuckDBTypeId.TIMESTAMP]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_S]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_MS]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_NS]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_TZ]: 'timestamp',
};

export function duckTypeToVeil(type: DuckDBType): ColumnType | null {
  if (type.typeId === DuckDBTypeId.DECIMAL) return 'scale' in type && type.scale === 0 ? 'int' : 'float';
  return VEIL_TYPES[type.typeId] ?? null;
}
