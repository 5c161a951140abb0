// The fingerprint of a request: SHA-256 of its canonical JSON (object keys sorted), so the same request
// hashes the same whatever order its fields were written in.
import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(record[k])]),
    );
  }
  return value;
}

/** Hex SHA-256 of the canonical JSON of `request`. */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(request)) ?? 'undefined').digest('hex');
}
