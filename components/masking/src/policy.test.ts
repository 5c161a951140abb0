import { describe, expect, it } from 'vitest';
import { compilePolicy, MaskingPolicyError } from './policy.js';
import { maskedQuery } from './masked-query.js';
import { MaskingKey } from './masking-key.js';
import { fixtureMetadata } from './test-engines.js';

function issues(input: unknown): { path: string; message: string }[] {
  try {
    compilePolicy(input, fixtureMetadata);
  } catch (error) {
    expect(error).toBeInstanceOf(MaskingPolicyError);
    return (error as MaskingPolicyError).issues;
  }
  throw new Error('expected the policy to be rejected');
}

describe('compilePolicy', () => {
  it('withholds every column without a rule unless it is public (privacy by default)', () => {
    const compiled = compilePolicy({ rules: { email: 'partial_email()' }, public: ['zip'] }, fixtureMetadata);
    expect(compiled.columns.map((c) => [c.name, c.rule])).toEqual([['email', 'partial_email()'], ['zip', null]]);
    expect(compiled.withheld).toEqual(['id', 'name', 'ssn', 'salary', 'age', 'birth', 'visited', 'active']);
    const query = maskedQuery(compiled, 'duckdb', MaskingKey.fromSecret('0123456789abcdef'));
    for (const withheld of compiled.withheld) expect(query.sql).not.toContain(`"${withheld}"`);
  });

  it('reports every problem with its column', () => {
    expect(issues({ rules: { nope: 'null', ssn: 'noise(0.1)', zip: 'null' }, public: ['zip', 'ghost'], quasi_identifiers: ['age', 'zip', 'zip'] })).toEqual([
      { path: 'rules.nope', message: 'no such column in the dataset' },
      { path: 'rules.zip', message: expect.stringMatching(/also listed as public/) },
      { path: 'public.ghost', message: 'no such column in the dataset' },
      { path: 'rules.ssn', message: expect.stringMatching(/noise\(\) does not apply to a string column/) },
      { path: 'quasi_identifiers', message: 'lists a column more than once' },
      { path: 'quasi_identifiers.age', message: expect.stringMatching(/withheld/) },
    ]);
  });

  it('validates the shape: plain column names, string rules, no extra keys', () => {
    expect(issues({ rules: { 'a"b': 'null' } })[0]!.message).toMatch(/column name must be a plain column name/);
    expect(issues({ rules: { ssn: 42 } })[0]!.path).toBe('rules.ssn');
    expect(issues({ rules: {}, secret: 'x' })[0]!.message).toMatch(/Unrecognized key/);
    expect(issues({ rules: {} })).toEqual([{ path: 'rules', message: 'the policy releases no column' }]);
    expect(issues({ rules: { ssn: `constant('${'x'.repeat(5000)}')` } })[0]!.message).toMatch(/at most 2000 characters/);
    expect(issues(null)[0]!.message).toMatch(/expected object/);
  });

  it('puts rule literals into bound parameters, never into the SQL text', () => {
    const hostile = "'); DROP TABLE dataset; --";
    const compiled = compilePolicy({
      rules: { name: `constant('${hostile.replaceAll("'", "''")}')`, ssn: `partial(1, '${hostile.replaceAll("'", "''")}', 1)`, zip: `ternary(eq('${hostile.replaceAll("'", "''")}'), null, keep())` },
    }, fixtureMetadata);
    for (const dialect of ['duckdb', 'postgres'] as const) {
      const query = maskedQuery(compiled, dialect, MaskingKey.fromSecret('0123456789abcdef'));
      expect(query.sql).not.toContain('DROP');
      expect(query.params.filter((p) => p === hostile)).toHaveLength(3);
    }
  });

  it('reports syntax errors per column', () => {
    expect(issues({ rules: { ssn: "partial(3, '***', 2" } })).toEqual([{ path: 'rules.ssn', message: expect.stringMatching(/expected '\)'/) }]);
  });

  it('keeps the validated policy for storing and showing back', () => {
    const input = { rules: { ssn: "partial(3, '*****', 2)" }, public: ['id'], quasi_identifiers: ['id'] };
    expect(compilePolicy(input, fixtureMetadata).policy).toEqual(input);
  });
});
