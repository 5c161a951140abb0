// The raw SQL executor over the store's own connections: a pg Pool, or the one PGlite instance that
// Prisma also uses. Both return the same JS types (int8 and numeric as strings, timestamps as Date).
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import type { QueryOptions, SqlExecutor, SqlQueryable } from './types.js';

const INT8_OID = 20;
/** pg returns int8 as a string (it may not fit a JS number); PGlite would return a lossy number. */
const PGLITE_PARSERS = { [INT8_OID]: (value: string) => value };

export function pgliteExecutor(db: PGlite): SqlExecutor {
  const on = (target: PGlite | Transaction): SqlQueryable => ({
    query: async <T>(sql: string, params?: unknown[]) => {
      const result = await target.query<T>(sql, params ?? [], { parsers: PGLITE_PARSERS });
      return { rows: result.rows };
    },
    exec: async (script: string) => {
      await target.exec(script);
    },
  });
  const base = on(db);
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => db.transaction((tx) => fn(on(tx))),
    close: () => db.close(),
  };
}

export function pgPoolExecutor(pool: pg.Pool): SqlExecutor {
  // A connection the server ends on its own (restart, pg_terminate_backend, DROP DATABASE … FORCE, also while
  // the pool is closing) emits 'error' outside any query; unhandled, that would crash the process. Queries
  // in flight still reject with the error, and the pool replaces the connection.
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params?: unknown[], options?: QueryOptions) => {
      const result = options?.name ? await pool.query({ name: options.name, text: sql, values: params }) : await pool.query(sql, params);
      return { rows: result.rows as T[] };
    },
    // Without parameters pg uses the simple protocol, which takes several statements.
    exec: async (script: string) => {
      await pool.query(script);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await client.query(sql, params)).rows as T[] }),
          exec: async (script: string) => {
            await client.query(script);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

function ignore(): undefined {
  return undefined;
}
