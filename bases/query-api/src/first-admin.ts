// The first admin of an installation: created once, its key shown once and written to a file only its
// owner can read. Replicas starting together race on the unique user name; the loser finds the winner's.
import { writeFile } from 'node:fs/promises';
import { StoreError } from '@veil/admin-store';
import type { AdminStore } from '@veil/admin-store';

export interface FirstAdmin {
  userId: string;
  /** The new key, only when this call created it. */
  createdKey?: string;
}

export async function ensureFirstAdmin(store: AdminStore, keyFile: string | undefined): Promise<FirstAdmin> {
  const existing = (await store.users.list()).find((u) => u.role === 'admin' && !u.disabledAt);
  if (existing) return { userId: existing.id };
  let user;
  try {
    user = await store.users.create({ name: 'admin', role: 'admin' });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'conflict') return { userId: (await store.users.getByName('admin'))!.id };
    throw error;
  }
  const { token, key } = await store.apiKeys.create(user.id, { label: 'created at first start' });
  // Written before it is shown: a crash between the two never leaves a key nobody can find.
  if (keyFile) await writeFile(keyFile, `${token}\n`, { mode: 0o600 });
  await store.audit.append({ actorId: null, action: 'user.create', targetType: 'user', targetId: user.id, details: { name: 'admin', role: 'admin', firstStart: true } });
  await store.audit.append({ actorId: null, action: 'key.create', targetType: 'api_key', targetId: key.id, details: { user: 'admin', prefix: key.prefix } });
  return { userId: user.id, createdKey: token };
}
