// Queries on derived datasets (synthetic data an analyst paid for): free and exact. The synthetic rows are
// already differentially private and belong to the analyst who bought them, so anything computed from them
// is post-processing — no ledger, no noise. The SQL must still be in Veil's query subset over the derived
// dataset's metadata (dp-sql's parser and validator decide, exactly as for DP queries), and it runs on a
// DuckDB instance that can read the synthetic Parquet file and nothing else (external access off,
// configuration locked). Only the analyst the derived dataset belongs to can see or query it; everyone
// else gets the same 404 as for a dataset that does not exist.
import type { AdminStore, Dataset } from '@veil/admin-store';
import { derivedDatasetsRepo } from '@veil/admin-store';
import type { DerivedDataset } from '@veil/admin-store';
import { AdapterError } from '@veil/dataset-adapters';
import { plan, QueryRejectedError } from '@veil/dp-sql';
import type { PrivacyCost } from '@veil/mechanisms';
import type { AdapterPool } from './adapter-pool.js';
import { QueryError } from './errors.js';

export const FREE: PrivacyCost = { epsilon: '0', delta: '0', rho: '0', rhoDelta: '0' };

export interface DerivedAnswer {
  columns: string[];
  rows: unknown[][];
  /** Exact values: no noise was added, so there is no interval to report. */
  exact: true;
  accuracy: null;
  charge: PrivacyCost;
  /** The dataset the synthetic data was generated from. */
  derivedFrom: string | null;
}

export interface DerivedQueriesDeps {
  store: AdminStore;
  adapters: AdapterPool;
  queryTimeoutMs: number;
}

export class DerivedQueries {
  constructor(private readonly deps: DerivedQueriesDeps) {}

  /** The derived dataset `name` if it belongs to `userId`; null otherwise (also when it does not exist). */
  async owned(userId: string, name: string): Promise<{ dataset: Dataset; derived: DerivedDataset } | null> {
    const dataset = await this.deps.store.datasets.get(name);
    // Derived datasets are owned by the analyst they belong to: for any other dataset one read suffices.
    if (!dataset || dataset.ownerId !== userId) return null;
    const derived = await derivedDatasetsRepo(this.deps.store.prisma).get(dataset.id);
    return derived && derived.userId === userId ? { dataset, derived } : null;
  }

  /** The derived datasets that belong to `userId`. */
  async list(userId: string): Promise<Dataset[]> {
    const rows = await derivedDatasetsRepo(this.deps.store.prisma).listForUser(userId);
    const found = await Promise.all(rows.map((r) => this.deps.store.datasets.getById(r.datasetId)));
    return found.filter((d): d is Dataset => d !== null);
  }

  /** Answers `sql` exactly on the user's derived dataset `name`; null when `name` is not one. */
  async answer(userId: string, name: string, sql: string): Promise<DerivedAnswer | null> {
    const owned = await this.owned(userId, name);
    if (!owned) return null;
    const { dataset, derived } = owned;
    try {
      // Nominal parameters: only the checks matter (the subset, the columns, the bounds); nothing is charged.
      plan(sql, dataset.metadata, { epsilon: '1', delta: '1e-9' });
    } catch (error) {
      if (error instanceof QueryRejectedError) throw new QueryError('bad_query', error.message, { reason: error.code, construct: error.construct });
      throw error;
    }
    let answer;
    try {
      answer = await this.deps.adapters.use(dataset, (adapter) => adapter.query(sql, [], { timeoutMs: this.deps.queryTimeoutMs }));
    } catch (error) {
      if (error instanceof QueryError) throw error;
      if (error instanceof AdapterError && error.kind === 'timeout') throw new QueryError('timeout', error.message);
      throw new QueryError('query_failed', 'the query failed on the synthetic data');
    }
    const source = await this.deps.store.datasets.getById(derived.sourceDatasetId);
    const result: DerivedAnswer = { columns: answer.columns, rows: jsonSafeRows(answer.rows), exact: true, accuracy: null, charge: FREE, derivedFrom: source?.name ?? null };
    await this.deps.store.archive.append({ userId, datasetId: dataset.id, queryText: sql, cost: null, result });
    return result;
  }
}

function jsonSafeRows(rows: unknown[][]): unknown[][] {
  return rows.map((row) => row.map((value) => (typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value)));
}
