// Errors fit for analysts: a generic message and a safe `kind`. The engine's raw message (which may hold
// SQL text, paths or connection details) stays only in a non-enumerable `cause`, for server logs.

export type AdapterErrorKind =
  | 'invalid-source' // the source or its format cannot be used
  | 'path-not-allowed' // a file path outside the allowed roots
  | 'not-found' // file, table or connection secret missing
  | 'extension-unavailable' // DuckDB httpfs cannot be loaded (offline?)
  | 'connection-failed' // cannot reach or authenticate to the engine
  | 'invalid-parameter' // a bound parameter of an unsupported type
  | 'query-failed' // the engine rejected or failed the statement
  | 'timeout'
  | 'cancelled'
  | 'closed'; // the adapter was closed

export class AdapterError extends Error {
  declare readonly cause?: unknown;

  constructor(
    readonly kind: AdapterErrorKind,
    message: string,
    cause?: unknown,
  ) {
    super(message);
    this.name = 'AdapterError';
    // Non-enumerable: JSON.stringify / structured logging of the error never includes the raw engine text.
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: false, configurable: true });
  }
}

export class QueryTimeoutError extends AdapterError {
  constructor(readonly timeoutMs: number, cause?: unknown) {
    super('timeout', `the query did not finish within ${timeoutMs} ms and was stopped`, cause);
    this.name = 'QueryTimeoutError';
  }
}

export class QueryCancelledError extends AdapterError {
  constructor(cause?: unknown) {
    super('cancelled', 'the query was cancelled', cause);
    this.name = 'QueryCancelledError';
  }
}
