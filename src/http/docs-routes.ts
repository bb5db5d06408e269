/**
 * `/docs` and what it loads, public as `/openapi.json` is (no route here asks for a key):
 *
 * - `GET /docs`: swagger-ui when the runtime gave its assets (Node), else the server-rendered page;
 * - `GET /docs/plain`: the server-rendered page (src/http/docs.ts), which needs no script;
 * - `GET /docs/assets/<key>/<file>`: swagger-ui.css, swagger-ui-bundle.js and docs-init.js, from
 *   a fixed list (any other name is a 404), cached for good: `<key>` changes with their content.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { GatewayError } from '../domain/errors.js';
import { renderDocs } from './docs.js';
import { assetKey, DOCS_INIT_SCRIPT, swaggerUiPage, type DocsAsset, type SwaggerUiAssets, type SwaggerUiFile } from './docs-swagger-ui.js';
import type { GatewayEnv } from './request-vars.js';

/**
 * What the docs pages may load: their own origin only. Scripts only from files (none inline, no
 * eval); images also as data: URLs (swagger-ui's icons are in its CSS so); inline styles (the plain
 * page's <style>; they cannot run script).
 */
export const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

const IMMUTABLE = 'public, max-age=86400, immutable';

const JS = 'text/javascript; charset=utf-8';
const TYPES: Record<SwaggerUiFile | 'docs-init.js', string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': JS,
  'docs-init.js': JS,
};

export interface DocsDeps {
  document: () => Record<string, unknown>;
  /** swagger-ui's files (src/node/docs-assets.ts). @default none: `/docs` is the server-rendered page */
  swaggerUi?: SwaggerUiAssets;
}

const pageHeaders = {
  'content-security-policy': DOCS_CSP,
  'cache-control': 'no-cache', // the page names the current assets' key
  'x-content-type-options': 'nosniff',
};

export function mountDocs(app: OpenAPIHono<GatewayEnv>, deps: DocsDeps): void {
  let plainHtml: string | undefined;
  const plainPage = (c: Context<GatewayEnv>) => c.html((plainHtml ??= renderDocs(deps.document())), 200, pageHeaders);
  app.get('/docs/plain', plainPage);

  const { swaggerUi } = deps;
  if (!swaggerUi) {
    app.get('/docs', plainPage);
    return;
  }
  const key = assetKey(swaggerUi);
  let html: string | undefined;
  app.get('/docs', (c) => {
    html ??= swaggerUiPage(String((deps.document().info as { title?: unknown } | undefined)?.title ?? 'API'), key);
    return c.html(html, 200, pageHeaders);
  });

  const initScript: DocsAsset = { body: new TextEncoder().encode(DOCS_INIT_SCRIPT) };
  const read = (file: keyof typeof TYPES): Promise<DocsAsset> =>
    file === 'docs-init.js' ? Promise.resolve(initScript) : swaggerUi.read(file);

  app.get('/docs/assets/:key/:file', async (c) => {
    const file = c.req.param('file');
    if (c.req.param('key') !== key || !Object.hasOwn(TYPES, file)) {
      throw new GatewayError(404, 'not_found', `No docs asset at ${c.req.path}: /docs/assets/${key}/ serves ${Object.keys(TYPES).join(', ')}`);
    }
    const name = file as keyof typeof TYPES;
    const asset = await read(name);
    const gzip = asset.gzip && acceptsGzip(c.req.header('accept-encoding'));
    const headers: Record<string, string> = {
      'content-type': TYPES[name],
      'cache-control': IMMUTABLE,
      'content-security-policy': DOCS_CSP,
      'x-content-type-options': 'nosniff',
    };
    if (asset.gzip) headers.vary = 'accept-encoding';
    if (gzip) headers['content-encoding'] = 'gzip';
    return c.body((gzip ? asset.gzip! : asset.body) as Uint8Array<ArrayBuffer>, 200, headers);
  });
}

/** `Accept-Encoding` names gzip, and not with `q=0`. */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
