// HTTP(S) and S3 go through DuckDB's httpfs. This machine has no internet, so when the extension is not
// installed the tests check the clear error; when it is, a local HTTP server stands in for the remote.
import { DuckDBInstance } from '@duckdb/node-api';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSecretStatements, s3SecretStatements } from './duckdb-sources.js';
import { openDataset, type AdapterContext } from './index.js';

const offline: AdapterContext = { dataDir: '/', duckdb: { allowExtensionInstall: false } };

async function httpfsInstalled(): Promise<boolean> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run('LOAD httpfs');
    return true;
  } catch {
    return false;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const hasHttpfs = await httpfsInstalled();
if (!hasHttpfs) console.warn('\n  ⚠ SKIPPED: HTTP reads need DuckDB\'s httpfs extension, not installed here (no internet); testing the error path.\n');

describe('server-side credentials as DuckDB secrets', () => {
  it('builds an S3 secret with every value quoted as a literal', () => {
    expect(s3SecretStatements({ accessKeyId: 'AKIA', secretAccessKey: "it's", region: 'eu-west-1', endpoint: 'minio:9000', urlStyle: 'path', useSsl: false })).toEqual([
      "CREATE SECRET veil_s3 (TYPE s3, KEY_ID 'AKIA', SECRET 'it''s', REGION 'eu-west-1', ENDPOINT 'minio:9000', URL_STYLE 'path', USE_SSL false)",
    ]);
    expect(s3SecretStatements(undefined)).toEqual([]);
    expect(s3SecretStatements({})).toEqual([]);
  });

  it('builds an HTTP secret with a bearer token and extra headers', () => {
    expect(httpSecretStatements({ bearerToken: 'tok', headers: { 'X-Api-Key': "k'1" } })).toEqual([
      "CREATE SECRET veil_http (TYPE http, BEARER_TOKEN 'tok', EXTRA_HTTP_HEADERS MAP {'X-Api-Key': 'k''1'})",
    ]);
  });
});

describe.skipIf(hasHttpfs)('without the httpfs extension', () => {
  it('refuses HTTP and S3 sources with a clear error that names the fix and never the credentials', async () => {
    const http = openDataset({ kind: 'http', url: 'http://127.0.0.1:9/data.parquet' }, offline);
    await expect(http).rejects.toMatchObject({ kind: 'extension-unavailable' });
    await expect(http).rejects.toThrow(/httpfs extension.*not installed/);
    const s3 = await openDataset({ kind: 's3', url: 's3://bucket/data.csv' }, { ...offline, s3: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'sekrit' } }).catch((e: unknown) => e);
    expect(s3).toMatchObject({ kind: 'extension-unavailable' });
    expect(JSON.stringify(s3) + String((s3 as Error).message)).not.toMatch(/AKIAEXAMPLE|sekrit/);
  });
});

describe.skipIf(!hasHttpfs)('with the httpfs extension', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/data.csv') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,x\n2,y\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a CSV served over HTTP', async () => {
    const adapter = await openDataset({ kind: 'http', url: `${base}/data.csv` }, offline);
    expect((await adapter.query('SELECT SUM(a) FROM dataset')).rows).toEqual([[3]]);
    await adapter.close();
  });
});
