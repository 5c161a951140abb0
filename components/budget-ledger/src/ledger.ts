// The budget ledger of DESIGN §4: reserve → (markRunning →) commit, or release; a sweeper for reservations of
// crashed workers; idempotency keys; zCDP and basic accounting; an optional dataset cap. Every step is one SQL
// statement (statements.ts). The application keeps a cached view of each grant only to compute the zCDP
// parameters of that statement; the statement re-checks everything under lock, so a stale view can only make
// a reservation fail, never overspend — and a failure is re-checked on fresh figures before it is reported.
import { randomUUID } from 'node:crypto';
import { Dec, costText, parseAmount, parseCost, roundDown, text, type LedgerCost } from './amounts.js';
import {
  BudgetExhaustedError,
  IdempotencyConflictError,
  LedgerContentionError,
  LedgerInputError,
  LedgerNotFoundError,
  ReservationClosedError,
} from './errors.js';
import { requestFingerprint } from './fingerprint.js';
import * as q from './statements.js';
import type {
  BudgetLedgerOptions,
  BudgetMode,
  DatasetCap,
  Grant,
  GrantRef,
  LedgerEntry,
  LedgerSql,
  RemainingBudget,
  Reservation,
  ReserveOutcome,
  ReserveRequest,
  SweepResult,
} from './types.js';
import { admits, amountsOf, grantViewOf, minus, remainingOf, reservationOf, shortRemainingOf, zcdpParams, type GrantView } from './views.js';

const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_TTL_MS = 7 * 24 * 3_600_000;
const UNIQUE_VIOLATION = '23505';
const DEADLOCK_DETECTED = '40P01';
const IDEMPOTENCY_CONSTRAINT = 'budget_reservations_user_idempotency_key';

export function createBudgetLedger(options: BudgetLedgerOptions): BudgetLedger {
  return new BudgetLedger(options);
}

export class BudgetLedger {
  private readonly sql: LedgerSql;
  private readonly clock: () => Date;
  private readonly defaultTtlMs: number;
  private readonly maxAttempts: number;
  /** Cached views by grant id, and grant ids by `user \0 dataset`. */
  private readonly views = new Map<string, GrantView>();
  private readonly grantIds = new Map<string, string>();

  constructor(options: BudgetLedgerOptions) {
    this.sql = options.sql;
    this.clock = options.clock ?? (() => new Date());
    this.defaultTtlMs = options.defaultTtlMs ?? DEFAULT_TTL_MS;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  // ── grants and caps ────────────────────────────────────────────────────────────────────────────────

  /** Creates or changes the grant of one analyst on one dataset. Totals are rounded down to 24 places. */
  async setGrant(input: { userId: string; datasetId: string; epsilon: string; delta: string; mode?: BudgetMode }): Promise<Grant> {
    const terms = parseTerms(input, 'grant');
    requireId(input.userId, 'userId');
    requireId(input.datasetId, 'datasetId');
    const { rows } = await this.sql.query<{ id: string }>(q.UPSERT_GRANT, [
      randomUUID(), input.userId, input.datasetId, terms.mode, text(terms.epsilon), text(terms.delta), this.clock(),
    ]);
    const id = rows[0]!.id;
    this.forget(id);
    return { id, userId: input.userId, datasetId: input.datasetId, mode: terms.mode, epsilon: text(terms.epsilon), delta: text(terms.delta) };
  }

  /** Sets the cap across all analysts of a dataset, or removes it (null). */
  async setDatasetCap(datasetId: string, cap: { epsilon: string; delta: string; mode?: BudgetMode } | null): Promise<DatasetCap | null> {
    requireId(datasetId, 'datasetId');
    const terms = cap ? parseTerms(cap, 'dataset cap') : null;
    if (!this.sql.transaction) throw new LedgerInputError('setDatasetCap needs an executor with transaction() (e.g. admin-store\'s SqlExecutor)');
    const now = this.clock();
    // One transaction: lock out reserves and releases, then recompute `used` and set the cap (statements.ts).
    await this.sql.transaction(async (tx) => {
      await tx.query(q.ENSURE_DATASET_ROW, [datasetId, now]);
      await tx.query(q.LOCK_DATASET_FOR_CAP, [datasetId]);
      await tx.query(q.SET_DATASET_CAP, [datasetId, terms?.mode ?? null, terms ? text(terms.epsilon) : null, terms ? text(terms.delta) : null, now]);
    });
    for (const view of [...this.views.values()]) if (view.datasetId === datasetId) this.forget(view.id);
    return terms ? { datasetId, mode: terms.mode, epsilon: text(terms.epsilon), delta: text(terms.delta) } : null;
  }

  async getGrant(ref: GrantRef): Promise<Grant> {
    const view = await this.readView(ref);
    return { id: view.id, userId: view.userId, datasetId: view.datasetId, mode: view.mode, epsilon: text(view.epsilon), delta: text(view.delta) };
  }

  /** What the grant still admits (fresh from the database), with what was committed and what is held. */
  async remaining(ref: GrantRef): Promise<RemainingBudget> {
    const row = await this.readViewRow(ref);
    const view = this.remember(grantViewOf(row));
    const reserved = amountsOf(row, 'open_');
    return {
      grantId: view.id,
      mode: view.mode,
      grant: { epsilon: text(view.epsilon), delta: text(view.delta) },
      remaining: remainingOf(view, view.used),
      committed: costText(minus(view.used, reserved)),
      reserved: costText(reserved),
    };
  }

  // ── the protocol ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Holds `cost` on the grant (and the dataset cap) in one atomic statement, or throws BudgetExhaustedError.
   * With an idempotency key already used for the same request, returns its first outcome without charging.
   */
  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    const cost = parseCost(request.cost);
    const ttlMs = requireTtl(request.ttlMs ?? this.defaultTtlMs);
    const key = request.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 255)) {
      throw new LedgerInputError('idempotencyKey must be a non-empty string of at most 255 characters');
    }
    let view = await this.cachedView(request);
    // Only a keyed request is ever compared; without a key there is nothing to fingerprint.
    const fingerprint = key === undefined ? null : (request.fingerprint ?? requestFingerprint({ grantId: view.id, cost: costText(cost) }));
    const opts = { key, fingerprint, ttlMs, running: request.startRunning ?? true };
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const attempted = await this.tryReserve(view, cost, opts);
      if (attempted !== 'refused') return attempted;
      // Refused: a used key, a stale view, or an exhausted budget. Decide on fresh figures.
      if (key !== undefined) {
        const replay = await this.replay(view.userId, key, fingerprint!, view.id);
        if (replay) return replay;
      }
      view = await this.readView({ grantId: view.id });
      this.exhaustedUnlessAdmitted(view, cost);
    }
    throw new LedgerContentionError('the grant changed too often while reserving; retry the request');
  }

  /** One reserve statement: the outcome when admitted, 'refused' otherwise (or when the key is taken). */
  private async tryReserve(
    view: GrantView,
    cost: LedgerCost,
    opts: { key: string | undefined; fingerprint: string | null; ttlMs: number; running: boolean },
  ): Promise<ReserveOutcome | 'refused'> {
    const grantCheck = view.mode === 'zcdp' ? zcdpParams(view, view.used.rhoDelta, cost) : null;
    const cap = view.dataset.cap;
    const capCheck = cap?.mode === 'zcdp' ? zcdpParams(cap, view.dataset.used.rhoDelta, cost) : null;
    // On the cached figures, D would exceed δ: not admissible unless the figures are stale; let the caller re-read.
    if ((view.mode === 'zcdp' && !grantCheck) || (cap?.mode === 'zcdp' && !capCheck)) return 'refused';
    const now = this.clock();
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + opts.ttlMs);
    const params = [
      id, view.id, view.datasetId, text(cost.epsilon), text(cost.delta), text(cost.rho), text(cost.rhoDelta),
      view.version, grantCheck?.rhoCap ?? null, grantCheck?.bound ?? null,
      view.dataset.version, capCheck?.rhoCap ?? null, capCheck?.bound ?? null,
      opts.key ?? null, opts.fingerprint, opts.running ? 'running' : 'reserved', expiresAt, now,
    ];
    let admitted: Record<string, unknown>;
    try {
      // Without a cap, the dataset row is only share-locked: analysts of one dataset do not queue on it.
      const { rows } = cap
        ? await this.sql.query<Record<string, unknown>>(q.RESERVE, params, { name: 'veil_ledger_reserve' })
        : await this.sql.query<Record<string, unknown>>(q.RESERVE_UNCAPPED, params, { name: 'veil_ledger_reserve_uncapped' });
      if (!rows[0]) return 'refused';
      admitted = rows[0];
    } catch (error) {
      // A deadlock aborted the whole statement (nothing was written): decide again like any refusal. PostgreSQL
      // can report one when a reserve made on a view older than a cap change meets the dataset row's new versions.
      if (isIdempotencyViolation(error) || isDeadlock(error)) return 'refused';
      throw error;
    }
    this.noteReserved(view, cost);
    const reservation: Reservation = {
      id, grantId: view.id, userId: view.userId, datasetId: view.datasetId, state: opts.running ? 'running' : 'reserved',
      cost: costText(cost), idempotencyKey: opts.key ?? null, expiresAt, createdAt: now, resolvedAt: null, resolvedBy: null, response: null,
    };
    return { kind: 'reserved', reservation, remaining: remainingOf(view, amountsOf(admitted, 'g_', '_used')) };
  }

  /** Keeps the cached δ consumption current after our own reservation, so the next D is already right. */
  private noteReserved(view: GrantView, cost: LedgerCost): void {
    if (cost.rhoDelta.isZero()) return;
    view.used.rhoDelta = view.used.rhoDelta.plus(cost.rhoDelta);
    view.dataset.used.rhoDelta = view.dataset.used.rhoDelta.plus(cost.rhoDelta);
  }

  private exhaustedUnlessAdmitted(view: GrantView, cost: LedgerCost): void {
    const needed = (mode: BudgetMode): Record<string, string> =>
      mode === 'basic' ? { epsilon: text(cost.epsilon), delta: text(cost.delta) } : { rho: text(cost.rho), rhoDelta: text(cost.rhoDelta) };
    if (!admits(view, view.used, cost)) {
      throw new BudgetExhaustedError({ scope: 'grant', mode: view.mode, needed: needed(view.mode), remaining: shortRemainingOf(view, view.used) });
    }
    const cap = view.dataset.cap;
    if (cap && !admits(cap, view.dataset.used, cost)) throw new BudgetExhaustedError({ scope: 'dataset', mode: cap.mode, needed: needed(cap.mode) });
  }

  /** The first outcome of an idempotency key, or a conflict when the key was used for another request. */
  private async replay(userId: string, key: string, fingerprint: string, grantId: string): Promise<ReserveOutcome | null> {
    const { rows } = await this.sql.query<Record<string, unknown>>(q.SELECT_RESERVATION_BY_KEY, [userId, key]);
    if (!rows[0]) return null;
    const reservation = reservationOf(rows[0]);
    const fingerprintOf = rows[0].fingerprint as string | null;
    if (fingerprintOf !== fingerprint || reservation.grantId !== grantId) throw new IdempotencyConflictError(key);
    return { kind: 'replay', reservation, response: reservation.response };
  }

  /**
   * Declares that the worker is about to read private data: from now on, if it dies, the sweeper commits.
   * Refused (ReservationClosedError) once the reservation expired or was resolved — then do not read data.
   */
  async markRunning(reservationId: string, options: { ttlMs?: number } = {}): Promise<Reservation> {
    requireId(reservationId, 'reservationId');
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + requireTtl(options.ttlMs ?? this.defaultTtlMs));
    const { rows } = await this.sql.query<Record<string, unknown>>(q.MARK_RUNNING, [reservationId, now, expiresAt]);
    if (rows[0]) return reservationOf(rows[0]);
    const current = await this.getReservation(reservationId);
    if (current.state === 'running') return current;
    throw new ReservationClosedError(reservationId, current.state === 'reserved' ? 'expired' : current.state, 'started');
  }

  /**
   * Charges the reservation. Idempotent: committing a committed reservation returns it unchanged (storing
   * `response` if it had none, e.g. after the sweeper committed it). Refused after a release.
   */
  async commit(reservationId: string, options: { response?: unknown } = {}): Promise<Reservation> {
    requireId(reservationId, 'reservationId');
    const response = jsonParam(options.response);
    const { rows } = await this.sql.query<Record<string, unknown>>(q.COMMIT, [reservationId, ['reserved', 'running'], this.clock(), response, 'client', null], { name: 'veil_ledger_commit' });
    if (rows[0]) return reservationOf(rows[0]);
    const current = await this.getReservation(reservationId);
    if (current.state !== 'committed') throw new ReservationClosedError(reservationId, current.state, 'committed');
    if (response !== null && current.response === null) {
      await this.sql.query(q.STORE_LATE_RESPONSE, [reservationId, response]);
      return this.getReservation(reservationId);
    }
    return current;
  }

  /**
   * Returns the held budget: only when private data was never read. Idempotent; refused after a commit.
   * `response` (e.g. the error shown) is stored for replay to retries with the same idempotency key.
   */
  async release(reservationId: string, options: { response?: unknown } = {}): Promise<Reservation> {
    requireId(reservationId, 'reservationId');
    const response = jsonParam(options.response);
    const params = [reservationId, ['reserved', 'running'], this.clock(), response, 'client', null];
    const { rows } = await retryOnDeadlock(() => this.sql.query<Record<string, unknown>>(q.RELEASE, params, { name: 'veil_ledger_release' }), this.maxAttempts);
    if (rows[0]) return reservationOf(rows[0]);
    const current = await this.getReservation(reservationId);
    if (current.state !== 'released') throw new ReservationClosedError(reservationId, current.state, 'released');
    return current;
  }

  /**
   * Resolves reservations whose expiry has passed, left by workers that died: `running` ones are COMMITTED
   * (private data may have been read), `reserved` ones RELEASED (the worker never declared reading data).
   * Each is resolved by the same guarded statement as commit/release, so running the sweeper twice, or on
   * several replicas at once, changes nothing the second time.
   */
  async sweep(options: { now?: Date; limit?: number } = {}): Promise<SweepResult> {
    const now = options.now ?? this.clock();
    const { rows } = await this.sql.query<{ id: string; state: string }>(q.SELECT_EXPIRED, [now, options.limit ?? 1000]);
    const result: SweepResult = { committed: [], released: [] };
    for (const row of rows) {
      const commit = row.state === 'running';
      const resolved = await retryOnDeadlock(() => this.sql.query(commit ? q.COMMIT : q.RELEASE, [row.id, [row.state], now, null, 'sweeper', now]), this.maxAttempts);
      if (resolved.rows.length > 0) (commit ? result.committed : result.released).push(row.id);
    }
    return result;
  }

  // ── reading ────────────────────────────────────────────────────────────────────────────────────────

  async getReservation(reservationId: string): Promise<Reservation> {
    const { rows } = await this.sql.query<Record<string, unknown>>(q.SELECT_RESERVATION, [reservationId]);
    if (!rows[0]) throw new LedgerNotFoundError(`no reservation ${reservationId}`);
    return reservationOf(rows[0]);
  }

  /** The reservations (charges) of a user, on one dataset or all, newest first. */
  async history(input: { userId: string; datasetId?: string; limit?: number }): Promise<Reservation[]> {
    requireId(input.userId, 'userId');
    const limit = input.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new LedgerInputError('limit must be a whole number in [1, 10000]');
    const { rows } = await this.sql.query<Record<string, unknown>>(q.SELECT_HISTORY, [input.userId, input.datasetId ?? null, limit]);
    return rows.map(reservationOf);
  }

  /** The append-only entries of one reservation, in order. */
  async entries(reservationId: string): Promise<LedgerEntry[]> {
    const { rows } = await this.sql.query<Record<string, unknown>>(q.SELECT_ENTRIES, [reservationId]);
    return rows.map((row) => ({
      id: String(row.id),
      kind: row.kind as LedgerEntry['kind'],
      reservationId: String(row.reservation_id),
      actor: row.actor as LedgerEntry['actor'],
      amounts: { epsilon: text(new Dec(String(row.epsilon))), delta: text(new Dec(String(row.delta))), rho: text(new Dec(String(row.rho))), rhoDelta: text(new Dec(String(row.rho_delta))) },
      response: row.response ?? null,
      createdAt: new Date(row.created_at as Date),
    }));
  }

  /** Grants and datasets whose maintained balances differ from the sums of their reservations and entries. */
  async checkConsistency(): Promise<{ scope: 'grant' | 'dataset'; key: string }[]> {
    const { rows } = await this.sql.query<{ scope: 'grant' | 'dataset'; key: string }>(q.SELECT_BALANCE_MISMATCHES);
    return rows;
  }

  // ── cache ──────────────────────────────────────────────────────────────────────────────────────────

  private async cachedView(ref: GrantRef): Promise<GrantView> {
    const id = 'grantId' in ref ? ref.grantId : this.grantIds.get(userDatasetKey(ref.userId, ref.datasetId));
    const view = id === undefined ? undefined : this.views.get(id);
    return view ?? this.readView(ref);
  }

  private async readView(ref: GrantRef): Promise<GrantView> {
    return this.remember(grantViewOf(await this.readViewRow(ref)));
  }

  private async readViewRow(ref: GrantRef): Promise<Record<string, unknown>> {
    const { rows } = 'grantId' in ref
      ? await this.sql.query<Record<string, unknown>>(q.SELECT_GRANT_VIEW_BY_ID, [requireId(ref.grantId, 'grantId')])
      : await this.sql.query<Record<string, unknown>>(q.SELECT_GRANT_VIEW_BY_USER_DATASET, [requireId(ref.userId, 'userId'), requireId(ref.datasetId, 'datasetId')]);
    if (!rows[0]) throw new LedgerNotFoundError('grantId' in ref ? `no grant ${ref.grantId}` : 'no budget grant for this user on this dataset');
    return rows[0];
  }

  private remember(view: GrantView): GrantView {
    if (this.views.size > 10_000) this.views.clear();
    this.views.set(view.id, view);
    this.grantIds.set(userDatasetKey(view.userId, view.datasetId), view.id);
    return view;
  }

  private forget(grantId: string): void {
    this.views.delete(grantId);
  }
}

const userDatasetKey = (userId: string, datasetId: string): string => `${userId}\u0000${datasetId}`;

function requireId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) throw new LedgerInputError(`${what} must be a non-empty string`);
  return value;
}

function requireTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) throw new LedgerInputError(`ttlMs must be a whole number of milliseconds in (0, ${MAX_TTL_MS}]`);
  return ttlMs;
}

function parseTerms(input: { epsilon: unknown; delta: unknown; mode?: unknown }, what: string): { mode: BudgetMode; epsilon: Dec; delta: Dec } {
  const mode = input.mode ?? 'zcdp';
  if (mode !== 'zcdp' && mode !== 'basic') throw new LedgerInputError(`${what} mode must be 'zcdp' or 'basic'`);
  const epsilon = roundDown(parseAmount(input.epsilon, `${what} epsilon`));
  const delta = roundDown(parseAmount(input.delta, `${what} delta`));
  if (delta.gte(1)) throw new LedgerInputError(`${what} delta must be below 1`);
  if (epsilon.gte(new Dec(10).pow(30))) throw new LedgerInputError(`${what} epsilon is too large`);
  if (mode === 'zcdp' && delta.isZero()) {
    throw new LedgerInputError(`${what} in zCDP mode needs delta > 0 (zCDP converts to (ε, δ) only for δ > 0); use mode 'basic' for a pure ε-DP budget`);
  }
  return { mode, epsilon, delta };
}

function jsonParam(value: unknown): string | null {
  if (value === undefined) return null;
  const json = JSON.stringify(value);
  if (json === undefined) throw new LedgerInputError('response must be JSON-serialisable');
  return json;
}

function isIdempotencyViolation(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; message?: string } | null;
  return e?.code === UNIQUE_VIOLATION && (e.constraint === IDEMPOTENCY_CONSTRAINT || (e.message ?? '').includes(IDEMPOTENCY_CONSTRAINT));
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === DEADLOCK_DETECTED;
}

/** Runs a one-statement step again when PostgreSQL aborted it as a deadlock victim (it then wrote nothing). */
async function retryOnDeadlock<T>(step: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= attempts) throw error;
    }
  }
}
