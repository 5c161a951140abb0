// One open adapter per dataset version, shared by the queries on it: opening DuckDB over a file (or a
// PostgreSQL pool) per query would cost more than the query. A dataset whose metadata changed gets a new
// adapter; the old one closes once no query uses it.
import { AdapterError, openDataset } from '@veil/dataset-adapters';
import type { AdapterContext, DatasetAdapter } from '@veil/dataset-adapters';
import type { Dataset } from '@veil/admin-store';
import { QueryError } from './errors.js';

interface Entry {
  version: number;
  adapter: Promise<DatasetAdapter>;
  users: number;
  stale: boolean;
}

export class AdapterPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly context: AdapterContext) {}

  /** Runs `fn` with the dataset's adapter, opening it if needed. */
  async use<R>(dataset: Dataset, fn: (adapter: DatasetAdapter) => Promise<R>): Promise<R> {
    const entry = this.entryFor(dataset);
    entry.users++;
    try {
      let adapter: DatasetAdapter;
      try {
        adapter = await entry.adapter;
      } catch (error) {
        this.entries.delete(dataset.id);
        throw unavailable(error);
      }
      return await fn(adapter);
    } finally {
      entry.users--;
      if (entry.stale && entry.users === 0) void closeQuietly(entry);
    }
  }

  private entryFor(dataset: Dataset): Entry {
    const version = dataset.updatedAt.getTime();
    const existing = this.entries.get(dataset.id);
    if (existing && existing.version === version) return existing;
    if (existing) {
      existing.stale = true;
      if (existing.users === 0) void closeQuietly(existing);
    }
    const entry: Entry = { version, adapter: openDataset(dataset.metadata.source, this.context), users: 0, stale: false };
    this.entries.set(dataset.id, entry);
    return entry;
  }

  /** Closes the adapter of a dataset that was removed or changed. */
  forget(datasetId: string): void {
    const entry = this.entries.get(datasetId);
    if (!entry) return;
    this.entries.delete(datasetId);
    entry.stale = true;
    if (entry.users === 0) void closeQuietly(entry);
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(closeQuietly));
  }
}

async function closeQuietly(entry: Entry): Promise<void> {
  try {
    await (await entry.adapter).close();
  } catch {
    // An adapter that never opened has nothing to close.
  }
}

function unavailable(error: unknown): QueryError {
  const kind = error instanceof AdapterError ? error.kind : 'invalid-source';
  return new QueryError('dataset_unavailable', `the dataset cannot be opened right now (${kind}); ask its owner to check its source`);
}
