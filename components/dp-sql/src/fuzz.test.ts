// Seeded fuzzing: ≥ 2,000 malformed or hostile queries. Each one is either planned or rejected with a
// QueryRejectedError (never another error, never a crash); planned SQL holds no analyst text (only metadata
// identifiers, Veil's own keywords and constants, and $n parameters); no message echoes generated SQL.
import { describe, expect, it } from 'vitest';
import { QueryRejectedError } from './errors.js';
import { plan } from './plan.js';
import { rowLevelMetadata, visitsMetadata } from './testing/fixtures.js';

/** mulberry32: a tiny deterministic generator for test inputs (not for privacy). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  'SELECT COUNT(*) FROM visits',
  'SELECT region, COUNT(*), AVG(cost) FROM visits GROUP BY region',
  "SELECT city, SUM(age) FROM visits WHERE city LIKE 'a%' GROUP BY city",
  'SELECT FLOOR(age / 10) AS d, MEDIAN(cost), STDDEV(age) FROM visits GROUP BY d HAVING COUNT(*) > 3 ORDER BY 2 LIMIT 5',
  "SELECT CASE WHEN age > 50 THEN 'old' ELSE 'young' END AS b, VARIANCE(cost) FROM visits WHERE region IN ('north') GROUP BY b",
];

const TOKENS = [
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'ORDER', 'LIMIT', 'JOIN', 'ON', 'UNION', 'WITH', 'AS', 'CASE', 'WHEN',
  'THEN', 'ELSE', 'END', 'AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'LIKE', 'IS', 'NULL', 'COUNT(*)', 'SUM(', 'AVG(', 'MEDIAN(',
  'OVER', 'PARTITION', '(', ')', ',', ';', '*', '+', '-', '/', '=', '<>', '<', '>', "'", '"', '--', '/*', '*/', '$1', '$$',
  '::', 'age', 'cost', 'region', 'city', 'patient_id', 'nope', 'visits', 'dataset', 'pg_sleep(10)', 'version()',
  '1', '0', '-1', '1e308', '0.5', "'x'", "'north'", 'TRUE', 'DROP TABLE dataset', 'INSERT', 'COPY', 'ATTACH', 'PRAGMA',
  "read_csv('/etc/passwd')", "'; --", '\\', '\u0000', '🙂', 'é', '\u202e', 'Ω', '\u200b', 'ｓｅｌｅｃｔ', '\n', '\t',
];

const INJECTIONS = [
  "'; DROP TABLE dataset; --", "' OR '1'='1", "x' UNION SELECT * FROM pg_shadow --", '$$; DROP TABLE dataset; $$',
  "\\'; SELECT pg_sleep(10); --", "' || (SELECT current_user) || '", "1); COPY dataset TO '/tmp/x'; --",
  "'/**/OR/**/1=1", "%' ESCAPE '", "\u0000'", "é' OR 1=1 --", "'; ATTACH '/tmp/x.db' AS x; --",
];

type Generator = (r: () => number) => string;
const pick = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const generators: Generator[] = [
  // random token soup
  (r) => Array.from({ length: 1 + Math.floor(r() * 25) }, () => pick(r, TOKENS)).join(r() < 0.8 ? ' ' : ''),
  // injection strings as literals, identifiers and raw text
  (r) => `SELECT COUNT(*) FROM visits WHERE city = '${pick(r, INJECTIONS).replace(/'/g, "''")}'`,
  (r) => `SELECT COUNT(*) FROM visits WHERE city = '${pick(r, INJECTIONS)}'`,
  (r) => `SELECT COUNT(*) FROM visits WHERE "${pick(r, INJECTIONS).replace(/"/g, '""')}" = 1`,
  (r) => `SELECT region, COUNT(*) FROM visits GROUP BY region ${pick(r, INJECTIONS)}`,
  (r) => `SELECT COUNT(*) AS "${pick(r, INJECTIONS).replace(/"/g, '""')}" FROM visits`,
  (r) => `SELECT COUNT(*) FROM visits WHERE city LIKE '${pick(r, INJECTIONS).replace(/'/g, "''")}'`,
  // huge literals
  (r) => `SELECT COUNT(*) FROM visits WHERE age > ${'9'.repeat(1 + Math.floor(r() * 400))}`,
  (r) => `SELECT COUNT(*) FROM visits WHERE city = '${'a'.repeat(Math.floor(r() * 20_000))}'`,
  (r) => `SELECT COUNT(*) FROM visits WHERE age IN (${Array.from({ length: Math.floor(r() * 3000) }, (_, i) => i).join(',')})`,
  (r) => `SELECT COUNT(*) FROM visits LIMIT ${Math.floor(r() * 1e12)}`,
  (r) => `SELECT PERCENTILE_CONT(${(r() * 4 - 2).toFixed(3)}) WITHIN GROUP (ORDER BY cost) FROM visits`,
  // deep nesting
  (r) => {
    const n = Math.floor(r() * 60);
    return `SELECT COUNT(*) FROM visits WHERE ${'('.repeat(n)}age > 1${')'.repeat(n)}`;
  },
  (r) => `SELECT COUNT(*) FROM visits WHERE ${Array.from({ length: Math.floor(r() * 150) }, () => 'NOT ').join('')}insured`,
  (r) => `SELECT COUNT(*) FROM visits WHERE ${Array.from({ length: 1 + Math.floor(r() * 200) }, () => 'age > 1').join(' AND ')}`,
  (r) => `SELECT ${'COUNT('.repeat(1 + Math.floor(r() * 20))}*${')'.repeat(1 + Math.floor(r() * 20))} FROM visits`,
  (r) => `SELECT COUNT(*) FROM visits WHERE age = ${'-'.repeat(Math.floor(r() * 200))}1`,
  // unicode
  (r) => `SELECT COUNT(*) FROM visits WHERE city = '${pick(r, ['🙂', 'é', '\u202e', 'Ω', '\u200b', '\ud800', '𝔘𝔫𝔦'])}'`,
  (r) => `SELECT COUNT(*) FROM ${pick(r, ['vísits', '"🙂"', 'visits\u200b', 'ｖｉｓｉｔｓ'])}`,
  (r) => `SELECT COUNT(${pick(r, ['âge', '"AGE"', 'Age', 'age\u0301', '"age "'])}) FROM visits`,
  // mutations of valid queries
  (r) => {
    const chars = [...pick(r, VALID)];
    for (let i = 0; i < 1 + Math.floor(r() * 6); i++) {
      const at = Math.floor(r() * chars.length);
      const op = r();
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, pick(r, ["'", '(', ')', ',', ' ', ';', '"', '*', '-', 'x', '0']));
      else chars.splice(at, 1, pick(r, TOKENS));
    }
    return chars.join('');
  },
  (r) => `${pick(r, VALID)} ${pick(r, TOKENS)} ${pick(r, TOKENS)}`,
  (r) => pick(r, VALID).replace('visits', pick(r, ['visits v JOIN visits w ON v.age = w.age', '(SELECT * FROM visits) s', 'visits, visits'])),
  (r) => String.fromCharCode(...Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 0xffff))),
];

/** Words the generator itself writes; anything else in generated SQL would be analyst text. */
const ALLOWED_WORDS = new Set([
  'WITH', 'AS', 'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'COUNT', 'DISTINCT', 'SUM', 'CAST', 'DOUBLE', 'PRECISION', 'BIGINT',
  'VARCHAR', 'DATE', 'TIMESTAMP', 'FLOOR', 'CEIL', 'ABS', 'NULLIF', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'AND', 'OR', 'NOT',
  'IN', 'BETWEEN', 'LIKE', 'ILIKE', 'ESCAPE', 'IS', 'NULL', 'TRUE', 'FALSE', 'OVER', 'PARTITION', 'ORDER', 'DENSE_RANK',
  'ROW_NUMBER', 'md5', 'CONCAT', 'LEAST', 'GREATEST',
]);

function assertOnlyVeilText(sql: string): void {
  const metadataNames = new Set([...Object.keys(visitsMetadata.columns), 'dataset']);
  const withoutIdentifiers = sql.replace(/"([^"]*)"/g, (_, name: string) => {
    expect(metadataNames.has(name), `identifier "${name}" is not from metadata`).toBe(true);
    return ' ';
  });
  const withoutStrings = withoutIdentifiers.replace(/'([^']*)'/g, (_, text: string) => {
    expect(['|', '\\'].includes(text) || /^-?[0-9.e+-]+$/.test(text), `string constant '${text}' is not Veil's`).toBe(true);
    return ' ';
  });
  for (const word of withoutStrings.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    expect(ALLOWED_WORDS.has(word) || /^veil_[a-z_]+\d*$/.test(word), `word ${word} in generated SQL`).toBe(true);
  }
  expect(withoutStrings).toMatch(/^[A-Za-z0-9_\s(),.*+\-/<>=!$|]*$/);
}

describe('fuzzing plan() with hostile input', () => {
  it('answers or rejects each of 2,400 seeded queries cleanly', () => {
    const r = seeded(20_261_122);
    const outcomes = { planned: 0, rejected: 0 };
    for (let i = 0; i < 2400; i++) {
      const sql = pick(r, generators)(r);
      const metadata = r() < 0.5 ? visitsMetadata : rowLevelMetadata;
      const budget = r() < 0.5 ? { epsilon: 1 } : { epsilon: '0.5', delta: '1e-7' };
      let planned: ReturnType<typeof plan> | null = null;
      try {
        planned = plan(sql, metadata, budget);
      } catch (error) {
        if (!(error instanceof QueryRejectedError)) throw new Error(`query #${i} crashed plan(): ${String(error)}\n${JSON.stringify(sql).slice(0, 300)}`);
        outcomes.rejected++;
        // Rejections happen before any SQL exists; the only text a message may quote is the analyst's own.
        for (const marker of ['veil_', 'md5(', 'CAST(', 'FROM "dataset"', 'DOUBLE PRECISION', 'DENSE_RANK']) {
          if (!sql.toLowerCase().includes(marker.toLowerCase())) expect(error.message.toLowerCase()).not.toContain(marker.toLowerCase());
        }
        expect(error.construct.length).toBeGreaterThan(0);
        expect(error.message.length).toBeLessThan(600);
      }
      if (planned) {
        outcomes.planned++;
        assertOnlyVeilText(planned.statements.main.sql);
        for (const h of planned.statements.histograms.values()) assertOnlyVeilText(h.sql);
      }
    }
    expect(outcomes.planned + outcomes.rejected).toBe(2400);
    expect(outcomes.planned).toBeGreaterThan(50);
    expect(outcomes.rejected).toBeGreaterThan(1000);
  });
});
