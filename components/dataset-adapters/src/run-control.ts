// Timeout and cancellation for one statement: a timer and an AbortSignal listener that call the engine's
// own stop (DuckDB interrupt, PostgreSQL cancel) and remember why, so the failure maps to a typed error.
import { AdapterError, QueryCancelledError, QueryTimeoutError } from './errors.js';
import type { QueryOptions } from './types.js';

export const DEFAULT_TIMEOUT_MS = 60_000;

export function resolveTimeout(opts: QueryOptions | undefined, fallback: number | undefined): number {
  const timeoutMs = opts?.timeoutMs ?? fallback ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new AdapterError('invalid-parameter', `timeoutMs must be a positive whole number of milliseconds, got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

export class RunControl {
  private reason: 'timeout' | 'cancelled' | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private repeater: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.stop('cancelled');

  /**
   * `repeatStopMs`: keep calling `stopEngine` at this interval until disposed, for engines (DuckDB) whose
   * interrupt is lost when it lands before the statement has started executing.
   */
  constructor(
    readonly timeoutMs: number | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly stopEngine: () => void,
    private readonly repeatStopMs?: number,
  ) {
    if (signal?.aborted) throw new QueryCancelledError();
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => this.stop('timeout'), timeoutMs);
      this.timer.unref();
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get stopped(): boolean {
    return this.reason !== undefined;
  }

  private stop(reason: 'timeout' | 'cancelled'): void {
    if (this.reason) return;
    this.reason = reason;
    this.callStopEngine();
    if (this.repeatStopMs !== undefined) {
      this.repeater = setInterval(() => this.callStopEngine(), this.repeatStopMs);
      this.repeater.unref();
    }
  }

  private callStopEngine(): void {
    try {
      this.stopEngine();
    } catch {
      // The statement may just have finished; the reason alone decides the error.
    }
  }

  /** Throws the typed error when stopped (between stream batches). */
  throwIfStopped(): void {
    if (this.reason) throw this.error(undefined);
  }

  /** The error to surface for an engine failure: typed when we stopped it, generic otherwise. */
  error(cause: unknown): AdapterError {
    if (this.reason === 'timeout') return new QueryTimeoutError(this.timeoutMs ?? 0, cause);
    if (this.reason === 'cancelled') return new QueryCancelledError(cause);
    if (cause instanceof AdapterError) return cause;
    return new AdapterError('query-failed', 'the dataset engine could not run the query', cause);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.repeater);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

export function resolveBatchSize(batchSize: number | undefined): number {
  const size = batchSize ?? 10_000;
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new AdapterError('invalid-parameter', `batchSize must be a positive whole number, got ${String(size)}`);
  }
  return size;
}
