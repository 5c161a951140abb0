// Errors of the query flow, each with a stable code and the HTTP status of DESIGN §7. Messages are fit
// for the analyst: they name the offending construct or parameter but never carry data values, SQL sent
// to an engine, paths or secrets.

export type QueryErrorCode =
  | 'bad_query' // 400: outside the DP SQL subset, or not valid SQL; details name the construct
  | 'invalid_request' // 422: a well-formed request with unusable values (ε ≤ 0, bad metadata…)
  | 'not_found' // 404: no such dataset, or no grant on it (the two are indistinguishable on purpose)
  | 'budget_exhausted' // 403: the remaining budget cannot cover the charge
  | 'idempotency_conflict' // 409: the Idempotency-Key was used for a different request
  | 'dataset_unavailable' // 503: the dataset's source cannot be opened (an owner-side problem)
  | 'query_failed' // 502: the engine failed the generated statement
  | 'timeout' // 504: the engine did not finish in time
  | 'cancelled' // 503: the worker shut down before the query ran
  | 'busy' // 503: too much contention on the ledger; retry
  | 'answer_lost'; // 500: charged, but the answer was lost (a worker died after the noise was drawn)

const STATUS: Record<QueryErrorCode, number> = {
  bad_query: 400,
  invalid_request: 422,
  not_found: 404,
  budget_exhausted: 403,
  idempotency_conflict: 409,
  dataset_unavailable: 503,
  query_failed: 502,
  timeout: 504,
  cancelled: 503,
  busy: 503,
  answer_lost: 500,
};

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class QueryError extends Error {
  readonly status: number;

  constructor(
    readonly code: QueryErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'QueryError';
    this.status = STATUS[code];
  }

  toBody(): ErrorBody {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }

  static fromBody(body: ErrorBody): QueryError {
    const code = (body.code in STATUS ? body.code : 'query_failed') as QueryErrorCode;
    return new QueryError(code, body.message, body.details);
  }
}

export function statusOf(code: string): number {
  return STATUS[code as QueryErrorCode] ?? 500;
}
