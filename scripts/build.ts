/**
 * Builds the Node entry into one ES module, `dist/node.js` (dependencies stay in node_modules),
 * which `npm start` runs with plain `node`. Running the TypeScript through tsx instead costs a
 * loader thread (~30 MiB of RSS) and, with its `keepNames`, a helper call for every closure made.
 *
 * @example
 * tsx scripts/build.ts            # dist/node.js and dist/node.js.map
 * tsx scripts/build.ts out/dir    # elsewhere (the benchmark builds into bench/out/dist)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Builds the entries into `outdir` and returns the path of the Node entry. */
export async function buildNode(outdir = resolve(ROOT, 'dist'), entries: Record<string, string> = { node: 'src/node/main.ts' }): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true, // `node --enable-source-maps` turns stack traces back into src/ lines
    logLevel: 'warning',
  });
  return resolve(outdir, 'node.js');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildNode(process.argv[2] ? resolve(process.argv[2]) : undefined); // quiet: stdout is the log stream
}
