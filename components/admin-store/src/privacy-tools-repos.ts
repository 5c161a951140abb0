// Repositories for masking and derived data: masking policies per dataset and role, the masking roles
// held by users, and derived datasets (synthetic data registered for the analyst who paid for it). They
// take the store's Prisma client (`store.prisma`), like the budget ledger's own models.
import { randomUUID } from 'node:crypto';
import { StoreError } from './errors.js';
import { Prisma, type PrismaClient } from './generated/prisma/client.js';

/** Role names are free-form but tame: they appear in URLs and listings. */
const ROLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
const ROLE_RULE = 'letters, digits, _ or -, starting with a letter or _, at most 63 characters';
const MAX_ROLES = 100;

export interface StoredMaskingPolicy {
  datasetId: string;
  role: string;
  /** The validated policy (no secret in it). */
  policy: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface MaskingPoliciesRepo {
  /** Creates or replaces the policy of `role` on a dataset. */
  put(datasetId: string, role: string, policy: unknown): Promise<StoredMaskingPolicy>;
  get(datasetId: string, role: string): Promise<StoredMaskingPolicy | null>;
  listForDataset(datasetId: string): Promise<StoredMaskingPolicy[]>;
  remove(datasetId: string, role: string): Promise<boolean>;
}

export function maskingPoliciesRepo(prisma: PrismaClient): MaskingPoliciesRepo {
  const select = { datasetId: true, role: true, policy: true, createdAt: true, updatedAt: true } as const;
  return {
    put: async (datasetId, role, policy) => {
      checkRole(role);
      const json = policy as Prisma.InputJsonValue;
      return translate(
        () =>
          prisma.maskingPolicy.upsert({
            where: { datasetId_role: { datasetId, role } },
            create: { id: randomUUID(), datasetId, role, policy: json },
            update: { policy: json },
            select,
          }),
        `dataset ${datasetId}`,
      );
    },
    get: (datasetId, role) => prisma.maskingPolicy.findUnique({ where: { datasetId_role: { datasetId, role } }, select }),
    listForDataset: (datasetId) => prisma.maskingPolicy.findMany({ where: { datasetId }, orderBy: { role: 'asc' }, select }),
    remove: async (datasetId, role) => (await prisma.maskingPolicy.deleteMany({ where: { datasetId, role } })).count > 0,
  };
}

export interface UserRolesRepo {
  /** The user's masking roles, sorted. */
  list(userId: string): Promise<string[]>;
  /** Replaces the user's masking roles with `roles` (deduplicated). */
  set(userId: string, roles: string[]): Promise<string[]>;
}

export function userRolesRepo(prisma: PrismaClient): UserRolesRepo {
  const list = async (userId: string) => (await prisma.userMaskingRole.findMany({ where: { userId }, orderBy: { role: 'asc' }, select: { role: true } })).map((r) => r.role);
  return {
    list,
    set: async (userId, roles) => {
      const unique = [...new Set(roles)];
      if (unique.length > MAX_ROLES) throw new StoreError('invalid', `at most ${MAX_ROLES} roles per user`);
      unique.forEach(checkRole);
      await translate(
        () =>
          prisma.$transaction([
            prisma.userMaskingRole.deleteMany({ where: { userId } }),
            prisma.userMaskingRole.createMany({ data: unique.map((role) => ({ id: randomUUID(), userId, role })) }),
          ]),
        `user ${userId}`,
        `user ${userId}`,
      );
      return list(userId);
    },
  };
}

export interface DerivedDataset {
  datasetId: string;
  sourceDatasetId: string;
  /** The analyst it belongs to. */
  userId: string;
  jobId: string | null;
  kind: 'synthetic';
  createdAt: Date;
}

export interface DerivedDatasetsRepo {
  create(input: { datasetId: string; sourceDatasetId: string; userId: string; jobId?: string | null; kind: 'synthetic' }): Promise<DerivedDataset>;
  get(datasetId: string): Promise<DerivedDataset | null>;
  listForUser(userId: string): Promise<DerivedDataset[]>;
}

export function derivedDatasetsRepo(prisma: PrismaClient): DerivedDatasetsRepo {
  const shape = (row: Omit<DerivedDataset, 'kind'> & { kind: string }): DerivedDataset => ({ ...row, kind: row.kind as DerivedDataset['kind'] });
  return {
    create: async (input) =>
      shape(await translate(() => prisma.derivedDataset.create({ data: { ...input, jobId: input.jobId ?? null } }), `derived dataset ${input.datasetId}`, 'its dataset, source, user or job')),
    get: async (datasetId) => {
      const row = await prisma.derivedDataset.findUnique({ where: { datasetId } });
      return row ? shape(row) : null;
    },
    listForUser: async (userId) => (await prisma.derivedDataset.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } })).map(shape),
  };
}

function checkRole(role: string): void {
  if (typeof role !== 'string' || !ROLE_PATTERN.test(role)) throw new StoreError('invalid', `a role name must be ${ROLE_RULE}`);
}

async function translate<T>(write: () => Promise<T>, subject: string, references?: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const code = error instanceof Prisma.PrismaClientKnownRequestError ? error.code : undefined;
    if (code === 'P2002') throw new StoreError('conflict', `${subject} already exists`, undefined, { cause: error });
    if (code === 'P2003') throw new StoreError('not_found', `${subject}: ${references ?? 'a referenced record'} does not exist`, undefined, { cause: error });
    throw error;
  }
}
