// Small typed repositories over the Prisma client. They return the plain shapes of types.ts and turn
// Prisma's error codes into StoreErrors with messages fit for an admin.
import { randomUUID } from 'node:crypto';
import { MetadataError, parseMetadata, validateMetadata, type DatasetMetadata, type DatasetSource } from '@veil/dataset-metadata';
import { isValidPrefix, newToken, parseApiKeyToken, tokenMatches } from './api-keys.js';
import { StoreError } from './errors.js';
import { Prisma, type PrismaClient } from './generated/prisma/client.js';
import type {
  ApiKeyInfo, ArchivedQuery, AuditEntry, CreatedApiKey, Dataset, DatasetChanges, Job, JobStatus, JobUpdate,
  NewArchivedQuery, NewAuditEntry, NewDataset, NewJob, PageOptions, User, UserRole,
} from './types.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;
const NAME_RULE = 'letters, digits and _ . @ -, starting with a letter or digit, at most 128 characters';
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** last_used_at is written at most this often per key, so authentication is normally a single read. */
const LAST_USED_RESOLUTION_MS = 60_000;
const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

// ---------------------------------------------------------------- users

export interface UsersRepo {
  create(input: { name: string; role: UserRole }): Promise<User>;
  get(id: string): Promise<User | null>;
  getByName(name: string): Promise<User | null>;
  list(): Promise<User[]>;
  setRole(id: string, role: UserRole): Promise<User>;
  /** A disabled user's keys stop authenticating; `disabled: false` enables the user again. */
  setDisabled(id: string, disabled: boolean): Promise<User>;
}

export function usersRepo(prisma: PrismaClient): UsersRepo {
  return {
    create: async ({ name, role }) => {
      checkName('user', name);
      checkRole(role);
      return translate(() => prisma.user.create({ data: { id: randomUUID(), name, role } }), `user "${name}"`);
    },
    get: (id) => prisma.user.findUnique({ where: { id } }),
    getByName: (name) => prisma.user.findUnique({ where: { name } }),
    list: () => prisma.user.findMany({ orderBy: { name: 'asc' } }),
    setRole: async (id, role) => {
      checkRole(role);
      return translate(() => prisma.user.update({ where: { id }, data: { role } }), `user ${id}`);
    },
    setDisabled: (id, disabled) =>
      translate(() => prisma.user.update({ where: { id }, data: { disabledAt: disabled ? new Date() : null } }), `user ${id}`),
  };
}

function checkRole(role: string): void {
  if (role !== 'admin' && role !== 'analyst') throw new StoreError('invalid', `role must be "admin" or "analyst", not "${role}"`);
}

// ---------------------------------------------------------------- API keys

export interface ApiKeysRepo {
  /** Makes a key for the user; the returned token is shown once and never stored. */
  create(userId: string, options?: { label?: string; expiresAt?: Date }): Promise<CreatedApiKey>;
  /** The user and key behind a presented token, or null when it is unknown, wrong, revoked, expired or the user is disabled. */
  authenticate(token: string): Promise<{ user: User; key: ApiKeyInfo } | null>;
  /** Revokes the key with this public prefix; revoking twice keeps the first time. */
  revoke(prefix: string): Promise<ApiKeyInfo>;
  getByPrefix(prefix: string): Promise<ApiKeyInfo | null>;
  listForUser(userId: string): Promise<ApiKeyInfo[]>;
}

const keyInfo = { id: true, userId: true, prefix: true, label: true, createdAt: true, lastUsedAt: true, expiresAt: true, revokedAt: true } as const;

export function apiKeysRepo(prisma: PrismaClient): ApiKeysRepo {
  return {
    create: async (userId, options = {}) => {
      // A prefix collision (1 in ~10^12 per pair) would fail the unique index: draw again.
      for (let attempt = 0; ; attempt++) {
        const { token, prefix, hash } = newToken();
        try {
          const key = await prisma.apiKey.create({
            data: { id: randomUUID(), userId, prefix, tokenHash: new Uint8Array(hash), label: options.label ?? null, expiresAt: options.expiresAt ?? null },
            select: keyInfo,
          });
          return { token, key };
        } catch (error) {
          if (isPrisma(error, 'P2002') && attempt < 3) continue;
          if (isPrisma(error, 'P2003')) throw new StoreError('not_found', `user ${userId} does not exist`);
          throw error;
        }
      }
    },
    authenticate: async (token) => {
      const parsed = parseApiKeyToken(token);
      if (!parsed) return null;
      const row = await prisma.apiKey.findUnique({ where: { prefix: parsed.prefix }, include: { user: true } });
      if (!row || !tokenMatches(token, row.tokenHash)) return null;
      const now = Date.now();
      if (row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now) || row.user.disabledAt) return null;
      const { tokenHash: _hash, user, ...key } = row;
      if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
        key.lastUsedAt = new Date(now);
        await prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: key.lastUsedAt } });
      }
      return { user, key };
    },
    revoke: async (prefix) => {
      if (!isValidPrefix(prefix)) throw new StoreError('invalid', 'an API key prefix is 8 lower-case letters and digits');
      await prisma.apiKey.updateMany({ where: { prefix, revokedAt: null }, data: { revokedAt: new Date() } });
      const key = await prisma.apiKey.findUnique({ where: { prefix }, select: keyInfo });
      if (!key) throw new StoreError('not_found', `no API key with prefix ${prefix}`);
      return key;
    },
    getByPrefix: (prefix) => prisma.apiKey.findUnique({ where: { prefix }, select: keyInfo }),
    listForUser: (userId) => prisma.apiKey.findMany({ where: { userId }, select: keyInfo, orderBy: { createdAt: 'asc' } }),
  };
}

// ---------------------------------------------------------------- datasets

export interface DatasetsRepo {
  /** Registers a dataset; the metadata is validated (StoreError 'invalid' with the issues otherwise). */
  create(input: NewDataset): Promise<Dataset>;
  get(name: string): Promise<Dataset | null>;
  getById(id: string): Promise<Dataset | null>;
  list(options?: { ownerId?: string }): Promise<Dataset[]>;
  update(name: string, changes: DatasetChanges): Promise<Dataset>;
  /** Deletes a dataset nothing refers to; one with archived queries, jobs or grants is a 'conflict'. */
  remove(name: string): Promise<void>;
}

export function datasetsRepo(prisma: PrismaClient): DatasetsRepo {
  return {
    create: async ({ name, description, metadata, ownerId }) => {
      checkName('dataset', name);
      const meta = checkMetadata(metadata);
      const data = { id: randomUUID(), name, description: description ?? null, metadata: meta as Prisma.InputJsonValue, sourceRef: sourceRef(meta.source), ownerId };
      return toDataset(await translate(() => prisma.dataset.create({ data }), `dataset "${name}"`, `owner ${ownerId}`));
    },
    get: async (name) => mapNullable(await prisma.dataset.findUnique({ where: { name } }), toDataset),
    getById: async (id) => mapNullable(await prisma.dataset.findUnique({ where: { id } }), toDataset),
    list: async (options = {}) =>
      (await prisma.dataset.findMany({ where: options.ownerId ? { ownerId: options.ownerId } : {}, orderBy: { name: 'asc' } })).map(toDataset),
    update: async (name, changes) => {
      const data: Prisma.DatasetUncheckedUpdateInput = {};
      if (changes.description !== undefined) data.description = changes.description;
      if (changes.ownerId !== undefined) data.ownerId = changes.ownerId;
      if (changes.metadata !== undefined) {
        const meta = checkMetadata(changes.metadata);
        data.metadata = meta as Prisma.InputJsonValue;
        data.sourceRef = sourceRef(meta.source);
      }
      return toDataset(await translate(() => prisma.dataset.update({ where: { name }, data }), `dataset "${name}"`, changes.ownerId === undefined ? undefined : `owner ${changes.ownerId}`));
    },
    remove: async (name) => {
      await translate(() => prisma.dataset.delete({ where: { name } }), `dataset "${name}"`);
    },
  };
}

function checkMetadata(input: unknown): DatasetMetadata {
  try {
    return typeof input === 'string' ? parseMetadata(input) : validateMetadata(input);
  } catch (error) {
    if (error instanceof MetadataError) throw new StoreError('invalid', error.message, error.issues, { cause: error });
    throw error;
  }
}

/** A one-line description of where the data lives, for listings; never a secret (postgres names a secret). */
function sourceRef(source: DatasetSource): string {
  switch (source.kind) {
    case 'file':
      return `file:${source.path}`;
    case 'http':
      return withoutCredentials(source.url);
    case 's3':
      return source.url;
    case 'postgres':
      return `postgres:${source.connection}/${source.table}`;
  }
}

/** A URL may carry a password or a signed query string; listings show neither. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function toDataset(row: { metadata: Prisma.JsonValue } & Omit<Dataset, 'metadata'>): Dataset {
  return { ...row, metadata: row.metadata as DatasetMetadata };
}

// ---------------------------------------------------------------- query archive

export interface ArchiveRepo {
  append(entry: NewArchivedQuery): Promise<ArchivedQuery>;
  /** One user's queries, newest first. */
  listForUser(userId: string, page?: PageOptions): Promise<ArchivedQuery[]>;
  /** Everyone's queries (admin view), newest first, optionally narrowed to a user or a dataset. */
  list(filter?: PageOptions & { userId?: string; datasetId?: string }): Promise<ArchivedQuery[]>;
}

export function archiveRepo(prisma: PrismaClient): ArchiveRepo {
  const list = async (filter: PageOptions & { userId?: string; datasetId?: string } = {}) => {
    const rows = await prisma.queryArchive.findMany({
      where: { userId: filter.userId, datasetId: filter.datasetId, ...pageBefore(filter) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize(filter.limit),
    });
    return rows.map(toArchivedQuery);
  };
  return {
    append: async (entry) => {
      const data = {
        id: randomUUID(),
        userId: entry.userId,
        datasetId: entry.datasetId,
        queryText: entry.queryText,
        cost: jsonOrNull(entry.cost),
        result: jsonOrNull(entry.result),
        error: jsonOrNull(entry.error),
      };
      return toArchivedQuery(await translate(() => prisma.queryArchive.create({ data }), 'archived query', `user ${entry.userId} or dataset ${entry.datasetId}`));
    },
    listForUser: (userId, page = {}) => list({ ...page, userId }),
    list,
  };
}

function toArchivedQuery(row: { cost: Prisma.JsonValue; result: Prisma.JsonValue; error: Prisma.JsonValue } & Omit<ArchivedQuery, 'cost' | 'result' | 'error'>): ArchivedQuery {
  return { ...row, cost: row.cost as ArchivedQuery['cost'], result: row.result, error: row.error as ArchivedQuery['error'] };
}

// ---------------------------------------------------------------- jobs

export interface JobsRepo {
  create(input: NewJob): Promise<Job>;
  get(id: string): Promise<Job | null>;
  /** Updates status, progress, result or error; moving to running stamps startedAt, to a final status finishedAt. */
  update(id: string, update: JobUpdate): Promise<Job>;
  listForUser(userId: string, page?: PageOptions): Promise<Job[]>;
}

export function jobsRepo(prisma: PrismaClient): JobsRepo {
  return {
    create: async (input) => {
      if (!input.kind) throw new StoreError('invalid', 'a job needs a kind');
      const data = { id: input.id ?? randomUUID(), kind: input.kind, userId: input.userId, datasetId: input.datasetId ?? null, params: jsonOrNull(input.params) };
      return toJob(await translate(() => prisma.job.create({ data }), `job ${data.id}`, `user ${input.userId} or dataset ${input.datasetId}`));
    },
    get: async (id) => mapNullable(await prisma.job.findUnique({ where: { id } }), toJob),
    update: async (id, update) => toJob(await translate(() => prisma.job.update({ where: { id }, data: jobChanges(update) }), `job ${id}`)),
    listForUser: async (userId, page = {}) =>
      (await prisma.job.findMany({
        where: { userId, ...pageBefore(page) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: pageSize(page.limit),
      })).map(toJob),
  };
}

function jobChanges(update: JobUpdate): Prisma.JobUpdateInput {
  const data: Prisma.JobUpdateInput = {};
  if (update.progress !== undefined) {
    if (!(update.progress >= 0 && update.progress <= 1)) throw new StoreError('invalid', `job progress must be between 0 and 1, not ${update.progress}`);
    data.progress = update.progress;
  }
  if (update.status !== undefined) {
    if (!['queued', 'running', ...TERMINAL_STATUSES].includes(update.status)) throw new StoreError('invalid', `unknown job status "${update.status}"`);
    data.status = update.status;
    if (update.status === 'running') data.startedAt = new Date();
    if (TERMINAL_STATUSES.includes(update.status)) data.finishedAt = new Date();
    if (update.status === 'succeeded' && update.progress === undefined) data.progress = 1;
  }
  if (update.result !== undefined) data.result = jsonOrNull(update.result);
  if (update.resultPath !== undefined) data.resultPath = update.resultPath;
  if (update.error !== undefined) data.error = jsonOrNull(update.error);
  return data;
}

function toJob(row: { params: Prisma.JsonValue; result: Prisma.JsonValue; error: Prisma.JsonValue } & Omit<Job, 'params' | 'result' | 'error'>): Job {
  return { ...row, error: row.error as Job['error'] };
}

// ---------------------------------------------------------------- audit log

export interface AuditRepo {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first, optionally one actor's or one target's entries. */
  list(filter?: PageOptions & { actorId?: string; targetType?: string; targetId?: string }): Promise<AuditEntry[]>;
}

export function auditRepo(prisma: PrismaClient): AuditRepo {
  return {
    append: async (entry) => {
      if (!entry.action) throw new StoreError('invalid', 'an audit entry needs an action');
      const data = {
        id: randomUUID(),
        actorId: entry.actorId,
        action: entry.action,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        details: jsonOrNull(entry.details),
      };
      return translate(() => prisma.auditLog.create({ data }), 'audit entry', `actor ${entry.actorId}`);
    },
    list: (filter = {}) =>
      prisma.auditLog.findMany({
        where: { actorId: filter.actorId, targetType: filter.targetType, targetId: filter.targetId, ...pageBefore(filter) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: pageSize(filter.limit),
      }),
  };
}

// ---------------------------------------------------------------- helpers

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new StoreError('invalid', `a ${what} name must be ${NAME_RULE}`);
}

/** Rows strictly after the cursor in (createdAt desc, id desc) order. */
function pageBefore(page: PageOptions): { OR?: ({ createdAt: { lt: Date } } | { createdAt: Date; id: { lt: string } })[]; createdAt?: { lt: Date } } {
  if (!page.before) return {};
  if (!(page.before instanceof Date) || Number.isNaN(page.before.getTime())) throw new StoreError('invalid', 'before must be a valid date');
  if (page.beforeId === undefined) return { createdAt: { lt: page.before } };
  return { OR: [{ createdAt: { lt: page.before } }, { createdAt: page.before, id: { lt: page.beforeId } }] };
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new StoreError('invalid', `limit must be a positive integer, not ${limit}`);
  return Math.min(limit, MAX_PAGE);
}

/** Prisma stores JS null in a Json column only as Prisma.DbNull (SQL NULL); we never store JSON null. */
function jsonOrNull(value: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

function mapNullable<T, U>(value: T | null, map: (value: T) => U): U | null {
  return value === null ? null : map(value);
}

function isPrisma(error: unknown, code: string): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}

/**
 * Runs a write and names what went wrong: P2002 unique, P2025 missing row, P2003 foreign key — on a
 * create/update a referenced row is missing (`references` names it), on a delete others still refer to it.
 */
async function translate<T>(write: () => Promise<T>, subject: string, references?: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isPrisma(error, 'P2002')) throw new StoreError('conflict', `${subject} already exists`, undefined, { cause: error });
    if (isPrisma(error, 'P2025')) throw new StoreError('not_found', `${subject} does not exist`, undefined, { cause: error });
    if (isPrisma(error, 'P2003')) {
      if (references) throw new StoreError('not_found', `${subject}: ${references} does not exist`, undefined, { cause: error });
      throw new StoreError('conflict', `${subject} is still referred to by other records`, undefined, { cause: error });
    }
    throw error;
  }
}
