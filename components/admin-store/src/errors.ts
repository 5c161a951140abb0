// Errors the store raises on bad input or a state conflict, with a code a caller can map to HTTP.

export type StoreErrorCode =
  /** The named user, key, dataset or job does not exist. */
  | 'not_found'
  /** A unique name is taken, or a row is still referenced (e.g. deleting a dataset with archived queries). */
  | 'conflict'
  /** An argument is malformed (bad name, bad progress, bad metadata: then `details` holds the issues). */
  | 'invalid'
  /** The migrations on disk and in the database disagree (an applied migration was edited or removed). */
  | 'migration'
  /** The database cannot be reached or opened at start-up. */
  | 'unavailable';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
