// The ledger's SQL. Each step of the protocol is ONE statement (one round trip): data-modifying CTEs that
// check the balance, move it and append the entry together, so the hot path never reads then writes.
//
// The grant rows (and a capped dataset's row) keep `used` = committed + reserved, the only sum admission
// needs. So a commit, which moves an amount from reserved to committed, leaves those rows alone: it only changes the
// reservation's state and appends the entry. Reserve adds to `used`, release subtracts. The split into
// committed and reserved is derived from the open reservations when asked for (remaining()).
//
// Lock order is always: reservation row (release only), the dataset's cap fence (below; not taken by a capped
// reserve), the dataset row, then the grant row.
//
// The dataset row's `used` sums are maintained only while the dataset has a cap. Row locks on it (PostgreSQL's
// conflict table): FOR KEY SHARE conflicts only with FOR UPDATE; FOR NO KEY UPDATE (also taken by a plain
// UPDATE) conflicts with itself and FOR UPDATE.
// - Capped: reserve locks the dataset row FOR NO KEY UPDATE in a CTE and evaluates the cap and the grant's
//   condition together in the grant's UPDATE; the dataset row is then updated FROM that UPDATE's result. So
//   both conditions are checked before anything is written, and a failing one writes nothing.
// - Uncapped: reserve only takes the fence shared and FOR KEY SHARE on the dataset row (analysts of one
//   dataset do not queue behind each other) and requires, under that lock, the version with no cap the application expects. Release (the
//   rare path) locks it FOR NO KEY UPDATE either way, which does not conflict with FOR KEY SHARE.
// - setDatasetCap takes the fence exclusively and FOR UPDATE, which waits for every reserve/release holding either lock and blocks new
//   ones; then, in a later statement of the same transaction (a fresh snapshot that sees all of them),
//   recomputes `used` exactly, sets the cap and bumps the version. Reserves queued behind it see the new
//   version and are refused (then re-read and retried), so a cap set at any moment counts everything.

const BALANCES = ['epsilon', 'delta', 'rho', 'rho_delta'] as const;

/**
 * The dataset's cap fence: a transaction-level advisory lock on (a ledger constant, hash of the dataset id).
 * Uncapped reserves and releases take it shared, setDatasetCap exclusive. Row share locks alone would let a
 * steady stream of reserves starve setDatasetCap (a new share locker does not queue behind a waiting FOR UPDATE);
 * the lock manager queues a shared request behind a waiting exclusive one. A hash collision only adds waiting.
 */
const FENCE_CLASS = 1449486700; // 'Veil'
const capFence = (mode: 'shared' | 'exclusive', datasetId: string): string =>
  `pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(${FENCE_CLASS}, hashtext(${datasetId}))`;

/** Adds (`+`) or subtracts (`-`) the amounts of `from` to the `used` sums of the row being updated (alias `t`). */
const changeUsed = (sign: '+' | '-', from: string): string =>
  BALANCES.map((b) => `${b}_used = t.${b}_used ${sign} ${from}.${b}`).join(',\n      ');

/** Committed + reserved of one balance of row alias `r`. */
const used = (r: string, b: (typeof BALANCES)[number]): string => `${r}.${b}_used`;

/**
 * Admission in one boolean: basic mode adds ε and δ linearly against the totals; zCDP mode checks
 * Σρ + ρ ≤ ρcap and Σρδ + ρδ ≤ D, where the application computed ρcap = cdp_rho(ε_g, δ_g − D) (rounded down)
 * for its assumed δ-consumption bound D. Sound whatever D is: if the bound does not hold, nothing is admitted.
 */
const admits = (r: string, mode: string, total: { epsilon: string; delta: string }, rhoCap: string, bound: string): string => `
  CASE ${mode}
    WHEN 'basic' THEN ${used(r, 'epsilon')} + c.epsilon <= ${total.epsilon} AND ${used(r, 'delta')} + c.delta <= ${total.delta}
    ELSE ${used(r, 'rho')} + c.rho <= ${rhoCap} AND ${used(r, 'rho_delta')} + c.rho_delta <= ${bound}
  END`;

const balanceColumns = (r: string, prefix: string): string =>
  BALANCES.map((b) => `${r}.${b}_used::text AS ${prefix}${b}_used`).join(', ');

/**
 * A grant with its dataset row: totals, versions and `used` sums, and (same snapshot) the amounts held by the
 * grant's open reservations — the `reserved` part of its `used` (the partial index keeps this to open ones).
 */
export const SELECT_GRANT_VIEW = `
SELECT g.id, g.user_id, g.dataset_id, g.mode, g.epsilon::text AS epsilon, g.delta::text AS delta, g.version,
       ${balanceColumns('g', 'g_')},
       d.version AS ds_version, d.cap_mode, d.cap_epsilon::text AS cap_epsilon, d.cap_delta::text AS cap_delta,
       ${balanceColumns('d', 'd_')},
       ${BALANCES.map((b) => `o.${b}::text AS open_${b}`).join(', ')}
  FROM budget_grants g JOIN dataset_budgets d ON d.dataset_id = g.dataset_id
  CROSS JOIN LATERAL (
    SELECT ${BALANCES.map((b) => `COALESCE(sum(r.${b}), 0) AS ${b}`).join(', ')}
      FROM budget_reservations r WHERE r.grant_id = g.id AND r.state IN ('reserved', 'running')
  ) o`;

export const SELECT_GRANT_VIEW_BY_ID = `${SELECT_GRANT_VIEW} WHERE g.id = $1::text`;
export const SELECT_GRANT_VIEW_BY_USER_DATASET = `${SELECT_GRANT_VIEW} WHERE g.user_id = $1::text AND g.dataset_id = $2::text`;

/**
 * Reserve. Params: $1 reservation id, $2 grant id, $3 dataset id, $4..$7 ε δ ρ ρδ, $8 grant version,
 * $9 grant ρcap, $10 grant D, $11 dataset version, $12 cap ρcap, $13 cap D, $14 idempotency key,
 * $15 fingerprint, $16 state ('reserved' | 'running'), $17 expires at, $18 now.
 * Returns the reservation id and the grant's used sums after it (g_<balance>_used) when admitted, no row when refused. A reused idempotency key fails the whole
 * statement with a unique violation (also for two concurrent retries): nothing is charged twice.
 */
export const RESERVE = reserveStatement(true);
export const RESERVE_UNCAPPED = reserveStatement(false);

/**
 * The capped statement locks the dataset row exclusively and adds to its `used` sums; the uncapped one takes a
 * shared lock, requires that the dataset (still) has no cap, and leaves the row alone. Same parameters (the
 * uncapped one requires the cap's ρcap and D to be null: the application computed none).
 */
function reserveStatement(capped: boolean): string {
  const capCheck = capped
    ? `(ds.cap_mode IS NULL OR ${admits('ds', 'ds.cap_mode', { epsilon: 'ds.cap_epsilon', delta: 'ds.cap_delta' }, '$12::numeric', '$13::numeric')})`
    : `ds.cap_mode IS NULL AND $12::numeric IS NULL AND $13::numeric IS NULL`;
  const datasetUpdate = capped
    ? `, d AS (
  UPDATE dataset_budgets t SET
      ${changeUsed('+', 'c')},
      updated_at = $18::timestamptz
    FROM c, g
    WHERE t.dataset_id = g.dataset_id
    RETURNING t.dataset_id
)`
    : '';
  // Uncapped: filtering on the expected version before locking means a view made stale by a cap change
  // (seen in the snapshot) locks nothing and is refused at once, instead of following the row's new versions
  // through the capped reserves (where PostgreSQL can report deadlocks). Re-checked on the locked row in g.
  // The row lock comes after the fence (a join with it), so it returns the row's newest version.
  const uncappedLock = `, fence
    WHERE d.dataset_id = $3::text AND d.version = $11::int AND d.cap_mode IS NULL FOR KEY SHARE OF d`;
  return `
WITH c AS (
  SELECT $4::numeric AS epsilon, $5::numeric AS delta, $6::numeric AS rho, $7::numeric AS rho_delta
)${capped ? '' : `, fence AS (
  SELECT ${capFence('shared', '$3::text')}
)`}, ds AS (
  SELECT d.* FROM dataset_budgets d${capped ? ` WHERE d.dataset_id = $3::text FOR NO KEY UPDATE` : uncappedLock}
), g AS (
  UPDATE budget_grants t SET
      ${changeUsed('+', 'c')},
      updated_at = $18::timestamptz
    FROM c, ds
    WHERE t.id = $2::text AND t.dataset_id = ds.dataset_id AND t.version = $8::int
      AND ${admits('t', 't.mode', { epsilon: 't.epsilon', delta: 't.delta' }, '$9::numeric', '$10::numeric')}
      AND ds.version = $11::int
      AND ${capCheck}
    RETURNING t.id, t.user_id, t.dataset_id, ${BALANCES.map((b) => `t.${b}_used AS g_${b}_used`).join(', ')}
)${datasetUpdate}, r AS (
  INSERT INTO budget_reservations
      (id, grant_id, user_id, dataset_id, state, epsilon, delta, rho, rho_delta,
       idempotency_key, fingerprint, expires_at, created_at)
    SELECT $1::text, g.id, g.user_id, g.dataset_id, $16::text, c.epsilon, c.delta, c.rho, c.rho_delta,
       $14::text, $15::text, $17::timestamptz, $18::timestamptz
    FROM ${capped ? 'g, c, d' : 'g, c'}
    RETURNING *
), e AS (
  INSERT INTO ledger_entries
      (kind, reservation_id, grant_id, user_id, dataset_id, epsilon, delta, rho, rho_delta,
       idempotency_key, fingerprint, expires_at, actor, created_at)
    SELECT 'reserve', r.id, r.grant_id, r.user_id, r.dataset_id, r.epsilon, r.delta, r.rho, r.rho_delta,
       r.idempotency_key, r.fingerprint, r.expires_at, 'client', r.created_at
    FROM r
)
SELECT r.id, ${BALANCES.map((b) => `g.g_${b}_used`).join(', ')} FROM r, g`;
}

/**
 * Commit or release, guarded by the reservation's state so it happens once. Params: $1 reservation id,
 * $2 states it may leave (text[]), $3 now, $4 response (jsonb or null), $5 actor ('client' | 'sweeper'),
 * $6 only if expired at this time (timestamptz or null; the sweeper's guard).
 * Returns the reservation's new row when this call resolved it, none otherwise. A commit leaves `used` as it
 * is (the amount stays used, now as committed); a release gives it back to the dataset and the grant.
 */
function resolveStatement(commit: boolean): string {
  // A release locks the dataset row FOR NO KEY UPDATE whatever its cap (as a capped reserve does; it does not
  // block uncapped reserves' FOR KEY SHARE, and waits for a cap being set, then sees the row's newest version),
  // before the grant row, and changes the row's `used` sums only while it has a cap.
  const balances = commit
    ? ''
    : `, fence AS (
  SELECT s.dataset_id, ${capFence('shared', 's.dataset_id')} FROM s
), ds AS (
  SELECT d.dataset_id, d.cap_mode FROM dataset_budgets d JOIN fence f ON d.dataset_id = f.dataset_id FOR NO KEY UPDATE OF d
), d AS (
  UPDATE dataset_budgets t SET
      ${changeUsed('-', 's')},
      updated_at = $3::timestamptz
    FROM s, ds
    WHERE t.dataset_id = ds.dataset_id AND ds.cap_mode IS NOT NULL
    RETURNING t.dataset_id
), g AS (
  UPDATE budget_grants t SET
      ${changeUsed('-', 's')},
      updated_at = $3::timestamptz
    FROM s, ds
    WHERE t.id = s.grant_id AND ds.dataset_id = s.dataset_id
)`;
  return `
WITH s AS (
  UPDATE budget_reservations t SET
      state = '${commit ? 'committed' : 'released'}', resolved_at = $3::timestamptz, resolved_by = $5::text,
      response = COALESCE($4::jsonb, t.response)
    WHERE t.id = $1::text AND t.state = ANY ($2::text[])
      AND ($6::timestamptz IS NULL OR t.expires_at <= $6::timestamptz)
    RETURNING t.*
)${balances}, e AS (
  INSERT INTO ledger_entries
      (kind, reservation_id, grant_id, user_id, dataset_id, epsilon, delta, rho, rho_delta,
       idempotency_key, fingerprint, response, actor, created_at)
    SELECT '${commit ? 'commit' : 'release'}', s.id, s.grant_id, s.user_id, s.dataset_id, s.epsilon, s.delta, s.rho,
       s.rho_delta, s.idempotency_key, s.fingerprint, $4::jsonb, $5::text, $3::timestamptz
    FROM s
)
SELECT ${RESERVATION_COLUMNS('s')} FROM s`;
}

/** Columns of a reservation as the application reads them (amounts as text, never as floats). */
export function RESERVATION_COLUMNS(r: string): string {
  return `${r}.id, ${r}.grant_id, ${r}.user_id, ${r}.dataset_id, ${r}.state,
    ${r}.epsilon::text AS epsilon, ${r}.delta::text AS delta, ${r}.rho::text AS rho, ${r}.rho_delta::text AS rho_delta,
    ${r}.idempotency_key, ${r}.fingerprint, ${r}.response, ${r}.expires_at, ${r}.created_at, ${r}.resolved_at,
    ${r}.resolved_by`;
}

export const COMMIT = resolveStatement(true);
export const RELEASE = resolveStatement(false);

/**
 * Marks a reservation as running: private data may be read from now on, so the sweeper commits it if the
 * worker dies. Only from `reserved` and before expiry. Params: $1 id, $2 now, $3 new expiry.
 */
export const MARK_RUNNING = `
WITH s AS (
  UPDATE budget_reservations t SET state = 'running', expires_at = $3::timestamptz
    WHERE t.id = $1::text AND t.state = 'reserved' AND t.expires_at > $2::timestamptz
    RETURNING t.*
), e AS (
  INSERT INTO ledger_entries
      (kind, reservation_id, grant_id, user_id, dataset_id, epsilon, delta, rho, rho_delta,
       idempotency_key, fingerprint, expires_at, actor, created_at)
    SELECT 'run', s.id, s.grant_id, s.user_id, s.dataset_id, s.epsilon, s.delta, s.rho, s.rho_delta,
       s.idempotency_key, s.fingerprint, s.expires_at, 'client', $2::timestamptz
    FROM s
)
SELECT ${RESERVATION_COLUMNS('s')} FROM s`;

/** Stores the response of an already committed reservation that has none yet (committed by the sweeper). */
export const STORE_LATE_RESPONSE = `
UPDATE budget_reservations SET response = $2::jsonb WHERE id = $1::text AND state = 'committed' AND response IS NULL`;

export const SELECT_RESERVATION = `SELECT ${RESERVATION_COLUMNS('r')} FROM budget_reservations r WHERE r.id = $1::text`;

export const SELECT_RESERVATION_BY_KEY = `
SELECT ${RESERVATION_COLUMNS('r')} FROM budget_reservations r WHERE r.user_id = $1::text AND r.idempotency_key = $2::text`;

/** Open reservations whose expiry has passed, oldest first. Params: $1 now, $2 limit. */
export const SELECT_EXPIRED = `
SELECT id, state FROM budget_reservations
 WHERE state IN ('reserved', 'running') AND expires_at <= $1::timestamptz
 ORDER BY expires_at LIMIT $2::int`;


/**
 * Creates or changes a grant, creating its dataset row when it is the dataset's first grant. Changing the
 * totals or the mode bumps the version, so requests admitted against the old terms are refused and retried.
 * Params: $1 new grant id, $2 user, $3 dataset, $4 mode, $5 ε, $6 δ, $7 now.
 */
export const UPSERT_GRANT = `
WITH ds AS (
  INSERT INTO dataset_budgets (dataset_id, created_at, updated_at) VALUES ($3::text, $7::timestamptz, $7::timestamptz)
  ON CONFLICT (dataset_id) DO NOTHING
)
INSERT INTO budget_grants AS t (id, user_id, dataset_id, mode, epsilon, delta, created_at, updated_at)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::numeric, $6::numeric, $7::timestamptz, $7::timestamptz)
ON CONFLICT (user_id, dataset_id) DO UPDATE SET
  mode = EXCLUDED.mode, epsilon = EXCLUDED.epsilon, delta = EXCLUDED.delta,
  version = t.version + 1, updated_at = EXCLUDED.updated_at
RETURNING t.id`;

/** setDatasetCap, step 1 of one transaction: the dataset's row, created if needed. Params: $1 dataset, $2 now. */
export const ENSURE_DATASET_ROW = `
INSERT INTO dataset_budgets (dataset_id, created_at, updated_at) VALUES ($1::text, $2::timestamptz, $2::timestamptz)
ON CONFLICT (dataset_id) DO NOTHING`;

/**
 * setDatasetCap, step 2: takes the fence exclusively and locks the row FOR UPDATE, which waits for the reserves
 * and releases holding either (shared or exclusive) and keeps new ones out until the transaction ends.
 * Params: $1 dataset.
 */
export const LOCK_DATASET_FOR_CAP = `
WITH fence AS (SELECT ${capFence('exclusive', '$1::text')})
SELECT d.dataset_id FROM dataset_budgets d, fence WHERE d.dataset_id = $1::text FOR UPDATE OF d`;

/**
 * setDatasetCap, step 3 (a new snapshot, after the lock: every reserve and release that held it is visible):
 * sets or removes (all nulls) the cap, bumps the version and recomputes `used` as the sum of the grants' `used`,
 * which is exactly their open and committed reservations (kept by the same statements; checkConsistency
 * verifies it; budget_grants is indexed by dataset). Params: $1 dataset, $2 mode, $3 ε, $4 δ, $5 now.
 */
export const SET_DATASET_CAP = `
UPDATE dataset_budgets t SET
  cap_mode = $2::text, cap_epsilon = $3::numeric, cap_delta = $4::numeric,
  ${BALANCES.map((b) => `${b}_used = s.${b}`).join(', ')},
  version = t.version + 1, updated_at = $5::timestamptz
FROM (SELECT ${BALANCES.map((b) => `COALESCE(sum(g.${b}_used), 0) AS ${b}`).join(', ')}
        FROM budget_grants g WHERE g.dataset_id = $1::text) s
WHERE t.dataset_id = $1::text`;

/** Reservations of one user (optionally one dataset), newest first. Params: $1 user, $2 dataset or null, $3 limit. */
export const SELECT_HISTORY = `
SELECT ${RESERVATION_COLUMNS('r')} FROM budget_reservations r
 WHERE r.user_id = $1::text AND ($2::text IS NULL OR r.dataset_id = $2::text)
 ORDER BY r.created_at DESC, r.id LIMIT $3::int`;

/** The entries of one reservation, in order. */
export const SELECT_ENTRIES = `
SELECT id::text AS id, kind, reservation_id, actor, epsilon::text AS epsilon, delta::text AS delta, rho::text AS rho,
       rho_delta::text AS rho_delta, response, created_at
  FROM ledger_entries WHERE reservation_id = $1::text ORDER BY id`;

/**
 * Balances recomputed from the reservations and from the entries, beside the maintained ones: rows where
 * they differ (a dataset's sums only while it has a cap: without one they are not maintained). Used by checkConsistency() (tests, operations); not on any hot path.
 */
export const SELECT_BALANCE_MISMATCHES = `
WITH sums AS (
  SELECT grant_id, ${BALANCES.map((b) => `sum(${b}) FILTER (WHERE state <> 'released') AS ${b}`).join(', ')}
  FROM budget_reservations GROUP BY grant_id
), entry_sums AS (
  SELECT grant_id, ${BALANCES.map((b) => `sum(CASE kind WHEN 'reserve' THEN ${b} WHEN 'release' THEN -${b} ELSE 0 END) AS ${b}`).join(', ')}
  FROM ledger_entries GROUP BY grant_id
), grant_check AS (
  SELECT 'grant' AS scope, g.id AS key FROM budget_grants g
    LEFT JOIN sums s ON s.grant_id = g.id LEFT JOIN entry_sums e ON e.grant_id = g.id
   WHERE ${BALANCES.flatMap((b) => [`g.${b}_used <> COALESCE(s.${b}, 0)`, `g.${b}_used <> COALESCE(e.${b}, 0)`]).join('\n      OR ')}
), dataset_sums AS (
  SELECT dataset_id, ${BALANCES.map((b) => `sum(${b}_used) AS ${b}`).join(', ')}
  FROM budget_grants GROUP BY dataset_id
), dataset_check AS (
  SELECT 'dataset' AS scope, d.dataset_id AS key FROM dataset_budgets d LEFT JOIN dataset_sums s ON s.dataset_id = d.dataset_id
   WHERE d.cap_mode IS NOT NULL AND (${BALANCES.map((b) => `d.${b}_used <> COALESCE(s.${b}, 0)`).join('\n      OR ')})
)
SELECT scope, key FROM grant_check UNION ALL SELECT scope, key FROM dataset_check`;
