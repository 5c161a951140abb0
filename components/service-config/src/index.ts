// Public interface of @veil/service-config: the validated environment of every Veil service.
export { loadConfig, ConfigError } from './config.js';
export type { VeilConfig, RunMode, StoreLocation } from './config.js';
export { loadConfigOrExit, runService } from './service-process.js';
