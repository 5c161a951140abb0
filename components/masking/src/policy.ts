// A masking policy (per dataset and role): a rule per column, columns listed as public pass through, every
// other column is withheld — privacy by default. Compiling parses and type-checks every rule against the
// dataset metadata, so a bad policy is refused when it is set, not when an export runs.
import { z } from 'zod';
import type { DatasetMetadata } from '@veil/dataset-metadata';
import { RULE_LIMITS, RuleSyntaxError, parseRule } from './rule-parser.js';
import { RuleTypeError, buildOp, type MaskOp } from './functions.js';
import type { OutputType, ValueType } from './values.js';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain column name');
const MAX_COLUMNS = 2000;

export const maskingPolicySchema = z.strictObject({
  /** Column → rule written as text, e.g. "partial(3, '*****', 2)". */
  rules: z.record(identifier, z.string().max(RULE_LIMITS.maxRuleLength, `rule must be at most ${RULE_LIMITS.maxRuleLength} characters`))
    .refine((r) => Object.keys(r).length <= MAX_COLUMNS, `at most ${MAX_COLUMNS} rules`),
  /** Columns released unmasked. */
  public: z.array(identifier).max(MAX_COLUMNS).optional(),
  /** Columns of the masked output over which k-anonymity is measured. */
  quasi_identifiers: z.array(identifier).max(64).optional(),
});

export type MaskingPolicy = z.infer<typeof maskingPolicySchema>;

export interface CompiledColumn {
  name: string;
  /** The column's type in the dataset. */
  sourceType: ValueType;
  /** The type of the masked values ('string' for a column masked to null()). */
  outputType: Exclude<OutputType, 'null'>;
  /** The rule as written, or null for a public column. */
  rule: string | null;
  op: MaskOp;
}

export interface CompiledPolicy {
  /** The policy as validated (safe to store and to show back to an admin: it holds no secret). */
  policy: MaskingPolicy;
  /** Output columns, in metadata order. */
  columns: CompiledColumn[];
  /** Columns that are not released at all. */
  withheld: string[];
  quasiIdentifiers: string[];
}

export interface PolicyIssue {
  path: string;
  message: string;
}

/** A policy that cannot be used; each issue names the column and what is wrong. */
export class MaskingPolicyError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    super(`invalid masking policy: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'MaskingPolicyError';
  }
}

function validate(input: unknown): MaskingPolicy {
  const result = maskingPolicySchema.safeParse(input);
  if (result.success) return result.data;
  throw new MaskingPolicyError(result.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.code === 'invalid_key' ? `column name ${i.issues.map((inner) => inner.message).join('; ')}` : i.message,
  })));
}

/** Validates, parses and type-checks a policy against the dataset's metadata. */
export function compilePolicy(input: unknown, metadata: DatasetMetadata): CompiledPolicy {
  const policy = validate(input);
  const issues: PolicyIssue[] = [];
  const publicColumns = new Set(policy.public ?? []);
  const known = (name: string): boolean => Object.hasOwn(metadata.columns, name);

  for (const name of Object.keys(policy.rules)) {
    if (!known(name)) issues.push({ path: `rules.${name}`, message: 'no such column in the dataset' });
    if (publicColumns.has(name)) issues.push({ path: `rules.${name}`, message: 'the column is also listed as public; give it a rule or make it public, not both' });
  }
  for (const name of policy.public ?? []) if (!known(name)) issues.push({ path: `public.${name}`, message: 'no such column in the dataset' });
  if (publicColumns.size !== (policy.public ?? []).length) issues.push({ path: 'public', message: 'lists a column more than once' });

  const columns: CompiledColumn[] = [];
  const withheld: string[] = [];
  for (const [name, meta] of Object.entries(metadata.columns)) {
    const rule = Object.hasOwn(policy.rules, name) ? policy.rules[name]! : undefined;
    if (rule === undefined && !publicColumns.has(name)) {
      withheld.push(name);
      continue;
    }
    try {
      const op = buildOp(parseRule(rule ?? 'keep()'), { name, type: meta.type });
      columns.push({ name, sourceType: meta.type, outputType: op.outputType === 'null' ? 'string' : op.outputType, rule: rule ?? null, op });
    } catch (error) {
      if (!(error instanceof RuleSyntaxError || error instanceof RuleTypeError)) throw error;
      issues.push({ path: `rules.${name}`, message: error.message });
    }
  }

  const released = new Set(columns.map((c) => c.name));
  const quasi = policy.quasi_identifiers ?? [];
  if (new Set(quasi).size !== quasi.length) issues.push({ path: 'quasi_identifiers', message: 'lists a column more than once' });
  for (const name of quasi) {
    if (!released.has(name) && !issues.some((i) => i.path === `rules.${name}`)) {
      issues.push({ path: `quasi_identifiers.${name}`, message: known(name) ? 'the column is withheld; a quasi-identifier must be released (give it a rule or make it public)' : 'no such column in the dataset' });
    }
  }
  if (issues.length === 0 && columns.length === 0) issues.push({ path: 'rules', message: 'the policy releases no column' });
  if (issues.length) throw new MaskingPolicyError(issues);
  return { policy, columns, withheld, quasiIdentifiers: quasi };
}
