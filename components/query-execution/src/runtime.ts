// Opens everything the query flow runs on, from the validated service configuration: the admin store
// (PGlite or PostgreSQL, migrated), the budget ledger on the store's own connections, the adapter pool and
// the flow. Shared by the all-in-one project and the distributed services.
import { openStore } from '@veil/admin-store';
import type { AdminStore } from '@veil/admin-store';
import { createBudgetLedger } from '@veil/budget-ledger';
import type { VeilConfig } from '@veil/service-config';
import { AdapterPool } from './adapter-pool.js';
import { ledgerPort } from './ledger-binding.js';
import type { BudgetLedgerPort, QueryPlanner } from './ports.js';
import { QueryFlow } from './query-flow.js';

export interface QueryRuntime {
  store: AdminStore;
  ledger: BudgetLedgerPort;
  adapters: AdapterPool;
  flow: QueryFlow;
  close(): Promise<void>;
}

export async function openQueryRuntime(config: VeilConfig, planner: QueryPlanner): Promise<QueryRuntime> {
  const store = await openStore(config.store.kind === 'pglite' ? { kind: 'pglite', dataDir: config.store.dataDir } : { kind: 'postgres', url: config.store.url, maxConnections: config.databasePoolSize });
  const ledger = ledgerPort(createBudgetLedger({ sql: store.sql, defaultTtlMs: config.reservationTtlMs }));
  const adapters = new AdapterPool({
    dataDir: config.dataDir,
    allowedRoots: config.allowedRoots,
    postgresConnections: config.postgresConnections,
    defaultTimeoutMs: config.queryTimeoutMs,
  });
  const flow = new QueryFlow({ store, ledger, planner, adapters, reservationTtlMs: config.reservationTtlMs, queryTimeoutMs: config.queryTimeoutMs });
  return {
    store,
    ledger,
    adapters,
    flow,
    close: async () => {
      await flow.writesSettled();
      await adapters.close();
      await store.close();
    },
  };
}
