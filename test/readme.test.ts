/**
 * The README's "Using it" commands, run as they stand (bash and curl) against a fresh demo started
 * as `npm start` starts it: the README cannot drift from what the gateway answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoEntry } from './helpers/node-entry.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The fenced `sh` blocks of the README section whose heading is `title`. */
function shellBlocks(title: string): string[] {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** How many times a block calls curl (one per command line, continuations joined). */
const curlCalls = (block: string) => block.replace(/\\\n/g, ' ').split('\n').filter((l) => /(^|\$\()curl /.test(l.trim())).length;

interface Run {
  code: number | null;
  stdout: string;
  /** One `STATUS METHOD URL` line per curl call, in order. */
  calls: string[];
}

/**
 * Runs `script` under `bash -euo pipefail` with curl wrapped: each call must answer (a refused
 * connection or an HTTP error fails the script), and its status goes to stderr, not the output.
 */
function runBash(script: string, gw: string, env: Record<string, string> = {}): Promise<Run> {
  const prelude = [
    'set -euo pipefail',
    `curl() { command curl -sS -w '%{stderr}CALL %{http_code} %{method} %{url_effective}\\n' "$@"; }`,
    '',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', prelude + script], { env: { ...process.env, GW: gw, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      const calls = stderr.split('\n').filter((l) => l.startsWith('CALL ')).map((l) => l.slice(5));
      const others = stderr.split('\n').filter((l) => l && !l.startsWith('CALL '));
      if (others.length) stdout += `\n[stderr] ${others.join('\n[stderr] ')}`;
      resolve({ code, stdout, calls });
    });
  });
}

let gateway: ChildProcess | undefined;
let url = '';

beforeAll(async () => {
  ({ child: gateway, url } = await startDemoEntry('readme'));
}, 120_000);

afterAll(() => {
  if (gateway?.exitCode === null) gateway.kill('SIGKILL');
});

describe('README "Using it"', () => {
  it('runs as pasted against the demo: every call answers 2xx', async () => {
    const [usingIt] = shellBlocks('Using it');
    expect(usingIt).toBeDefined();
    const run = await runBash(usingIt!, url);
    const failed = run.calls.filter((c) => !/^2\d\d /.test(c));
    expect({ code: run.code, failed }, `${run.calls.join('\n')}\n${run.stdout.slice(-3000)}`).toEqual({ code: 0, failed: [] });
    expect(run.calls).toHaveLength(curlCalls(usingIt!));
    // What a reader is told to look for is there: the one-time passwords, the cursor's next page, the created users.
    expect(run.stdout).toContain('"username":"acme_uploads"');
    expect(run.stdout.match(/"password":"/g)?.length).toBeGreaterThanOrEqual(3); // two creates and a rotation
    expect(run.calls.some((c) => /GET .*cursor=[A-Za-z0-9_-]+/.test(c))).toBe(true);
  }, 120_000);

  it("shows a refused request as the problem+json answer it gets", async () => {
    const [, refused] = shellBlocks('Using it');
    expect(refused).toBeDefined();
    const run = await runBash(refused!, url);
    expect(run.calls).toHaveLength(1);
    expect(run.calls[0]).toMatch(/^400 POST /);
    const problem = JSON.parse(run.stdout.split('\n[stderr]')[0]!) as { status: number; code: string; errors: Array<{ path: string }> };
    expect(problem).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(problem.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['accessLevel']));
  }, 60_000);

  it('"From a terminal" runs as pasted: the CLI lists and reads the demo\'s users', async () => {
    const [terminal] = shellBlocks('From a terminal');
    expect(terminal).toBeDefined();
    const run = await runBash(terminal!, url, { SFTP_GATEWAY_URL: url });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^2\s+bob_backups\s+active\s+read-only/m);
    expect(run.stdout).not.toMatch(/\sdisabled\s/); // --status active
    expect(run.stdout).toContain('"username": "bob_backups"');
  }, 120_000);
});
