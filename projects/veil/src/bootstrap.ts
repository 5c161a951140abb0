// First start of the all-in-one Veil: an admin user and key (printed once, written to
// $VEIL_DATA_DIR/admin.key readable by its owner only), and the bundled demo datasets with their reviewed
// metadata, copied into the data directory so the installation does not depend on the source tree.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdminStore } from '@veil/admin-store';
import { parseMetadata } from '@veil/dataset-metadata';
import { ensureFirstAdmin } from '@veil/query-api';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');

export interface DemoDataset {
  name: string;
  description: string;
  /** Files in projects/veil/demo: the data and its metadata (whose path is relative to the data file). */
  dataFile: string;
  metadataFile: string;
}

export const DEMO_DATASETS: DemoDataset[] = [
  {
    name: 'penguins',
    description: 'Palmer penguins: 344 birds of three species on three islands (CC0; see demo/LICENSE.md)',
    dataFile: 'penguins.csv',
    metadataFile: 'penguins.yaml',
  },
];

export interface BootstrapResult {
  /** The admin key, when it was created now (shown once). */
  adminKey?: string;
  adminKeyFile: string;
  registered: string[];
}

export async function bootstrap(store: AdminStore, dataDir: string, demos: DemoDataset[] = DEMO_DATASETS): Promise<BootstrapResult> {
  await mkdir(dataDir, { recursive: true });
  const adminKeyFile = join(dataDir, 'admin.key');
  const admin = await ensureFirstAdmin(store, adminKeyFile);
  const registered: string[] = [];
  for (const demo of demos) {
    if (await store.datasets.get(demo.name)) continue;
    await registerDemo(store, dataDir, demo, admin.userId);
    registered.push(demo.name);
  }
  return { adminKey: admin.createdKey, adminKeyFile, registered };
}

async function registerDemo(store: AdminStore, dataDir: string, demo: DemoDataset, ownerId: string): Promise<void> {
  const target = join(dataDir, 'demo', demo.dataFile);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(join(DEMO_DIR, demo.dataFile), target);
  const metadata = parseMetadata(await readFile(join(DEMO_DIR, demo.metadataFile), 'utf8'));
  // Relative file paths resolve against VEIL_DATA_DIR.
  const source = { ...metadata.source, path: `demo/${demo.dataFile}` };
  const dataset = await store.datasets.create({ name: demo.name, description: demo.description, metadata: { ...metadata, source }, ownerId });
  await store.audit.append({ actorId: null, action: 'dataset.create', targetType: 'dataset', targetId: dataset.id, details: { name: demo.name, demo: true } });
}
