/**
 * The interactive API reference at `/docs`: swagger-ui (swagger-ui-dist), served by the gateway
 * itself — its CSS and JS from the installed package, the page and its start-up script from here —
 * so nothing is fetched from elsewhere and a strict Content-Security-Policy holds (no inline script).
 */

/** swagger-ui's files the page loads; nothing else of the package is ever served. */
export type SwaggerUiFile = 'swagger-ui.css' | 'swagger-ui-bundle.js';

/** One file, as read once by the runtime: its bytes, and a gzip of them when the runtime made one. */
export interface DocsAsset {
  body: Uint8Array;
  gzip?: Uint8Array;
}

/**
 * swagger-ui's files as the runtime reads them (src/node/docs-assets.ts on Node). The Worker has
 * none: its `/docs` is the server-rendered reference (src/http/docs.ts).
 */
export interface SwaggerUiAssets {
  /** swagger-ui-dist's version: part of the assets' URL, so a browser may keep them for good. */
  version: string;
  read(name: SwaggerUiFile): Promise<DocsAsset>;
}

/**
 * Starts swagger-ui on the gateway's own document. `../../../openapi.json` from this script's URL
 * (`<base>/docs/assets/<key>/docs-init.js`) is `<base>/openapi.json`, wherever the gateway is mounted.
 */
export const DOCS_INIT_SCRIPT = `'use strict';
(function () {
  var here = document.currentScript.src;
  window.ui = SwaggerUIBundle({
    url: new URL('../../../openapi.json', here).href,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    filter: true,
    // Constraints (minimum, maximum, pattern, lengths) and x- fields beside each parameter.
    showExtensions: true,
    showCommonExtensions: true,
    // The key stays in this tab's memory only.
    persistAuthorization: false,
    // No badge from validator.swagger.io, and no ?url= or ?configUrl= loading another document.
    validatorUrl: null,
    queryConfigEnabled: false
  });
})();
`;

/** FNV-1a of a text, in hex: changes when the start-up script does, so its URL does too. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** The `<key>` of `/docs/assets/<key>/<file>`: swagger-ui's version and the start-up script's fingerprint. */
export function assetKey(assets: SwaggerUiAssets): string {
  return `${assets.version}-${fingerprint(DOCS_INIT_SCRIPT)}`;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/**
 * The page: swagger-ui's stylesheet and bundle, then the start-up script, all by URLs relative to
 * `<base>/docs`. The favicon is an empty data: URL, so no request for /favicon.ico.
 */
export function swaggerUiPage(title: string, key: string): string {
  const asset = (file: string) => `docs/assets/${esc(key)}/${file}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset('swagger-ui.css')}">
</head>
<body>
<noscript><p>This page needs JavaScript. Without it: <a href="docs/plain">the plain reference</a>, or the document itself, <a href="openapi.json">openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="${asset('swagger-ui-bundle.js')}"></script>
<script src="${asset('docs-init.js')}"></script>
</body>
</html>
`;
}
