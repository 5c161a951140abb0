-- Veil budget ledger (DESIGN §4; components/budget-ledger owns this migration and the matching models in
-- schema.prisma between the "budget-ledger models" markers).
--
-- Amounts are exact: NUMERIC(60, 24). The application rounds every cost UP and every cap DOWN to 24 decimal
-- places before it reaches SQL, so PostgreSQL never rounds. Balances (the committed + reserved sums of all four
-- PrivacyCost fields) live on the grant row and on the dataset row and change in the same statement as the
-- ledger entry that explains them. user_id and dataset_id carry no foreign key to users/datasets on purpose:
-- the ledger is an append-only record that must outlive a deleted user or dataset.

-- One row per dataset that has ever had a grant: the optional cap across all analysts, and the sums of every
-- grant of the dataset, so the cap is checked in the same statement as the grant.
CREATE TABLE "dataset_budgets" (
  "dataset_id"          TEXT NOT NULL PRIMARY KEY,
  "cap_mode"            TEXT CHECK ("cap_mode" IN ('zcdp', 'basic')),
  "cap_epsilon"         NUMERIC(60, 24) CHECK ("cap_epsilon" >= 0),
  "cap_delta"           NUMERIC(60, 24) CHECK ("cap_delta" >= 0 AND "cap_delta" < 1),
  -- Bumped whenever the cap changes, so a request admitted against a cached cap is refused when it is stale.
  "version"             INTEGER NOT NULL DEFAULT 0,
  -- Committed + reserved: the sums admission needs (a commit leaves them as they are; the split is derived
  -- from the open reservations).
  "epsilon_used"        NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("epsilon_used" >= 0),
  "delta_used"          NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("delta_used" >= 0),
  "rho_used"            NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("rho_used" >= 0),
  "rho_delta_used"      NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("rho_delta_used" >= 0),
  "created_at"          TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at"          TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "dataset_budgets_cap_complete" CHECK (
    ("cap_mode" IS NULL) = ("cap_epsilon" IS NULL) AND ("cap_mode" IS NULL) = ("cap_delta" IS NULL))
) WITH (fillfactor = 50);

-- A grant: the total (epsilon, delta) one analyst may spend on one dataset, its accounting mode, and its sums.
CREATE TABLE "budget_grants" (
  "id"                  TEXT NOT NULL PRIMARY KEY,
  "user_id"             TEXT NOT NULL,
  "dataset_id"          TEXT NOT NULL REFERENCES "dataset_budgets" ("dataset_id"),
  "mode"                TEXT NOT NULL DEFAULT 'zcdp' CHECK ("mode" IN ('zcdp', 'basic')),
  "epsilon"             NUMERIC(60, 24) NOT NULL CHECK ("epsilon" >= 0),
  "delta"               NUMERIC(60, 24) NOT NULL CHECK ("delta" >= 0 AND "delta" < 1),
  -- Bumped whenever mode, epsilon or delta change (see dataset_budgets.version).
  "version"             INTEGER NOT NULL DEFAULT 0,
  -- Committed + reserved: the sums admission needs (a commit leaves them as they are; the split is derived
  -- from the open reservations).
  "epsilon_used"        NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("epsilon_used" >= 0),
  "delta_used"          NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("delta_used" >= 0),
  "rho_used"            NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("rho_used" >= 0),
  "rho_delta_used"      NUMERIC(60, 24) NOT NULL DEFAULT 0 CHECK ("rho_delta_used" >= 0),
  "created_at"          TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at"          TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "budget_grants_user_dataset_key" UNIQUE ("user_id", "dataset_id")
) WITH (fillfactor = 50);
CREATE INDEX "budget_grants_dataset_id_idx" ON "budget_grants" ("dataset_id");

-- A reservation and its state: reserved -> running -> committed, or -> released. The state is the guard that
-- makes commit and release happen once; the ledger entries below are the append-only record of each step.
CREATE TABLE "budget_reservations" (
  "id"              TEXT NOT NULL PRIMARY KEY,
  -- No foreign key to budget_grants: the reserve statement takes the grant id from the grant row it just
  -- updated, grants are never deleted, and the check would cost a lookup and a row lock per reservation.
  "grant_id"        TEXT NOT NULL,
  "user_id"         TEXT NOT NULL,
  "dataset_id"      TEXT NOT NULL,
  "state"           TEXT NOT NULL CHECK ("state" IN ('reserved', 'running', 'committed', 'released')),
  "epsilon"         NUMERIC(60, 24) NOT NULL CHECK ("epsilon" >= 0),
  "delta"           NUMERIC(60, 24) NOT NULL CHECK ("delta" >= 0),
  "rho"             NUMERIC(60, 24) NOT NULL CHECK ("rho" >= 0),
  "rho_delta"       NUMERIC(60, 24) NOT NULL CHECK ("rho_delta" >= 0),
  "idempotency_key" TEXT,
  -- Hash of the canonical request: same key and same fingerprint replays, a different one conflicts.
  "fingerprint"     TEXT,
  -- The first response, returned again to a retry with the same idempotency key.
  "response"        JSONB,
  "expires_at"      TIMESTAMPTZ(3) NOT NULL,
  "created_at"      TIMESTAMPTZ(3) NOT NULL,
  "resolved_at"     TIMESTAMPTZ(3),
  "resolved_by"     TEXT CHECK ("resolved_by" IN ('client', 'sweeper')),
  CONSTRAINT "budget_reservations_user_idempotency_key" UNIQUE ("user_id", "idempotency_key")
) WITH (fillfactor = 80);
CREATE INDEX "budget_reservations_open_expiry_idx" ON "budget_reservations" ("expires_at")
  WHERE "state" IN ('reserved', 'running');
-- The open reservations of a grant: the `reserved` part of its `used`, for remaining().
CREATE INDEX "budget_reservations_open_grant_idx" ON "budget_reservations" ("grant_id")
  WHERE "state" IN ('reserved', 'running');
CREATE INDEX "budget_reservations_user_dataset_idx" ON "budget_reservations" ("user_id", "dataset_id", "created_at");

-- The append-only ledger: one row per step (reserve, run, commit, release) of a reservation.
CREATE TABLE "ledger_entries" (
  "id"              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  "kind"            TEXT NOT NULL CHECK ("kind" IN ('reserve', 'run', 'commit', 'release')),
  -- No foreign key either: every entry is written by the statement that writes its reservation (see above).
  "reservation_id"  TEXT NOT NULL,
  "grant_id"        TEXT NOT NULL,
  "user_id"         TEXT NOT NULL,
  "dataset_id"      TEXT NOT NULL,
  "epsilon"         NUMERIC(60, 24) NOT NULL,
  "delta"           NUMERIC(60, 24) NOT NULL,
  "rho"             NUMERIC(60, 24) NOT NULL,
  "rho_delta"       NUMERIC(60, 24) NOT NULL,
  "idempotency_key" TEXT,
  "fingerprint"     TEXT,
  "response"        JSONB,
  "expires_at"      TIMESTAMPTZ(3),
  "actor"           TEXT NOT NULL CHECK ("actor" IN ('client', 'sweeper')),
  "created_at"      TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX "ledger_entries_reservation_id_idx" ON "ledger_entries" ("reservation_id");

-- Append-only means append-only: rows of ledger_entries cannot be changed or removed.
CREATE FUNCTION "ledger_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER "ledger_entries_no_update_or_delete" BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entries_append_only"();
CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_entries_append_only"();
