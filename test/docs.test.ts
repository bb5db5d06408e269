/**
 * `/docs` through the whole app, in-process: swagger-ui's page, its assets from the installed
 * package (src/node/docs-assets.ts, as the Node entry passes them), the allow-list, the CSP, and the
 * server-rendered page that stays at `/docs/plain` (and is `/docs` where no assets are given, as on Workers).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ListCache } from '../src/cache/list-cache.js';
import { noStore } from '../src/cache/store.js';
import { createApp } from '../src/http/app.js';
import { DOCS_CSP } from '../src/http/docs-routes.js';
import { swaggerUiFromNodeModules } from '../src/node/docs-assets.js';
import { createLogger } from '../src/observability/logger.js';
import { createAdapters, parseConfig } from '../src/providers.js';
import { API_KEYS, createTestGateway } from './helpers/gateway.js';
import { operationsOf } from './helpers/openapi-operations.js';

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_VERSION = (JSON.parse(readFileSync(join(SWAGGER_UI_DIR, 'package.json'), 'utf8')) as { version: string }).version;
const BASE = 'http://gateway.test';

/** The app as the Node entry builds it for /docs: API keys configured, swagger-ui's assets given. */
function nodeApp() {
  const config = parseConfig(
    JSON.stringify({
      auth: { apiKeys: API_KEYS },
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' } },
    }),
    {},
  );
  const logger = createLogger({ level: 'silent' });
  const cache = new ListCache(noStore, { ttlSeconds: 0, keyPrefix: 'docs:', logger });
  return createApp({ config, adapters: createAdapters(config.backends), cache, logger, docsAssets: swaggerUiFromNodeModules() }).app;
}

const app = nodeApp();
const get = (path: string, headers: Record<string, string> = {}) => app.request(new URL(path, BASE).href, { headers });

async function expectNotFoundProblem(res: Response) {
  const text = await res.text();
  expect(res.status, text).toBe(404);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(JSON.parse(text)).toMatchObject({ status: 404, code: 'not_found', detail: expect.any(String) });
  expect(text).not.toMatch(/\n\s+at |\.[jt]s:\d+/); // no stack trace
}

/** The page's `<script src>` and `<link href>`s, as URLs against the page's own. */
async function pageAssets() {
  const res = await get('/docs');
  const html = await res.text();
  const urls = (re: RegExp) => [...html.matchAll(re)].map((m) => new URL(m[1]!, `${BASE}/docs`));
  return { res, html, scripts: urls(/<script src="([^"]+)"/g), styles: urls(/<link rel="stylesheet" href="([^"]+)"/g) };
}

describe('GET /docs on Node: swagger-ui', () => {
  it('is public, HTML, under the strict CSP, with no inline script', async () => {
    const { res, html, scripts, styles } = await pageAssets();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(html).toContain('<div id="swagger-ui"></div>');
    // Every script is a file; none has a body of its own.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<script[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
    const key = `${SWAGGER_UI_VERSION}-`;
    expect(scripts.map((u) => u.pathname)).toEqual([
      expect.stringMatching(new RegExp(`^/docs/assets/${key}[0-9a-f]{8}/swagger-ui-bundle\\.js$`)),
      expect.stringMatching(new RegExp(`^/docs/assets/${key}[0-9a-f]{8}/docs-init\\.js$`)),
    ]);
    expect(styles.map((u) => u.pathname)).toEqual([expect.stringMatching(/\/swagger-ui\.css$/)]);
  });

  it('names its assets relative to the page, so a gateway under a base path finds them under it', async () => {
    const { html } = await pageAssets();
    for (const [, ref] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      if (ref!.startsWith('data:')) continue;
      expect(ref).not.toMatch(/^\//);
      expect(new URL(ref!, 'https://example.com/gw/docs').pathname).toMatch(/^\/gw\/(docs\/|openapi\.json$)/);
    }
  });

  it("serves swagger-ui's own files byte for byte, cached for good, gzipped when asked", async () => {
    const { scripts, styles } = await pageAssets();
    const [bundle] = scripts;
    const [css] = styles;
    for (const [url, file, type] of [[bundle!, 'swagger-ui-bundle.js', 'text/javascript'], [css!, 'swagger-ui.css', 'text/css']] as const) {
      const plain = await get(url.pathname);
      expect(plain.status).toBe(200);
      expect(plain.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(plain.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
      expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
      expect(plain.headers.get('content-encoding')).toBeNull();
      expect(plain.headers.get('vary')).toBe('accept-encoding');
      const onDisk = readFileSync(join(SWAGGER_UI_DIR, file));
      expect(Buffer.from(await plain.arrayBuffer()).equals(onDisk)).toBe(true);

      const zipped = await get(url.pathname, { 'accept-encoding': 'br, gzip;q=0.8' });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      const compressed = Buffer.from(await zipped.arrayBuffer());
      expect(compressed.length).toBeLessThan(onDisk.length / 2);
      expect(gunzipSync(compressed).equals(onDisk)).toBe(true);

      const refused = await get(url.pathname, { 'accept-encoding': 'gzip;q=0, identity' });
      expect(refused.headers.get('content-encoding')).toBeNull();
    }
  });

  it('starts swagger-ui with the document under its own base path, deep links, constraints and no outside validator', async () => {
    const { scripts } = await pageAssets();
    const init = scripts[1]!;
    const res = await get(init.pathname);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
    const script = await res.text();
    // Run it as a browser would, at a page under a base path, with swagger-ui stubbed to keep its options.
    let options: Record<string, unknown> | undefined;
    const SwaggerUIBundle = Object.assign((o: Record<string, unknown>) => ((options = o), { started: true }), { presets: { apis: 'apis-preset' } });
    const window: Record<string, unknown> = {};
    const document = { currentScript: { src: `https://example.com/gw${init.pathname}` } };
    runInNewContext(script, { window, document, SwaggerUIBundle, URL });
    expect(options).toMatchObject({
      url: 'https://example.com/gw/openapi.json',
      dom_id: '#swagger-ui',
      presets: ['apis-preset'],
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      persistAuthorization: false,
      validatorUrl: null,
      queryConfigEnabled: false,
    });
    expect(window.ui).toEqual({ started: true });
  });

  it('answers any other asset name, an old key or a path out of the folder with a 404 problem', async () => {
    const { scripts } = await pageAssets();
    const dir = scripts[0]!.pathname.replace(/[^/]+$/, '');
    const oldKey = `/docs/assets/0.0.1-00000000/swagger-ui-bundle.js`;
    for (const path of [
      `${dir}swagger-ui.js`, `${dir}index.html`, `${dir}swagger-initializer.js`, `${dir}package.json`, `${dir}swagger-ui-bundle.js.map`,
      `${dir}..%2F..%2F..%2Fpackage.json`, `${dir}%2e%2e%2fpackage.json`, `${dir}..%5Cpackage.json`, `${dir}constructor`, `${dir}__proto__`,
      oldKey, '/docs/assets/swagger-ui.css', `${dir}swagger-ui.css/x`, `/docs/assets/..%2F..%2Fnode_modules/package.json`,
    ]) {
      await expectNotFoundProblem(await get(path));
    }
  });

  it('keeps the server-rendered reference at /docs/plain: no script, every operation, the same CSP', async () => {
    const res = await get('/docs/plain');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    const ids = operationsOf(await (await get('/openapi.json')).json()).map((op) => op.operationId);
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) expect(html).toContain(`id="op-${id}"`);
  });
});

describe('GET /docs without swagger-ui assets (the Worker)', () => {
  const gw = createTestGateway({ backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' } } });

  it('is the server-rendered page, public, under the CSP; assets are 404 problems', async () => {
    for (const path of ['/docs', '/docs/plain']) {
      const res = await gw.call('GET', path, { key: null });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
      const html = await res.text();
      expect(html).toContain('id="op-listUsers"');
      expect(html).not.toMatch(/<script/i);
    }
    await expectNotFoundProblem(await gw.call('GET', `/docs/assets/${SWAGGER_UI_VERSION}/swagger-ui-bundle.js`, { key: null }));
  });
});
