// Public interface of @veil/admin-store: users, API keys, datasets, query archive, jobs and the audit log
// in PostgreSQL or embedded PGlite through Prisma 7, with hand-written migrations applied at start-up.
export { openStore } from './store.js';
export type { AdminStore, OpenStoreOptions, UsersRepo, ApiKeysRepo, DatasetsRepo, ArchiveRepo, JobsRepo, AuditRepo } from './store.js';
export { applyMigrations, readMigrations, MIGRATIONS_DIR } from './migrate.js';
export type { Migration, MigrationResult } from './migrate.js';
export { pgPoolExecutor, pgliteExecutor } from './sql.js';
export { StoreError } from './errors.js';
export { fastWrites, JsonText } from './fast-writes.js';
export type { FastWrites, FinalJobStatus, JobOutcome } from './fast-writes.js';
export type { StoreErrorCode } from './errors.js';
export { parseApiKeyToken, API_KEY_TOKEN_PREFIX } from './api-keys.js';
export type * from './types.js';
export { maskingPoliciesRepo, userRolesRepo, derivedDatasetsRepo } from './privacy-tools-repos.js';
export type { MaskingPoliciesRepo, StoredMaskingPolicy, UserRolesRepo, DerivedDataset, DerivedDatasetsRepo } from './privacy-tools-repos.js';
