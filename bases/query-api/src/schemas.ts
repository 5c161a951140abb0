// Request shapes, checked with zod and reused for the OpenAPI document. Privacy parameters stay strings
// or numbers here; @veil/query-execution turns them into exact decimals.
import { z } from 'zod';

const decimal = z.union([z.number(), z.string().max(64)]);
const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, 'must be letters, digits, _ or -, starting with a letter or _, at most 63 characters');

export const queryBody = z.strictObject({
  sql: z.string().min(1, 'must not be empty').max(20_000, 'must be at most 20,000 characters'),
  epsilon: decimal.describe('ε to spend, e.g. 0.5'),
  delta: decimal.optional().describe('δ to spend; default 0'),
});

export const dummyQuery = z.strictObject({
  rows: z.coerce.number().int().min(1).max(10_000).default(10),
  seed: z.string().max(100).default('0'),
});

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.iso.datetime({ offset: true }).optional(),
});

export const adminQueriesQuery = pageQuery.extend({ user: name.optional(), dataset: name.optional() });

export const newUserBody = z.strictObject({ name, role: z.enum(['admin', 'analyst']) });

export const newKeyBody = z
  .strictObject({
    label: z.string().max(200).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .default({});

export const newDatasetBody = z.strictObject({
  name,
  description: z.string().max(2000).nullable().optional(),
  metadata: z.union([z.record(z.string(), z.unknown()), z.string().max(200_000)]).describe('metadata object, or YAML/JSON text'),
});

export const datasetChangesBody = z.strictObject({
  description: z.string().max(2000).nullable().optional(),
  metadata: z.union([z.record(z.string(), z.unknown()), z.string().max(200_000)]).optional(),
});

export const grantBody = z.strictObject({
  epsilon: decimal,
  delta: decimal.optional(),
  mode: z.enum(['zcdp', 'basic']).optional(),
});

export const nameParam = name;

/** Parses `input` with `schema`; a mismatch becomes a 422 with the issues (see errors.ts). */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  return schema.parse(input ?? undefined);
}
