/**
 * `npm run client`: the typed TypeScript client for callers, generated from openapi.yaml into
 * client/ by @hey-api/openapi-ts (its fetch client is generated in too: no runtime dependency).
 * test/client.test.ts regenerates it into a temporary folder and fails when client/ differs.
 */
import { createClient } from '@hey-api/openapi-ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the client generated from openapi.yaml into `outDir` (client/ by default). */
export async function generateClient(outDir = join(ROOT, 'client')): Promise<void> {
  await createClient({
    input: join(ROOT, 'openapi.yaml'),
    output: { path: outDir, postProcess: [] },
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
    logs: { level: 'silent' },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await generateClient();
