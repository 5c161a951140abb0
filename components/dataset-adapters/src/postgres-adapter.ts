// The PostgreSQL adapter: a pooled connection per configured secret; every statement in a READ ONLY
// transaction with SET LOCAL statement_timeout; `dataset` mapped by a NOT MATERIALIZED CTE over the table,
// which the planner inlines, so the generated SQL runs as if written against the table itself.
import type { DatasetSource } from '@veil/dataset-metadata';
import pg from 'pg';
import { AdapterError, QueryTimeoutError } from './errors.js';
import { pgTypeToVeil, veilPgTypes } from './postgres-values.js';
import { resolveBatchSize, resolveTimeout, RunControl } from './run-control.js';
import type {
  AdapterContext,
  ColumnDescription,
  DatasetAdapter,
  QueryOptions,
  QueryParam,
  QueryResult,
  StreamOptions,
} from './types.js';

type PostgresSource = Extract<DatasetSource, { kind: 'postgres' }>;

/** PostgreSQL enforces the timeout itself; our own timer is a backstop shortly after it. */
const CLIENT_TIMER_GRACE_MS = 500;

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Prefixes the CTE, or splices it into a leading WITH list so generated CTEs keep working. */
export function withDatasetCte(sql: string, relation: string): string {
  const cte = `dataset AS NOT MATERIALIZED (SELECT * FROM ${relation})`;
  const leadingWith = /^\s*WITH(\s+RECURSIVE)?\s/i.exec(sql);
  if (leadingWith) return `WITH${leadingWith[1] ?? ''} ${cte}, ${sql.slice(leadingWith[0].length)}`;
  return `WITH ${cte} ${sql}`;
}

// --- pools, shared by every adapter on the same connection secret and closed with the last one ---

const pools = new Map<string, { pool: pg.Pool; users: number }>();

function acquirePool(connectionString: string, max: number): pg.Pool {
  const key = `${max}\u0000${connectionString}`;
  const entry = pools.get(key) ?? { pool: createPool(connectionString, max), users: 0 };
  entry.users += 1;
  pools.set(key, entry);
  return entry.pool;
}

async function releasePool(pool: pg.Pool): Promise<void> {
  for (const [key, entry] of pools) {
    if (entry.pool !== pool) continue;
    entry.users -= 1;
    if (entry.users === 0) {
      pools.delete(key);
      await pool.end();
    }
  }
}

function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, types: veilPgTypes, connectionTimeoutMillis: 10_000, application_name: 'veil' });
  // An idle client dropped by the server must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}

// --- the adapter ---

export async function openPostgres(source: PostgresSource, ctx: AdapterContext): Promise<DatasetAdapter> {
  const connectionString = ctx.postgresConnections?.[source.connection];
  if (connectionString === undefined) {
    throw new AdapterError('not-found', `no PostgreSQL connection named "${source.connection}" is configured on this server`);
  }
  const relation = source.table.split('.').map(quoteIdentifier).join('.');
  const adapter = new PostgresAdapter(connectionString, acquirePool(connectionString, ctx.postgres?.maxConnections ?? 10), relation, ctx.defaultTimeoutMs);
  try {
    await adapter.describe();
    return adapter;
  } catch (error) {
    await adapter.close();
    throw error instanceof AdapterError && error.kind === 'query-failed'
      ? new AdapterError('not-found', 'the dataset table or view does not exist or cannot be read', error.cause)
      : error;
  }
}

class PostgresAdapter implements DatasetAdapter {
  readonly dialect = 'postgres' as const;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly pool: pg.Pool,
    private readonly relation: string,
    private readonly defaultTimeoutMs: number | undefined,
  ) {}

  async describe(): Promise<ColumnDescription[]> {
    return this.inTransaction(resolveTimeout({}, this.defaultTimeoutMs), undefined, async (client) => {
      const { fields } = await client.query(withDatasetCte('SELECT * FROM dataset LIMIT 0', this.relation));
      const names = await client.query<{ name: string }>(
        'SELECT format_type(t.oid, t.typmod) AS name FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, typmod, n) ORDER BY t.n',
        [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
      );
      return fields.map((field, index) => ({
        name: field.name,
        type: pgTypeToVeil(field.dataTypeID, field.dataTypeModifier),
        engineType: names.rows[index]?.name ?? String(field.dataTypeID),
      }));
    });
  }

  async query(sql: string, params: readonly QueryParam[] = [], opts: QueryOptions = {}): Promise<QueryResult> {
    const values = checkParams(params);
    return this.inTransaction(resolveTimeout(opts, this.defaultTimeoutMs), opts.signal, async (client) => {
      const result = await client.query<unknown[]>({ text: withDatasetCte(sql, this.relation), values, rowMode: 'array' });
      return { columns: result.fields.map((f) => f.name), rows: result.rows };
    });
  }

  async *stream(sql: string, params: readonly QueryParam[] = [], opts: StreamOptions = {}): AsyncGenerator<unknown[][]> {
    const batchSize = resolveBatchSize(opts.batchSize);
    const values = checkParams(params);
    // Without an explicit timeout a stream (whose life includes the consumer's work) has none; with one,
    // statement_timeout bounds each FETCH and our timer the whole stream.
    const timeoutMs = opts.timeoutMs === undefined ? undefined : resolveTimeout(opts, undefined);
    const session = await this.begin(timeoutMs, opts.signal);
    try {
      await session.run(() => session.client.query({ text: `DECLARE veil_stream NO SCROLL CURSOR FOR ${withDatasetCte(sql, this.relation)}`, values }));
      for (;;) {
        const { rows } = await session.run(() => session.client.query<unknown[]>({ text: `FETCH ${batchSize} FROM veil_stream`, rowMode: 'array' }));
        if (rows.length > 0) yield rows;
        session.control.throwIfStopped();
        if (rows.length < batchSize) break;
      }
      await session.finish();
    } finally {
      await session.abandon();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releasePool(this.pool);
  }

  private async inTransaction<T>(timeoutMs: number, signal: AbortSignal | undefined, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const session = await this.begin(timeoutMs, signal);
    try {
      const value = await session.run(() => run(session.client));
      await session.finish();
      return value;
    } finally {
      await session.abandon();
    }
  }

  /** Checks out a client and opens the read-only transaction, with timeout and cancel wired to the backend. */
  private async begin(timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<Session> {
    if (this.closed) throw new AdapterError('closed', 'the dataset adapter is closed');
    if (signal?.aborted) throw new RunControl(undefined, signal, () => undefined).error(undefined);
    const client = await this.pool.connect().catch((error: unknown) => {
      throw new AdapterError('connection-failed', 'could not connect to the PostgreSQL server of this dataset', error);
    });
    const session = new Session(client, timeoutMs, signal, this.connectionString);
    try {
      await session.run(() => client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs ?? 0}; SET LOCAL TimeZone = 'UTC'`));
    } catch (error) {
      await session.abandon();
      throw error;
    }
    return session;
  }
}

/** One checked-out client inside a read-only transaction, with its run control. */
class Session {
  readonly control: RunControl;
  private cancelling: Promise<void> | undefined;
  private done = false;

  constructor(
    readonly client: pg.PoolClient,
    private readonly timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    private readonly connectionString: string,
  ) {
    try {
      this.control = new RunControl(timeoutMs === undefined ? undefined : timeoutMs + CLIENT_TIMER_GRACE_MS, signal, () => this.cancelBackend());
    } catch (error) {
      client.release();
      throw error;
    }
  }

  /** Runs one statement, turning failures into analyst-safe errors. */
  async run<T>(statement: () => Promise<T>): Promise<T> {
    try {
      return await statement();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  async finish(): Promise<void> {
    await this.run(() => this.client.query('COMMIT'));
    this.done = true;
  }

  /** Ends the session: rolls back if not committed; a client that saw a cancel is destroyed, never reused. */
  async abandon(): Promise<void> {
    this.control.dispose();
    let reusable = !this.control.stopped;
    if (!this.done) {
      await this.client.query('ROLLBACK').catch(() => {
        reusable = false;
      });
    }
    if (this.cancelling) {
      await this.cancelling;
      reusable = false; // a late cancel must never hit another query on a pooled client
    }
    this.client.release(!reusable);
  }

  private mapError(error: unknown): AdapterError {
    if (this.control.stopped) return this.control.error(error);
    const pgError = error as { code?: string; message?: string };
    if (pgError.code === '57014' && /statement timeout/.test(pgError.message ?? '') && this.timeoutMs !== undefined) {
      return new QueryTimeoutError(this.timeoutMs, error);
    }
    return this.control.error(error);
  }

  /** pg has no in-band cancel, so a separate short-lived connection asks the server to cancel our backend. */
  private cancelBackend(): void {
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid === undefined) return;
    const canceller = new pg.Client({ connectionString: this.connectionString });
    this.cancelling = canceller
      .connect()
      .then(() => canceller.query('SELECT pg_cancel_backend($1)', [pid]))
      .then(() => undefined, () => undefined)
      .finally(() => canceller.end().catch(() => undefined));
  }
}

function checkParams(params: readonly QueryParam[]): unknown[] {
  return params.map((param, index) => {
    if (param === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof param)) {
      return typeof param === 'bigint' ? param.toString() : param;
    }
    throw new AdapterError('invalid-parameter', `parameter $${index + 1} has an unsupported type (${typeof param}); use string, number, bigint, boolean or null`);
  });
}
