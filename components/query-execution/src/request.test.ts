import { describe, expect, it } from 'vitest';
import { privacyRequest, QueryError } from './index.js';
import { jobIdForKey, requestFingerprint } from './request.js';

describe('privacyRequest', () => {
  it('keeps the decimal the analyst wrote, exactly', () => {
    expect(privacyRequest(0.1, undefined)).toEqual({ epsilon: '0.1', delta: '0' });
    expect(privacyRequest('0.30000000000000000001', '1e-9')).toEqual({ epsilon: '0.30000000000000000001', delta: '1e-9' });
  });

  it('refuses what is not a usable ε or δ, naming it', () => {
    for (const [epsilon, delta, pattern] of [
      [0, undefined, /epsilon must be above 0/],
      [-1, undefined, /epsilon must be a non-negative decimal/],
      ['lots', undefined, /epsilon must be/],
      [Number.NaN, undefined, /epsilon must be/],
      [1000, undefined, /epsilon must be at most 100/],
      [1, 1, /delta must be below 1/],
      [1, '0x10', /delta must be/],
    ] as const) {
      let error: unknown;
      try {
        privacyRequest(epsilon, delta);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QueryError);
      expect((error as QueryError).status).toBe(422);
      expect((error as Error).message).toMatch(pattern);
    }
  });
});

describe('idempotency', () => {
  it('maps a key to the same UUID per user, and different users to different ones', () => {
    const id = jobIdForKey('user-1', 'key-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobIdForKey('user-1', 'key-1')).toBe(id);
    expect(jobIdForKey('user-2', 'key-1')).not.toBe(id);
  });

  it('fingerprints the dataset, SQL and privacy parameters', () => {
    const a = requestFingerprint('d', 'SELECT 1', { epsilon: '1', delta: '0' });
    expect(requestFingerprint('d', 'SELECT 1', { epsilon: '1', delta: '0' })).toBe(a);
    expect(requestFingerprint('d', 'SELECT 1', { epsilon: '1.0', delta: '0' })).not.toBe(a);
    expect(requestFingerprint('e', 'SELECT 1', { epsilon: '1', delta: '0' })).not.toBe(a);
  });
});
