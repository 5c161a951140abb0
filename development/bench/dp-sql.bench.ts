// DP SQL over flights-3m.parquet against the raw DuckDB query in the same run:
// `SELECT origin, COUNT(*), AVG(delay) FROM read_parquet(…) GROUP BY origin`, median of 10.
// DP cases time plan() + run() (generated SQL through the DuckDB adapter, noise, post-processing).
// `npm run bench -- dp-sql`.
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDataset } from '@veil/dataset-adapters';
import { validateMetadata } from '@veil/dataset-metadata';
import { plan, run } from '@veil/dp-sql';
import { CryptoRandom } from '@veil/mechanisms';
import { runBenchmark } from './harness.js';

const FLIGHTS = path.resolve('node_modules/vega-datasets/data/flights-3m.parquet');
const RAW = `SELECT origin, COUNT(*), AVG(delay) FROM read_parquet('${FLIGHTS.replaceAll("'", "''")}') GROUP BY origin`;
const QUERY = 'SELECT origin, COUNT(*), AVG(delay) FROM flights GROUP BY origin';

const instance = await DuckDBInstance.create(':memory:');
const raw = await instance.connect();
const adapter = await openDataset({ kind: 'file', path: FLIGHTS }, { dataDir: process.cwd() });
const rng = new CryptoRandom();

// Public keys: the bench declares origin's categories, read once here (fine for a benchmark, not for DP).
const origins = (await raw.runAndReadAll(`SELECT DISTINCT origin FROM read_parquet('${FLIGHTS.replaceAll("'", "''")}') ORDER BY 1`))
  .getRowsJS()
  .map((r) => String(r[0]));
const columns = (originColumn: object) => ({
  date: { type: 'timestamp' },
  delay: { type: 'int', lower: -60, upper: 600 },
  distance: { type: 'int', lower: 0, upper: 5000 },
  origin: originColumn,
  destination: { type: 'string' },
});
const publicKeys = validateMetadata({ source: { kind: 'file', path: FLIGHTS }, columns: columns({ type: 'string', categories: origins }) });
const privateKeys = validateMetadata({ source: { kind: 'file', path: FLIGHTS }, columns: columns({ type: 'string' }) });

const released = { public: 0, private: 0 };
await runBenchmark({
  name: 'dp-sql',
  unitName: 'queries',
  repeats: 10,
  warmups: 3,
  baseline: { name: 'raw DuckDB: SELECT origin, COUNT(*), AVG(delay) … GROUP BY origin', units: 1, run: () => raw.runAndReadAll(RAW) },
  cases: [
    {
      name: 'DP, public keys (229 declared origins), ε = 1',
      units: 1,
      run: async () => {
        released.public = (await run(plan(QUERY, publicKeys, { epsilon: 1 }), adapter, rng)).rows.length;
      },
    },
    {
      name: 'DP, partition selection, ε = 1, δ = 1e-6',
      units: 1,
      run: async () => {
        released.private = (await run(plan(QUERY, privateKeys, { epsilon: 1, delta: '1e-6' }), adapter, rng)).rows.length;
      },
    },
    { name: 'adapter.query: the raw SQL over `dataset` (adapter overhead, for reference)', units: 1, run: () => adapter.query('SELECT origin, COUNT(*), AVG(delay) FROM dataset GROUP BY origin') },
  ],
  targets: [
    { description: 'DP with public keys ≤ 1.3× the raw DuckDB query', holds: (r) => r.get('DP, public keys (229 declared origins), ε = 1')!.timeRatioToBaseline <= 1.3 },
    { description: 'DP with partition selection ≤ 1.3× the raw DuckDB query', holds: (r) => r.get('DP, partition selection, ε = 1, δ = 1e-6')!.timeRatioToBaseline <= 1.3 },
  ],
  notes: [
    'Row-level privacy (no privacy unit): the generated SQL has no window functions; delay clamped to [-60, 600] and summed centred, as exact integers.',
    'Both DuckDB instances use default settings (threads = cores) in one process; DP time includes plan(), SQL through the adapter, noise and post-processing.',
  ],
});
console.log(`groups released: public keys ${released.public}, partition selection ${released.private}`);
raw.closeSync();
instance.closeSync();
await adapter.close();
