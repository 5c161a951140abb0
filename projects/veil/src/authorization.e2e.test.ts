// The authorization matrix: every route × {no key, revoked key, analyst, analyst without grant, admin}
// gives the expected status; plus bad input that must never be a 500, body limits and the rate limit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpSqlPlanner } from '@veil/query-execution';
import { loadConfig } from '@veil/service-config';
import { VeilClient } from '@veil/veil-client';
import { startEmbedded } from './server.js';
import type { EmbeddedVeil } from './server.js';

const RATE_LIMIT = 60;
type Who = 'none' | 'revoked' | 'analyst' | 'ungranted' | 'admin';
const WHO: Who[] = ['none', 'revoked', 'analyst', 'ungranted', 'admin'];

let veil: EmbeddedVeil;
let dataDir: string;
const keys: Partial<Record<Who, string>> = {};
let aliceJob = '';
let counter = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'veil-authz-'));
  veil = await startEmbedded(loadConfig('embedded', { PORT: '0', VEIL_DATA_DIR: dataDir, VEIL_RATE_LIMIT: String(RATE_LIMIT), VEIL_BODY_LIMIT: '65536' }), dpSqlPlanner());
  keys.admin = veil.firstStart.adminKey!;
  const admin = new VeilClient({ server: veil.url, apiKey: keys.admin });
  for (const name of ['alice', 'bob', 'carol']) await admin.admin.createUser(name, 'analyst');
  keys.analyst = (await admin.admin.createKey('alice')).key;
  keys.ungranted = (await admin.admin.createKey('bob')).key;
  const revoked = await admin.admin.createKey('carol');
  await admin.admin.setGrant('carol', 'penguins', { epsilon: 10 });
  await admin.admin.revokeKey(revoked.prefix);
  keys.revoked = revoked.key;
  await admin.admin.setGrant('alice', 'penguins', { epsilon: 10, delta: '1e-6' });
  aliceJob = (await new VeilClient({ server: veil.url, apiKey: keys.analyst }).query('penguins', { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 0.01 })).jobId;
});

afterAll(async () => {
  await veil?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(who: Who, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${veil.url}${path}`, {
    method,
    headers: {
      ...(keys[who] ? { authorization: `Bearer ${keys[who]}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const unique = () => `x${Date.now().toString(36)}${counter++}`;
const metadata = { source: { kind: 'file', path: 'demo/penguins.csv' }, columns: { species: { type: 'string', categories: ['Adelie', 'Chinstrap', 'Gentoo'] } } };

interface Route {
  name: string;
  request: (who: Who) => Promise<{ status: number; body: unknown }>;
  expect: Record<Who, number>;
}

const ANALYST = { none: 401, revoked: 401, analyst: 200, ungranted: 404, admin: 404 };
const ANY_USER = { none: 401, revoked: 401, analyst: 200, ungranted: 200, admin: 200 };
const ADMIN = (ok: number) => ({ none: 401, revoked: 401, analyst: 403, ungranted: 403, admin: ok });
const PUBLIC = { none: 200, revoked: 200, analyst: 200, ungranted: 200, admin: 200 };
const query = { sql: 'SELECT COUNT(*) FROM dataset', epsilon: 0.01 };

const routes: Route[] = [
  { name: 'GET /health', request: (w) => call(w, 'GET', '/health'), expect: PUBLIC },
  { name: 'GET /ready', request: (w) => call(w, 'GET', '/ready'), expect: PUBLIC },
  { name: 'GET /docs/json', request: (w) => call(w, 'GET', '/docs/json'), expect: PUBLIC },
  { name: 'GET /v1/datasets', request: (w) => call(w, 'GET', '/v1/datasets'), expect: ANY_USER },
  { name: 'GET metadata', request: (w) => call(w, 'GET', '/v1/datasets/penguins/metadata'), expect: ANALYST },
  { name: 'GET dummy', request: (w) => call(w, 'GET', '/v1/datasets/penguins/dummy?rows=3&seed=1'), expect: ANALYST },
  { name: 'POST estimate', request: (w) => call(w, 'POST', '/v1/datasets/penguins/estimate', query), expect: ANALYST },
  { name: 'POST queries', request: (w) => call(w, 'POST', '/v1/datasets/penguins/queries', query), expect: ANALYST },
  { name: 'GET budget', request: (w) => call(w, 'GET', '/v1/datasets/penguins/budget'), expect: ANALYST },
  { name: 'GET /v1/queries', request: (w) => call(w, 'GET', '/v1/queries'), expect: ANY_USER },
  { name: 'GET job', request: (w) => call(w, 'GET', `/v1/jobs/${aliceJob}`), expect: ANALYST },
  { name: 'GET job events', request: (w) => call(w, 'GET', `/v1/jobs/${aliceJob}/events`), expect: ANALYST },
  { name: 'GET admin users', request: (w) => call(w, 'GET', '/v1/admin/users'), expect: ADMIN(200) },
  { name: 'POST admin users', request: (w) => call(w, 'POST', '/v1/admin/users', { name: unique(), role: 'analyst' }), expect: ADMIN(201) },
  { name: 'POST admin keys', request: (w) => call(w, 'POST', '/v1/admin/users/bob/keys', {}), expect: ADMIN(201) },
  { name: 'GET admin keys', request: (w) => call(w, 'GET', '/v1/admin/users/bob/keys'), expect: ADMIN(200) },
  {
    name: 'DELETE admin key',
    request: async (w) => {
      const created = await call('admin', 'POST', '/v1/admin/users/bob/keys', {});
      return call(w, 'DELETE', `/v1/admin/keys/${(created.body as { prefix: string }).prefix}`);
    },
    expect: ADMIN(200),
  },
  { name: 'GET admin datasets', request: (w) => call(w, 'GET', '/v1/admin/datasets'), expect: ADMIN(200) },
  { name: 'POST admin datasets', request: (w) => call(w, 'POST', '/v1/admin/datasets', { name: unique(), metadata }), expect: ADMIN(201) },
  {
    name: 'PUT admin dataset',
    request: async (w) => {
      const name = unique();
      await call('admin', 'POST', '/v1/admin/datasets', { name, metadata });
      return call(w, 'PUT', `/v1/admin/datasets/${name}`, { description: 'changed' });
    },
    expect: ADMIN(200),
  },
  {
    name: 'DELETE admin dataset',
    request: async (w) => {
      const name = unique();
      await call('admin', 'POST', '/v1/admin/datasets', { name, metadata });
      return call(w, 'DELETE', `/v1/admin/datasets/${name}`);
    },
    expect: ADMIN(200),
  },
  { name: 'PUT admin grant', request: (w) => call(w, 'PUT', '/v1/admin/grants/alice/penguins', { epsilon: 10, delta: '1e-6' }), expect: ADMIN(200) },
  { name: 'GET admin grant', request: (w) => call(w, 'GET', '/v1/admin/grants/alice/penguins'), expect: ADMIN(200) },
  { name: 'GET admin queries', request: (w) => call(w, 'GET', '/v1/admin/queries'), expect: ADMIN(200) },
  { name: 'GET admin audit', request: (w) => call(w, 'GET', '/v1/admin/audit'), expect: ADMIN(200) },
];

describe('authorization matrix', () => {
  it('gives every route the expected status for every kind of caller', async () => {
    const mismatches: string[] = [];
    for (const route of routes) {
      for (const who of WHO) {
        const { status, body } = await route.request(who);
        if (status !== route.expect[who]) mismatches.push(`${route.name} as ${who}: ${status} (expected ${route.expect[who]}) ${JSON.stringify(body).slice(0, 160)}`);
        if (status >= 400) expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses a key at once when it is revoked after use (the key-check cache forgets it)', async () => {
    const admin = new VeilClient({ server: veil.url, apiKey: keys.admin! });
    const used = await admin.admin.createKey('alice');
    const asUsed = () => fetch(`${veil.url}/v1/datasets`, { headers: { authorization: `Bearer ${used.key}` } });
    expect((await asUsed()).status).toBe(200);
    await admin.admin.revokeKey(used.prefix);
    expect((await asUsed()).status).toBe(401);
  });

  it('never leaks whether an ungranted dataset exists', async () => {
    const missing = await call('ungranted', 'GET', '/v1/datasets/does_not_exist/metadata');
    const ungranted = await call('ungranted', 'GET', '/v1/datasets/penguins/metadata');
    expect(ungranted.status).toBe(404);
    expect((ungranted.body as { error: { message: string } }).error.message).toBe(
      (missing.body as { error: { message: string } }).error.message.replace('does_not_exist', 'penguins'),
    );
  });
});

describe('bad input', () => {
  const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
    ['invalid JSON', () => call('analyst', 'POST', '/v1/datasets/penguins/queries', '{"sql": '), 400, 'bad_request'],
    ['missing sql', () => call('analyst', 'POST', '/v1/datasets/penguins/queries', { epsilon: 1 }), 422, 'invalid_request'],
    ['unknown field', () => call('analyst', 'POST', '/v1/datasets/penguins/queries', { ...query, extra: 1 }), 422, 'invalid_request'],
    ['epsilon not a number', () => call('analyst', 'POST', '/v1/datasets/penguins/queries', { sql: query.sql, epsilon: 'lots' }), 422, 'invalid_request'],
    ['epsilon zero', () => call('analyst', 'POST', '/v1/datasets/penguins/estimate', { sql: query.sql, epsilon: 0 }), 422, 'invalid_request'],
    ['not SQL', () => call('analyst', 'POST', '/v1/datasets/penguins/estimate', { sql: 'DROP TABLE dataset', epsilon: 1 }), 400, 'bad_query'],
    ['bad Idempotency-Key', () => call('analyst', 'POST', '/v1/datasets/penguins/queries', query, { 'idempotency-key': 'a b' }), 400, 'bad_request'],
    ['too many dummy rows', () => call('analyst', 'GET', '/v1/datasets/penguins/dummy?rows=1000000'), 422, 'invalid_request'],
    ['bad page limit', () => call('analyst', 'GET', '/v1/queries?limit=-3'), 422, 'invalid_request'],
    ['body too large', () => call('analyst', 'POST', '/v1/datasets/penguins/estimate', { sql: `SELECT COUNT(*) FROM dataset -- ${'x'.repeat(70_000)}`, epsilon: 1 }), 413, 'payload_too_large'],
    ['unknown route', () => call('analyst', 'GET', '/v1/nothing'), 404, 'not_found'],
    ['malformed job id', () => call('analyst', 'GET', '/v1/jobs/not-a-uuid'), 404, 'not_found'],
    ['bad metadata', () => call('admin', 'POST', '/v1/admin/datasets', { name: unique(), metadata: { source: { kind: 'file' }, columns: {} } }), 422, 'invalid_request'],
    ['duplicate user', () => call('admin', 'POST', '/v1/admin/users', { name: 'alice', role: 'analyst' }), 409, 'conflict'],
    ['grant for unknown user', () => call('admin', 'PUT', '/v1/admin/grants/nobody/penguins', { epsilon: 1 }), 404, 'not_found'],
    ['malformed bearer', () => fetch(`${veil.url}/v1/datasets`, { headers: { authorization: 'Bearer nonsense' } }).then(async (r) => ({ status: r.status, body: await r.json() })), 401, 'unauthorized'],
  ];
  it.each(cases)('%s → %i %s', async (_name, request, status, code) => {
    const response = await request();
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
  });
});

describe('rate limit', () => {
  it('answers 429 rate_limited once a key exceeds VEIL_RATE_LIMIT per minute, other keys unaffected', async () => {
    const { key } = await new VeilClient({ server: veil.url, apiKey: keys.admin }).admin.createKey('bob');
    const statuses: number[] = [];
    for (let i = 0; i <= RATE_LIMIT; i++) {
      statuses.push((await fetch(`${veil.url}/v1/datasets`, { headers: { authorization: `Bearer ${key}` } })).status);
    }
    expect(statuses.slice(0, RATE_LIMIT).every((s) => s === 200)).toBe(true);
    const limited = await fetch(`${veil.url}/v1/datasets`, { headers: { authorization: `Bearer ${key}` } });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await call('analyst', 'GET', '/v1/datasets')).status).toBe(200);
  });
});
