// Normalising what an analyst asks for: privacy parameters as exact decimal strings, a fingerprint that
// says whether two requests are the same (for Idempotency-Key), and the job id a key maps to.
import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { QueryError } from './errors.js';
import type { PrivacyRequest } from './ports.js';

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Reads ε (> 0) and δ (0 ≤ δ < 1) given as JSON numbers or decimal strings, exactly. */
export function privacyRequest(epsilon: unknown, delta: unknown): PrivacyRequest {
  const eps = exactDecimal(epsilon, 'epsilon');
  const del = delta === undefined || delta === null ? new Decimal(0) : exactDecimal(delta, 'delta');
  if (!eps.greaterThan(0)) throw new QueryError('invalid_request', 'epsilon must be above 0');
  if (eps.greaterThan(100)) throw new QueryError('invalid_request', 'epsilon must be at most 100');
  if (del.greaterThanOrEqualTo(1)) throw new QueryError('invalid_request', 'delta must be below 1');
  return { epsilon: eps.toString(), delta: del.toString() };
}

function exactDecimal(value: unknown, name: string): Decimal {
  // A JSON number's shortest decimal form (what the analyst typed, e.g. 0.1) is the value meant.
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !DECIMAL.test(text)) {
    throw new QueryError('invalid_request', `${name} must be a non-negative decimal number, e.g. 0.5 or "1e-6"`);
  }
  return new Decimal(text);
}

/** Same dataset, SQL and privacy parameters: the same request. */
export function requestFingerprint(datasetId: string, sql: string, privacy: PrivacyRequest): string {
  return createHash('sha256').update(JSON.stringify([datasetId, sql, privacy.epsilon, privacy.delta])).digest('hex');
}

/** The job id an Idempotency-Key maps to for one user: a UUID-shaped digest, so a retry finds the first job. */
export function jobIdForKey(userId: string, key: string): string {
  const hex = createHash('sha256').update(`${userId}\u0000${key}`).digest('hex');
  // Version 8 (custom) and the RFC 4122 variant, so the id is a well-formed UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;
