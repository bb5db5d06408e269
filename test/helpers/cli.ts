/**
 * The `sftp-gateway` command as a user runs it: bin/sftp-gateway.mjs over the bundle
 * `npm run build` writes (scripts/build.ts's `buildCli`), in a child process. Each test file
 * builds its own copy under dist/test/ (test files run in parallel), inside the project so that
 * the bundle's imports of dependencies resolve from node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, type BuiltNode } from '../../scripts/build.js';

export interface BuiltCli {
  /** `<dir>/bin/sftp-gateway.mjs`, which runs `<dir>/dist/cli.js` as the package's bin does. */
  bin: string;
  built: BuiltNode;
}

const builds = new Map<string, Promise<BuiltCli>>();

/** Builds once per name: `dist/test/<name>/{bin,dist}`, laid out as the package is. */
export function buildCliOnce(name: string): Promise<BuiltCli> {
  if (!builds.has(name)) {
    builds.set(name, (async () => {
      const root = join(process.cwd(), 'dist', 'test', name);
      const built = await buildCli(join(root, 'dist'));
      mkdirSync(join(root, 'bin'), { recursive: true });
      copyFileSync(join(process.cwd(), 'bin', 'sftp-gateway.mjs'), join(root, 'bin', 'sftp-gateway.mjs'));
      return { bin: join(root, 'bin', 'sftp-gateway.mjs'), built };
    })());
  }
  return builds.get(name)!;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * An environment with none of the variables the CLI reads (GATEWAY_CONFIG, SFTP_GATEWAY_*,
 * PORT…) unless `env` sets them: a test sees only what it gave.
 */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
}

/** Starts `node <bin> ...args` with output piped. */
export function spawnCli(bin: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the command to its end (async: a gateway served by the test process keeps answering meanwhile). */
export function runCli(bin: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawnCli(bin, args, env);
  return finished(child);
}

/** The child's output and exit, once it has exited. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
