// Public interface of @veil/cli: the `veil` command line over the SDK.
export { runCli } from './cli.js';
export type { CliIo } from './cli.js';
export { renderTable } from './table.js';
