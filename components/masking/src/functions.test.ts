// Each function's behaviour in TypeScript (the SQL versions are compared with these in engines.test.ts),
// and its type errors, which a policy reports when it is set.
import { describe, expect, it } from 'vitest';
import { validateMetadata } from '@veil/dataset-metadata';
import { compilePolicy, MaskingPolicyError } from './policy.js';
import { MaskingKey } from './masking-key.js';
import { createEvalEnv } from './masked-query.js';
import { maskingFunctions } from './functions.js';

const metadata = validateMetadata({
  source: { kind: 'file', path: '/x.parquet' },
  columns: {
    s: { type: 'string' },
    i: { type: 'int' },
    f: { type: 'float' },
    b: { type: 'bool' },
    d: { type: 'date' },
    t: { type: 'timestamp' },
  },
});
const key = MaskingKey.fromSecret('unit-test secret of some length');

/** Compiles `rule` for `column` and applies it to each value in TypeScript. */
function mask(column: string, rule: string, values: unknown[], k = key): unknown[] {
  const compiled = compilePolicy({ rules: { [column]: rule } }, metadata);
  const env = createEvalEnv(k);
  return values.map((v) => compiled.columns[0]!.op.evaluate(v, env));
}

function typeError(column: string, rule: string): string {
  try {
    compilePolicy({ rules: { [column]: rule } }, metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(MaskingPolicyError);
    const issues = (error as MaskingPolicyError).issues;
    expect(issues[0]!.path).toBe(`rules.${column}`);
    return issues[0]!.message;
  }
  throw new Error(`expected ${rule} on ${column} to be rejected`);
}

describe('destruction', () => {
  it('null and constant replace every value, NULL included', () => {
    expect(mask('s', 'null', ['a', null])).toEqual([null, null]);
    expect(mask('i', "constant('REDACTED')", [1, null])).toEqual(['REDACTED', 'REDACTED']);
    expect(mask('s', 'constant(0)', ['x'])).toEqual([0]);
    expect(compilePolicy({ rules: { i: 'constant(1.5)' } }, metadata).columns[0]!.outputType).toBe('float');
    expect(compilePolicy({ rules: { i: 'null' } }, metadata).columns[0]!.outputType).toBe('string');
  });
});

describe('partial scrambling', () => {
  it('partial keeps a prefix and a suffix around the padding, by characters', () => {
    expect(mask('s', "partial(3, '*****', 2)", ['123-45-6789', 'abcdef', 'abc', null, 'a😀bcdefg😀'])).toEqual(['123*****89', 'abc*****ef', '*****', null, 'a😀b*****g😀']);
    expect(mask('s', "partial(0, 'X', 0)", ['secret'])).toEqual(['X']);
  });

  it('partial_email keeps two characters of the user and the domain, and the top-level domain', () => {
    expect(mask('s', 'partial_email()', ['daamien@gmail.com', 'a@b', 'no-at-sign', 'x.y@mail.example.co.uk', null]))
      .toEqual(['da******@gm******.com', 'a******@b******', '******', 'x.******@ma******.uk', null]);
  });

  it('rejects bad arguments and non-string columns', () => {
    expect(typeError('i', "partial(1, '*', 1)")).toMatch(/does not apply to a int column/);
    expect(typeError('s', "partial(1, '*')")).toMatch(/takes 3 arguments/);
    expect(typeError('s', "partial('1', '*', 1)")).toMatch(/prefix must be an integer/);
    expect(typeError('s', 'partial(1, 2, 1)')).toMatch(/padding must be a string/);
    expect(typeError('s', "partial(1000000000, '*', 1)")).toMatch(/between 0 and 1000/);
    expect(typeError('s', "partial(-1, '*', 1)")).toMatch(/between 0 and 1000/);
    expect(typeError('s', 'partial_email(1)')).toMatch(/takes 0 arguments/);
  });
});

describe('keyed hashing and pseudonyms', () => {
  const other = MaskingKey.fromSecret('a different secret, also long');

  it('hash is HMAC-SHA256 under the key derived from the secret: stable per secret, different across secrets', () => {
    const [a, b, n] = mask('s', 'hash()', ['alice', 'bob', null]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(n).toBeNull();
    expect(mask('s', 'hash()', ['alice'])[0]).toBe(a);
    expect(mask('s', 'hash()', ['alice'], other)[0]).not.toBe(a);
    expect(mask('s', 'hash(8)', ['alice'])[0]).toBe((a as string).slice(0, 8));
  });

  it('hashes ints, bools and dates by their canonical text', () => {
    expect(mask('i', 'hash()', [42])[0]).toBe(mask('s', 'hash()', ['42'])[0]);
    expect(mask('i', 'hash()', [42n])[0]).toBe(mask('s', 'hash()', ['42'])[0]);
    expect(mask('b', 'hash()', [true])[0]).toBe(mask('s', 'hash()', ['true'])[0]);
    expect(mask('d', 'hash()', ['2020-01-02'])[0]).toBe(mask('s', 'hash()', ['2020-01-02'])[0]);
  });

  it('pseudonyms are realistic and stable per value and secret', () => {
    const names = mask('s', 'pseudo_last_name()', ['alice', 'bob', 'alice', null]);
    expect(names[0]).toBe(names[2]);
    expect(names[3]).toBeNull();
    expect(names[0]).toMatch(/^[\p{L}' -]+$/u);
    expect(mask('s', 'pseudo_last_name()', ['alice'])[0]).toBe(names[0]);
    const many = mask('s', 'pseudo_email()', Array.from({ length: 50 }, (_, i) => `person${i}`));
    expect(many.every((e) => /^[^@\s]+@[^@\s]+\.[a-z]+$/.test(String(e)))).toBe(true);
    const other50 = Array.from({ length: 50 }, (_, i) => `person${i}`).map((v) => mask('s', 'pseudo_email()', [v], other)[0]);
    expect(other50.filter((e, i) => e === many[i]).length).toBeLessThan(3);
    expect(mask('s', "pseudo_city('de')", ['x'])[0]).toBe(mask('s', "pseudo_city('de')", ['x'])[0]);
  });

  it('rejects floats, timestamps, bad lengths and unknown locales', () => {
    expect(typeError('f', 'hash()')).toMatch(/does not apply to a float column/);
    expect(typeError('t', 'pseudo_first_name()')).toMatch(/does not apply to a timestamp column/);
    expect(typeError('s', 'hash(4)')).toMatch(/between 8 and 64/);
    expect(typeError('s', "pseudo_last_name('xx_YY')")).toMatch(/unknown locale/);
    expect(typeError('s', "pseudo_last_name('base')")).toMatch(/unknown locale/);
  });
});

describe('fake values', () => {
  it('fake_* give realistic random values, locale-aware, NULL kept', () => {
    const values = mask('s', 'fake_first_name()', Array.from({ length: 40 }, () => 'x'));
    expect(values.every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(5);
    expect(mask('i', "fake_city('fr')", [null])).toEqual([null]);
    expect(typeError('s', "fake_company('zz')")).toMatch(/unknown locale/);
  });
});

describe('randomisation', () => {
  it('random_int, random_float, random_date and random_in stay within bounds', () => {
    const ints = mask('i', 'random_int(-3, 3)', Array.from({ length: 400 }, () => 1));
    expect(new Set(ints)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    const floats = mask('f', 'random_float(1.5, 2)', Array.from({ length: 200 }, () => 0)) as number[];
    expect(floats.every((x) => x >= 1.5 && x < 2)).toBe(true);
    const dates = mask('d', "random_date('2020-02-27', '2020-03-01')", Array.from({ length: 200 }, () => '2000-01-01'));
    expect(new Set(dates)).toEqual(new Set(['2020-02-27', '2020-02-28', '2020-02-29', '2020-03-01']));
    expect(new Set(mask('s', "random_in('a', 'b')", Array.from({ length: 100 }, () => 'z')))).toEqual(new Set(['a', 'b']));
    expect(mask('i', 'random_int(1, 2)', [null])).toEqual([null]);
  });

  it('rejects inverted, huge or mistyped bounds', () => {
    expect(typeError('i', 'random_int(5, 1)')).toMatch(/lower bound is above/);
    expect(typeError('i', 'random_int(0, 1e15)')).toMatch(/2\^48/);
    expect(typeError('i', 'random_int(0.5, 1)')).toMatch(/must be an integer/);
    expect(typeError('d', "random_date('2020-02-30', '2020-03-01')")).toMatch(/YYYY-MM-DD/);
    expect(typeError('i', "random_in('a')")).toMatch(/must be an integer for a int column/);
    expect(typeError('s', 'random_float(0, 1)')).toMatch(/does not apply/);
  });
});

describe('noise', () => {
  it('noise(ratio) keeps numbers within ±ratio and integers integral', () => {
    const xs = mask('i', 'noise(0.1)', Array.from({ length: 300 }, () => 1000)) as number[];
    expect(xs.every((x) => Number.isInteger(x) && x >= 900 && x <= 1100)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(20);
    const fs = mask('f', 'noise(0.5)', Array.from({ length: 100 }, () => 10)) as number[];
    expect(fs.every((x) => x >= 5 && x <= 15)).toBe(true);
  });

  it('dnoise(interval) moves dates by whole days and timestamps by seconds within the interval', () => {
    const days = mask('d', "dnoise('2 days')", Array.from({ length: 200 }, () => '2020-03-01'));
    expect(new Set(days)).toEqual(new Set(['2020-02-28', '2020-02-29', '2020-03-01', '2020-03-02', '2020-03-03']));
    const ts = mask('t', "dnoise('1 hour')", Array.from({ length: 100 }, () => '2020-03-01T12:00:00.250000')) as string[];
    for (const t of ts) expect(Math.abs(Date.parse(`${t}Z`) - Date.parse('2020-03-01T12:00:00.250Z'))).toBeLessThanOrEqual(3_600_000);
    expect(ts.every((t) => t.endsWith('.250000'))).toBe(true);
  });

  it('rejects noise on non-numbers and malformed intervals', () => {
    expect(typeError('s', 'noise(0.1)')).toMatch(/does not apply to a string column/);
    expect(typeError('i', 'noise(0)')).toMatch(/above 0/);
    expect(typeError('i', 'noise(1e9)')).toMatch(/at most 100/);
    expect(typeError('i', "dnoise('1 day')")).toMatch(/does not apply to a int column/);
    expect(typeError('d', "dnoise('3 hours')")).toMatch(/whole days/);
    expect(typeError('t', "dnoise('1 fortnight')")).toMatch(/interval must look like/);
    expect(typeError('t', "dnoise('1 day; DROP TABLE x')")).toMatch(/interval must look like/);
  });
});

describe('generalisation', () => {
  it('numbers go to the start of their range, or to its text', () => {
    expect(mask('i', 'generalize(10)', [0, 9, 10, -1, -10, -11, null])).toEqual([0, 0, 10, -10, -10, -20, null]);
    expect(mask('i', 'generalize(10)', [2n ** 62n + 5n])).toEqual([4611686018427387900n]);
    expect(mask('f', 'generalize(5)', [7.5, -0.1])).toEqual([5, -5]);
    expect(mask('i', "generalize(10, 'range')", [37, -1])).toEqual(['[30,40)', '[-10,0)']);
  });

  it('dates and timestamps go to the start of their day, month, year or decade', () => {
    expect(mask('d', "generalize('month')", ['2021-07-19'])).toEqual(['2021-07-01']);
    expect(mask('d', "generalize('year')", ['2021-07-19'])).toEqual(['2021-01-01']);
    expect(mask('d', "generalize('decade')", ['2029-12-31', '2030-01-01'])).toEqual(['2020-01-01', '2030-01-01']);
    expect(mask('t', "generalize('day')", ['2021-07-19T23:59:59.5'])).toEqual(['2021-07-19']);
  });

  it('rejects steps and units that do not fit', () => {
    expect(typeError('i', 'generalize(0)')).toMatch(/between 1 and/);
    expect(typeError('i', 'generalize(2.5)')).toMatch(/must be an integer/);
    expect(typeError('i', "generalize(10, 'ranges')")).toMatch(/'start'/);
    expect(typeError('d', "generalize('week')")).toMatch(/'day', 'month', 'year' or 'decade'/);
    expect(typeError('s', 'generalize(10)')).toMatch(/does not apply to a string column/);
  });
});

describe('conditional', () => {
  it('ternary applies one of two rules by a condition on the value', () => {
    expect(mask('i', 'ternary(ge(90), constant(90), keep())', [89, 90, 104, null])).toEqual([89, 90, 90, null]);
    expect(mask('s', "ternary(in('a', 'b'), constant('ab'), null())", ['a', 'c', null])).toEqual(['ab', null, null]);
    expect(mask('i', "ternary(is_null(), constant(-1), keep())", [null, 3])).toEqual([-1, 3]);
    expect(mask('i', 'ternary(ne(1), constant(0), keep())', [null])).toEqual([null]);
    expect(mask('d', "ternary(lt('2000-01-01'), generalize('decade'), keep())", ['1995-05-05', '2005-05-05'])).toEqual(['1990-01-01', '2005-05-05']);
  });

  it('rejects conditions and branches that do not fit', () => {
    expect(typeError('i', "ternary(ge(90), constant('old'), keep())")).toMatch(/different types/);
    expect(typeError('s', "ternary(gt('m'), keep(), null)")).toMatch(/orders values/);
    expect(typeError('i', "ternary(ge('x'), keep(), null())")).toMatch(/must be an integer/);
    expect(typeError('i', 'ternary(90, keep(), null())')).toMatch(/first argument must be a condition/);
    expect(typeError('i', 'ternary(ge(1), 5, null())')).toMatch(/then branch must be a function call/);
    expect(typeError('i', 'ternary(ge(1), ternary(ge(2), keep(), keep()), null())')).toMatch(/cannot be ternary/);
    expect(typeError('i', 'ternary(between(1, 2), keep(), null())')).toMatch(/unknown condition/);
  });
});

describe('the registry', () => {
  it('lists every function with its family and usage', () => {
    const names = maskingFunctions().map((f) => f.name);
    for (const n of ['null', 'constant', 'partial', 'partial_email', 'hash', 'pseudo_last_name', 'fake_email', 'random_int', 'random_in', 'noise', 'dnoise', 'generalize', 'ternary']) {
      expect(names).toContain(n);
    }
  });

  it('rejects unknown functions, without echoing long hostile text', () => {
    expect(typeError('s', 'lower()')).toMatch(/unknown masking function lower\(\)/);
    expect(typeError('s', `${'x'.repeat(39)}()`)).toMatch(/unknown masking function x{24}…/);
    expect(typeError('s', 'constructor()')).toMatch(/unknown masking function/);
    expect(typeError('s', '__proto__()')).toMatch(/unknown masking function/);
  });
});
