/**
 * Builds the Node entry into ES modules, `dist/node.js` and its chunks (dependencies stay in
 * node_modules), which `npm start` runs with plain `node`. Running the TypeScript through tsx
 * instead costs a loader thread (~30 MiB of RSS) and, with its `keepNames`, a helper call for every
 * closure made. Code that is only imported lazily — demo mode's emulators — lands in chunks of its
 * own, which a configured start never loads (`staticallyLoaded` says which inputs one does).
 *
 * @example
 * tsx scripts/build.ts            # dist/node.js, its chunks and their maps
 * tsx scripts/build.ts out/dir    # elsewhere (the benchmark builds into bench/out/dist)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export interface BuiltNode {
  /** The path of the Node entry, `node.js`. */
  entry: string;
  metafile: Metafile;
}

/** Builds the entries into `outdir`. */
export async function buildNodeBundle(
  outdir = resolve(ROOT, 'dist'), entries: Record<string, string> = { node: 'src/node/main.ts' },
): Promise<BuiltNode> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: true, // lazily imported modules get chunks of their own
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true, // `node --enable-source-maps` turns stack traces back into src/ lines
    metafile: true,
    logLevel: 'warning',
  });
  return { entry: resolve(outdir, 'node.js'), metafile: result.metafile };
}

/** Builds the entries into `outdir` and returns the path of the Node entry. */
export async function buildNode(outdir?: string, entries?: Record<string, string>): Promise<string> {
  return (await buildNodeBundle(outdir, entries)).entry;
}

/**
 * The source files an output loads at start: its own and those of every chunk it imports
 * statically (a dynamic `import()` is left out: it loads only when called).
 */
export function staticallyLoaded(metafile: Metafile, output: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of metafile.outputs[path]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(output);
  return [...seen].flatMap((o) => Object.keys(metafile.outputs[o]?.inputs ?? {}));
}

/**
 * The `sftp-gateway` command line (src/cli/main.ts) as `cli.js` beside the Node entry, which
 * bin/sftp-gateway.mjs runs. A build of its own, so the Node entry's chunks stay as they are.
 */
export async function buildCli(outdir = resolve(ROOT, 'dist')): Promise<BuiltNode> {
  const { metafile } = await buildNodeBundle(outdir, { cli: 'src/cli/main.ts' });
  return { entry: resolve(outdir, 'cli.js'), metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildNode(process.argv[2] ? resolve(process.argv[2]) : undefined); // quiet: stdout is the log stream
  await buildCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
}
