// What every Veil process does around its own start-up: refuse a bad environment with the variables named,
// and turn a failure to start into one clear line and an exit code instead of a stack trace.
import { ConfigError, loadConfig, type RunMode, type VeilConfig } from './config.js';

/** The configuration for `mode`; a bad environment ends the process (exit 2) naming every bad variable. */
export function loadConfigOrExit(service: string, mode: RunMode): VeilConfig {
  try {
    return loadConfig(mode);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${service}: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

/** Runs a service's `main`; if it cannot start, the process ends (exit 1) with one line saying why. */
export function runService(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(`${service} could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
