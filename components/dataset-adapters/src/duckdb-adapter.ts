// The DuckDB adapter: one in-process in-memory DuckDB instance per dataset, with a view `dataset` over the
// file scan created once at open. Each statement runs on its own connection (creating one costs ~60 µs; idle
// ones are reused), so concurrent queries do not queue and an interrupt stops exactly one statement.
// For local files the instance is then locked down: external access off except the one file, configuration
// locked, so even a faulty generated statement cannot read other files or change settings.
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';
import { AdapterError } from './errors.js';
import { bindDuckParams, duckTypeToVeil, duckValueToJs } from './duckdb-values.js';
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

/** What to scan, how to prepare the instance, and which single path (if local) it may read afterwards. */
export interface DuckDbSourcePlan {
  /** Builds the table function call, e.g. `read_parquet('/srv/x.parquet')`, every value a quoted literal. */
  scan: (connection: DuckDBConnection) => Promise<string>;
  /** Statements run before the view (LOAD httpfs, CREATE SECRET), each with an optional fallback and its own error. */
  setup: { sql: string; fallbackSql?: string; onError: (cause: unknown) => AdapterError }[];
  /** For local files: the only path DuckDB may open once the view exists. */
  lockToPath?: string;
}

const MAX_IDLE_CONNECTIONS = 8;
/** DuckDB drops an interrupt that arrives before execution starts, so it is repeated until the statement ends. */
const REPEAT_INTERRUPT_MS = 50;

/** A SQL string literal; DuckDB's standard strings treat only the quote as special. */
export function sqlLiteral(text: string): string {
  if (text.includes('\0')) throw new AdapterError('invalid-source', 'a configured value contains a NUL character');
  return `'${text.replaceAll("'", "''")}'`;
}

export async function openDuckDb(plan: DuckDbSourcePlan, ctx: AdapterContext): Promise<DatasetAdapter> {
  const instance = await DuckDBInstance.create(':memory:', instanceOptions(ctx));
  const adapter = new DuckDbAdapter(instance, ctx.defaultTimeoutMs);
  try {
    await adapter.prepare(plan, ctx.duckdb?.exportDirectory);
    return adapter;
  } catch (error) {
    await adapter.close();
    throw error;
  }
}

function instanceOptions(ctx: AdapterContext): Record<string, string> {
  const options: Record<string, string> = { autoinstall_known_extensions: 'false' };
  const config = ctx.duckdb ?? {};
  if (config.threads !== undefined) options.threads = String(config.threads);
  if (config.memoryLimit !== undefined) options.memory_limit = config.memoryLimit;
  if (config.extensionDirectory !== undefined) options.extension_directory = config.extensionDirectory;
  return options;
}

class DuckDbAdapter implements DatasetAdapter {
  readonly dialect = 'duckdb' as const;
  private closed = false;
  private readonly idle: DuckDBConnection[] = [];
  private readonly busy = new Set<DuckDBConnection>();

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly defaultTimeoutMs: number | undefined,
  ) {}

  async prepare(plan: DuckDbSourcePlan, exportDirectory?: string): Promise<void> {
    const connection = await this.acquire();
    try {
      for (const step of plan.setup) {
        await connection
          .run(step.sql)
          .catch((error: unknown) => {
            if (step.fallbackSql === undefined) throw error;
            return connection.run(step.fallbackSql);
          })
          .catch((error: unknown) => {
            throw step.onError(error);
          });
      }
      const unreadable = (error: unknown): never => {
        throw new AdapterError('invalid-source', 'DuckDB could not read the dataset (wrong format, unreadable or unreachable source?)', error);
      };
      const scanSql = await plan.scan(connection).catch(unreadable);
      await connection.run(`CREATE VIEW dataset AS SELECT * FROM ${scanSql}`).catch(unreadable);
      await connection.run('SELECT * FROM dataset LIMIT 0').catch(unreadable);
      if (plan.lockToPath !== undefined) {
        await connection.run(`SET allowed_paths = [${sqlLiteral(plan.lockToPath)}]`);
        // Masked exports COPY … TO files in this one server-configured directory, nowhere else.
        if (exportDirectory !== undefined) {
          await connection.run(`SET allowed_directories = [${sqlLiteral(exportDirectory.replace(/\/*$/, '/'))}]`);
        }
        await connection.run('SET enable_external_access = false');
      }
      await connection.run('SET lock_configuration = true');
      this.release(connection, true);
    } catch (error) {
      this.release(connection, false);
      throw error;
    }
  }

  async describe(): Promise<ColumnDescription[]> {
    return this.withConnection({}, async (connection) => {
      const reader = await connection.runAndReadAll('SELECT * FROM dataset LIMIT 0');
      return reader.columnNames().map((name, index) => {
        const type = reader.columnType(index);
        return { name, type: duckTypeToVeil(type), engineType: type.toString() };
      });
    });
  }

  async query(sql: string, params: readonly QueryParam[] = [], opts?: QueryOptions): Promise<QueryResult> {
    const bound = bindDuckParams(params);
    return this.withConnection(opts ?? {}, async (connection) => {
      // Without parameters, skip the prepare/bind round trips.
      const reader = params.length === 0 ? await connection.runAndReadAll(sql) : await connection.runAndReadAll(sql, bound.values, bound.types);
      return { columns: reader.columnNames(), rows: reader.getRows().map((row) => row.map(duckValueToJs)) };
    });
  }

  async *stream(sql: string, params: readonly QueryParam[] = [], opts: StreamOptions = {}): AsyncGenerator<unknown[][]> {
    const batchSize = resolveBatchSize(opts.batchSize);
    const bound = bindDuckParams(params);
    // A stream's lifetime includes the consumer's work, so it has a deadline only when one is asked for.
    const timeoutMs = opts.timeoutMs === undefined ? undefined : resolveTimeout(opts, undefined);
    const connection = await this.acquire();
    let finished = false;
    let control: RunControl | undefined;
    try {
      control = new RunControl(timeoutMs, opts.signal, () => connection.interrupt(), REPEAT_INTERRUPT_MS);
      const started = params.length === 0 ? connection.stream(sql) : connection.stream(sql, bound.values, bound.types);
      const result = await started.catch((error: unknown) => {
        throw control?.error(error);
      });
      let batch: unknown[][] = [];
      for (;;) {
        const chunk = await result.fetchChunk().catch((error: unknown) => {
          throw control?.error(error);
        });
        control.throwIfStopped();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunkRows(chunk)) {
          batch.push(row);
          if (batch.length === batchSize) {
            yield batch;
            control.throwIfStopped();
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
      finished = true;
    } finally {
      control?.dispose();
      // Left early (break, error, cancel): stop the engine and drop the connection with its open result.
      if (!finished) connection.interrupt();
      this.release(connection, finished);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.busy]) connection.interrupt();
    for (const connection of this.idle.splice(0)) connection.closeSync();
    this.instance.closeSync();
  }

  private async withConnection<T>(opts: QueryOptions, run: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const timeoutMs = resolveTimeout(opts, this.defaultTimeoutMs);
    const connection = await this.acquire();
    let control: RunControl | undefined;
    let healthy = false;
    try {
      control = new RunControl(timeoutMs, opts.signal, () => connection.interrupt(), REPEAT_INTERRUPT_MS);
      const value = await run(connection);
      control.throwIfStopped();
      healthy = true;
      return value;
    } catch (error) {
      if (this.closed) throw new AdapterError('closed', 'the dataset adapter was closed while the query ran', error);
      if (!control) throw error;
      throw control.error(error);
    } finally {
      control?.dispose();
      this.release(connection, healthy);
    }
  }

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new AdapterError('closed', 'the dataset adapter is closed');
    const connection = this.idle.pop() ?? (await this.instance.connect());
    this.busy.add(connection);
    return connection;
  }

  /** Healthy connections go back to the idle list; interrupted or failed ones are closed. */
  private release(connection: DuckDBConnection, healthy: boolean): void {
    this.busy.delete(connection);
    if (healthy && !this.closed && this.idle.length < MAX_IDLE_CONNECTIONS) {
      this.idle.push(connection);
    } else {
      connection.closeSync();
    }
  }
}

/** Rows of a chunk, read column by column (about a third faster than row by row) and mapped to JS. */
function chunkRows(chunk: DuckDBDataChunk): unknown[][] {
  const columns = chunk.getColumns().map((column) => column.map(duckValueToJs));
  const rows: unknown[][] = new Array<unknown[]>(chunk.rowCount);
  for (let r = 0; r < chunk.rowCount; r++) rows[r] = columns.map((column) => column[r]);
  return rows;
}
