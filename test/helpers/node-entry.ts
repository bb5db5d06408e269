/**
 * The Node entry as `npm start` runs it: `scripts/build.ts`'s bundle under plain `node`. Each test
 * file builds its own copy (test files run in parallel) inside the project, so that the bundle's
 * imports of dependencies resolve from node_modules.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { buildNode } from '../../scripts/build.js';

const built = new Map<string, Promise<string>>();

/** The arguments `npm start` gives the entry (package.json's `start` script). */
export const NPM_START_ARGS = ['--demo-if-unconfigured'];

/** Builds once per name, then spawns `node --enable-source-maps dist/test/<name>/node.js [args]` (npm start's arguments by default). */
export async function spawnNodeEntry(name: string, opts: SpawnOptions, args: string[] = NPM_START_ARGS) {
  if (!built.has(name)) built.set(name, buildNode(join(process.cwd(), 'dist', 'test', name)));
  const entry = await built.get(name)!;
  return spawn(process.execPath, ['--enable-source-maps', entry, ...args], opts);
}

/** `npm start` with no config on a free port: demo mode, once its DEMO MODE line names the URL. */
export async function startDemoEntry(name: string): Promise<{ child: ReturnType<typeof spawn>; url: string }> {
  const { GATEWAY_CONFIG: _config, NODE_ENV: _env, ...inherited } = process.env;
  const child = await spawnNodeEntry(name, { env: { ...inherited, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  child.stdout!.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  for (let i = 0; i < 300; i++) {
    const url = lines.map((l) => JSON.parse(l) as { msg?: string; url?: string }).find((l) => l.msg?.startsWith('DEMO MODE'))?.url;
    if (url) return { child, url };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the demo did not start:\n${lines.join('\n')}`);
}
