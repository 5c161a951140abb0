// Per-query overhead of the DuckDB adapter over flights-3m.parquet, against the same SQL run on a raw
// @duckdb/node-api connection in the same process and run. 
// `npm run bench -- dataset-adapters`.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { openDataset, type DatasetAdapter } from '@veil/dataset-adapters';
import path from 'node:path';
import { runBenchmark } from './harness.js';

const FLIGHTS = path.resolve('node_modules/vega-datasets/data/flights-3m.parquet');
const SCAN = `read_parquet('${FLIGHTS.replaceAll("'", "''")}')`;
const AGGREGATE = (from: string) => `SELECT COUNT(*), SUM(LEAST(GREATEST(delay, -60), 180)), AVG(distance) FROM ${from} WHERE delay > 10`;
const GROUPED = (from: string) => `SELECT origin, COUNT(*), SUM(distance) FROM ${from} GROUP BY origin`;

const instance = await DuckDBInstance.create(':memory:');
const raw: DuckDBConnection = await instance.connect();
const adapter: DatasetAdapter = await openDataset({ kind: 'file', path: FLIGHTS }, { dataDir: process.cwd() });

await runBenchmark({
  name: 'dataset-adapters',
  unitName: 'queries',
  repeats: 15,
  warmups: 2,
  baseline: { name: 'raw DuckDB: filtered aggregate over flights-3m.parquet', units: 1, run: () => raw.runAndReadAll(AGGREGATE(SCAN)) },
  cases: [
    { name: 'adapter.query: same aggregate over `dataset`', units: 1, run: () => adapter.query(AGGREGATE('dataset')) },
    { name: 'raw DuckDB: GROUP BY origin', units: 1, run: () => raw.runAndReadAll(GROUPED(SCAN)) },
    { name: 'adapter.query: GROUP BY origin', units: 1, run: () => adapter.query(GROUPED('dataset')) },
    { name: 'raw DuckDB: SELECT 1 (fixed cost)', units: 1, run: () => raw.runAndReadAll('SELECT 1') },
    { name: 'adapter.query: SELECT 1 (fixed cost)', units: 1, run: () => adapter.query('SELECT 1') },
    { name: 'adapter.stream: 3M rows × 2 columns, batches of 10,000', units: 1, run: async () => { for await (const batch of adapter.stream('SELECT delay, origin FROM dataset')) void batch; } },
  ],
  notes: [
    'DuckDB adapter: in-memory instance per dataset, VIEW `dataset` over read_parquet created once at open, a pooled connection per statement, typed $n parameters, values mapped per README.',
    'Both sides use the same DuckDB defaults (threads = cores). Time ratios compare the adapter against the raw query in the same run.',
  ],
});
raw.closeSync();
await adapter.close();
instance.closeSync();
