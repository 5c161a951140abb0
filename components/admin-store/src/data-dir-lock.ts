// PGlite is one PostgreSQL in this process: a second process (or a second PGlite here) opening the same
// directory would corrupt it, and PGlite does not stop it. A pid file in the directory does.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.js';

const LOCK_FILE = 'veil-store.pid';

/** Takes the directory for this process; returns the release function. A stale file (dead pid) is taken over. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(String(process.pid));
      await file.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new StoreError(
          'conflict',
          `the embedded store in ${dataDir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}; ` +
            `stop it first, or delete ${path} if no Veil process is running`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new StoreError('conflict', `could not lock the embedded store in ${dataDir} (${path} keeps appearing)`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
