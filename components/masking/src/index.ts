// Public interface of @veil/masking: masking policies per dataset and role (PostgreSQL Anonymizer-style
// functions written as text, parsed and type-checked, never pasted into SQL), masked samples and exports
// (SQL push-down where possible, TypeScript otherwise), and k-anonymity reports. See README.md.
export { parseRule, RuleSyntaxError, RULE_LIMITS } from './rule-parser.js';
export type { Arg, Call, Literal } from './rule-parser.js';
export { maskingFunctions, RuleTypeError } from './functions.js';
export type { Dialect, EvalEnv, MaskOp, QueryParam } from './functions.js';
export { compilePolicy, maskingPolicySchema, MaskingPolicyError } from './policy.js';
export type { CompiledColumn, CompiledPolicy, MaskingPolicy, PolicyIssue } from './policy.js';
export { MaskingKey, MaskingKeyError } from './masking-key.js';
export { maskedQuery, createEvalEnv, applyPostProcessors } from './masked-query.js';
export type { ExecutionMode, MaskedQuery, MaskedQueryOptions, PostProcessor } from './masked-query.js';
export { maskedSample, runMaskedExport, MaskingExecutionError, MAX_SAMPLE_ROWS, MAX_K } from './masked-export.js';
export type { ExportFormat, MaskedExportOptions, MaskedExportResult, MaskedRows, MaskedSampleOptions } from './masked-export.js';
export { kAnonymityReport, enforceKAnonymity } from './k-anonymity.js';
export type { GroupSizeBucket, KAnonymityReport } from './k-anonymity.js';
export type { UniformSource } from './random.js';
