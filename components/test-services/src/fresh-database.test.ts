import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createFreshDatabase, postgresTestUrl, type FreshDatabase } from './index.js';

const { url } = postgresTestUrl();

describe.skipIf(!url)('createFreshDatabase', () => {
  const created: FreshDatabase[] = [];
  afterAll(async () => Promise.all(created.map((d) => d.drop())));

  it('gives each caller its own empty database', async () => {
    const [a, b] = [await createFreshDatabase(url!), await createFreshDatabase(url!)];
    created.push(a, b);
    expect(a.name).not.toBe(b.name);
    const client = new pg.Client({ connectionString: a.url });
    await client.connect();
    const { rows } = await client.query('SELECT current_database() AS db');
    await client.end();
    expect(rows[0].db).toBe(a.name);
  });
});
