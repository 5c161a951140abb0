// The all-in-one Veil on PORT (default 8080), loaded by main.ts with decorator support. See ../README.md.
import { loadConfigOrExit, runService } from '@veil/service-config';
import { dpSqlPlanner } from '@veil/query-execution';
import { startEmbedded } from './server.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('Veil', 'embedded');
  const veil = await startEmbedded(config, dpSqlPlanner());
  const { adminKey, adminKeyFile, registered } = veil.firstStart;
  console.log(`Veil is listening on ${veil.url} (data in ${config.dataDir}; API docs at ${veil.url}/docs)`);
  if (adminKey) {
    console.log(`\nFirst start: the admin API key is shown once here and saved to ${adminKeyFile} (mode 0600):\n\n  ${adminKey}\n`);
  } else {
    console.log(`Admin key: ${adminKeyFile}`);
  }
  if (registered.length) console.log(`Registered demo dataset(s): ${registered.join(', ')}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: finishing running queries and shutting down…`);
    veil.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

runService('Veil', main);
