import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from '@veil/test-services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, QueryCancelledError, QueryTimeoutError, openDataset, type AdapterContext, type DatasetAdapter } from './index.js';
import { withDatasetCte } from './postgres-adapter.js';

const { url } = postgresTestUrl();

describe('withDatasetCte', () => {
  it('prefixes the CTE, or splices it into a leading WITH list', () => {
    expect(withDatasetCte('SELECT 1 FROM dataset', '"t"')).toBe('WITH dataset AS NOT MATERIALIZED (SELECT * FROM "t") SELECT 1 FROM dataset');
    expect(withDatasetCte('WITH x AS (SELECT 1) SELECT * FROM x', '"t"')).toBe('WITH dataset AS NOT MATERIALIZED (SELECT * FROM "t"), x AS (SELECT 1) SELECT * FROM x');
    expect(withDatasetCte('with recursive x AS (SELECT 1) SELECT 2', '"t"')).toBe('WITH recursive dataset AS NOT MATERIALIZED (SELECT * FROM "t"), x AS (SELECT 1) SELECT 2');
  });
});

describe.skipIf(!url)('PostgreSQL adapter', () => {
  let database: FreshDatabase;
  let ctx: AdapterContext;
  let adapter: DatasetAdapter;

  beforeAll(async () => {
    database = await createFreshDatabase(url!);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`CREATE SCHEMA sales;
      CREATE TABLE sales."Orders" (id int8 PRIMARY KEY, customer text, amount numeric(10,2), qty int4, big int8,
        whole numeric(12,0), ratio float4, score float8, day date, seen timestamp, seen_tz timestamptz, paid boolean, tags text[]);
      INSERT INTO sales."Orders" VALUES
        (1, 'alice', 10.50, 2, 9007199254740993, 7, 0.3, 1.5, '2024-01-02', '2024-01-02 03:04:05.5', '2024-01-02 03:04:05+02', true, '{a}'),
        (2, 'bob', 20.00, 5, 1, 8, 0.1, 2.25, '2024-02-03', '2024-02-03 00:00:00', '2024-02-03 00:00:00+00', false, NULL),
        (3, 'o''hara', NULL, 1, 2, 9, 0.2, NULL, '2024-03-04', '2024-03-04 12:30:00', NULL, true, NULL);`);
    await client.end();
    ctx = { dataDir: '/nonexistent', postgresConnections: { warehouse: database.url } };
    adapter = await openDataset({ kind: 'postgres', connection: 'warehouse', table: 'sales.Orders' }, ctx);
  });

  afterAll(async () => {
    await adapter?.close();
    await database?.drop();
  });

  it('describes the table with Veil types', async () => {
    expect(adapter.dialect).toBe('postgres');
    const columns = await adapter.describe();
    expect(columns.map((c) => [c.name, c.type, c.engineType])).toEqual([
      ['id', 'int', 'bigint'], ['customer', 'string', 'text'], ['amount', 'float', 'numeric(10,2)'], ['qty', 'int', 'integer'],
      ['big', 'int', 'bigint'], ['whole', 'int', 'numeric(12,0)'], ['ratio', 'float', 'real'], ['score', 'float', 'double precision'],
      ['day', 'date', 'date'], ['seen', 'timestamp', 'timestamp without time zone'], ['seen_tz', 'timestamp', 'timestamp with time zone'],
      ['paid', 'bool', 'boolean'], ['tags', null, 'text[]'],
    ]);
  });

  it('runs parameterised SQL over `dataset` with the shared value mapping', async () => {
    const result = await adapter.query('SELECT id, customer, amount, big, whole, ratio, day, seen, seen_tz, paid FROM dataset WHERE id <= $1 AND customer <> $2 ORDER BY id', [2, 'nobody']);
    expect(result.columns).toEqual(['id', 'customer', 'amount', 'big', 'whole', 'ratio', 'day', 'seen', 'seen_tz', 'paid']);
    expect(result.rows).toEqual([
      [1, 'alice', 10.5, 9007199254740993n, 7, Math.fround(0.3), '2024-01-02', '2024-01-02T03:04:05.5', '2024-01-02T01:04:05Z', true],
      [2, 'bob', 20, 1, 8, Math.fround(0.1), '2024-02-03', '2024-02-03T00:00:00', '2024-02-03T00:00:00Z', false],
    ]);
    const sums = await adapter.query('SELECT COUNT(*), SUM(qty), SUM(amount), SUM(big) FROM dataset');
    expect(sums.rows).toEqual([[3, 8, 30.5, 9007199254740996n]]);
  });

  it('splices into generated WITH queries', async () => {
    const { rows } = await adapter.query('WITH big_orders AS (SELECT * FROM dataset WHERE qty > $1) SELECT COUNT(*) FROM big_orders', [1]);
    expect(rows).toEqual([[2]]);
  });

  it('runs every statement read-only', async () => {
    const error = await adapter.query("DELETE FROM sales.\"Orders\" WHERE customer = 'alice'").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect((error as AdapterError).kind).toBe('query-failed');
    expect((error as Error).message).not.toMatch(/alice|Orders/);
    expect(String((error as AdapterError).cause)).toMatch(/read-only transaction/);
    expect((await adapter.query('SELECT COUNT(*) FROM dataset')).rows).toEqual([[3]]);
  });

  it('streams through a server-side cursor in batches', async () => {
    const batches: unknown[][][] = [];
    for await (const batch of adapter.stream('SELECT g FROM dataset, generate_series(1, $1::int) g ORDER BY id, g', [1000], { batchSize: 1200 })) batches.push(batch);
    expect(batches.map((b) => b.length)).toEqual([1200, 1200, 600]);
    expect(batches[0]?.[0]).toEqual([1]);
    for await (const batch of adapter.stream('SELECT id FROM dataset', [], { batchSize: 1 })) {
      expect(batch).toEqual([[1]]);
      break;
    }
    expect((await adapter.query('SELECT COUNT(*) FROM dataset')).rows).toEqual([[3]]);
  });

  it('times out with QueryTimeoutError (statement_timeout) and stays usable', async () => {
    const error = await adapter.query('SELECT pg_sleep(30), COUNT(*) FROM dataset', [], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect((await adapter.query('SELECT COUNT(*) FROM dataset')).rows).toEqual([[3]]);
  });

  it('cancels a running statement on the server through an AbortSignal', async () => {
    const controller = new AbortController();
    const running = adapter.query('SELECT pg_sleep(30) FROM dataset', [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryCancelledError);
    expect(String((error as AdapterError).cause)).toMatch(/canceling statement due to user request/);
    const activity = await adapter.query("SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()");
    expect(activity.rows).toEqual([[0]]);
  });

  it('reports unknown secrets and missing tables without leaking connection strings', async () => {
    await expect(openDataset({ kind: 'postgres', connection: 'nope', table: 'x' }, ctx)).rejects.toMatchObject({ kind: 'not-found' });
    const error = await openDataset({ kind: 'postgres', connection: 'warehouse', table: 'sales.missing' }, ctx).catch((e: unknown) => e);
    expect((error as AdapterError).kind).toBe('not-found');
    expect((error as Error).message).not.toContain(database.url);
    const unreachable = { ...ctx, postgresConnections: { down: 'postgres://veil:hunter2@127.0.0.1:1/db' } };
    const down = await openDataset({ kind: 'postgres', connection: 'down', table: 'x' }, unreachable).catch((e: unknown) => e);
    expect((down as AdapterError).kind).toBe('connection-failed');
    expect((down as Error).message).not.toMatch(/hunter2|127\.0\.0\.1/);
  });
});
