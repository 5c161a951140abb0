// Typed rejections the HTTP layer maps to 400 with the offending construct. Messages are built from fixed
// phrases, metadata names and short excerpts of the analyst's own text: never engine SQL, never data.

export type RejectionCode =
  | 'syntax_error' // the parser does not understand the text
  | 'too_large' // the text or a literal exceeds a limit
  | 'unsupported_statement' // not a single SELECT
  | 'unsupported_construct' // a construct outside the DP subset (join, subquery, window…)
  | 'unknown_column'
  | 'unknown_function'
  | 'type_mismatch'
  | 'unbounded_column' // a numeric aggregate over a column without declared bounds
  | 'aggregate_of_aggregate'
  | 'not_grouped' // a selected column that is neither grouped nor aggregated
  | 'no_aggregate' // a query that releases no aggregate
  | 'private_keys_need_delta' // group keys without a public domain and δ = 0
  | 'invalid_budget'; // ε or δ out of range

/** A query Veil will not run, with the construct named so the analyst can fix it. */
export class QueryRejectedError extends Error {
  constructor(
    readonly code: RejectionCode,
    /** The construct at fault in a few words: "JOIN", "window function", "column \"age\"". */
    readonly construct: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryRejectedError';
  }
}

export function reject(code: RejectionCode, construct: string, message: string): never {
  throw new QueryRejectedError(code, construct, message);
}

/** A short, printable excerpt of analyst text for messages (the analyst wrote it; it is not private). */
export function excerpt(text: string, max = 40): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
