// Public interface of @veil/dp-sql: differentially private SQL over one dataset (DESIGN §3). See README.md.
//   plan(sql, metadata, { epsilon, delta }) → QueryPlan, or throws QueryRejectedError
//   estimate(plan) → the charge and 95% half-widths, before anything runs
//   run(plan, adapter, new CryptoRandom()) → Answer
export { plan, MAX_PUBLIC_GROUPS } from './plan.js';
export type { OutputType, QueryPlan } from './plan.js';
export { estimate } from './estimate.js';
export type { Estimate, ValueEstimate } from './estimate.js';
export { run } from './run.js';
export type { QueryEngine, RunOptions } from './run.js';
export type { Answer, Mechanism, ValueAccuracy } from './release.js';
export { QueryRejectedError } from './errors.js';
export type { RejectionCode } from './errors.js';
export type { QueryBudget } from './budget.js';
export { MAX_EPSILON } from './budget.js';
export { MAX_QUERY_LENGTH } from './parse.js';
