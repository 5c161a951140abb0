// The query flow's hot-path statements, one raw SQL statement each. Through Prisma, a JSON answer of a few
// hundred rows costs tens of milliseconds to serialise and bind; here it is one JSON.stringify (or text
// the caller serialised already, JsonText) and a `::json` cast (answers are `json` columns: stored and
// read whole, so PostgreSQL need not parse them). Same tables and columns as the Prisma repos (archiveRepo,
// jobsRepo, datasetsRepo), same validation.
import { randomUUID } from 'node:crypto';
import { StoreError } from './errors.js';
import type { DatasetMetadata } from '@veil/dataset-metadata';
import type { Dataset, Job, JobStatus, NewArchivedQuery, NewJob, SqlQueryable } from './types.js';

/** JSON text serialised by the caller (who needs it too, e.g. for an HTTP reply): bound as is. */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface FastWrites {
  /** A dataset by name (as DatasetsRepo.get, without Prisma's per-call cost). */
  datasetByName(name: string): Promise<Dataset | null>;
  /**
   * Creates a job (as JobsRepo.create), queued or, with `running`, already running (started now);
   * throws StoreError 'conflict' when the id is taken. Also returns its dataset's updated_at as of the
   * insert, so a caller that planned on a copy of the dataset read earlier knows whether it is current.
   */
  createJob(input: NewJob & { running?: boolean }): Promise<{ job: Job; datasetUpdatedAt: Date | null }>;
  /** Appends an archive entry (as ArchiveRepo.append, without reading it back); returns its id. */
  appendArchive(entry: NewArchivedQuery): Promise<string>;
  /**
   * Moves a job to a final status with its result or error (as JobsRepo.update: stamps finished_at, a
   * success sets progress 1). A final job stays as it is: returns false then, and when no job has this id.
   */
  finishJob(id: string, outcome: JobOutcome): Promise<boolean>;
  /**
   * finishJob and the archive entry of its outcome (the entry's result and error are the job's) in one
   * statement: one round trip, the answer sent once, and no job row final without its archive entry.
   */
  finishJobAndArchive(id: string, outcome: JobOutcome, entry: Omit<NewArchivedQuery, 'result' | 'error'>): Promise<boolean>;
  /** Marks a job running (stamps started_at, progress 0). Returns false when no job has this id. */
  startJob(id: string): Promise<boolean>;
}

export interface JobOutcome {
  status: FinalJobStatus;
  result?: unknown;
  error?: { code: string; message: string };
}

export type FinalJobStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;

const CREATE_JOB = `INSERT INTO "jobs" ("id", "kind", "user_id", "dataset_id", "params", "status", "started_at")
VALUES ($1, $2, $3, $4, $5::jsonb, $6::"job_status", CASE WHEN $6::text = 'running' THEN now() END)
ON CONFLICT ("id") DO NOTHING
RETURNING "id", "kind", "user_id" AS "userId", "dataset_id" AS "datasetId", "status"::text AS "status", "progress", "params", "result",
  "result_path" AS "resultPath", "error", "created_at" AS "createdAt", "updated_at" AS "updatedAt", "started_at" AS "startedAt", "finished_at" AS "finishedAt",
  (SELECT d."updated_at" FROM "datasets" d WHERE d."id" = $4) AS "datasetUpdatedAt"`;

const APPEND_ARCHIVE = `INSERT INTO "query_archive" ("id", "user_id", "dataset_id", "query_text", "cost", "result", "error")
VALUES ($1, $2, $3, $4, $5::jsonb, $6::json, $7::jsonb)`;

const FINISH_JOB = `UPDATE "jobs" SET "status" = $2::"job_status", "result" = COALESCE($3::json, "result"), "error" = COALESCE($4::jsonb, "error"),
  "progress" = CASE WHEN $2::text = 'succeeded' THEN 1 ELSE "progress" END, "finished_at" = now(), "updated_at" = now()
WHERE "id" = $1 AND "status" NOT IN ('succeeded', 'failed', 'cancelled') RETURNING "id"`;

const FINISH_JOB_AND_ARCHIVE = `WITH "finished" AS (${FINISH_JOB})
INSERT INTO "query_archive" ("id", "user_id", "dataset_id", "query_text", "cost", "result", "error")
SELECT $5, $6, $7, $8, $9::jsonb, $3::json, $4::jsonb FROM "finished" RETURNING "id"`;

const START_JOB = `UPDATE "jobs" SET "status" = 'running', "progress" = 0, "started_at" = now(), "updated_at" = now() WHERE "id" = $1 RETURNING "id"`;

const DATASET_BY_NAME = `SELECT "id", "name", "description", "metadata", "source_ref" AS "sourceRef", "owner_id" AS "ownerId",
  "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "datasets" WHERE "name" = $1`;

const FINAL: readonly string[] = ['succeeded', 'failed', 'cancelled'];

export function fastWrites(sql: SqlQueryable): FastWrites {
  return {
    datasetByName: async (name) => {
      const { rows } = await sql.query<Omit<Dataset, 'metadata'> & { metadata: unknown }>(DATASET_BY_NAME, [name]);
      return rows[0] ? { ...rows[0], metadata: rows[0].metadata as DatasetMetadata } : null;
    },
    createJob: async (input) => {
      if (!input.kind) throw new StoreError('invalid', 'a job needs a kind');
      const id = input.id ?? randomUUID();
      const { rows } = await withReferences(`user ${input.userId} or dataset ${input.datasetId}`, () =>
        sql.query<Job & { datasetUpdatedAt: Date | null }>(CREATE_JOB, [id, input.kind, input.userId, input.datasetId ?? null, jsonText(input.params), input.running ? 'running' : 'queued']),
      );
      if (!rows[0]) throw new StoreError('conflict', `job ${id} already exists`);
      const { datasetUpdatedAt, ...job } = rows[0];
      return { job, datasetUpdatedAt };
    },
    appendArchive: async (entry) => {
      const id = randomUUID();
      await withReferences(`user ${entry.userId} or dataset ${entry.datasetId}`, () =>
        sql.query(APPEND_ARCHIVE, [id, entry.userId, entry.datasetId, entry.queryText, jsonText(entry.cost), jsonText(entry.result), jsonText(entry.error)]),
      );
      return id;
    },
    finishJob: async (id, outcome) => (await sql.query(FINISH_JOB, outcomeParams(id, outcome))).rows.length > 0,
    finishJobAndArchive: async (id, outcome, entry) => {
      const params = [...outcomeParams(id, outcome), randomUUID(), entry.userId, entry.datasetId, entry.queryText, jsonText(entry.cost)];
      const { rows } = await withReferences(`user ${entry.userId} or dataset ${entry.datasetId}`, () => sql.query(FINISH_JOB_AND_ARCHIVE, params));
      return rows.length > 0;
    },
    startJob: async (id) => (await sql.query(START_JOB, [id])).rows.length > 0,
  };
}

function outcomeParams(id: string, outcome: JobOutcome): unknown[] {
  if (!FINAL.includes(outcome.status)) throw new StoreError('invalid', `"${outcome.status}" is not a final job status`);
  return [id, outcome.status, jsonText(outcome.result), jsonText(outcome.error)];
}

/** A missing user or dataset (foreign_key_violation, 23503) reads as the Prisma repos report it. */
async function withReferences<T>(references: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string } | null)?.code === '23503') throw new StoreError('not_found', `${references} does not exist`, undefined, { cause: error });
    throw error;
  }
}

/** JSON text for a json or jsonb parameter; undefined and null are SQL NULL (as the Prisma repos store them). */
function jsonText(value: unknown): string | null {
  if (value instanceof JsonText) return value.text;
  return value === undefined || value === null ? null : JSON.stringify(value);
}
