// Masked Parquet export of flights-3m.parquet (vega-datasets, 3,000,000 rows) with four rules — partial
// scrambling, keyed hash (HMAC-SHA256), noise, generalisation — against a plain DuckDB COPY of the same
// columns to Parquet, measured in the same run. Target: masked ≤ 2× plain.
// Run: npx tsx development/bench/masking.bench.ts   (or npm run bench -- masking)
//
// The masked export takes the engine path: COPY of the masked SELECT inside the dataset's DuckDB, which the
// adapter allows only into its configured export directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { validateMetadata } from '@veil/dataset-metadata';
import { openDataset } from '@veil/dataset-adapters';
import { compilePolicy, MaskingKey, runMaskedExport } from '@veil/masking';
import { runBenchmark } from './harness.js';

const FLIGHTS = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/vega-datasets/data/flights-3m.parquet');
const ROWS = 3_000_000;
const work = mkdtempSync(join(tmpdir(), 'veil-masking-bench-'));
const lit = (path: string): string => `'${path.replaceAll("'", "''")}'`;

const metadata = validateMetadata({
  source: { kind: 'file', path: FLIGHTS, format: 'parquet' },
  columns: {
    date: { type: 'timestamp' },
    delay: { type: 'int' },
    distance: { type: 'int' },
    origin: { type: 'string' },
    destination: { type: 'string' },
  },
});
const policy = compilePolicy({
  rules: {
    origin: "partial(1, '**', 0)",
    destination: 'hash()',
    delay: 'noise(0.1)',
    distance: 'generalize(100)',
  },
  public: ['date'],
}, metadata);
const key = MaskingKey.fromSecret('benchmark secret — not a real one');

const baselineDb = await DuckDBInstance.create(':memory:');
const baselineConnection = await baselineDb.connect();
// The shipped adapter, allowed to write into the benchmark's own directory (AdapterContext.duckdb.exportDirectory).
const adapter = await openDataset(metadata.source, { dataDir: '/', duckdb: { exportDirectory: work } });
let lastRoute = '';

try {
  const report = await runBenchmark({
    name: 'masking',
    unitName: 'rows',
    repeats: 7,
    warmups: 1,
    baseline: {
      name: 'DuckDB COPY of the 5 columns to Parquet',
      units: ROWS,
      run: () => baselineConnection.run(
        `COPY (SELECT date, delay, distance, origin, destination FROM read_parquet(${lit(FLIGHTS)})) TO ${lit(join(work, 'plain.parquet'))} (FORMAT parquet)`),
    },
    cases: [
      {
        name: 'masked export: partial + HMAC hash + noise + generalize',
        units: ROWS,
        run: async () => {
          const result = await runMaskedExport(adapter, policy, { key, format: 'parquet', out: join(work, 'masked.parquet') });
          if (result.rows !== ROWS) throw new Error(`expected ${ROWS} rows, wrote ${result.rows}`);
          lastRoute = result.route;
        },
      },
    ],
    targets: [
      {
        description: 'masked Parquet export ≤ 2× the plain DuckDB COPY',
        holds: (results) => [...results.values()].every((r) => r.timeRatioToBaseline <= 2),
      },
    ],
    notes: [
      'rules: origin partial(1, \'**\', 0); destination hash() (HMAC-SHA256, once per distinct value, joined); delay noise(0.1); distance generalize(100); date public',
      'engine path: COPY (masked SELECT) TO … inside DuckDB, key and literals as bound parameters',
    ],
  });
  console.log(`route taken by the masked export: ${lastRoute}`);
  void report;

} finally {
  await adapter.close();
  baselineConnection.closeSync();
  baselineDb.closeSync();
  rmSync(work, { recursive: true, force: true });
}
