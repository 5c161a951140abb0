// Where the CLI finds its server and key: VEIL_SERVER / VEIL_API_KEY, else the file written by
// `veil configure` ($VEIL_CONFIG, default ~/.config/veil/config.json, readable by its owner only).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  server?: string;
  apiKey?: string;
}

export function configPath(env: Record<string, string | undefined>): string {
  return env.VEIL_CONFIG ?? join(env.HOME ?? homedir(), '.config', 'veil', 'config.json');
}

export async function readConfig(env: Record<string, string | undefined>): Promise<CliConfig> {
  let stored: CliConfig = {};
  try {
    stored = JSON.parse(await readFile(configPath(env), 'utf8')) as CliConfig;
  } catch {
    // No configuration yet: environment variables or defaults.
  }
  return {
    server: env.VEIL_SERVER ?? stored.server ?? 'http://127.0.0.1:8080',
    apiKey: env.VEIL_API_KEY ?? stored.apiKey,
  };
}

export async function writeConfig(env: Record<string, string | undefined>, changes: CliConfig): Promise<string> {
  const path = configPath(env);
  let stored: CliConfig = {};
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as CliConfig;
  } catch {
    // First configuration.
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify({ ...stored, ...changes }, null, 2)}\n`, { mode: 0o600 });
  return path;
}
