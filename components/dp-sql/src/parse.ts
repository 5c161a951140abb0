// Parsing the analyst's text with libpg_query (the real PostgreSQL grammar, compiled to WebAssembly; npm
// `libpg-query`). Its LALR parser runs in linear time on any input, hostile nesting included. The parser
// only turns text into an AST; what is accepted is decided by the allow-list in validate.ts.
import { loadModule, parseSync } from 'libpg-query';
import { excerpt, reject } from './errors.js';

export type AstNode = Record<string, unknown>;

/** Longest query text accepted; longer texts are rejected before parsing. */
export const MAX_QUERY_LENGTH = 10_000;

// The WASM module loads once, at import, so plan() can stay synchronous.
await loadModule();

/** Parses one SELECT statement and returns libpg_query's SelectStmt node. */
export function parseSelect(sql: string): AstNode {
  if (typeof sql !== 'string') reject('syntax_error', 'query', 'the query must be a string of SQL text');
  if (sql.length > MAX_QUERY_LENGTH) {
    reject('too_large', 'query length', `the query is ${sql.length} characters long; at most ${MAX_QUERY_LENGTH} are accepted`);
  }
  if (sql.trim() === '') reject('syntax_error', 'empty query', 'the query is empty');
  if (sql.includes('\u0000')) reject('syntax_error', 'NUL character', 'the query contains a NUL character');
  let result: { stmts?: { stmt?: AstNode }[] };
  try {
    result = parseSync(sql) as typeof result;
  } catch (error) {
    reject('syntax_error', 'syntax', describeSyntaxError(error, sql));
  }
  const statements = result.stmts ?? [];
  if (statements.length === 0) reject('syntax_error', 'empty query', 'the query is empty');
  if (statements.length > 1) reject('unsupported_statement', 'multiple statements', 'send exactly one SELECT statement');
  const statement = statements[0]?.stmt ?? {};
  const [kind, body] = Object.entries(statement)[0] ?? ['', null];
  if (kind !== 'SelectStmt' || typeof body !== 'object' || body === null) {
    const name = kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase() || 'this statement';
    reject('unsupported_statement', name, `only SELECT queries are answered, not ${excerpt(name, 30)}`);
  }
  return body as AstNode;
}

/** PostgreSQL's own message ("syntax error at or near …") quotes the analyst's text only, plus the position. */
function describeSyntaxError(error: unknown, sql: string): string {
  const details = (error as { sqlDetails?: { message?: unknown; cursorPosition?: unknown } } | null)?.sqlDetails;
  const message = typeof details?.message === 'string' ? details.message : 'syntax error';
  const position = typeof details?.cursorPosition === 'number' ? details.cursorPosition : null;
  const where = position === null ? '' : ` (at character ${Math.min(position + 1, sql.length)})`;
  return `the query could not be parsed: ${excerpt(message, 120)}${where}`;
}
