// Request shapes of the synthetic-data and masking routes, checked with zod (422 naming the field).
import { z } from 'zod';

const decimal = z.union([z.number(), z.string().max(64)]);
const columnName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain column name');
export const roleName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, 'must be letters, digits, _ or -, starting with a letter or _, at most 63 characters');

export const syntheticBody = z.strictObject({
  epsilon: decimal.describe('ε to spend, e.g. 1'),
  delta: decimal.describe('δ to spend, e.g. "1e-9" (MST needs δ > 0)'),
  rows: z.number().int().min(1).max(10_000_000).optional().describe('rows to generate; default the noisy row count'),
  method: z.literal('mst').default('mst'),
  columns: z.array(columnName).min(1).max(200).optional().describe('columns to synthesise; default all but the privacy unit'),
});

export const maskingPolicyBody = z.strictObject({
  rules: z.record(z.string(), z.string()).describe("column → rule, e.g. { \"email\": \"partial_email()\" }"),
  public: z.array(z.string()).optional().describe('columns released unmasked'),
  quasi_identifiers: z.array(z.string()).optional().describe('columns of the masked output for the k-anonymity report'),
});

export const userRolesBody = z.strictObject({ roles: z.array(roleName).max(100) });

export const maskedSampleQuery = z.strictObject({
  rows: z.coerce.number().int().min(1).max(10_000).default(20),
  role: roleName.optional(),
});

export const maskedExportBody = z.strictObject({
  format: z.enum(['csv', 'parquet']),
  k: z.number().int().min(1).max(1_000_000).optional().describe('required k-anonymity over the policy’s quasi-identifiers; smaller groups are suppressed'),
  role: roleName.optional().describe('which of your roles to use, when several have a policy on the dataset'),
});

export const resultQuery = z.strictObject({ format: z.enum(['csv', 'parquet']) });
