// The server's masking secret, from which @veil/masking derives its key (keyed hashes and pseudonyms).
// VEIL_MASKING_SECRET (at least 16 bytes) when set; otherwise, in embedded mode, a random secret made on
// first start and kept in $VEIL_DATA_DIR/masking.secret, readable by its owner only (like admin.key). In
// distributed mode every replica must derive the same pseudonyms, so the variable is required there;
// without it masking is disabled and its routes say so. The secret is never logged or shown.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MaskingKey } from '@veil/masking';

export const MASKING_SECRET_FILE = 'masking.secret';
const MIN_SECRET_BYTES = 16;

export class MaskingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskingConfigError';
  }
}

/** The masking key, or undefined when masking is not configured (distributed mode without the variable). */
export async function loadMaskingKey(mode: 'embedded' | 'distributed', dataDir: string, env: Record<string, string | undefined> = process.env): Promise<MaskingKey | undefined> {
  const fromEnv = env.VEIL_MASKING_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (Buffer.byteLength(fromEnv, 'utf8') < MIN_SECRET_BYTES) throw new MaskingConfigError(`VEIL_MASKING_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`);
    return MaskingKey.fromSecret(fromEnv);
  }
  if (mode === 'distributed') return undefined;
  return MaskingKey.fromSecret(await embeddedSecret(dataDir));
}

async function embeddedSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, MASKING_SECRET_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new MaskingConfigError(`cannot read the masking secret file ${file}`);
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': a second process starting at the same moment keeps the first one's secret.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw new MaskingConfigError(`cannot write the masking secret file ${file}`);
  }
}
