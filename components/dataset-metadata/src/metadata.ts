// The per-dataset metadata of DESIGN §3: where the data lives, the privacy unit, and each column's type,
// bounds and categories. Bounds and categories are what sensitivities follow from, so they are validated
// strictly; the same keys are accepted in YAML and JSON.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Column names end up quoted in generated SQL; keeping them plain identifiers keeps that trivial. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain identifier: letters, digits and _, at most 63 characters, not starting with a digit');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'is not a valid calendar date');
const isoTimestamp = z.string()
  .regex(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/, 'must be an ISO 8601 timestamp')
  .refine((s) => !Number.isNaN(Date.parse(s.replace(' ', 'T'))), 'is not a valid timestamp');

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const intColumn = z.strictObject({
  type: z.literal('int'),
  lower: finite.refine(Number.isSafeInteger, 'must be an integer').optional(),
  upper: finite.refine(Number.isSafeInteger, 'must be an integer').optional(),
  categories: z.array(z.number().refine(Number.isSafeInteger, 'must be an integer')).min(1).optional(),
  nullable: z.boolean().optional(),
});
const floatColumn = z.strictObject({
  type: z.literal('float'),
  lower: finite.optional(),
  upper: finite.optional(),
  nullable: z.boolean().optional(),
});
const stringColumn = z.strictObject({
  type: z.literal('string'),
  categories: z.array(z.string().max(1000)).min(1).optional(),
  nullable: z.boolean().optional(),
});
const boolColumn = z.strictObject({ type: z.literal('bool'), nullable: z.boolean().optional() });
const dateColumn = z.strictObject({
  type: z.literal('date'),
  lower: isoDate.optional(),
  upper: isoDate.optional(),
  nullable: z.boolean().optional(),
});
const timestampColumn = z.strictObject({
  type: z.literal('timestamp'),
  lower: isoTimestamp.optional(),
  upper: isoTimestamp.optional(),
  nullable: z.boolean().optional(),
});

const columnSchema = z.discriminatedUnion('type', [intColumn, floatColumn, stringColumn, boolColumn, dateColumn, timestampColumn]);

const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1), format: z.enum(['csv', 'parquet', 'json']).optional() }),
  z.strictObject({ kind: z.literal('http'), url: z.url({ protocol: /^https?$/ }), format: z.enum(['csv', 'parquet', 'json']).optional() }),
  z.strictObject({ kind: z.literal('s3'), url: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must look like s3://bucket/key'), format: z.enum(['csv', 'parquet', 'json']).optional() }),
  z.strictObject({
    kind: z.literal('postgres'),
    /** Name of a server-side secret holding the connection string; never the connection string itself. */
    connection: identifier,
    table: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be table or schema.table'),
  }),
]);

const privacyUnitSchema = z.strictObject({
  column: identifier,
  max_rows: z.number().int().positive().max(1_000_000),
  max_groups: z.number().int().positive().max(1_000_000),
});

export const metadataSchema = z
  .strictObject({
    source: sourceSchema,
    privacy_unit: privacyUnitSchema.optional(),
    rows: z.number().int().nonnegative().optional(),
    columns: z.record(identifier, columnSchema).refine((c) => Object.keys(c).length > 0, 'must declare at least one column'),
  })
  .superRefine((meta, ctx) => {
    for (const [name, column] of Object.entries(meta.columns)) {
      const path = ['columns', name];
      if ('lower' in column && 'upper' in column && column.lower !== undefined && column.upper !== undefined) {
        if (compareBound(column.type, column.lower, column.upper) > 0) {
          ctx.addIssue({ code: 'custom', path: [...path, 'lower'], message: `lower (${column.lower}) is above upper (${column.upper})` });
        }
      }
      if ('categories' in column && column.categories) {
        const values = column.categories as (string | number)[];
        if (new Set(values).size !== values.length) {
          ctx.addIssue({ code: 'custom', path: [...path, 'categories'], message: 'categories must be distinct' });
        }
      }
    }
    const unit = meta.privacy_unit;
    if (unit && !(unit.column in meta.columns)) {
      ctx.addIssue({ code: 'custom', path: ['privacy_unit', 'column'], message: `column "${unit.column}" is not declared in columns` });
    }
  });

function compareBound(type: string, a: number | string, b: number | string): number {
  if (type === 'int' || type === 'float') return (a as number) - (b as number);
  return Date.parse(String(a).replace(' ', 'T')) - Date.parse(String(b).replace(' ', 'T'));
}

export type DatasetMetadata = z.infer<typeof metadataSchema>;
export type ColumnMetadata = z.infer<typeof columnSchema>;
export type ColumnType = ColumnMetadata['type'];
export type DatasetSource = z.infer<typeof sourceSchema>;
export type PrivacyUnit = z.infer<typeof privacyUnitSchema>;

/** Metadata that failed validation; `issues` say what is wrong where, in words fit for the owner. */
export class MetadataError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid dataset metadata: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'MetadataError';
  }
}

/** Validates metadata given as an object (parsed JSON, a request body). */
export function validateMetadata(input: unknown): DatasetMetadata {
  const result = metadataSchema.safeParse(input);
  if (result.success) return result.data;
  throw new MetadataError(result.error.issues.map((i) => ({ path: i.path.join('.'), message: describeIssue(i) })));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A bad record key (a column name) carries the reason in a nested issue.
  if (issue.code === 'invalid_key') return `name ${issue.issues.map((inner) => inner.message).join('; ')}`;
  return issue.message;
}

/** Parses and validates metadata written as YAML or JSON (JSON is YAML). */
export function parseMetadata(text: string): DatasetMetadata {
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { maxAliasCount: 100, prettyErrors: false });
  } catch (error) {
    throw new MetadataError([{ path: '', message: `not valid YAML or JSON (${(error as Error).message.split('\n')[0]})` }]);
  }
  return validateMetadata(parsed);
}

/** Whether a column's value domain is public: declared categories or a bool. */
export function hasPublicDomain(column: ColumnMetadata): boolean {
  return column.type === 'bool' || ('categories' in column && column.categories !== undefined);
}

/** Whether a column has both bounds declared, which numeric aggregates over it need. */
export function isBounded(column: ColumnMetadata): boolean {
  return 'lower' in column && column.lower !== undefined && 'upper' in column && column.upper !== undefined;
}
