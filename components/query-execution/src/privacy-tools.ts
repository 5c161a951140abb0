// Opens the flows of synthetic data, masking and derived-dataset queries on an opened query runtime, from
// the same validated configuration. Shared by the all-in-one project and the distributed services.
import type { AdapterContext } from '@veil/dataset-adapters';
import type { VeilConfig } from '@veil/service-config';
import { DerivedQueries } from './derived-queries.js';
import { MaskingFlow } from './masking-flow.js';
import { loadMaskingKey } from './masking-secret.js';
import type { QueryRuntime } from './runtime.js';
import { SyntheticFlow } from './synthetic-flow.js';

export interface PrivacyTools {
  synthetic: SyntheticFlow;
  masking: MaskingFlow;
  derived: DerivedQueries;
  /** VEIL_DATA_DIR, under which job result files live (results/<job id>/). */
  dataDir: string;
}

export async function openPrivacyTools(runtime: QueryRuntime, config: VeilConfig, env: Record<string, string | undefined> = process.env): Promise<PrivacyTools> {
  const adapterContext: AdapterContext = {
    dataDir: config.dataDir,
    allowedRoots: config.allowedRoots,
    postgresConnections: config.postgresConnections,
    defaultTimeoutMs: config.queryTimeoutMs,
  };
  const common = { store: runtime.store, adapters: runtime.adapters, queryTimeoutMs: config.queryTimeoutMs };
  return {
    synthetic: new SyntheticFlow({ ...common, ledger: runtime.ledger, dataDir: config.dataDir, reservationTtlMs: config.reservationTtlMs }),
    masking: new MaskingFlow({ ...common, adapterContext, dataDir: config.dataDir, key: await loadMaskingKey(config.mode, config.dataDir, env) }),
    derived: new DerivedQueries(common),
    dataDir: config.dataDir,
  };
}
