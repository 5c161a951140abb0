// Test support: checks that the tables the migrations create are exactly what schema.prisma describes
// (tables, columns, types, nullability, enums), and round-trips one row with every field set through
// every model with Prisma. Generic over the schema, so models added later (the budget ledger's) are
// covered without changes here.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.js';
import type { AdminStore } from '../store.js';
import type { SqlQueryable } from '../types.js';
import { readSchema, type ParsedSchema, type SchemaField, type SchemaModel } from './schema-model.js';

interface ColumnRow {
  table_name: string;
  column_name: string;
  type: string;
  not_null: boolean;
}

/** Every difference between the database and schema.prisma, in words; empty when they agree. */
export async function schemaDifferences(sql: SqlQueryable, schema: ParsedSchema = readSchema()): Promise<string[]> {
  const { rows } = await sql.query<ColumnRow>(`
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'`);
  const differences: string[] = [];
  const tables = new Map<string, Map<string, ColumnRow>>();
  for (const row of rows) {
    if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
    tables.get(row.table_name)!.set(row.column_name, row);
  }
  const enumNames = new Map(schema.enums.map((e) => [e.name, e.dbName]));
  for (const model of schema.models) {
    const columns = tables.get(model.table);
    if (!columns) {
      differences.push(`model ${model.name}: table "${model.table}" does not exist`);
      continue;
    }
    for (const field of model.fields) {
      const column = columns.get(field.column);
      const where = `${model.name}.${field.name} ("${model.table}"."${field.column}")`;
      if (!column) {
        differences.push(`${where}: column does not exist`);
        continue;
      }
      const expected = expectedType(field, enumNames);
      if (column.type !== expected) differences.push(`${where}: column type is ${column.type}, schema says ${expected}`);
      if (column.not_null === field.optional) differences.push(`${where}: column is ${column.not_null ? 'NOT NULL' : 'nullable'}, schema says ${field.optional ? 'optional' : 'required'}`);
      columns.delete(field.column);
    }
    for (const extra of columns.keys()) differences.push(`table "${model.table}": column "${extra}" has no field in model ${model.name}`);
    tables.delete(model.table);
  }
  for (const table of tables.keys()) differences.push(`table "${table}" has no model in schema.prisma`);
  differences.push(...(await enumDifferences(sql, schema)));
  return differences;
}

async function enumDifferences(sql: SqlQueryable, schema: ParsedSchema): Promise<string[]> {
  const { rows } = await sql.query<{ name: string; labels: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' GROUP BY t.typname`);
  const inDb = new Map(rows.map((r) => [r.name, r.labels.join(',')]));
  const differences: string[] = [];
  for (const e of schema.enums) {
    const labels = inDb.get(e.dbName);
    if (labels === undefined) differences.push(`enum ${e.name}: type "${e.dbName}" does not exist`);
    else if (labels !== e.values.join(',')) differences.push(`enum ${e.name}: database has (${labels}), schema has (${e.values.join(',')})`);
    inDb.delete(e.dbName);
  }
  for (const name of inDb.keys()) differences.push(`enum type "${name}" has no enum in schema.prisma`);
  return differences;
}

const DEFAULT_TYPES: Record<string, string> = {
  String: 'text', Int: 'integer', BigInt: 'bigint', Float: 'double precision', Decimal: 'numeric(65,30)',
  Boolean: 'boolean', DateTime: 'timestamp(3) without time zone', Json: 'jsonb', Bytes: 'bytea',
};

function expectedType(field: SchemaField, enumNames: Map<string, string>): string {
  if (field.isEnum) return enumNames.get(field.type)!;
  if (!field.nativeType) return DEFAULT_TYPES[field.type]!;
  const [, name, args] = /^(\w+)(?:\(([^)]*)\))?$/.exec(field.nativeType)!;
  const a = args?.replace(/\s/g, '');
  switch (name) {
    case 'Timestamptz': return `timestamp(${a ?? 6}) with time zone`;
    case 'Timestamp': return `timestamp(${a ?? 6}) without time zone`;
    case 'Decimal': return a ? `numeric(${a})` : 'numeric';
    case 'DoublePrecision': return 'double precision';
    case 'Real': return 'real';
    case 'Integer': return 'integer';
    case 'SmallInt': return 'smallint';
    case 'BigInt': return 'bigint';
    case 'Text': return 'text';
    case 'VarChar': return a ? `character varying(${a})` : 'character varying';
    case 'Uuid': return 'uuid';
    case 'Date': return 'date';
    case 'JsonB': return 'jsonb';
    case 'Json': return 'json';
    default: return `(no mapping for @db.${field.nativeType} in test-support/agreement.ts)`;
  }
}

// ------------------------------------------------------------ round trip

interface ForeignKey {
  table: string;
  column: string;
  refTable: string;
  refColumn: string;
}

/**
 * Creates one row per model with every field set (parents first, following the foreign keys in the
 * database), reads it back by its id and returns the mismatches. A column restricted by `CHECK (col IN
 * (...))` gets its first allowed value, so check constraints need no per-table knowledge here.
 */
export async function roundTripDifferences(store: AdminStore, schema: ParsedSchema = readSchema()): Promise<string[]> {
  const foreignKeys = await readForeignKeys(store.sql);
  const allowed = await readAllowedValues(store.sql);
  const created = new Map<string, Record<string, unknown>>();
  const differences: string[] = [];
  for (const model of parentsFirst(schema.models, foreignKeys)) {
    const data = rowFor(model, schema, foreignKeys, allowed, created);
    const delegate = (store.prisma as unknown as Record<string, PrismaDelegate>)[delegateName(model.name)]!;
    const idField = model.fields.find((f) => f.isId);
    if (!idField) {
      differences.push(`model ${model.name}: no single @id field; round trip not checked`);
      continue;
    }
    const written = await delegate.create({ data });
    const read = await delegate.findUnique({ where: { [idField.name]: written[idField.name] } });
    created.set(model.table, Object.fromEntries(model.fields.map((f) => [f.column, written[f.name]])));
    for (const field of model.fields) {
      const sent = field.autoincrement ? written[field.name] : data[field.name];
      if (comparable(read?.[field.name]) !== comparable(sent)) {
        differences.push(`${model.name}.${field.name}: wrote ${comparable(sent)}, read back ${comparable(read?.[field.name])}`);
      }
    }
  }
  return differences;
}

interface PrismaDelegate {
  create(args: { data: Record<string, unknown> }): Promise<Record<string, unknown>>;
  findUnique(args: { where: Record<string, unknown> }): Promise<Record<string, unknown> | null>;
}

const delegateName = (model: string) => model[0]!.toLowerCase() + model.slice(1);

function rowFor(
  model: SchemaModel,
  schema: ParsedSchema,
  foreignKeys: ForeignKey[],
  allowed: Map<string, string[]>,
  created: Map<string, Record<string, unknown>>,
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of model.fields) {
    if (field.autoincrement) continue;
    const fk = foreignKeys.find((k) => k.table === model.table && k.column === field.column);
    const choices = allowed.get(`${model.table}.${field.column}`);
    if (fk) data[field.name] = created.get(fk.refTable)?.[fk.refColumn];
    else if (choices) data[field.name] = choices[0];
    else data[field.name] = sampleValue(field, schema);
  }
  return data;
}

function sampleValue(field: SchemaField, schema: ParsedSchema): unknown {
  if (field.isEnum) return schema.enums.find((e) => e.name === field.type)!.values.at(-1);
  switch (field.type) {
    case 'String': return field.isId ? randomUUID() : `value of ${field.name} — ünïcode ✓ ${randomUUID()}`;
    case 'Int': return 7;
    case 'BigInt': return 9007199254740993n; // above 2^53: proves no lossy number on the way
    case 'Float': return 0.375;
    case 'Decimal': return new Prisma.Decimal('0.123456789012345678901234');
    case 'Boolean': return true;
    case 'DateTime': return new Date('2026-03-04T05:06:07.089Z');
    case 'Json': return { text: 'a "quoted" value', list: [1, 2.5, null, true], nested: { empty: {} } };
    case 'Bytes': return new Uint8Array([0, 1, 127, 128, 255]);
    default: throw new Error(`no sample value for type ${field.type}`);
  }
}

/** A string that is equal for equal values whatever JS type the driver chose (Decimal, Buffer, Date…). */
function comparable(value: unknown): string {
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Prisma.Decimal.isDecimal(value)) return `decimal:${new Prisma.Decimal(value as Prisma.Decimal).toString()}`;
  if (typeof value === 'bigint') return `bigint:${value}`;
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

/** JSONB keeps no key order, so compare objects with their keys sorted. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function parentsFirst(models: SchemaModel[], foreignKeys: ForeignKey[]): SchemaModel[] {
  const ordered: SchemaModel[] = [];
  const placed = new Set<string>();
  const visit = (model: SchemaModel, path: Set<string>) => {
    if (placed.has(model.table) || path.has(model.table)) return;
    path.add(model.table);
    for (const fk of foreignKeys.filter((k) => k.table === model.table && k.refTable !== model.table)) {
      const parent = models.find((m) => m.table === fk.refTable);
      if (parent) visit(parent, path);
    }
    placed.add(model.table);
    ordered.push(model);
  };
  for (const model of models) visit(model, new Set());
  return ordered;
}

async function readForeignKeys(sql: SqlQueryable): Promise<ForeignKey[]> {
  const { rows } = await sql.query<ForeignKey>(`
    SELECT c.conrelid::regclass::text AS "table", a.attname AS "column", c.confrelid::regclass::text AS "refTable", af.attname AS "refColumn"
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
    WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`);
  return rows.map((r) => ({ ...r, table: unquote(r.table), refTable: unquote(r.refTable) }));
}

/** `table.column` → the values a `CHECK (column IN (...))` (shown by PostgreSQL as `= ANY (ARRAY[...])`) allows. */
async function readAllowedValues(sql: SqlQueryable): Promise<Map<string, string[]>> {
  const { rows } = await sql.query<{ table: string; definition: string }>(`
    SELECT c.conrelid::regclass::text AS "table", pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace`);
  const allowed = new Map<string, string[]>();
  for (const row of rows) {
    for (const match of row.definition.matchAll(/\(?"?(\w+)"?\)? = ANY \(\(?ARRAY\[([^\]]*)\]/g)) {
      const values = [...match[2]!.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
      allowed.set(`${unquote(row.table)}.${match[1]}`, values);
    }
  }
  return allowed;
}

const unquote = (name: string) => name.replace(/^"|"$/g, '');
