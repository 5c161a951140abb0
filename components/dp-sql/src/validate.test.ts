import { describe, expect, it } from 'vitest';
import { QueryRejectedError } from './errors.js';
import { plan } from './plan.js';
import { rowLevelMetadata, visitsMetadata } from './testing/fixtures.js';

const budget = { epsilon: 1, delta: '1e-6' };

function rejection(sql: string, options: { epsilon: number; delta?: string } = budget): QueryRejectedError {
  try {
    plan(sql, visitsMetadata, options);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryRejectedError);
    return error as QueryRejectedError;
  }
  throw new Error(`expected a rejection for: ${sql}`);
}

describe('rejections name the construct', () => {
  it.each([
    ['SELECT COUNT(*) FROM visits v JOIN other o ON v.age = o.age', 'unsupported_construct', 'JOIN'],
    ['SELECT COUNT(*) FROM visits, other', 'unsupported_construct', 'JOIN'],
    ['SELECT COUNT(*) FROM (SELECT * FROM visits) s', 'unsupported_construct', 'subquery'],
    ['SELECT COUNT(*) FROM visits WHERE age IN (SELECT age FROM visits)', 'unsupported_construct', 'subquery'],
    ['SELECT COUNT(*) FROM visits WHERE EXISTS (SELECT 1 FROM visits)', 'unsupported_construct', 'subquery'],
    ['SELECT (SELECT COUNT(*) FROM visits) FROM visits', 'unsupported_construct', 'subquery'],
    ['SELECT SUM(age) OVER (PARTITION BY region) FROM visits', 'unsupported_construct', 'window function'],
    ['SELECT ROW_NUMBER() OVER (ORDER BY age), COUNT(*) FROM visits', 'unsupported_construct', 'window function'],
    ['SELECT SUM(COUNT(*)) FROM visits', 'aggregate_of_aggregate', 'aggregate of aggregate'],
    ['SELECT AVG(SUM(age)) FROM visits GROUP BY region', 'aggregate_of_aggregate', 'aggregate of aggregate'],
    ['SELECT COUNT(nope) FROM visits', 'unknown_column', 'column "nope"'],
    ['SELECT COUNT(*) FROM visits WHERE nope > 1', 'unknown_column', 'column "nope"'],
    ['SELECT SUM(score) FROM visits', 'unbounded_column', 'column "score"'],
    ['SELECT AVG(score) FROM visits', 'unbounded_column', 'column "score"'],
    ['SELECT SUM(city) FROM visits', 'type_mismatch', 'SUM("city")'],
    ['SELECT SUM(age + 1) FROM visits', 'unsupported_construct', 'expression inside SUM'],
    ['SELECT MAX(age) FROM visits', 'unsupported_construct', 'MAX'],
    ['SELECT COUNT(DISTINCT age) FROM visits', 'unsupported_construct', 'COUNT(DISTINCT …)'],
    ['SELECT * FROM visits', 'unsupported_construct', 'SELECT *'],
    ['SELECT age FROM visits', 'not_grouped', 'column "age"'],
    ['SELECT region FROM visits GROUP BY region', 'no_aggregate', 'no aggregate'],
    ['SELECT DISTINCT region, COUNT(*) FROM visits GROUP BY region', 'unsupported_construct', 'SELECT DISTINCT'],
    ['WITH t AS (SELECT 1) SELECT COUNT(*) FROM t', 'unsupported_construct', 'WITH (common table expression)'],
    ['SELECT COUNT(*) FROM visits UNION SELECT COUNT(*) FROM visits', 'unsupported_construct', 'UNION/INTERSECT/EXCEPT'],
    ['DELETE FROM visits', 'unsupported_statement', 'DELETE'],
    ['SELECT COUNT(*) FROM visits; DROP TABLE visits', 'unsupported_statement', 'multiple statements'],
    ['SELEC COUNT(*) FROM visits', 'syntax_error', 'syntax'],
    ['SELECT COUNT(*) FROM visits WHERE CAST(age AS TEXT) = \'1\'', 'unsupported_construct', 'CAST'],
    ['SELECT COUNT(*) FROM visits WHERE lower(city) = \'a\'', 'unknown_function', 'function LOWER'],
    ['SELECT COUNT(*) FROM visits WHERE age > 1e300', 'too_large', 'numeric literal'],
    ['SELECT COUNT(*) FROM visits LIMIT 5 OFFSET 2', 'unsupported_construct', 'OFFSET'],
    ['SELECT COUNT(*) FROM visits GROUP BY ROLLUP(region)', 'unsupported_construct', 'ROLLUP/CUBE/GROUPING SETS'],
    ['SELECT COUNT(*) FROM visits WHERE city = 1', 'type_mismatch', '='],
    ['SELECT COUNT(*) FROM visits WHERE age', 'type_mismatch', 'WHERE'],
  ])('%s', (sql, code, construct) => {
    const error = rejection(sql);
    expect(error.code).toBe(code);
    expect(error.construct).toBe(construct);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('rejects private keys when δ = 0, saying why', () => {
    const error = rejection('SELECT city, COUNT(*) FROM visits GROUP BY city', { epsilon: 1 });
    expect(error.code).toBe('private_keys_need_delta');
    expect(error.message).toMatch(/partition selection.*delta > 0/);
  });

  it('rejects bad budgets', () => {
    expect(rejection('SELECT COUNT(*) FROM visits', { epsilon: 0 }).code).toBe('invalid_budget');
    expect(rejection('SELECT COUNT(*) FROM visits', { epsilon: 1, delta: '0.5' }).code).toBe('invalid_budget');
    expect(rejection('SELECT COUNT(*) FROM visits', { epsilon: Number.NaN }).code).toBe('invalid_budget');
    expect(rejection('SELECT COUNT(*) FROM visits', { epsilon: 1e-12 }).message).toMatch(/epsilon must be between 0.000001 and 100/);
  });

  it('rejects huge texts and deep nesting before parsing', () => {
    expect(rejection(`SELECT COUNT(*) FROM visits WHERE ${'age > 1 AND '.repeat(2000)} age > 1`).code).toBe('too_large');
    expect(rejection(`SELECT COUNT(*) FROM visits WHERE ${'NOT '.repeat(100)}insured`).code).toBe('too_large');
    // Redundant parentheses add no nodes; the PostgreSQL grammar parses them in linear time.
    expect(plan(`SELECT COUNT(*) FROM visits WHERE ${'('.repeat(100)}age > 1${')'.repeat(100)}`, visitsMetadata, budget).statements.main.sql).toContain('>');
    expect(rejection(`SELECT ${'COUNT('.repeat(40)}*) FROM visits`).code).toBe('syntax_error');
  });
});

describe('the supported subset', () => {
  it.each([
    'SELECT COUNT(*), COUNT(cost), SUM(age), AVG(cost), VARIANCE(age), STDDEV(cost), MEDIAN(age) FROM visits',
    'SELECT PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY cost), QUANTILE_CONT(age, 0.25) FROM visits',
    "SELECT region, COUNT(*) FROM visits WHERE city LIKE 'a%' AND age BETWEEN 18 AND 65 AND cost IS NOT NULL GROUP BY region",
    "SELECT region, COUNT(*) FROM visits WHERE region IN ('north', 'south') OR NOT insured GROUP BY 1",
    "SELECT CASE WHEN age < 18 THEN 'minor' ELSE 'adult' END AS band, COUNT(*) FROM visits GROUP BY band",
    'SELECT FLOOR(age / 10) * 10 AS decade, AVG(cost) + 1 AS shifted, COUNT(*) * 2 FROM visits GROUP BY decade',
    'SELECT region, SUM(cost) / COUNT(*) AS ratio FROM visits GROUP BY region HAVING COUNT(*) > 10 ORDER BY ratio DESC LIMIT 3',
    "SELECT COUNT(*) FROM visits WHERE visit_date >= '2021-01-01' AND visit_date < DATE '2022-01-01'",
    'SELECT v.region, COUNT(*) FROM visits AS v GROUP BY v.region',
  ])('%s', (sql) => {
    const p = plan(sql, visitsMetadata, budget);
    expect(p.statements.main.sql).toContain('FROM "dataset"');
  });

  it('treats categories, bools, literal CASE branches and bins of bounded numbers as public keys', () => {
    const keysOf = (sql: string) => plan(sql, visitsMetadata, { epsilon: 1 }).publicGroups;
    expect(keysOf('SELECT region, COUNT(*) FROM visits GROUP BY region')).toHaveLength(4);
    expect(keysOf('SELECT insured, region, COUNT(*) FROM visits GROUP BY insured, region')).toHaveLength(8);
    expect(keysOf("SELECT CASE WHEN age < 18 THEN 'minor' WHEN age < 65 THEN 'adult' END AS b, COUNT(*) FROM visits GROUP BY b"))
      .toEqual([['minor'], ['adult'], [null]]);
    expect(keysOf('SELECT FLOOR(age / 10) * 10 AS decade, COUNT(*) FROM visits GROUP BY decade')?.map((k) => k[0]))
      .toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(keysOf('SELECT FLOOR(cost / 1000) AS k, COUNT(*) FROM visits GROUP BY k')?.map((k) => k[0])).toEqual([0, 1, 2, 3, 4, 5, null]);
  });

  it('sends keys without a public domain through partition selection', () => {
    const p = plan('SELECT city, COUNT(*) FROM visits GROUP BY city', visitsMetadata, budget);
    expect(p.publicGroups).toBeNull();
    expect(p.budget.partitionSelection?.threshold).toBeGreaterThan(1);
    expect(p.statements.main.sql).toContain('COUNT(DISTINCT veil_unit)');
  });

  it('uses no window functions without a privacy unit', () => {
    const p = plan('SELECT region, AVG(cost) FROM visits GROUP BY region', rowLevelMetadata, budget);
    expect(p.statements.main.sql).not.toMatch(/OVER|md5/);
    expect(p.statements.saltIndex).toBeNull();
  });

  it('binds every analyst literal as a parameter', () => {
    const p = plan("SELECT COUNT(*) FROM visits WHERE city = 'x''; DROP TABLE dataset; --' AND age > 42", visitsMetadata, budget);
    expect(p.statements.main.sql).not.toContain('DROP');
    expect(p.statements.main.sql).not.toContain('42');
    expect(p.statements.main.params).toContain("x'; DROP TABLE dataset; --");
    expect(p.statements.main.params).toContain(42);
  });
});
