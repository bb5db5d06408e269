/**
 * Child processes and what Linux says about them: each server of the benchmark runs in its own
 * process (`node bench/out/dist/….js`, bundled by scripts/build.ts), its CPU time read from `/proc/<pid>/stat` (utime + stime) and
 * its memory from `/proc/<pid>/status` (VmRSS, VmHWM).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { buildNode } from '../scripts/build.js';

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** Clock ticks per second of utime/stime (100 on every Linux we know, asked anyway). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A non-negative number from the environment, or `fallback` when unset or empty. */
export function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}="${text}" is not a non-negative number`);
  return n;
}

/** CPU time (user + system) the process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // fields 14 and 15
}

/** Resident set size now and its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round((kb('VmRSS') / 1024) * 10) / 10, peak: Math.round((kb('VmHWM') / 1024) * 10) / 10 };
}

/** The whole machine's busy and total CPU time so far, in ms (first line of /proc/stat). */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: (busy * 1000) / CLK_TCK, total: ((busy + idle! + iowait!) * 1000) / CLK_TCK };
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  stderr: () => string;
}

const children = new Set<Child>();

/** What the benchmark runs, bundled once per run by `buildBench` (as `npm start` runs the gateway). */
export type BenchEntry = 'node' | 'servers' | 'load';
const DIST = join(ROOT, 'bench', 'out', 'dist');

/** Bundles the gateway, the benchmark's servers and its load generator into bench/out/dist. */
export async function buildBench(): Promise<void> {
  await buildNode(DIST, { node: 'src/node/main.ts', servers: 'bench/servers.ts', load: 'bench/load.ts' });
}

/** `node [nodeArgs] bench/out/dist/ENTRY.js args`, from the project root. */
export function spawnEntry(
  name: string,
  entry: BenchEntry,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdout?: 'pipe' | number; nodeArgs?: string[] } = {},
): Child {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(DIST, `${entry}.js`), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  const child: Child = { name, proc, pid: proc.pid!, stderr: () => err };
  children.add(child);
  proc.once('exit', () => children.delete(child));
  return child;
}

/** The first stdout line of a child, parsed as JSON (servers print their URL, load.ts its result). */
export async function firstJsonLine<T>(child: Child, timeoutMs: number): Promise<T> {
  const lines = createInterface({ input: child.proc.stdout! });
  try {
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${child.name}: no answer within ${timeoutMs} ms\n${child.stderr()}`)), timeoutMs);
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as T);
        } catch {
          reject(new Error(`${child.name}: not JSON: ${line}\n${child.stderr()}`));
        }
      });
      child.proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${child.name} exited (${code}) before answering\n${child.stderr()}`));
      });
    });
  } finally {
    lines.close();
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stop(child: Child, graceMs = 15_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Every child still running (on the way out, also after an error). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 5000)));
}

export function median(values: number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}
