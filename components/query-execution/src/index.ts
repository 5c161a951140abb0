// Public interface of @veil/query-execution: the query protocol shared by the API and the worker
// (plan → reserve → run → commit or release → archive), its errors, and the adapter pool.
export { QueryFlow, QUERY_JOB_KIND } from './query-flow.js';
export type { Admission, AdmitOptions, Estimate, QueryAnswer, QueryFlowDeps, QueryJobHint, QueryJobParams } from './query-flow.js';
export { AdapterPool } from './adapter-pool.js';
export { QueryError, statusOf } from './errors.js';
export type { ErrorBody, QueryErrorCode } from './errors.js';
export { privacyRequest, IDEMPOTENCY_KEY } from './request.js';
export type { BudgetLedgerPort, BudgetView, DpAnswer, HeldReservation, PlannedQuery, PrivacyRequest, QueryPlanner, ReservationState } from './ports.js';
export { ledgerPort } from './ledger-binding.js';
export { openQueryRuntime } from './runtime.js';
export type { QueryRuntime } from './runtime.js';
export { dpSqlPlanner } from './planner-binding.js';
export { SyntheticFlow, SYNTHETIC_JOB_KIND, SYNTHETIC_FILE_BASE, derivedDatasetName, synthesisProgressFraction } from './synthetic-flow.js';
export type { SyntheticFlowDeps, SyntheticJobParams, SyntheticRequest, SyntheticResult } from './synthetic-flow.js';
export { MaskingFlow, MASKED_EXPORT_JOB_KIND, MASKED_FILE_BASE } from './masking-flow.js';
export type { MaskedExportParams, MaskedExportResult, MaskedSampleResult, MaskingFlowDeps, MaskingPolicyView } from './masking-flow.js';
export { DerivedQueries, FREE } from './derived-queries.js';
export type { DerivedAnswer, DerivedQueriesDeps } from './derived-queries.js';
export { loadMaskingKey, MaskingConfigError, MASKING_SECRET_FILE } from './masking-secret.js';
export { jobResultDir, resultFile, writeRowFiles, RESULT_FORMATS } from './result-files.js';
export type { ResultFormat } from './result-files.js';
export { openPrivacyTools } from './privacy-tools.js';
export type { PrivacyTools } from './privacy-tools.js';
