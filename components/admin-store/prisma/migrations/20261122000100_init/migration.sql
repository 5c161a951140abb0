-- Veil admin store, initial tables: users, API keys, datasets, query archive, jobs, audit log.
-- Written by hand to match prisma/schema.prisma (the schema engine is not available here);
-- src/schema-agreement.test.ts checks that every model round-trips through these tables.
-- Ids are UUIDs made by the application. The budget ledger's tables come in a later migration.

CREATE TYPE "user_role" AS ENUM ('admin', 'analyst');
CREATE TYPE "job_status" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

CREATE TABLE "users" (
  "id"          TEXT NOT NULL PRIMARY KEY,
  "name"        TEXT NOT NULL UNIQUE,
  "role"        "user_role" NOT NULL,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "disabled_at" TIMESTAMPTZ(3)
);

CREATE TABLE "api_keys" (
  "id"           TEXT NOT NULL PRIMARY KEY,
  "user_id"      TEXT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "prefix"       TEXT NOT NULL UNIQUE,
  -- SHA-256 of the whole token; the token itself is never stored.
  "token_hash"   BYTEA NOT NULL,
  "label"        TEXT,
  "created_at"   TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "last_used_at" TIMESTAMPTZ(3),
  "expires_at"   TIMESTAMPTZ(3),
  "revoked_at"   TIMESTAMPTZ(3)
);
CREATE INDEX "api_keys_user_id_idx" ON "api_keys" ("user_id");

CREATE TABLE "datasets" (
  "id"          TEXT NOT NULL PRIMARY KEY,
  "name"        TEXT NOT NULL UNIQUE,
  "description" TEXT,
  "metadata"    JSONB NOT NULL,
  "source_ref"  TEXT NOT NULL,
  "owner_id"    TEXT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "datasets_owner_id_idx" ON "datasets" ("owner_id");

CREATE TABLE "query_archive" (
  "id"         TEXT NOT NULL PRIMARY KEY,
  "user_id"    TEXT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "dataset_id" TEXT NOT NULL REFERENCES "datasets" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "query_text" TEXT NOT NULL,
  "cost"       JSONB,
  "result"     JSONB,
  "error"      JSONB,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "query_archive_user_id_created_at_idx" ON "query_archive" ("user_id", "created_at");
CREATE INDEX "query_archive_dataset_id_created_at_idx" ON "query_archive" ("dataset_id", "created_at");
CREATE INDEX "query_archive_created_at_idx" ON "query_archive" ("created_at");

CREATE TABLE "jobs" (
  "id"          TEXT NOT NULL PRIMARY KEY,
  "kind"        TEXT NOT NULL,
  "user_id"     TEXT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "dataset_id"  TEXT REFERENCES "datasets" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "status"      "job_status" NOT NULL DEFAULT 'queued',
  -- Fraction done, 0..1.
  "progress"    DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK ("progress" >= 0 AND "progress" <= 1),
  "params"      JSONB,
  "result"      JSONB,
  "result_path" TEXT,
  "error"       JSONB,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "started_at"  TIMESTAMPTZ(3),
  "finished_at" TIMESTAMPTZ(3)
);
CREATE INDEX "jobs_user_id_created_at_idx" ON "jobs" ("user_id", "created_at");
CREATE INDEX "jobs_status_idx" ON "jobs" ("status");

CREATE TABLE "audit_log" (
  "id"          TEXT NOT NULL PRIMARY KEY,
  -- The admin who acted; null for the system itself (first start).
  "actor_id"    TEXT REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "action"      TEXT NOT NULL,
  "target_type" TEXT,
  "target_id"   TEXT,
  "details"     JSONB,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "audit_log_created_at_idx" ON "audit_log" ("created_at");
