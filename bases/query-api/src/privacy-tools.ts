// The synthetic-data and masking flows, when the project wired them in (ApiDeps.privacyTools).
import type { PrivacyTools } from '@veil/query-execution';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';

export function privacyTools(deps: ApiDeps): PrivacyTools {
  if (!deps.privacyTools) throw new ApiError(503, 'unavailable', 'synthetic data and masking are not enabled on this server');
  return deps.privacyTools;
}

/** 202 with the job's links, as for a long query. */
export function acceptedJob(jobId: string, extra: Record<string, unknown> = {}) {
  return { jobId, status: 'queued', ...extra, links: { job: `/v1/jobs/${jobId}`, events: `/v1/jobs/${jobId}/events` } };
}
