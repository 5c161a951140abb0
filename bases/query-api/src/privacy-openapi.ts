// The synthetic-data and masking routes in the OpenAPI document (spread into openapi.ts's route list).
import type { z } from 'zod';
import { maskedExportBody, maskedSampleQuery, maskingPolicyBody, resultQuery, syntheticBody, userRolesBody } from './privacy-schemas.js';

interface PrivacyRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: 'analyst' | 'admin';
  body?: z.ZodType;
  query?: z.ZodObject;
  ok?: number;
}

export const PRIVACY_TOOL_ROUTES: PrivacyRoute[] = [
  { method: 'post', path: '/v1/datasets/{name}/synthetic', summary: 'DP synthetic data (MST) as a job, charged like a query; refused before any data is read when the budget cannot cover it', tag: 'analyst', body: syntheticBody, ok: 202 },
  { method: 'get', path: '/v1/jobs/{id}/result', summary: 'The file a synthetic-data or masked-export job wrote (CSV or Parquet)', tag: 'analyst', query: resultQuery },
  { method: 'get', path: '/v1/datasets/{name}/masked-sample', summary: 'Masked rows, for users holding a role with a masking policy on the dataset (free)', tag: 'analyst', query: maskedSampleQuery },
  { method: 'post', path: '/v1/datasets/{name}/masked-export', summary: 'A masked CSV or Parquet export as a job, with its k-anonymity report (free)', tag: 'analyst', body: maskedExportBody, ok: 202 },
  { method: 'put', path: '/v1/admin/datasets/{name}/masking/{role}', summary: 'Set the masking policy of a role on a dataset (rules are parsed and type-checked)', tag: 'admin', body: maskingPolicyBody },
  { method: 'get', path: '/v1/admin/datasets/{name}/masking/{role}', summary: 'The masking policy of a role on a dataset', tag: 'admin' },
  { method: 'delete', path: '/v1/admin/datasets/{name}/masking/{role}', summary: 'Remove the masking policy of a role on a dataset', tag: 'admin' },
  { method: 'put', path: '/v1/admin/users/{name}/roles', summary: "Replace a user's masking roles", tag: 'admin', body: userRolesBody },
  { method: 'get', path: '/v1/admin/users/{name}/roles', summary: "A user's masking roles", tag: 'admin' },
];
