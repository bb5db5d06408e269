/**
 * swagger-ui's files for `/docs`, read from the installed swagger-ui-dist package (a dependency,
 * so `npm ci` then `npm start` has it). Resolved from this module's own URL: it works from src/
 * under tsx and from the built dist/node.js alike, as both sit inside the project's node_modules tree.
 *
 * @example createApp({ ..., docsAssets: swaggerUiFromNodeModules() })
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { DocsAsset, SwaggerUiAssets, SwaggerUiFile } from '../http/docs-swagger-ui.js';

const gzipped = promisify(gzip);

/**
 * Finds the package now (a broken install fails the start, not the first visit); reads each file,
 * and gzips it, on its first request, then keeps both (about 2.6 MB, only once someone opened /docs).
 */
export function swaggerUiFromNodeModules(): SwaggerUiAssets {
  const manifest = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
  const dir = dirname(manifest);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const kept = new Map<SwaggerUiFile, Promise<DocsAsset>>();

  async function load(name: SwaggerUiFile): Promise<DocsAsset> {
    const body = await readFile(join(dir, name));
    return { body, gzip: await gzipped(body) };
  }

  return {
    version,
    read(name) {
      let asset = kept.get(name);
      if (!asset) {
        asset = load(name);
        kept.set(name, asset);
        asset.catch(() => kept.delete(name)); // a failed read is tried again next time
      }
      return asset;
    },
  };
}
