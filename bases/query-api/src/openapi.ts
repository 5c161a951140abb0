// The OpenAPI 3.1 document at /docs/json, written from the route list and the zod request schemas, so it
// cannot drift from what the handlers accept.
import { z } from 'zod';
import { dummyQuery, grantBody, newDatasetBody, newKeyBody, newUserBody, pageQuery, queryBody, datasetChangesBody, adminQueriesQuery } from './schemas.js';
import { PRIVACY_TOOL_ROUTES } from './privacy-openapi.js';

interface Route {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: 'health' | 'analyst' | 'admin';
  body?: z.ZodType;
  query?: z.ZodObject;
  ok?: number;
  public?: boolean;
}

const routes: Route[] = [
  { method: 'get', path: '/health', summary: 'Liveness', tag: 'health', public: true },
  { method: 'get', path: '/ready', summary: 'Readiness (store and queue reachable)', tag: 'health', public: true },
  { method: 'get', path: '/v1/datasets', summary: 'Datasets granted to you', tag: 'analyst' },
  { method: 'get', path: '/v1/datasets/{name}/metadata', summary: 'Schema, bounds and privacy unit of a dataset', tag: 'analyst' },
  { method: 'get', path: '/v1/datasets/{name}/dummy', summary: 'Seeded random rows shaped like the dataset (free)', tag: 'analyst', query: dummyQuery },
  { method: 'post', path: '/v1/datasets/{name}/estimate', summary: 'Charge and accuracy of a query, without running it (free)', tag: 'analyst', body: queryBody },
  { method: 'post', path: '/v1/datasets/{name}/queries', summary: 'Run a DP query (Idempotency-Key header optional); 202 with a job id when long', tag: 'analyst', body: queryBody },
  { method: 'get', path: '/v1/datasets/{name}/budget', summary: 'Your grant, spent, reserved and remaining budget', tag: 'analyst' },
  { method: 'get', path: '/v1/queries', summary: 'Your query archive, newest first', tag: 'analyst', query: pageQuery },
  { method: 'get', path: '/v1/jobs/{id}', summary: 'Status, progress and result of one of your jobs', tag: 'analyst' },
  { method: 'get', path: '/v1/jobs/{id}/events', summary: 'Server-Sent Events: status and progress until the job ends', tag: 'analyst' },
  { method: 'get', path: '/v1/admin/users', summary: 'List users', tag: 'admin' },
  { method: 'post', path: '/v1/admin/users', summary: 'Create a user', tag: 'admin', body: newUserBody },
  { method: 'post', path: '/v1/admin/users/{name}/keys', summary: 'Create an API key (the key is shown once)', tag: 'admin', body: newKeyBody },
  { method: 'get', path: '/v1/admin/users/{name}/keys', summary: "List a user's keys (prefixes only)", tag: 'admin' },
  { method: 'delete', path: '/v1/admin/keys/{prefix}', summary: 'Revoke an API key', tag: 'admin' },
  { method: 'get', path: '/v1/admin/datasets', summary: 'List datasets with full metadata', tag: 'admin' },
  { method: 'post', path: '/v1/admin/datasets', summary: 'Register a dataset', tag: 'admin', body: newDatasetBody },
  { method: 'get', path: '/v1/admin/datasets/{name}', summary: 'One dataset with full metadata', tag: 'admin' },
  { method: 'put', path: '/v1/admin/datasets/{name}', summary: "Change a dataset's description or metadata", tag: 'admin', body: datasetChangesBody },
  { method: 'delete', path: '/v1/admin/datasets/{name}', summary: 'Remove a dataset nothing refers to', tag: 'admin' },
  { method: 'put', path: '/v1/admin/grants/{user}/{dataset}', summary: 'Set the total (ε, δ) a user may spend on a dataset', tag: 'admin', body: grantBody },
  { method: 'get', path: '/v1/admin/grants/{user}/{dataset}', summary: "A user's budget on a dataset", tag: 'admin' },
  { method: 'get', path: '/v1/admin/queries', summary: 'Everyone’s query archive', tag: 'admin', query: adminQueriesQuery },
  { method: 'get', path: '/v1/admin/audit', summary: 'The audit log', tag: 'admin', query: pageQuery },
  ...PRIVACY_TOOL_ROUTES,
];

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

export function openApiDocument(version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...queryParameters(route.query),
      ...(route.path.endsWith('/queries') && route.method === 'post'
        ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }]
        : []),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses: {
        [String(route.ok ?? 200)]: { description: 'OK' },
        ...(route.path.endsWith('/queries') && route.method === 'post' ? { '202': { description: 'Accepted: the query runs as a job' } } : {}),
        default: { description: 'Error (DESIGN §7)', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Veil API', version, description: 'Differentially private SQL over datasets you never see, paid from a privacy budget.' },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A Veil API key: veil_<prefix>_<secret>' } } },
    security: [{ apiKey: [] }],
    tags: [{ name: 'health' }, { name: 'analyst' }, { name: 'admin' }],
    paths,
  };
}

function queryParameters(schema: z.ZodObject | undefined): unknown[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}
