/**
 * A thousand users, with upstream faults, a killed process and a stop signal, finished by the
 * runs after them: every source user on the target exactly once, whole (keys, rules, password),
 * nothing extra, and a run after that creates nothing.
 *
 * - SFTP To Go → SFTPGo 1.x through the built CLI in a child process: 500s, then creates delayed
 *   past the backend's timeout, then SIGKILL at 400 users while a create is on its way (the
 *   emulator makes it: a `creating` user on the target); the same command resumes it.
 * - SFTPGo 1.x → SFTP To Go through the CLI, 200 users: SIGTERM mid-run, then resumed.
 * - SFTPGo 1.x → SFTPGo 2.x in process (runMigration): 503s and a timeout, stopped, resumed.
 *
 * The first writes its numbers, the plan's summary and the final report's (no password) to
 * test/out/migration-1000.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import type { SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { parseSshPublicKey } from '../src/domain/ssh-key.js';
import { markReported, runMigration } from '../src/migration/run.js';
import { verifyMigration } from '../src/migration/verify.js';
import { openFileMigrationState, parseStateText } from '../src/node/migration-file-state.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { configText, emulatorSides, rule, sidesOf, storedUsernames } from './fixtures/migration-sides.js';
import { buildCliOnce, cleanEnv, finished, runCli, type CliResult } from './helpers/cli.js';

let bin: string;
const dir = mkdtempSync(join(tmpdir(), 'migration-1000-'));
const ctx: CallContext = { requestId: 'migration-1000', logger: createLogger({ level: 'silent' }) };
const KEYS = [keyOf('ed25519'), keyOf('rsa-2048'), keyOf('ecdsa-256')];

beforeAll(async () => {
  ({ bin } = await buildCliOnce('migration-1000'));
}, 60_000);

const { side, closeAll } = emulatorSides();
afterAll(closeAll);

/** The CLI's `migrate` on `from` → `to`, started with these extra flags. */
function startMigrate(config: string, from: string, to: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, 'migrate', '--config', config, '--from', from, '--to', to, ...args], {
    env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Calls `onLine` with each whole line of stderr as it arrives, and the highest `[n/N]` progress seen so far. */
function followStderr(child: ChildProcess, onLine: (line: string, done: number) => void): void {
  let tail = '';
  let highest = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    tail += chunk.toString('utf8');
    const lines = tail.split('\n');
    tail = lines.pop()!;
    for (const line of lines) {
      const m = /^\[(\d+)\/\d+\] /.exec(line);
      if (m) highest = Math.max(highest, Number(m[1]));
      onLine(line, highest);
    }
  });
}

const summaryLine = (stdout: string, prefix: string) => stdout.split('\n').find((l) => l.startsWith(prefix)) ?? '(none)';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const duplicates = (names: string[]) => names.filter((n, i) => names.indexOf(n) !== i);

describe('SFTP To Go → SFTPGo 1.x, 1,000 users, through the CLI', () => {
  it('500s and timeouts, then SIGKILL; the same command finishes it: each user once, whole; verify ok; a third run creates nothing', async () => {
    const togo = await side('togo', 'sftptogo');
    const onprem = await side('onprem', 'sftpgo-1', { timeoutMs: 500 });
    const source = togo.emu as SftpToGoEmulator;
    const target = onprem.emu as SftpgoEmulator;
    source.seedCredentials(1000, 'migrated');
    // Keys and rules through the adapter, so a user made in part (without them) would show.
    const [sourceSide] = sidesOf(togo, onprem);
    const ops = sourceSide.adapter.operations;
    const parsedKeys = await Promise.all(KEYS.map((k) => parseSshPublicKey(k.publicKey)));
    const credentials = [...source.credentials.values()].filter((c) => c.UserName.startsWith('migrated'));
    /** What each user must have on the target: key lines and allowed CIDRs (a source's default rule allows anywhere: none). */
    const expected = new Map<string, { keys: string[]; cidrs: string[] }>();
    for (const [i, c] of credentials.entries()) {
      const keys = [...(i % 10 === 0 ? [i % 3] : []), ...(i % 25 === 0 ? [(i + 1) % 3] : [])];
      for (const k of keys) await ops.sshKeys!.addSshKey(c.Id, parsedKeys[k]!, ctx);
      const cidrs = i % 7 === 0 ? [`10.${i % 256}.0.0/16`, '192.0.2.0/24'] : [];
      if (cidrs.length > 0) await ops.networkRules!.replaceNetworkRules(c.Id, cidrs.map((cidr) => rule(cidr)), ctx);
      expected.set(c.UserName, { keys: keys.map((k) => KEYS[k]!.publicKey), cidrs });
    }
    const config = join(dir, 'togo-onprem.json');
    writeFileSync(config, configText({ togo: togo.config, onprem: onprem.config }));
    const state = join(dir, 'togo-onprem.jsonl');
    const args = ['--state', state];
    const sourceNames = [...source.credentials.values()].map((c) => c.UserName).sort();
    expect(sourceNames).toHaveLength(1001); // and the root credential

    let t = Date.now();
    const dry = await runCli(bin, ['migrate', '--config', config, '--from', 'togo', '--to', 'onprem', '--dry-run']);
    const dryMs = Date.now() - t;
    expect(dry.code, dry.stderr).toBe(0);
    const planLine = summaryLine(dry.stdout, 'plan ');
    expect(planLine).toMatch(/^plan togo → onprem: 1001 users: 1001 to create, 0 to skip, 0 exist, 0 differ, 0 conflicts; passwords: 1001 carried, 0 generated/);

    // The run: faults on the target's creates as it goes, then killed.
    t = Date.now();
    // One at a time: a retry's wait then holds the whole run, so the faults are over long before
    // the kill, which comes mid-run (the resumed run goes four at a time).
    const child = startMigrate(config, 'togo', 'onprem', [...args, '--concurrency', '1']);
    const killed = finished(child);
    const faults = { errors: false, timeouts: false, undone: 0, killedAt: 0 };
    followStderr(child, (line, done) => {
      if (line.includes('deleted a user an unfinished try made')) faults.undone += 1;
      if (done >= 20 && !faults.errors) {
        faults.errors = true;
        target.setFaults({ status: 500, match: { method: 'POST', pathPrefix: '/user' }, times: 3 });
      } else if (done >= 60 && !faults.timeouts) {
        faults.timeouts = true;
        // Past the 500 ms timeout; made 200 ms later, before the user's next try looks for it.
        target.setFaults({ delayMs: 700, match: { method: 'POST', pathPrefix: '/user' }, times: 2 });
      } else if (done >= 400 && faults.killedAt === 0 && faults.undone === 2) {
        // Once both timed-out creates (which the emulator makes once their caller has gone) were
        // found and deleted by their user's next try: killed while a create is on its way, which
        // the emulator then makes — a user recorded `creating` that is on the target.
        faults.killedAt = done;
        const before = target.requests.length;
        target.setFaults({ delayMs: 300, match: { method: 'POST', pathPrefix: '/user' }, times: 1 });
        const watch = setInterval(() => {
          if (!target.requests.slice(before).some((r) => r.method === 'POST')) return;
          clearInterval(watch);
          child.kill('SIGKILL');
        }, 2);
      }
    });
    const first = await killed;
    const killedMs = Date.now() - t;
    expect(first.signal, first.stderr.slice(-2000)).toBe('SIGKILL');
    expect(first.stdout).toBe(''); // killed before its report
    // Its warnings: each failed try (why), and each user a timed-out try made after all, deleted before the next.
    const warnings = first.stderr.split('\n').filter((l) => l.startsWith('{"level":"warn"')).map((l) => JSON.parse(l) as { msg: string; reason?: string });
    const retried = warnings.filter((w) => w.msg === 'migration: a create failed, trying again');
    const faulted = {
      errors: retried.filter((w) => /answered 500/.test(w.reason ?? '')).length,
      timeouts: retried.filter((w) => /^504 /.test(w.reason ?? '')).length,
      undone: warnings.filter((w) => w.msg === 'migration: deleted a user an unfinished try made').length,
    };
    expect(faulted, JSON.stringify(warnings)).toMatchObject({ errors: 3, timeouts: 2 });
    // The emulator makes a held create once its caller has gone: the next try found it and deleted it.
    expect(faulted.undone).toBe(2);

    // What the kill left: records, some `creating`; on the target no name twice.
    const records = [...parseStateText(readFileSync(state, 'utf8'), state).records.values()];
    const creating = records.filter((r) => r.step === 'creating').length;
    const doneBefore = records.filter((r) => r.step === 'done').length;
    expect(doneBefore).toBeGreaterThanOrEqual(390);
    expect(1001 - doneBefore, 'killed mid-run, with users left to make').toBeGreaterThanOrEqual(100);
    expect(creating).toBeLessThanOrEqual(1); // at most one per worker
    expect(duplicates(storedUsernames(target))).toEqual([]);
    const creatingLanded = [...parseStateText(readFileSync(state, 'utf8'), state).records]
      .filter(([name, r]) => r.step === 'creating' && storedUsernames(target).includes(name)).length;
    const stateText = readFileSync(state, 'utf8');
    expect([...source.credentials.values()].filter((c) => stateText.includes(c.Password))).toEqual([]);

    // Resumed, with no fault.
    t = Date.now();
    const resumed = await runCli(bin, ['migrate', '--config', config, '--from', 'togo', '--to', 'onprem', ...args]);
    const resumedMs = Date.now() - t;
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    const reportLine = summaryLine(resumed.stdout, 'run ');
    expect(reportLine).toMatch(/^run togo → onprem: 1001 users: \d+ created, \d+ exists, 0 differs, 0 conflict, 0 skipped, 0 failed, 0 pending; 0 generated passwords; complete$/);
    const createdNow = Number(/: (\d+) created/.exec(reportLine)![1]);
    const remade = resumed.stderr.split('\n').filter((l) => l.includes('deleted a user a stopped run may have half-made')).length;
    expect(remade).toBe(creatingLanded);
    expect(creatingLanded).toBe(1);
    expect(createdNow).toBeLessThanOrEqual(1001 - doneBefore);

    // Every source user once on the target, with its keys, rules and password; nothing else.
    expect(storedUsernames(target)).toEqual(sourceNames);
    const made = new Map([...target.users.values()].map((u) => [u.username, u]));
    for (const c of source.credentials.values()) {
      const u = made.get(c.UserName)!;
      const wanted = expected.get(c.UserName) ?? { keys: [], cidrs: [] }; // the root credential: neither
      expect(u.password, c.UserName).toBe(c.Password);
      expect(u.public_keys ?? [], c.UserName).toEqual(wanted.keys);
      expect((u.filters as { allowed_ip?: string[] }).allowed_ip ?? [], c.UserName).toEqual(wanted.cidrs);
    }
    const withKeys = [...expected.values()].filter((e) => e.keys.length > 0).length;
    const withRules = [...expected.values()].filter((e) => e.cidrs.length > 0).length;
    expect([withKeys, withRules]).toEqual([120, 143]);

    t = Date.now();
    const verified = await runCli(bin, ['migrate', '--config', config, '--from', 'togo', '--to', 'onprem', '--verify']);
    const verifyMs = Date.now() - t;
    expect(verified.code, verified.stdout.slice(-1000)).toBe(0);

    onprem.emu.clearRequests();
    t = Date.now();
    const third = await runCli(bin, ['migrate', '--config', config, '--from', 'togo', '--to', 'onprem', ...args]);
    const thirdMs = Date.now() - t;
    expect(third.code).toBe(0);
    expect(summaryLine(third.stdout, 'run ')).toMatch(/: 0 created, 1001 exists,/);
    expect(onprem.emu.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    writeNotes({
      planLine, reportLine, resumed, verified, dryMs, killedMs, resumedMs, verifyMs, thirdMs,
      killedAt: faults.killedAt, doneBefore, creating, creatingLanded, remade, faulted, createdNow, thirdLine: summaryLine(third.stdout, 'run '),
      passwords: [...source.credentials.values()].map((c) => c.Password),
    });
  }, 120_000);
});

/** test/out/migration-1000.md: the numbers of the run above, its plan and report summaries, a few rows. */
function writeNotes(n: {
  planLine: string; reportLine: string; thirdLine: string; resumed: CliResult; verified: CliResult;
  dryMs: number; killedMs: number; resumedMs: number; verifyMs: number; thirdMs: number;
  killedAt: number; doneBefore: number; creating: number; creatingLanded: number; remade: number; faulted: { errors: number; timeouts: number; undone: number };
  createdNow: number; passwords: string[];
}): void {
  const lines = n.resumed.stdout.split('\n');
  // Two users the killed run made, and the first three this one made.
  const rows = [lines[0]!, ...lines.filter((l) => / exists /.test(l)).slice(0, 2), ...lines.filter((l) => / created /.test(l)).slice(0, 3)];
  const text = [
    '# 1,000-user migration: SFTP To Go → SFTPGo 1.x through `sftp-gateway migrate`',
    '',
    'Written by test/migration-1000.test.ts: 1,000 seeded credentials and the root one (120 with SSH keys,',
    '143 with network rules), a backend `timeoutMs` of 500 on the target. During the first run the target',
    'answered 500 to three creates, then held two creates past the timeout (the emulator makes a held create',
    'once its caller has gone, as a real server may); the run was killed with SIGKILL, and the same command run again.',
    '',
    '| step | time | |',
    '| --- | --- | --- |',
    `| --dry-run | ${seconds(n.dryMs)} | |`,
    `| first run, killed | ${seconds(n.killedMs)} | killed at ${n.killedAt} users done: ${n.doneBefore} recorded \`done\`, ${n.creating} \`creating\` (${n.creatingLanded} of them on the target); ` +
      `retried: ${n.faulted.errors} creates answered 500, ${n.faulted.timeouts} timed out (${n.faulted.undone} of those landed late and were deleted before the retry) |`,
    `| resumed run | ${seconds(n.resumedMs)} | ${n.createdNow} created (${n.remade} of them deleted first: \`creating\` and on the target) |`,
    `| --verify | ${seconds(n.verifyMs)} | exit ${n.verified.code} |`,
    `| third run | ${seconds(n.thirdMs)} | ${n.thirdLine.replace(/^run [^:]+: /, '')} |`,
    '',
    'The plan (`--dry-run`):',
    '',
    '```',
    n.planLine,
    '```',
    '',
    'The resumed run\'s report, its summary and a few rows:',
    '',
    '```',
    ...rows,
    '…',
    n.reportLine,
    '```',
    '',
  ].join('\n');
  for (const p of n.passwords) expect(text).not.toContain(p);
  mkdirSync(join(process.cwd(), 'test', 'out'), { recursive: true });
  writeFileSync(join(process.cwd(), 'test', 'out', 'migration-1000.md'), text);
}

describe('SFTPGo 1.x → SFTP To Go, 200 users, through the CLI', () => {
  it('SIGTERM: the users being made finish, the rest are pending in the report, exit 1; the same command finishes it', async () => {
    const onprem = await side('onprem', 'sftpgo-1');
    const togo = await side('togo', 'sftptogo');
    const source = onprem.emu as SftpgoEmulator;
    const target = togo.emu as SftpToGoEmulator;
    source.seedUsers(200, 'stopped');
    const config = join(dir, 'onprem-togo.json');
    writeFileSync(config, configText({ onprem: onprem.config, togo: togo.config }));
    const args = ['--state', join(dir, 'onprem-togo.jsonl'), '--json'];

    const child = startMigrate(config, 'onprem', 'togo', args);
    const stopped = finished(child);
    let signalled = 0;
    followStderr(child, (_line, done) => {
      if (done >= 50 && signalled === 0) {
        signalled = done;
        child.kill('SIGTERM');
      }
    });
    const first = await stopped;
    expect(first.code, first.stderr.slice(-2000)).toBe(1);
    expect(first.stderr).toMatch(/^SIGTERM: stopping/m);
    expect(first.stderr).toMatch(/^stopped: \d+ users pending; run the same command again to resume/m);
    const report = JSON.parse(first.stdout) as import('../src/migration/report-types.js').MigrationReport;
    const { created, pending } = report.summary.outcomes;
    expect(report.complete).toBe(false);
    expect(created).toBeGreaterThanOrEqual(50);
    expect(created + pending).toBe(200);
    expect(pending).toBeGreaterThan(0);
    // The passwords of those made are in this report, and are the ones the target holds.
    for (const u of report.users.filter((x) => x.outcome === 'created')) {
      expect(target.credentials.get(u.targetId!)?.Password).toBe(u.generatedPassword);
    }

    const rest = await runCli(bin, ['migrate', '--config', config, '--from', 'onprem', '--to', 'togo', ...args]);
    expect(rest.code, rest.stderr.slice(-2000)).toBe(0);
    const after = JSON.parse(rest.stdout) as typeof report;
    expect(after.summary.outcomes).toMatchObject({ created: pending, exists: created, pending: 0, failed: 0 });
    const names = storedUsernames(target).filter((n) => n.startsWith('stopped'));
    expect(names).toEqual([...source.users.values()].map((u) => u.username).sort());
    for (const u of after.users.filter((x) => x.outcome === 'created')) {
      expect(target.credentials.get(u.targetId!)?.Password).toBe(u.generatedPassword);
    }
  }, 60_000);
});

describe('SFTPGo 1.x → SFTPGo 2.x, 1,000 users, in process', () => {
  it('503s and a timeout mid-run, stopped; the resumed run makes each user exactly once', async () => {
    const v1 = await side('old', 'sftpgo-1');
    const v2 = await side('new', 'sftpgo-2', { timeoutMs: 500 });
    const source = v1.emu as SftpgoEmulator;
    const target = v2.emu as SftpgoV2Emulator;
    source.seedUsers(1000, 'moved');
    const pair = { from: 'old', to: 'new', identity: 'old>new' };
    const statePath = join(dir, 'old-new.jsonl');
    const stop = new AbortController();
    const warnings: string[] = [];
    const runCtx: CallContext = {
      requestId: 'migration-1000-v2',
      logger: createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(line) } }),
    };

    const firstState = openFileMigrationState(statePath, pair);
    const first = await runMigration(...sidesOf(v1, v2), { backoffMs: 50, signal: stop.signal }, {
      ctx: runCtx,
      state: firstState,
      progress: (done) => {
        if (done === 200) target.setFaults({ status: 503, match: { method: 'POST', pathPrefix: '/users' }, times: 3 });
        if (done === 400) target.setFaults({ delayMs: 1_500, match: { method: 'POST', pathPrefix: '/users' }, times: 1 });
        if (done === 600) stop.abort();
      },
    });
    expect(first.complete).toBe(false);
    expect(first.summary.outcomes.failed).toBe(0);
    expect(first.summary.outcomes.created).toBeGreaterThanOrEqual(600);
    expect(first.summary.outcomes.pending).toBe(1000 - first.summary.outcomes.created);
    const retried = first.users.filter((u) => (u.attempts ?? 1) > 1);
    expect(retried.length).toBeGreaterThanOrEqual(2);
    expect(warnings.filter((w) => w.includes('a create failed, trying again')).length).toBeGreaterThanOrEqual(4);
    expect(duplicates(storedUsernames(target))).toEqual([]);
    await markReported(first, firstState); // as a caller does once it has the report

    const second = await runMigration(...sidesOf(v1, v2), { backoffMs: 50 }, { ctx: runCtx, state: openFileMigrationState(statePath, pair) });
    expect(second.complete).toBe(true);
    expect(second.summary.outcomes).toMatchObject({ created: first.summary.outcomes.pending, exists: first.summary.outcomes.created });
    expect(storedUsernames(target)).toEqual(storedUsernames(source));
    // Every generated password, from one report or the other, is the one the target holds.
    for (const u of [...first.users, ...second.users].filter((x) => x.outcome === 'created')) {
      expect(target.users.get(u.username)?.password, u.username).toBe(u.generatedPassword);
    }
    expect((await verifyMigration(...sidesOf(v1, v2), {}, ctx)).ok).toBe(true);
  }, 60_000);
});
