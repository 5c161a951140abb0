// Public interface of @veil/veil-client: the typed TypeScript SDK for Veil's HTTP API.
export { VeilClient, VeilApiError } from './client.js';
export type { QueryOptions, VeilClientOptions } from './client.js';
export type * from './types.js';
export type * from './privacy-types.js';
