// The masking functions, by family, in the spirit of PostgreSQL Anonymizer. Each one type-checks its
// literal arguments against the column when a policy is compiled and yields a MaskOp: an SQL builder (when
// the engine can compute it; literals become bound parameters) and a TypeScript evaluator with the same
// output. NULL in gives NULL out for every function but constant() and null().
import type { Arg, Call, Literal } from './rule-parser.js';
import { excerpt } from './rule-parser.js';
import type { MaskingKey } from './masking-key.js';
import type { UniformSource } from './random.js';
import { uniformBetween, uniformUnit } from './random.js';
import type { FakerPool } from './fakers.js';
import { FAKE_KINDS, isFakerLocale } from './fakers.js';
import type { OutputType, ValueType } from './values.js';
import { canonicalText, fromEpochDay, fromEpochMicros, isDateText, toEpochDay, toEpochMicros } from './values.js';

export type Dialect = 'duckdb' | 'postgres';
export type QueryParam = string | number | bigint | boolean | null;

/** Collects bound parameters while SQL is built; every literal goes through param(). */
export interface SqlBuilder {
  readonly dialect: Dialect;
  /** Binds a value and returns its placeholder ($n). */
  param(value: QueryParam): string;
  /** Placeholders of the hex HMAC pads of the masking key. */
  keyPads(): { inner: string; outer: string };
}

/** What the TypeScript evaluators need at run time. */
export interface EvalEnv {
  key: MaskingKey;
  random: UniformSource;
  fakers: FakerPool;
  /** Memoises deterministic results per operation and input text within one run. */
  memo(op: object, input: string, compute: () => unknown): unknown;
}

export interface MaskOp {
  readonly outputType: OutputType;
  /** Same input and same key give the same output (no randomness). */
  readonly deterministic: boolean;
  /** Costly and deterministic: SQL computes it once per distinct value and joins (keyed hashing). */
  readonly perDistinctValue?: boolean;
  /** Absent when the function runs only in TypeScript. */
  readonly sql?: (input: string, b: SqlBuilder) => string;
  readonly evaluate: (value: unknown, env: EvalEnv) => unknown;
}

/** A rule that does not fit its column or its function's signature. */
export class RuleTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleTypeError';
  }
}

const NUMERIC: ValueType[] = ['int', 'float'];
const TEMPORAL: ValueType[] = ['date', 'timestamp'];
const HASHABLE: ValueType[] = ['string', 'int', 'bool', 'date'];
const ALL: ValueType[] = ['int', 'float', 'string', 'bool', 'date', 'timestamp'];

const MAX_INT_RANGE = 2 ** 48;
const MAX_STEP = 1e15;

export function sqlType(type: OutputType, dialect: Dialect): string {
  const duck: Record<OutputType, string> = { int: 'BIGINT', float: 'DOUBLE', string: 'VARCHAR', bool: 'BOOLEAN', date: 'DATE', timestamp: 'TIMESTAMP', null: 'VARCHAR' };
  const pg: Record<OutputType, string> = { int: 'bigint', float: 'double precision', string: 'text', bool: 'boolean', date: 'date', timestamp: 'timestamp', null: 'text' };
  return (dialect === 'duckdb' ? duck : pg)[type];
}

const cast = (expr: string, type: OutputType, b: SqlBuilder): string => `CAST(${expr} AS ${sqlType(type, b.dialect)})`;
const bind = (value: QueryParam, type: OutputType, b: SqlBuilder): string => cast(b.param(value), type, b);
const keepNull = (input: string, expr: string): string => `CASE WHEN ${input} IS NULL THEN NULL ELSE ${expr} END`;

// ---- argument checking -------------------------------------------------------------------------------

interface Signature {
  name: string;
  usage: string;
}

function arity(sig: Signature, args: Arg[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const count = min === max ? `${min}` : `${min} to ${max}`;
    throw new RuleTypeError(`${sig.name}() takes ${count} argument${max === 1 ? '' : 's'}: ${sig.usage}`);
  }
}

function literal(sig: Signature, arg: Arg | undefined, what: string): Literal {
  if (!arg || arg.kind === 'call') throw new RuleTypeError(`${sig.name}(): ${what} must be a literal, not a function call`);
  return arg;
}

function intArg(sig: Signature, arg: Arg | undefined, what: string, min: number, max: number): number {
  const lit = literal(sig, arg, what);
  if (lit.kind !== 'number' || !Number.isSafeInteger(lit.value)) throw new RuleTypeError(`${sig.name}(): ${what} must be an integer`);
  if (lit.value < min || lit.value > max) throw new RuleTypeError(`${sig.name}(): ${what} must be between ${min} and ${max}`);
  return lit.value;
}

function numberArg(sig: Signature, arg: Arg | undefined, what: string): number {
  const lit = literal(sig, arg, what);
  if (lit.kind !== 'number') throw new RuleTypeError(`${sig.name}(): ${what} must be a number`);
  return lit.value;
}

function stringArg(sig: Signature, arg: Arg | undefined, what: string): string {
  const lit = literal(sig, arg, what);
  if (lit.kind !== 'string') throw new RuleTypeError(`${sig.name}(): ${what} must be a string in single quotes`);
  return lit.value;
}

function dateArg(sig: Signature, arg: Arg | undefined, what: string): string {
  const text = stringArg(sig, arg, what);
  if (!isDateText(text)) throw new RuleTypeError(`${sig.name}(): ${what} must be a date written 'YYYY-MM-DD'`);
  return text;
}

function localeArg(sig: Signature, args: Arg[]): string {
  if (args.length === 0) return 'en';
  const locale = stringArg(sig, args[0], 'the locale');
  if (!isFakerLocale(locale)) throw new RuleTypeError(`${sig.name}(): unknown locale '${excerpt(locale)}' (use a faker locale such as 'en', 'de', 'fr', 'pt_BR')`);
  return locale;
}

/** A literal as a value of the column's type, for comparisons and value sets. */
function columnLiteral(sig: Signature, arg: Arg | undefined, type: ValueType, what: string): string | number | boolean {
  const lit = literal(sig, arg, what);
  const fail = (expected: string): never => {
    throw new RuleTypeError(`${sig.name}(): ${what} must be ${expected} for a ${type} column`);
  };
  switch (type) {
    case 'int':
      if (lit.kind !== 'number' || !Number.isSafeInteger(lit.value)) fail('an integer');
      return (lit as { value: number }).value;
    case 'float':
      if (lit.kind !== 'number') fail('a number');
      return (lit as { value: number }).value;
    case 'string':
      if (lit.kind !== 'string') fail('a string in single quotes');
      return (lit as { value: string }).value;
    case 'bool':
      if (lit.kind !== 'bool') fail('true or false');
      return (lit as { value: boolean }).value;
    case 'date':
      if (lit.kind !== 'string' || !isDateText(lit.value)) fail("a date written 'YYYY-MM-DD'");
      return (lit as { value: string }).value;
    case 'timestamp': {
      if (lit.kind !== 'string' || !/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?$/.test(lit.value) || !isDateText(lit.value.slice(0, 10))) {
        fail("a timestamp written 'YYYY-MM-DD HH:MM:SS'");
      }
      // Compare in the adapters' form so TypeScript string order is time order.
      return fromEpochMicros(toEpochMicros((lit as { value: string }).value));
    }
  }
}

// ---- the functions -------------------------------------------------------------------------------------

interface ColumnInfo {
  name: string;
  type: ValueType;
}

interface FunctionSpec {
  usage: string;
  family: string;
  accepts: ValueType[];
  build(sig: Signature, args: Arg[], column: ColumnInfo, nested: (call: Call) => MaskOp): MaskOp;
}

const identity = (v: unknown): unknown => v;

function nullOp(): MaskOp {
  return { outputType: 'null', deterministic: true, sql: (_input, b) => cast('NULL', 'null', b), evaluate: () => null };
}

function constantOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 1);
  const lit = literal(sig, args[0], 'the value');
  if (lit.kind === 'null') return nullOp();
  const type: OutputType = lit.kind === 'string' ? 'string' : lit.kind === 'bool' ? 'bool' : Number.isSafeInteger(lit.value) && !/[.eE]/.test(lit.text) ? 'int' : 'float';
  const value = lit.value;
  return { outputType: type, deterministic: true, sql: (_input, b) => bind(value, type, b), evaluate: () => value };
}

/** Code-point aware left/right, matching the engines' character functions. */
const chars = (s: string): string[] => Array.from(s);

function partialOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 3);
  const prefix = intArg(sig, args[0], 'prefix', 0, 1000);
  const padding = stringArg(sig, args[1], 'padding');
  const suffix = intArg(sig, args[2], 'suffix', 0, 1000);
  return {
    outputType: 'string',
    deterministic: true,
    // Too short to hide anything between prefix and suffix: only the padding is shown.
    sql: (x, b) => {
      const p = bind(prefix, 'int', b);
      const s = bind(suffix, 'int', b);
      const pad = bind(padding, 'string', b);
      return `CASE WHEN length(${x}) > ${p} + ${s} THEN left(${x}, CAST(${p} AS INTEGER)) || ${pad} || right(${x}, CAST(${s} AS INTEGER)) ELSE ${pad} END`;
    },
    evaluate: (v) => {
      if (v === null || v === undefined) return null;
      const c = chars(String(v));
      if (c.length <= prefix + suffix) return padding;
      return c.slice(0, prefix).join('') + padding + (suffix === 0 ? '' : c.slice(c.length - suffix).join(''));
    },
  };
}

const EMAIL_MASK = '******';

function partialEmailOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 0);
  return {
    outputType: 'string',
    deterministic: true,
    sql: (x, b) => {
      const mask = bind(EMAIL_MASK, 'string', b);
      const at = `strpos(${x}, '@')`;
      const rest = `substr(${x}, ${at} + 1)`;
      const tld = b.dialect === 'duckdb' ? `regexp_extract(${rest}, '\\.[^.]*$')` : `coalesce(substring(${rest} from '\\.[^.]*$'), '')`;
      return `CASE WHEN ${at} = 0 THEN ${mask} ELSE left(split_part(${x}, '@', 1), 2) || ${mask} || '@' || left(${rest}, 2) || ${mask} || ${tld} END`;
    },
    evaluate: (v) => {
      if (v === null || v === undefined) return null;
      const s = String(v);
      const at = s.indexOf('@');
      if (at < 0) return EMAIL_MASK;
      const rest = s.slice(at + 1);
      const tld = /\.[^.]*$/.exec(rest)?.[0] ?? '';
      return `${chars(s.slice(0, at)).slice(0, 2).join('')}${EMAIL_MASK}@${chars(rest).slice(0, 2).join('')}${EMAIL_MASK}${tld}`;
    },
  };
}

function hmacSql(x: string, b: SqlBuilder): string {
  const { inner, outer } = b.keyPads();
  if (b.dialect === 'duckdb') {
    return `sha256(unhex(${outer}) || unhex(sha256(unhex(${inner}) || encode(CAST(${x} AS VARCHAR)))))`;
  }
  return `encode(sha256(decode(${outer}, 'hex') || sha256(decode(${inner}, 'hex') || convert_to(CAST(${x} AS text), 'UTF8'))), 'hex')`;
}

function hashOp(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  arity(sig, args, 0, 1);
  const length = args.length ? intArg(sig, args[0], 'the length in hex digits', 8, 64) : 64;
  const op: MaskOp = {
    outputType: 'string',
    deterministic: true,
    perDistinctValue: true,
    sql: (x, b) => (length === 64 ? hmacSql(x, b) : `left(${hmacSql(x, b)}, CAST(${bind(length, 'int', b)} AS INTEGER))`),
    evaluate: (v, env) => {
      if (v === null || v === undefined) return null;
      const text = canonicalText(column.type, v);
      return env.memo(op, text, () => env.key.hmac(text).toString('hex').slice(0, length));
    },
  };
  return op;
}

function pseudoOp(kind: string) {
  return (sig: Signature, args: Arg[], column: ColumnInfo): MaskOp => {
    arity(sig, args, 0, 1);
    const locale = localeArg(sig, args);
    const op: MaskOp = {
      outputType: 'string',
      deterministic: true,
      evaluate: (v, env) => {
        if (v === null || v === undefined) return null;
        const text = canonicalText(column.type, v);
        return env.memo(op, text, () => env.fakers.pseudonym(locale, kind, env.key.hmac(text)));
      },
    };
    return op;
  };
}

function fakeOp(kind: string) {
  return (sig: Signature, args: Arg[]): MaskOp => {
    arity(sig, args, 0, 1);
    const locale = localeArg(sig, args);
    return {
      outputType: 'string',
      deterministic: false,
      evaluate: (v, env) => (v === null || v === undefined ? null : env.fakers.fake(locale, kind, env.random)),
    };
  };
}

function randomIntOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 2);
  const lo = intArg(sig, args[0], 'the lower bound', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const hi = intArg(sig, args[1], 'the upper bound', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (lo > hi) throw new RuleTypeError(`${sig.name}(): the lower bound is above the upper bound`);
  if (hi - lo >= MAX_INT_RANGE) throw new RuleTypeError(`${sig.name}(): the range may hold at most 2^48 values`);
  return {
    outputType: 'int',
    deterministic: false,
    sql: (x, b) => keepNull(x, `${bind(lo, 'int', b)} + CAST(floor(random() * ${bind(hi - lo + 1, 'float', b)}) AS ${sqlType('int', b.dialect)})`),
    evaluate: (v, env) => (v === null || v === undefined ? null : uniformBetween(env.random, lo, hi)),
  };
}

function randomFloatOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 2);
  const lo = numberArg(sig, args[0], 'the lower bound');
  const hi = numberArg(sig, args[1], 'the upper bound');
  if (lo > hi) throw new RuleTypeError(`${sig.name}(): the lower bound is above the upper bound`);
  return {
    outputType: 'float',
    deterministic: false,
    sql: (x, b) => keepNull(x, `${bind(lo, 'float', b)} + random() * ${bind(hi - lo, 'float', b)}`),
    evaluate: (v, env) => (v === null || v === undefined ? null : lo + uniformUnit(env.random) * (hi - lo)),
  };
}

function randomDateOp(sig: Signature, args: Arg[]): MaskOp {
  arity(sig, args, 2);
  const lo = toEpochDay(dateArg(sig, args[0], 'the first date'));
  const hi = toEpochDay(dateArg(sig, args[1], 'the last date'));
  if (lo > hi) throw new RuleTypeError(`${sig.name}(): the first date is after the last date`);
  return {
    outputType: 'date',
    deterministic: false,
    sql: (x, b) => keepNull(x, `${bind(fromEpochDay(lo), 'date', b)} + CAST(floor(random() * ${bind(hi - lo + 1, 'float', b)}) AS INTEGER)`),
    evaluate: (v, env) => (v === null || v === undefined ? null : fromEpochDay(uniformBetween(env.random, lo, hi))),
  };
}

function randomInOp(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  if (args.length < 1) throw new RuleTypeError(`${sig.name}() takes at least one value: ${sig.usage}`);
  const values = args.map((a, i) => columnLiteral(sig, a, column.type, `value ${i + 1}`));
  const type = column.type;
  return {
    outputType: type,
    deterministic: false,
    sql: (x, b) => {
      const items = values.map((v) => bind(v, type, b)).join(', ');
      const index = `1 + CAST(floor(random() * ${bind(values.length, 'float', b)}) AS INTEGER)`;
      return keepNull(x, b.dialect === 'duckdb' ? `[${items}][${index}]` : `(ARRAY[${items}])[${index}]`);
    },
    evaluate: (v, env) => (v === null || v === undefined ? null : values[env.random.uniformInt(values.length)]),
  };
}

function noiseOp(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  arity(sig, args, 1);
  const ratio = numberArg(sig, args[0], 'the ratio');
  if (!(ratio > 0 && ratio <= 100)) throw new RuleTypeError(`${sig.name}(): the ratio must be above 0 and at most 100`);
  const isInt = column.type === 'int';
  return {
    outputType: column.type,
    deterministic: false,
    sql: (x, b) => {
      const noisy = `${x} * (1 + ${bind(ratio, 'float', b)} * (2 * random() - 1))`;
      return isInt ? `CAST(round(${noisy}) AS ${sqlType('int', b.dialect)})` : noisy;
    },
    evaluate: (v, env) => {
      if (v === null || v === undefined) return null;
      const noisy = Number(v) * (1 + ratio * (2 * uniformUnit(env.random) - 1));
      return isInt ? Math.round(noisy) : noisy;
    },
  };
}

const INTERVAL = /^\s*(\d{1,9})\s*(second|minute|hour|day|week)s?\s*$/i;
const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

function dnoiseOp(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  arity(sig, args, 1);
  const text = stringArg(sig, args[0], 'the interval');
  const m = INTERVAL.exec(text);
  if (!m) throw new RuleTypeError(`${sig.name}(): the interval must look like '3 days' (units: seconds, minutes, hours, days, weeks)`);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]!.toLowerCase()]!;
  if (seconds <= 0 || seconds > 100 * 366 * 86400) throw new RuleTypeError(`${sig.name}(): the interval must be above zero and at most 100 years`);
  if (column.type === 'date') {
    if (seconds % 86400 !== 0) throw new RuleTypeError(`${sig.name}(): a date column moves by whole days; use days or weeks`);
    return dateNoiseOp(seconds / 86400);
  }
  return {
    outputType: 'timestamp',
    deterministic: false,
    sql: (x, b) => {
      const shift = `(CAST(floor(random() * ${bind(2 * seconds + 1, 'float', b)}) AS BIGINT) - ${bind(seconds, 'int', b)})`;
      return b.dialect === 'duckdb' ? `${x} + to_seconds(${shift})` : `${x} + CAST(${shift} AS double precision) * interval '1 second'`;
    },
    evaluate: (v, env) => {
      if (v === null || v === undefined) return null;
      const shift = BigInt(uniformBetween(env.random, -seconds, seconds)) * 1_000_000n;
      return fromEpochMicros(toEpochMicros(v) + shift);
    },
  };
}

function dateNoiseOp(days: number): MaskOp {
  return {
    outputType: 'date',
    deterministic: false,
    sql: (x, b) => `${x} + (CAST(floor(random() * ${bind(2 * days + 1, 'float', b)}) AS INTEGER) - CAST(${bind(days, 'int', b)} AS INTEGER))`,
    evaluate: (v, env) => (v === null || v === undefined ? null : fromEpochDay(toEpochDay(v) + uniformBetween(env.random, -days, days))),
  };
}

const DATE_UNITS = ['day', 'month', 'year', 'decade'] as const;

function generalizeOp(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  if (NUMERIC.includes(column.type)) return generalizeNumber(sig, args, column);
  arity(sig, args, 1);
  const unit = stringArg(sig, args[0], 'the unit').toLowerCase();
  if (!(DATE_UNITS as readonly string[]).includes(unit)) throw new RuleTypeError(`${sig.name}(): a ${column.type} column generalises to 'day', 'month', 'year' or 'decade'`);
  return generalizeDate(unit as (typeof DATE_UNITS)[number]);
}

/** A safe integer as a number, a larger one as a bigint (the adapters' mapping). */
const integerValue = (n: bigint): number | bigint => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);

/**
 * Numbers go to the range of width `step` (an integer) that holds them. By default the value becomes the
 * range's start, lo = floor(v / step) · step, keeping the column numeric and cheap to write; with 'range'
 * it becomes the text `[lo,hi)`.
 */
function generalizeNumber(sig: Signature, args: Arg[], column: ColumnInfo): MaskOp {
  arity(sig, args, 1, 2);
  const step = intArg(sig, args[0], 'the step', 1, MAX_STEP);
  const form = args.length > 1 ? stringArg(sig, args[1], 'the form') : 'start';
  if (form !== 'start' && form !== 'range') throw new RuleTypeError(`${sig.name}(): the form is 'start' (the default) or 'range'`);
  const isInt = column.type === 'int';
  const bigStep = BigInt(step);
  const lowSql = (x: string, b: SqlBuilder): string => {
    const s = bind(step, 'int', b);
    // Integers: exact floor division (% truncates toward zero in both engines). Floats: IEEE floor(x / s).
    return isInt ? `(${x} - (((${x} % ${s}) + ${s}) % ${s}))` : `(floor(${x} / ${s}) * ${s})`;
  };
  const lowValue = (v: unknown): bigint | number => {
    if (!isInt) return Math.floor(Number(v) / step) * step;
    const n = BigInt(v as number | bigint);
    return n - (((n % bigStep) + bigStep) % bigStep);
  };
  if (form === 'start') {
    return {
      outputType: column.type,
      deterministic: true,
      sql: lowSql,
      evaluate: (v) => {
        if (v === null || v === undefined) return null;
        const lo = lowValue(v);
        return typeof lo === 'bigint' ? integerValue(lo) : lo;
      },
    };
  }
  return {
    outputType: 'string',
    deterministic: true,
    sql: (x, b) => {
      const text = sqlType('string', b.dialect);
      const lo = `CAST(${lowSql(x, b)} AS ${sqlType('int', b.dialect)})`;
      return `'[' || CAST(${lo} AS ${text}) || ',' || CAST(${lo} + ${bind(step, 'int', b)} AS ${text}) || ')'`;
    },
    evaluate: (v) => {
      if (v === null || v === undefined) return null;
      const raw = lowValue(v);
      const lo = typeof raw === 'bigint' ? raw : BigInt(raw);
      return `[${lo},${lo + bigStep})`;
    },
  };
}

function generalizeDate(unit: (typeof DATE_UNITS)[number]): MaskOp {
  return {
    outputType: 'date',
    deterministic: true,
    sql: (x) => {
      const year = `CAST(extract(year FROM ${x}) AS INTEGER)`;
      switch (unit) {
        case 'day': return `CAST(${x} AS DATE)`;
        case 'month': return `make_date(${year}, CAST(extract(month FROM ${x}) AS INTEGER), 1)`;
        case 'year': return `make_date(${year}, 1, 1)`;
        case 'decade': return `make_date(${year} - (((${year} % 10) + 10) % 10), 1, 1)`;
      }
    },
    evaluate: (v) => {
      if (v === null || v === undefined) return null;
      const day = fromEpochDay(toEpochDay(v));
      const year = Number(day.slice(0, 4));
      switch (unit) {
        case 'day': return day;
        case 'month': return `${day.slice(0, 7)}-01`;
        case 'year': return `${day.slice(0, 4)}-01-01`;
        case 'decade': return `${String(year - (((year % 10) + 10) % 10)).padStart(4, '0')}-01-01`;
      }
    },
  };
}

// ---- conditional -----------------------------------------------------------------------------------------

interface Condition {
  sql(x: string, b: SqlBuilder): string;
  test(value: unknown): boolean;
}

const COMPARISONS: Record<string, { op: string; holds: (c: number) => boolean; ordered: boolean }> = {
  eq: { op: '=', holds: (c) => c === 0, ordered: false },
  ne: { op: '<>', holds: (c) => c !== 0, ordered: false },
  lt: { op: '<', holds: (c) => c < 0, ordered: true },
  le: { op: '<=', holds: (c) => c <= 0, ordered: true },
  gt: { op: '>', holds: (c) => c > 0, ordered: true },
  ge: { op: '>=', holds: (c) => c >= 0, ordered: true },
};

function compareValues(type: ValueType, value: unknown, literalValue: string | number | boolean): number {
  if (type === 'timestamp') {
    const a = toEpochMicros(value);
    const b = toEpochMicros(literalValue);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (type === 'date') return toEpochDay(value) - toEpochDay(literalValue);
  if (type === 'int' || type === 'float') {
    const a = value as number | bigint;
    return a < (literalValue as number) ? -1 : a > (literalValue as number) ? 1 : 0;
  }
  return value === literalValue ? 0 : 1;
}

function condition(arg: Arg | undefined, column: ColumnInfo): Condition {
  const usage = 'a condition: eq(v), ne(v), lt(v), le(v), gt(v), ge(v), in(v, …) or is_null()';
  if (!arg || arg.kind !== 'call') throw new RuleTypeError(`ternary(): the first argument must be ${usage}`);
  const sig = { name: arg.name, usage };
  if (arg.name === 'is_null') {
    arity({ name: 'is_null', usage: 'is_null()' }, arg.args, 0);
    return { sql: (x) => `${x} IS NULL`, test: (v) => v === null || v === undefined };
  }
  if (arg.name === 'in') {
    if (arg.args.length < 1) throw new RuleTypeError('in() takes at least one value');
    const values = arg.args.map((a, i) => columnLiteral(sig, a, column.type, `value ${i + 1}`));
    return {
      sql: (x, b) => `${x} IN (${values.map((v) => bind(v, column.type, b)).join(', ')})`,
      test: (v) => v !== null && v !== undefined && values.some((lit) => compareValues(column.type, v, lit) === 0),
    };
  }
  const comparison = COMPARISONS[arg.name];
  if (!comparison) throw new RuleTypeError(`ternary(): unknown condition ${excerpt(arg.name)}(); use ${usage}`);
  if (comparison.ordered && (column.type === 'string' || column.type === 'bool')) {
    throw new RuleTypeError(`${arg.name}() orders values and is for number, date and timestamp columns; use eq, ne or in for a ${column.type} column`);
  }
  arity({ name: arg.name, usage: `${arg.name}(value)` }, arg.args, 1);
  const value = columnLiteral(sig, arg.args[0], column.type, 'the value');
  return {
    sql: (x, b) => `${x} ${comparison.op} ${bind(value, column.type, b)}`,
    // NULL compares to nothing, as in SQL: the else branch applies.
    test: (v) => v !== null && v !== undefined && comparison.holds(compareValues(column.type, v, value)),
  };
}

function unify(a: OutputType, b: OutputType): OutputType | undefined {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  return undefined;
}

function ternaryOp(sig: Signature, args: Arg[], column: ColumnInfo, nested: (call: Call) => MaskOp): MaskOp {
  arity(sig, args, 3);
  const test = condition(args[0], column);
  const branch = (arg: Arg | undefined, what: string): MaskOp => {
    if (arg?.kind === 'null') return nullOp();
    if (!arg || arg.kind !== 'call') throw new RuleTypeError(`ternary(): the ${what} branch must be a function call, e.g. keep(), null() or constant('x')`);
    if (arg.name === 'ternary') throw new RuleTypeError('ternary(): branches cannot be ternary() again');
    return nested(arg);
  };
  const then = branch(args[1], 'then');
  const otherwise = branch(args[2], 'else');
  const type = unify(then.outputType, otherwise.outputType);
  if (!type) throw new RuleTypeError(`ternary(): the branches give different types (${then.outputType} and ${otherwise.outputType})`);
  const sql = then.sql && otherwise.sql
    ? (x: string, b: SqlBuilder) => `CASE WHEN ${test.sql(x, b)} THEN ${cast(then.sql!(x, b), type, b)} ELSE ${cast(otherwise.sql!(x, b), type, b)} END`
    : undefined;
  return {
    outputType: type,
    deterministic: then.deterministic && otherwise.deterministic,
    ...(sql ? { sql } : {}),
    evaluate: (v, env) => (test.test(v) ? then.evaluate(v, env) : otherwise.evaluate(v, env)),
  };
}

// ---- the registry --------------------------------------------------------------------------------------

const SPECS: Record<string, FunctionSpec> = {
  null: { family: 'destruction', usage: 'null() — or simply null', accepts: ALL, build: (sig, args) => (arity(sig, args, 0), nullOp()) },
  constant: { family: 'destruction', usage: "constant(value), e.g. constant('REDACTED') or constant(0)", accepts: ALL, build: constantOp },
  keep: {
    family: 'identity', usage: 'keep() — the unmasked value (mainly inside ternary)', accepts: ALL,
    build: (sig, args, column) => (arity(sig, args, 0), { outputType: column.type, deterministic: true, sql: (x) => x, evaluate: identity }),
  },
  partial: { family: 'partial scrambling', usage: "partial(prefix, padding, suffix), e.g. partial(2, '****', 2)", accepts: ['string'], build: partialOp },
  partial_email: { family: 'partial scrambling', usage: 'partial_email()', accepts: ['string'], build: partialEmailOp },
  hash: { family: 'keyed hashing', usage: 'hash() or hash(length) — HMAC-SHA256 in hex', accepts: HASHABLE, build: hashOp },
  random_int: { family: 'randomisation', usage: 'random_int(lo, hi)', accepts: NUMERIC, build: randomIntOp },
  random_float: { family: 'randomisation', usage: 'random_float(lo, hi)', accepts: ['float'], build: randomFloatOp },
  random_date: { family: 'randomisation', usage: "random_date('YYYY-MM-DD', 'YYYY-MM-DD')", accepts: ['date'], build: randomDateOp },
  random_in: { family: 'randomisation', usage: "random_in(value, …), e.g. random_in('a', 'b')", accepts: ALL, build: randomInOp },
  noise: { family: 'noise', usage: 'noise(ratio), e.g. noise(0.1) for ±10%', accepts: NUMERIC, build: noiseOp },
  dnoise: { family: 'noise', usage: "dnoise(interval), e.g. dnoise('3 days')", accepts: TEMPORAL, build: dnoiseOp },
  generalize: { family: 'generalisation', usage: "generalize(step) or generalize(step, 'range') for numbers, generalize('day'|'month'|'year'|'decade') for dates", accepts: [...NUMERIC, ...TEMPORAL], build: generalizeOp },
  ternary: { family: 'conditional', usage: "ternary(condition, then, else), e.g. ternary(ge(90), constant(90), keep())", accepts: ALL, build: ternaryOp },
};

for (const kind of Object.keys(FAKE_KINDS)) {
  SPECS[`pseudo_${kind}`] = { family: 'pseudonyms', usage: `pseudo_${kind}() or pseudo_${kind}('de') — stable per value and secret`, accepts: HASHABLE, build: pseudoOp(kind) };
  SPECS[`fake_${kind}`] = { family: 'fake values', usage: `fake_${kind}() or fake_${kind}('de')`, accepts: ALL, build: fakeOp(kind) };
}

/** Names, families and usages of every function, for documentation and API discovery. */
export function maskingFunctions(): { name: string; family: string; usage: string; columnTypes: ValueType[] }[] {
  return Object.entries(SPECS).map(([name, s]) => ({ name, family: s.family, usage: s.usage, columnTypes: [...s.accepts] }));
}

/** Type-checks a parsed rule against its column and builds the operation. */
export function buildOp(call: Call, column: ColumnInfo): MaskOp {
  const spec = Object.hasOwn(SPECS, call.name) ? SPECS[call.name] : undefined;
  if (!spec) throw new RuleTypeError(`unknown masking function ${excerpt(call.name)}()`);
  if (!spec.accepts.includes(column.type)) {
    throw new RuleTypeError(`${call.name}() does not apply to a ${column.type} column (it takes ${spec.accepts.join(', ')})`);
  }
  return spec.build({ name: call.name, usage: spec.usage }, call.args, column, (inner) => buildOp(inner, column));
}
