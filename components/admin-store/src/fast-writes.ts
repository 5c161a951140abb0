// Hot-path writes of the query flow in one raw SQL statement each. Through Prisma, a JSON answer of a few
// hundred rows costs tens of milliseconds to serialise and bind; here it is one JSON.stringify and a
// `::json` cast (answers are `json` columns: stored and read whole, so PostgreSQL need not parse them). Same tables and columns as the Prisma repos (archiveRepo, jobsRepo), same validation.
import { randomUUID } from 'node:crypto';
import { StoreError } from './errors.js';
import type { Job, JobStatus, NewArchivedQuery, NewJob, SqlQueryable } from './types.js';

export interface FastWrites {
  /**
   * Creates a job (as JobsRepo.create), queued or, with `running`, already running (started now);
   * throws StoreError 'conflict' when the id is taken.
   */
  createJob(input: NewJob & { running?: boolean }): Promise<Job>;
  /** Appends an archive entry (as ArchiveRepo.append, without reading it back); returns its id. */
  appendArchive(entry: NewArchivedQuery): Promise<string>;
  /**
   * Moves a job to a final status with its result or error (as JobsRepo.update: stamps finished_at, a
   * success sets progress 1). Returns false when no job has this id.
   */
  finishJob(id: string, outcome: { status: FinalJobStatus; result?: unknown; error?: { code: string; message: string } }): Promise<boolean>;
  /** Marks a job running (stamps started_at, progress 0). Returns false when no job has this id. */
  startJob(id: string): Promise<boolean>;
}

/**
 * A value serialised once for several writes (a job's answer goes to its job row and to the archive):
 * pass it where a result is expected and its text is bound as is.
 */
export class PreparedJson {
  readonly text: string;
  constructor(value: unknown) {
    this.text = JSON.stringify(value);
  }
}

export type FinalJobStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;

const CREATE_JOB = `INSERT INTO "jobs" ("id", "kind", "user_id", "dataset_id", "params", "status", "started_at")
VALUES ($1, $2, $3, $4, $5::jsonb, $6::"job_status", CASE WHEN $6::text = 'running' THEN now() END)
ON CONFLICT ("id") DO NOTHING
RETURNING "id", "kind", "user_id" AS "userId", "dataset_id" AS "datasetId", "status"::text AS "status", "progress", "params", "result",
  "result_path" AS "resultPath", "error", "created_at" AS "createdAt", "updated_at" AS "updatedAt", "started_at" AS "startedAt", "finished_at" AS "finishedAt"`;

const APPEND_ARCHIVE = `INSERT INTO "query_archive" ("id", "user_id", "dataset_id", "query_text", "cost", "result", "error")
VALUES ($1, $2, $3, $4, $5::jsonb, $6::json, $7::jsonb)`;

const FINISH_JOB = `UPDATE "jobs" SET "status" = $2::"job_status", "result" = COALESCE($3::json, "result"), "error" = COALESCE($4::jsonb, "error"),
  "progress" = CASE WHEN $2::text = 'succeeded' THEN 1 ELSE "progress" END, "finished_at" = now(), "updated_at" = now()
WHERE "id" = $1 RETURNING "id"`;

const START_JOB = `UPDATE "jobs" SET "status" = 'running', "progress" = 0, "started_at" = now(), "updated_at" = now() WHERE "id" = $1 RETURNING "id"`;

const FINAL: readonly string[] = ['succeeded', 'failed', 'cancelled'];

export function fastWrites(sql: SqlQueryable): FastWrites {
  return {
    createJob: async (input) => {
      if (!input.kind) throw new StoreError('invalid', 'a job needs a kind');
      const id = input.id ?? randomUUID();
      const { rows } = await withReferences(`user ${input.userId} or dataset ${input.datasetId}`, () =>
        sql.query<Job>(CREATE_JOB, [id, input.kind, input.userId, input.datasetId ?? null, jsonText(input.params), input.running ? 'running' : 'queued']),
      );
      if (!rows[0]) throw new StoreError('conflict', `job ${id} already exists`);
      return rows[0];
    },
    appendArchive: async (entry) => {
      const id = randomUUID();
      await withReferences(`user ${entry.userId} or dataset ${entry.datasetId}`, () =>
        sql.query(APPEND_ARCHIVE, [id, entry.userId, entry.datasetId, entry.queryText, jsonText(entry.cost), jsonText(entry.result), jsonText(entry.error)]),
      );
      return id;
    },
    finishJob: async (id, outcome) => {
      if (!FINAL.includes(outcome.status)) throw new StoreError('invalid', `"${outcome.status}" is not a final job status`);
      const { rows } = await sql.query(FINISH_JOB, [id, outcome.status, jsonText(outcome.result), jsonText(outcome.error)]);
      return rows.length > 0;
    },
    startJob: async (id) => (await sql.query(START_JOB, [id])).rows.length > 0,
  };
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
  if (value instanceof PreparedJson) return value.text;
  return value === undefined || value === null ? null : JSON.stringify(value);
}
