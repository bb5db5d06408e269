/**
 * `/docs` on the Worker, in workerd: the server-rendered reference (swagger-ui's assets are
 * Node's; the bundle check keeps them out), public, under the same CSP as on Node, naming every
 * operation of the Worker's own /openapi.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findForbidden, readMetafile } from '../../scripts/check-worker-bundle.js';
import { DOCS_CSP } from '../../src/http/docs-routes.js';
import { API_KEYS } from '../helpers/gateway.js';
import { operationsOf } from '../helpers/openapi-operations.js';
import { buildWorkerForTest, startWorker, workerConfig, type RunningWorker } from './harness.js';

let worker: RunningWorker;
let metafilePath: string;

beforeAll(async () => {
  const built = await buildWorkerForTest();
  metafilePath = built.metafilePath;
  // Never called: the docs need no upstream.
  const { configText, secrets } = workerConfig(API_KEYS, {
    backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://127.0.0.1:9', sftpHost: 'sftp.example.com' } },
  });
  worker = await startWorker(built.bundlePath, { GATEWAY_CONFIG: configText, ...secrets });
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
});

const get = (path: string) => fetch(new URL(path, worker.url));

describe('/docs on the Worker', () => {
  it('is the server-rendered reference without a key, under the CSP, with every operation and no script', async () => {
    const doc = await (await get('/openapi.json')).json();
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(10);
    for (const path of ['/docs', '/docs/plain']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
      const html = await res.text();
      expect(html).not.toMatch(/<script/i);
      for (const op of operations) expect(html, op.operationId).toContain(`id="op-${op.operationId}"`);
    }
  });

  it('serves no swagger-ui asset: a 404 problem, and none of swagger-ui-dist is in the bundle', async () => {
    for (const path of ['/docs/assets/5.36.0/swagger-ui-bundle.js', '/docs/assets/x/swagger-ui.css', '/docs/assets/x/..%2F..%2Fwrangler.toml']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 404, code: 'not_found' });
    }
    const inputs = Object.keys(readMetafile(metafilePath).inputs);
    expect(inputs.filter((i) => i.includes('swagger-ui-dist'))).toEqual([]);
    expect(findForbidden(readMetafile(metafilePath))).toEqual([]);
  });
});
