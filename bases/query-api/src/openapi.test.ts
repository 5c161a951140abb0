import { describe, expect, it } from 'vitest';
import { openApiDocument } from './index.js';
import { toErrorResponse } from './errors.js';
import { QueryError } from '@veil/query-execution';

describe('openApiDocument', () => {
  it('documents the analyst and admin routes with their bodies and the bearer scheme', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> }; security?: unknown[] }>>; components: unknown };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/datasets/{name}/queries', '/v1/admin/grants/{user}/{dataset}', '/v1/jobs/{id}/events', '/health']));
    const query = doc.paths['/v1/datasets/{name}/queries']!.post!;
    expect(query.requestBody!.content['application/json']!.schema.required).toEqual(['sql', 'epsilon']);
    expect(doc.paths['/health']!.get!.security).toEqual([]);
    expect(doc.components).toMatchObject({ securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } });
  });
});

describe('toErrorResponse', () => {
  it('gives the §7 shape, and a bare 500 with nothing of the cause for the unexpected', () => {
    expect(toErrorResponse(new QueryError('budget_exhausted', 'no budget', { needed: '1' }))).toEqual({
      status: 403,
      body: { error: { code: 'budget_exhausted', message: 'no budget', details: { needed: '1' } } },
    });
    const internal = toErrorResponse(new Error('relation "secret_table" does not exist'));
    expect(internal.status).toBe(500);
    expect(JSON.stringify(internal.body)).not.toContain('secret_table');
  });
});
