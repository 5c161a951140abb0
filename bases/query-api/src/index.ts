// Public interface of @veil/query-api: the HTTP API (NestJS on Fastify), assembled by a project.
export { createQueryApi } from './app.js';
export type { QueryApiOptions } from './app.js';
export { API_DEPS } from './deps.js';
export type { ApiDeps, ApiSettings, Principal } from './deps.js';
export { openApiDocument } from './openapi.js';
export { ensureFirstAdmin } from './first-admin.js';
export type { FirstAdmin } from './first-admin.js';
