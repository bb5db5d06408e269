/**
 * Builds the Cloudflare Worker exactly as `wrangler deploy` would (`--dry-run`, into dist/worker)
 * and fails when a Node-only module made it into the bundle: ioredis, `node:*` built-ins,
 * @hono/node-server, pino's Node build, swagger-ui's assets, the emulators, or the Node side of src/
 * (`src/node/main.ts`, the demo, the redis store: everything under `src/node/`).
 *
 * `npm run build:worker` runs it; test/workers/bundle.test.ts runs it too, and proves it fails on
 * a fixture that imports ioredis.
 *
 * @example
 * tsx scripts/check-worker-bundle.ts                          # build dist/worker, then check it
 * tsx scripts/check-worker-bundle.ts --metafile x/meta.json   # check an esbuild metafile only
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
/** wrangler.toml's `main`. */
const WORKER_ENTRY = 'src/worker/main.ts';

/** Input paths (relative to the project, `/`-separated) that must never be in the Worker bundle. */
export const FORBIDDEN: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /(^|\/)node_modules\/(@ioredis\/[^/]+|ioredis)\//, why: 'ioredis needs node:net (the redis cache is Node only)' },
  { pattern: /(^|\/)node_modules\/@hono\/node-server\//, why: "@hono/node-server is Node's HTTP server" },
  {
    // pino's browser build would do; its Node build, transports and workers would not.
    pattern: /(^|\/)node_modules\/(pino(?!\/browser\.js$)|pino-[^/]+|sonic-boom|thread-stream|real-require|on-exit-leak-free)\//,
    why: "pino's Node build (src/observability/logger.ts's JSON logger is the Worker's)",
  },
  { pattern: /(^|\/)node_modules\/prom-client\//, why: 'prom-client is Node only (src/node/metrics.ts)' },
  // About 2 MB, against the bundle's 300 KiB gzip budget: the Worker's /docs is the server-rendered page.
  { pattern: /(^|\/)node_modules\/swagger-ui-dist\//, why: "swagger-ui's assets are served by Node only (src/node/docs-assets.ts)" },
  { pattern: /^src\/provider-kit\/emulator-kit\.ts$/, why: 'the emulators are Node-side test and demo servers' },
  { pattern: /^adapters\/[^/]+\/emulator\//, why: 'the emulators are Node-side test and demo servers' },
  { pattern: /^src\/node\//, why: 'src/node/ is the Node runtime: its entry and what only it uses' },
];

const NODE_BUILTINS = new Set(builtinModules);
const isNodeBuiltin = (path: string) => path.startsWith('node:') || NODE_BUILTINS.has(path.split('/')[0]!);

/** The part of an esbuild metafile the check reads. */
export interface Metafile {
  inputs: Record<string, { bytes: number; imports: { path: string; external?: boolean }[] }>;
  outputs: Record<string, { bytes: number; inputs?: Record<string, { bytesInOutput: number }>; imports?: { path: string; external?: boolean }[] }>;
}

export interface Finding {
  /** The input file (or the importer of a built-in). */
  input: string;
  /** What is wrong with it. */
  why: string;
}

/** Every forbidden module among the bundle's inputs and imports; empty when the bundle is clean. */
export function findForbidden(meta: Metafile): Finding[] {
  const findings: Finding[] = [];
  for (const [input, info] of Object.entries(meta.inputs)) {
    const path = input.replaceAll('\\', '/');
    const rule = FORBIDDEN.find((r) => r.pattern.test(path));
    if (rule) findings.push({ input: path, why: rule.why });
    for (const imp of info.imports) {
      if (isNodeBuiltin(imp.path)) findings.push({ input: path, why: `imports the Node built-in "${imp.path}"` });
    }
  }
  for (const [output, info] of Object.entries(meta.outputs)) {
    for (const imp of info.imports ?? []) {
      if (isNodeBuiltin(imp.path)) findings.push({ input: output, why: `the bundle imports the Node built-in "${imp.path}"` });
    }
  }
  return findings;
}

export interface BuildOptions {
  /** Where worker.js and meta.json go. @default dist/worker */
  outdir?: string;
  /** Another entry than wrangler.toml's `main` (the tests' fixtures). */
  entry?: string;
  compatibilityFlags?: string[];
}

export interface BuiltWorker {
  bundlePath: string;
  metafilePath: string;
  /** What wrangler printed (its errors, when it failed). */
  output: string;
}

/**
 * `wrangler deploy --dry-run`: the bundle wrangler would upload, with its esbuild metafile. Quiet
 * and offline (no banner, no update check, no metrics). Rejects when wrangler fails.
 */
export async function buildWorker(opts: BuildOptions = {}): Promise<BuiltWorker> {
  const outdir = resolve(ROOT, opts.outdir ?? 'dist/worker');
  mkdirSync(outdir, { recursive: true });
  const metafilePath = join(outdir, 'meta.json');
  // wrangler's package exports no subpaths: its bin is found beside its package.json.
  const wrangler = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  // The entry first: `--compatibility-flags` takes every word after it.
  const args = [wrangler, 'deploy', ...(opts.entry ? [opts.entry] : []), '--dry-run', '--outdir', outdir, '--metafile', metafilePath];
  for (const flag of opts.compatibilityFlags ?? []) args.push('--compatibility-flags', flag);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  output = output.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
  if (code !== 0) throw Object.assign(new Error(`wrangler deploy --dry-run failed (${code}):\n${output}`), { output });
  // wrangler names the bundle after its entry (wrangler.toml's `main` by default).
  const entry = opts.entry ?? WORKER_ENTRY;
  return { bundlePath: join(outdir, `${basename(entry, '.ts')}.js`), metafilePath, output };
}

export function readMetafile(path: string): Metafile {
  return JSON.parse(readFileSync(path, 'utf8')) as Metafile;
}

/** Raw and gzip size of a bundle, in bytes. */
export function bundleSize(bundlePath: string): { raw: number; gzip: number } {
  return { raw: statSync(bundlePath).size, gzip: gzipSync(readFileSync(bundlePath)).length };
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--metafile');
  let metafilePath: string;
  let bundlePath: string | undefined;
  if (at >= 0 && argv[at + 1]) {
    metafilePath = resolve(argv[at + 1]!);
  } else {
    const built = await buildWorker();
    ({ metafilePath, bundlePath } = built);
  }
  const findings = findForbidden(readMetafile(metafilePath));
  if (findings.length) {
    process.stderr.write(`Node-only modules in the Worker bundle (${relative(ROOT, metafilePath)}):\n`);
    for (const f of findings) process.stderr.write(`  ${f.input}: ${f.why}\n`);
    return 1;
  }
  if (bundlePath) {
    const { raw, gzip } = bundleSize(bundlePath);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    process.stdout.write(`${relative(ROOT, bundlePath)}: ${kib(raw)}, gzip ${kib(gzip)}; no Node-only module in it\n`);
  } else {
    process.stdout.write('no Node-only module in the bundle\n');
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
