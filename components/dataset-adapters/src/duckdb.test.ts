import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, QueryCancelledError, QueryTimeoutError, openDataset, type DatasetAdapter } from './index.js';

const SLOW_SQL = 'SELECT COUNT(*) FROM dataset, range(100000000000) t(a) WHERE a % 7 = 3';

let dir: string;
let outside: string;
const CSV = [
  'id,name,amount,price,day,seen,flag',
  '1,alice,10,1.25,2024-01-02,2024-01-02 03:04:05.5,true',
  '2,bob,20,2.5,2024-02-03,2024-02-03 00:00:00,false',
  "3,o'hara,,3.75,2024-03-04,2024-03-04 12:30:00,true",
].join('\n');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'veil-duck-'));
  outside = await mkdtemp(path.join(tmpdir(), 'veil-outside-'));
  await mkdir(path.join(dir, 'sub'));
  await writeFile(path.join(dir, 'people.csv'), CSV);
  await writeFile(path.join(dir, 'people.jsonl'), [
    { id: 1, name: 'alice', amount: 10 },
    { id: 2, name: 'bob', amount: 20 },
  ].map((r) => JSON.stringify(r)).join('\n'));
  await writeFile(path.join(outside, 'secret.csv'), 'x\n1\n');
  await symlink(path.join(outside, 'secret.csv'), path.join(dir, 'sub', 'escape.csv'));
  // A Parquet file with exact decimals, big integers and a timestamp with zone, written by DuckDB itself.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const target = path.join(dir, 'numbers.parquet').replaceAll("'", "''");
  await connection.run(`COPY (SELECT i::BIGINT AS i, (i * 1.5)::DECIMAL(10,2) AS d, 9007199254740993::BIGINT + i AS big,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) HOUR AS ts, i::REAL / 10 AS r FROM range(25000) t(i)) TO '${target}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const ctx = () => ({ dataDir: dir, allowedRoots: [dir] });

async function withDataset<T>(file: string, run: (adapter: DatasetAdapter) => Promise<T>): Promise<T> {
  const adapter = await openDataset({ kind: 'file', path: file }, ctx());
  try {
    return await run(adapter);
  } finally {
    await adapter.close();
  }
}

describe('DuckDB adapter over files', () => {
  it('describes a CSV and maps engine types to Veil types', async () => {
    await withDataset('people.csv', async (adapter) => {
      expect(adapter.dialect).toBe('duckdb');
      const columns = await adapter.describe();
      expect(columns.map((c) => [c.name, c.type])).toEqual([
        ['id', 'int'], ['name', 'string'], ['amount', 'int'], ['price', 'float'], ['day', 'date'], ['seen', 'timestamp'], ['flag', 'bool'],
      ]);
      expect(columns[0]?.engineType).toBe('BIGINT');
    });
  });

  it('pins a CSV dialect sniffed once, with header names quoted safely', async () => {
    await writeFile(path.join(dir, 'quotes.csv'), `"a'b","x': 'VARCHAR'}) ; SELECT 1; --",when\n1,y,2024-01-01\n2,z,2024-01-02\n`);
    await withDataset('quotes.csv', async (adapter) => {
      expect((await adapter.describe()).map((c) => [c.name, c.type])).toEqual([["a'b", 'int'], ["x': 'VARCHAR'}) ; SELECT 1; --", 'string'], ['when', 'date']]);
      expect((await adapter.query(`SELECT SUM("a'b"), MAX("x': 'VARCHAR'}) ; SELECT 1; --") FROM dataset`)).rows).toEqual([[3, 'z']]);
    });
  });

  it('runs parameterised SQL over `dataset` and maps values to the documented JS forms', async () => {
    await withDataset('people.csv', async (adapter) => {
      const result = await adapter.query('SELECT id, name, amount, day, seen, flag FROM dataset WHERE id >= $1 AND name <> $2 ORDER BY id', [2, 'nobody']);
      expect(result.columns).toEqual(['id', 'name', 'amount', 'day', 'seen', 'flag']);
      expect(result.rows).toEqual([
        [2, 'bob', 20, '2024-02-03', '2024-02-03T00:00:00', false],
        [3, "o'hara", null, '2024-03-04', '2024-03-04T12:30:00', true],
      ]);
      const first = await adapter.query('SELECT seen FROM dataset WHERE id = $1', [1]);
      expect(first.rows).toEqual([['2024-01-02T03:04:05.5']]);
    });
  });

  it('reads Parquet with exact decimals, unsafe integers as bigint and UTC timestamps', async () => {
    await withDataset('numbers.parquet', async (adapter) => {
      const { rows } = await adapter.query('SELECT d, big, ts, r FROM dataset WHERE i = $1', [3]);
      expect(rows).toEqual([[4.5, 9007199254740996n, '2024-01-01T03:00:00Z', Math.fround(0.3)]]);
      const sums = await adapter.query('SELECT SUM(d), SUM(big), COUNT(*) FROM dataset');
      expect(sums.rows).toEqual([[468731250, 9007199254740993n * 25000n + 312487500n, 25000]]);
    });
  });

  it('reads newline-delimited JSON', async () => {
    await withDataset('people.jsonl', async (adapter) => {
      expect((await adapter.query('SELECT SUM(amount), MAX(name) FROM dataset')).rows).toEqual([[30, 'bob']]);
    });
  });

  it('streams rows in batches of the requested size', async () => {
    await withDataset('numbers.parquet', async (adapter) => {
      const sizes: number[] = [];
      let sum = 0;
      for await (const batch of adapter.stream('SELECT i FROM dataset WHERE i < $1', [23_000], { batchSize: 10_000 })) {
        sizes.push(batch.length);
        for (const row of batch) sum += row[0] as number;
      }
      expect(sizes).toEqual([10_000, 10_000, 3_000]);
      expect(sum).toBe((22_999 * 23_000) / 2);
    });
  });

  it('stops the engine when a consumer leaves a stream early, and stays usable', async () => {
    await withDataset('numbers.parquet', async (adapter) => {
      for await (const batch of adapter.stream('SELECT i FROM dataset', [], { batchSize: 100 })) {
        expect(batch).toHaveLength(100);
        break;
      }
      expect((await adapter.query('SELECT COUNT(*) FROM dataset')).rows).toEqual([[25000]]);
    });
  });

  it('times out a long statement with QueryTimeoutError and stays usable', async () => {
    await withDataset('people.csv', async (adapter) => {
      const error = await adapter.query(SLOW_SQL, [], { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueryTimeoutError);
      expect((error as QueryTimeoutError).kind).toBe('timeout');
      expect((await adapter.query('SELECT COUNT(*) FROM dataset')).rows).toEqual([[3]]);
    });
  });

  it('stops a statement even when the deadline passes before it starts executing', async () => {
    await withDataset('people.csv', async (adapter) => {
      await expect(adapter.query(SLOW_SQL, [], { timeoutMs: 1 })).rejects.toBeInstanceOf(QueryTimeoutError);
    });
  });

  it('runs concurrent statements on separate connections', async () => {
    await withDataset('numbers.parquet', async (adapter) => {
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => adapter.query('SELECT COUNT(*) FROM dataset WHERE i % $1 = 0', [n])));
      expect(results.map((r) => r.rows[0]?.[0])).toEqual([25000, 12500, 8334, 6250, 5000]);
    });
  });

  it('rejects a running statement with `closed` when the adapter is closed', async () => {
    const adapter = await openDataset({ kind: 'file', path: 'people.csv' }, ctx());
    const running = adapter.query(SLOW_SQL).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await adapter.close();
    expect(await running).toMatchObject({ kind: 'closed' });
  });

  it('cancels a running statement through an AbortSignal', async () => {
    await withDataset('people.csv', async (adapter) => {
      const controller = new AbortController();
      const running = adapter.query(SLOW_SQL, [], { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      await expect(running).rejects.toBeInstanceOf(QueryCancelledError);
      const aborted = AbortSignal.abort();
      await expect(adapter.query('SELECT 1', [], { signal: aborted })).rejects.toBeInstanceOf(QueryCancelledError);
    });
  });

  it('cancels a stream through an AbortSignal', async () => {
    await withDataset('people.csv', async (adapter) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const consume = async () => {
        for await (const batch of adapter.stream('SELECT a FROM dataset, range(100000000000) t(a) WHERE a % 1000000007 = 0', [], { signal: controller.signal })) void batch;
      };
      await expect(consume()).rejects.toBeInstanceOf(QueryCancelledError);
    });
  });

  it('wraps engine errors without leaking the SQL or engine text', async () => {
    await withDataset('people.csv', async (adapter) => {
      const error = await adapter.query("SELECT secret_column FROM dataset WHERE name = 'carol'").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AdapterError);
      expect((error as AdapterError).kind).toBe('query-failed');
      expect((error as Error).message).not.toMatch(/secret_column|carol/);
      expect(JSON.stringify(error)).not.toMatch(/secret_column|carol/);
      expect(String((error as AdapterError).cause)).toMatch(/secret_column/);
    });
  });

  it('locks the instance to the dataset file: no other files, no setting changes', async () => {
    await withDataset('people.csv', async (adapter) => {
      const other = path.join(outside, 'secret.csv').replaceAll("'", "''");
      await expect(adapter.query(`SELECT * FROM read_csv('${other}')`)).rejects.toMatchObject({ kind: 'query-failed' });
      await expect(adapter.query('SET enable_external_access = true')).rejects.toMatchObject({ kind: 'query-failed' });
    });
  });

  it('writes only into the configured export directory', async () => {
    const exports = await mkdtemp(path.join(tmpdir(), 'veil-exports-'));
    const adapter = await openDataset({ kind: 'file', path: 'people.csv' }, { ...ctx(), duckdb: { exportDirectory: exports } });
    try {
      const into = (target: string) => `COPY (SELECT * FROM dataset) TO '${target.replaceAll("'", "''")}' (FORMAT csv)`;
      await adapter.query(into(path.join(exports, 'out.csv')));
      const copied = await adapter.query(`SELECT COUNT(*) AS n FROM read_csv('${path.join(exports, 'out.csv')}')`);
      expect(copied.rows[0]![0]).toBe(CSV.split('\n').length - 1);
      await expect(adapter.query(into(path.join(outside, 'leak.csv')))).rejects.toMatchObject({ kind: 'query-failed' });
      await expect(adapter.query(into(path.join(exports, '..', 'leak.csv')))).rejects.toMatchObject({ kind: 'query-failed' });
    } finally {
      await adapter.close();
      await rm(exports, { recursive: true, force: true });
    }
  });

  it('rejects bad parameters with a clear error', async () => {
    await withDataset('people.csv', async (adapter) => {
      await expect(adapter.query('SELECT $1', [{} as unknown as string])).rejects.toThrow(/parameter \$1 has an unsupported type/);
      await expect(adapter.query('SELECT 1', [], { timeoutMs: -5 })).rejects.toThrow(/timeoutMs must be a positive/);
    });
  });

  it('refuses use after close', async () => {
    const adapter = await openDataset({ kind: 'file', path: 'people.csv' }, ctx());
    await adapter.close();
    await expect(adapter.query('SELECT 1')).rejects.toMatchObject({ kind: 'closed' });
  });
});

describe('file paths and formats', () => {
  it('resolves relative paths against dataDir and accepts absolute paths inside the roots', async () => {
    const adapter = await openDataset({ kind: 'file', path: path.join(dir, 'sub', '..', 'people.csv') }, ctx());
    await adapter.close();
  });

  it('refuses paths outside the allowed roots, through .. or a symlink', async () => {
    await expect(openDataset({ kind: 'file', path: '../' + path.basename(outside) + '/secret.csv' }, ctx())).rejects.toMatchObject({ kind: 'path-not-allowed' });
    await expect(openDataset({ kind: 'file', path: 'sub/escape.csv' }, ctx())).rejects.toMatchObject({ kind: 'path-not-allowed' });
    const error = await openDataset({ kind: 'file', path: path.join(outside, 'secret.csv') }, ctx()).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/outside the directories this server may read/);
    expect((error as Error).message).not.toContain(outside);
  });

  it('allows any readable path when no roots are configured', async () => {
    const adapter = await openDataset({ kind: 'file', path: path.join(outside, 'secret.csv') }, { dataDir: dir });
    expect((await adapter.query('SELECT x FROM dataset')).rows).toEqual([[1]]);
    await adapter.close();
  });

  it('reports missing files, globs and unknown formats clearly', async () => {
    await expect(openDataset({ kind: 'file', path: 'missing.csv' }, ctx())).rejects.toMatchObject({ kind: 'not-found' });
    await expect(openDataset({ kind: 'file', path: '*.csv' }, ctx())).rejects.toThrow(/no glob characters/);
    await writeFile(path.join(dir, 'data.bin'), 'a\n1\n');
    await expect(openDataset({ kind: 'file', path: 'data.bin' }, ctx())).rejects.toThrow(/set `format`/);
    const adapter = await openDataset({ kind: 'file', path: 'data.bin', format: 'csv' }, ctx());
    expect((await adapter.query('SELECT a FROM dataset')).rows).toEqual([[1]]);
    await adapter.close();
  });

  it('reports a file that is not in the declared format', async () => {
    await expect(openDataset({ kind: 'file', path: 'people.csv', format: 'parquet' }, ctx())).rejects.toMatchObject({ kind: 'invalid-source' });
  });
});
