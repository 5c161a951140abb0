-- Masking policies per dataset and role, the masking roles assigned to users, and derived datasets
-- (synthetic data registered for the analyst who paid for it). Written by hand to match the models
-- between the `// >>> masking and derived datasets` markers of prisma/schema.prisma.

CREATE TABLE "masking_policies" (
  "id"         TEXT NOT NULL PRIMARY KEY,
  "dataset_id" TEXT NOT NULL REFERENCES "datasets" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  -- A free-form role name; users holding it may use this policy on this dataset.
  "role"       TEXT NOT NULL,
  -- The validated policy of @veil/masking ({ rules, public, quasi_identifiers }); never holds the secret.
  "policy"     JSONB NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "masking_policies_dataset_role_key" ON "masking_policies" ("dataset_id", "role");

CREATE TABLE "user_masking_roles" (
  "id"         TEXT NOT NULL PRIMARY KEY,
  "user_id"    TEXT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "role"       TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "user_masking_roles_user_role_key" ON "user_masking_roles" ("user_id", "role");

CREATE TABLE "derived_datasets" (
  "dataset_id"        TEXT NOT NULL PRIMARY KEY REFERENCES "datasets" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "source_dataset_id" TEXT NOT NULL REFERENCES "datasets" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  -- The analyst the derived data belongs to (who paid for it); only they may query it, at no charge.
  "user_id"           TEXT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "job_id"            TEXT REFERENCES "jobs" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
  -- 'synthetic'
  "kind"              TEXT NOT NULL,
  "created_at"        TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "derived_datasets_user_id_idx" ON "derived_datasets" ("user_id");
