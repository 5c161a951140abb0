import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('gives embedded defaults with no environment', () => {
    const config = loadConfig('embedded', {});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.store.kind).toBe('pglite');
    expect(config.dataDir.endsWith('.veil')).toBe(true);
    expect(config.rateLimitPerMinute).toBe(600);
  });

  it('names every missing variable in distributed mode', () => {
    let error: unknown;
    try {
      loadConfig('distributed', { PORT: 'eighty' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['PORT', 'VEIL_DATABASE_URL', 'VEIL_REDIS_URL']);
    expect((error as Error).message).toContain('VEIL_DATABASE_URL: is required in distributed mode');
  });

  it('rejects a malformed URL with the variable name', () => {
    expect(() => loadConfig('distributed', { VEIL_DATABASE_URL: 'mysql://x', VEIL_REDIS_URL: 'redis://r:6379' })).toThrow(
      /VEIL_DATABASE_URL: must be a PostgreSQL URL/,
    );
  });

  it('reads distributed settings and connection secrets', () => {
    const config = loadConfig('distributed', {
      VEIL_DATABASE_URL: 'postgres://db/veil',
      VEIL_REDIS_URL: 'redis://r:6379',
      VEIL_RATE_LIMIT: '100000',
      VEIL_PG_WAREHOUSE: 'postgres://wh/data',
      PORT: '',
    });
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://db/veil' });
    expect(config.redisUrl).toBe('redis://r:6379');
    expect(config.rateLimitPerMinute).toBe(100000);
    expect(config.postgresConnections).toEqual({ warehouse: 'postgres://wh/data' });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
  });
});
