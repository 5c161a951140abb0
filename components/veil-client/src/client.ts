// The typed Veil SDK over fetch: analyst calls, admin calls, and job following (polling the job, or its
// Server-Sent Events stream for progress). Errors come back as VeilApiError with the server's code.
import type {
  AcceptedJob, AdminDataset, ArchivedQuery, AuditEntry, Budget, CreatedKey, DatasetMetadataView, DatasetSummary,
  Estimate, JobView, Page, QueryAnswer, QueryRequest, Rows, UserView,
} from './types.js';
import type {
  AcceptedSyntheticJob, MaskedExportRequest, MaskedSample, MaskingPolicyInput, MaskingPolicyView, ResultFormat,
  SyntheticRequest, SyntheticResult,
} from './privacy-types.js';

export interface VeilClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  server: string;
  apiKey?: string;
  /** Per-request timeout; default 120 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class VeilApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'VeilApiError';
  }
}

export interface QueryOptions {
  /** Makes retries safe: the same key and request return the first answer and are charged once. */
  idempotencyKey?: string;
  /** When the server answers 202 (a long query), follow the job until it ends (default true). */
  wait?: boolean;
  /** Called with progress 0..1 while following a long job. */
  onProgress?: (fraction: number) => void;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

export class VeilClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: VeilClientOptions) {
    this.base = options.server.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  // ── analyst ──────────────────────────────────────────────────────────────────────────────────────

  async datasets(): Promise<DatasetSummary[]> {
    return (await this.request<{ datasets: DatasetSummary[] }>('GET', '/v1/datasets')).datasets;
  }

  metadata(dataset: string): Promise<DatasetMetadataView> {
    return this.request('GET', `/v1/datasets/${seg(dataset)}/metadata`);
  }

  dummy(dataset: string, options: { rows?: number; seed?: string | number } = {}): Promise<Rows & { seed: string }> {
    return this.request('GET', `/v1/datasets/${seg(dataset)}/dummy${query({ rows: options.rows, seed: options.seed })}`);
  }

  estimate(dataset: string, request: QueryRequest): Promise<Estimate> {
    return this.request('POST', `/v1/datasets/${seg(dataset)}/estimate`, request);
  }

  /** Runs a DP query; with `wait: false` a long query returns the accepted job instead of the answer. */
  async query(dataset: string, request: QueryRequest, options?: QueryOptions & { wait?: true }): Promise<QueryAnswer>;
  async query(dataset: string, request: QueryRequest, options: QueryOptions): Promise<QueryAnswer | AcceptedJob>;
  async query(dataset: string, request: QueryRequest, options: QueryOptions = {}): Promise<QueryAnswer | AcceptedJob> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    const { status, body } = await this.send<QueryAnswer | AcceptedJob>('POST', `/v1/datasets/${seg(dataset)}/queries`, request, headers);
    if (status !== 202) return body;
    const accepted = body as AcceptedJob;
    if (options.wait === false) return accepted;
    const job = await this.waitForJob(accepted.jobId, { onProgress: options.onProgress });
    return { ...(job.result as QueryAnswer), jobId: job.id };
  }

  budget(dataset: string): Promise<Budget & { dataset: string }> {
    return this.request('GET', `/v1/datasets/${seg(dataset)}/budget`);
  }

  async archive(page: Page = {}): Promise<ArchivedQuery[]> {
    return (await this.request<{ queries: ArchivedQuery[] }>('GET', `/v1/queries${query({ ...page })}`)).queries;
  }

  job(id: string): Promise<JobView> {
    return this.request('GET', `/v1/jobs/${seg(id)}`);
  }

  /**
   * Follows a job to its end through its event stream, reporting progress; falls back to polling if the
   * stream breaks. Resolves with the final job; rejects with the job's error when it failed.
   */
  async waitForJob(id: string, options: { onProgress?: (fraction: number) => void; pollMs?: number } = {}): Promise<JobView> {
    let job: JobView | undefined;
    try {
      job = await this.followEvents(id, options.onProgress);
    } catch (error) {
      if (error instanceof VeilApiError) throw error;
    }
    while (!job || !FINAL.has(job.status)) {
      if (job) await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      job = await this.job(id);
      options.onProgress?.(job.progress);
    }
    if (job.status !== 'succeeded') {
      throw new VeilApiError(statusForCode(job.error?.code), job.error?.code ?? 'job_failed', job.error?.message ?? 'the job failed');
    }
    return job;
  }

  private async followEvents(id: string, onProgress?: (fraction: number) => void): Promise<JobView | undefined> {
    const response = await this.fetchFn(`${this.base}/v1/jobs/${seg(id)}/events`, { headers: { ...this.authHeaders(), accept: 'text/event-stream' } });
    if (!response.ok) await raise(response);
    if (!response.body) return undefined;
    let last: JobView | undefined;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const message = parseEvent(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (message?.event === 'progress') onProgress?.((message.data as { progress: number }).progress);
        if (message?.event === 'status') {
          last = message.data as JobView;
          onProgress?.(last.progress);
        }
      }
    }
    return last;
  }

  // ── admin ────────────────────────────────────────────────────────────────────────────────────────

  readonly admin = {
    users: async (): Promise<UserView[]> => (await this.request<{ users: UserView[] }>('GET', '/v1/admin/users')).users,
    createUser: (name: string, role: 'admin' | 'analyst'): Promise<UserView> => this.request('POST', '/v1/admin/users', { name, role }),
    createKey: (user: string, options: { label?: string; expiresAt?: string } = {}): Promise<CreatedKey> =>
      this.request('POST', `/v1/admin/users/${seg(user)}/keys`, options),
    revokeKey: (prefix: string): Promise<{ prefix: string; revokedAt: string }> => this.request('DELETE', `/v1/admin/keys/${seg(prefix)}`),
    datasets: async (): Promise<AdminDataset[]> => (await this.request<{ datasets: AdminDataset[] }>('GET', '/v1/admin/datasets')).datasets,
    createDataset: (name: string, metadata: unknown, description?: string): Promise<AdminDataset> =>
      this.request('POST', '/v1/admin/datasets', { name, metadata, ...(description !== undefined ? { description } : {}) }),
    updateDataset: (name: string, changes: { metadata?: unknown; description?: string | null }): Promise<AdminDataset> =>
      this.request('PUT', `/v1/admin/datasets/${seg(name)}`, changes),
    removeDataset: (name: string): Promise<{ removed: string }> => this.request('DELETE', `/v1/admin/datasets/${seg(name)}`),
    setGrant: (user: string, dataset: string, grant: { epsilon: number | string; delta?: number | string; mode?: 'zcdp' | 'basic' }): Promise<Budget & { user: string; dataset: string }> =>
      this.request('PUT', `/v1/admin/grants/${seg(user)}/${seg(dataset)}`, grant),
    queries: async (filter: Page & { user?: string; dataset?: string } = {}): Promise<ArchivedQuery[]> =>
      (await this.request<{ queries: ArchivedQuery[] }>('GET', `/v1/admin/queries${query({ ...filter })}`)).queries,
    audit: async (page: Page = {}): Promise<AuditEntry[]> => (await this.request<{ entries: AuditEntry[] }>('GET', `/v1/admin/audit${query({ ...page })}`)).entries,
  };

  // ── synthetic data and masking ───────────────────────────────────────────────────────────────────

  /** Starts a DP synthetic-data job (charged like a query); refused with budget_exhausted before any data is read. */
  synthesize(dataset: string, request: SyntheticRequest): Promise<AcceptedSyntheticJob> {
    return this.request('POST', `/v1/datasets/${seg(dataset)}/synthetic`, request);
  }

  /** Starts a synthetic-data job and follows it to the end; resolves with the result (derived dataset, files). */
  async synthesizeAndWait(dataset: string, request: SyntheticRequest, options: { onProgress?: (fraction: number) => void } = {}): Promise<SyntheticResult & { jobId: string }> {
    const accepted = await this.synthesize(dataset, request);
    const job = await this.waitForJob(accepted.jobId, options);
    return { ...(job.result as SyntheticResult), jobId: job.id };
  }

  /** A masked sample of a dataset (for users holding a role with a masking policy on it); never charged. */
  maskedSample(dataset: string, options: { rows?: number; role?: string } = {}): Promise<MaskedSample> {
    return this.request('GET', `/v1/datasets/${seg(dataset)}/masked-sample${query({ rows: options.rows, role: options.role })}`);
  }

  /** Starts a masked export job; its k-anonymity report is in the finished job's result. */
  maskedExport(dataset: string, request: MaskedExportRequest): Promise<AcceptedJob> {
    return this.request('POST', `/v1/datasets/${seg(dataset)}/masked-export`, request);
  }

  /** The file a finished synthetic-data or masked-export job wrote. */
  async downloadResult(jobId: string, format: ResultFormat): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await this.fetchFn(`${this.base}/v1/jobs/${seg(jobId)}/result${query({ format })}`, {
        headers: this.authHeaders(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new VeilApiError(0, 'unreachable', `cannot reach the Veil server at ${this.base} (${(error as Error).message})`);
    }
    if (!response.ok) await raise(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  readonly masking = {
    /** Admin: sets the masking policy of `role` on a dataset (checked against its metadata). */
    setPolicy: (dataset: string, role: string, policy: MaskingPolicyInput): Promise<MaskingPolicyView> =>
      this.request('PUT', `/v1/admin/datasets/${seg(dataset)}/masking/${seg(role)}`, policy),
    /** Admin: the masking policy of `role` on a dataset. */
    policy: (dataset: string, role: string): Promise<MaskingPolicyView> => this.request('GET', `/v1/admin/datasets/${seg(dataset)}/masking/${seg(role)}`),
    removePolicy: (dataset: string, role: string): Promise<{ dataset: string; role: string; removed: true }> =>
      this.request('DELETE', `/v1/admin/datasets/${seg(dataset)}/masking/${seg(role)}`),
    /** Admin: replaces a user's masking roles. */
    setRoles: (user: string, roles: string[]): Promise<{ user: string; roles: string[] }> => this.request('PUT', `/v1/admin/users/${seg(user)}/roles`, { roles }),
    roles: (user: string): Promise<{ user: string; roles: string[] }> => this.request('GET', `/v1/admin/users/${seg(user)}/roles`),
  };

  // ── transport ────────────────────────────────────────────────────────────────────────────────────

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.send<T>(method, path, body)).body;
  }

  private async send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers: { ...this.authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new VeilApiError(0, 'unreachable', `cannot reach the Veil server at ${this.base} (${(error as Error).message})`);
    }
    if (!response.ok) await raise(response);
    return { status: response.status, body: (await response.json()) as T };
  }

  private authHeaders(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }
}

async function raise(response: Response): Promise<never> {
  let payload: { error?: { code?: string; message?: string; details?: unknown } } = {};
  try {
    payload = (await response.json()) as typeof payload;
  } catch {
    // Not JSON (a proxy's error page): keep the status.
  }
  const error = payload.error ?? {};
  throw new VeilApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? `HTTP ${response.status}`, error.details);
}

function parseEvent(block: string): { event: string; data: unknown } | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trim());
  }
  if (data.length === 0) return undefined;
  try {
    return { event, data: JSON.parse(data.join('\n')) };
  } catch {
    return undefined;
  }
}

const seg = (value: string): string => encodeURIComponent(value);

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
}

function statusForCode(code: string | undefined): number {
  const known: Record<string, number> = { bad_query: 400, invalid_request: 422, not_found: 404, budget_exhausted: 403, idempotency_conflict: 409, timeout: 504 };
  return (code && known[code]) || 500;
}
