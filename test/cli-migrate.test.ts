/**
 * `sftp-gateway migrate` as users run it: the built command in a child process, with a config
 * file reaching real emulators served by this process. The plan (table and JSON), a run whose
 * generated passwords reach stdout and nothing else, a second run that writes nothing, verify,
 * progress lines, one run at a time, and the usage errors. The progress writer's terminal bar
 * is checked in process, with a stream that says it is a terminal.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createProgress } from '../src/cli/progress.js';
import type { MigrationPlan } from '../src/migration/plan-types.js';
import type { MigrationReport, ReportedUser } from '../src/migration/report-types.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { configText, createEmulator, make, rule, serveSide, sidesOf, type ServedSide } from './fixtures/migration-sides.js';
import { buildCliOnce, cleanEnv, finished, runCli, type CliResult } from './helpers/cli.js';

let bin: string;
const dir = mkdtempSync(join(tmpdir(), 'cli-migrate-'));
const ctx: CallContext = { requestId: 'cli-migrate-test', logger: createLogger({ level: 'silent' }) };

beforeAll(async () => {
  ({ bin } = await buildCliOnce('cli-migrate'));
}, 60_000);

const opened: ServedSide[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

interface Pair {
  onprem: ServedSide;
  togo: ServedSide;
  v1: SftpgoEmulator;
  emu: SftpToGoEmulator;
  /** A config file naming both. */
  config: string;
}

let files = 0;
/** SFTPGo 1.x `onprem` and SFTP To Go `togo`, served, and a config file for them. */
async function pair(): Promise<Pair> {
  const onprem = await serveSide('onprem', createEmulator('sftpgo-1'));
  const togo = await serveSide('togo', createEmulator('sftptogo'));
  opened.push(onprem, togo);
  const config = join(dir, `gateway-${(files += 1)}.json`);
  writeFileSync(config, configText({ onprem: onprem.config, togo: togo.config }));
  return { onprem, togo, v1: onprem.emu as SftpgoEmulator, emu: togo.emu as SftpToGoEmulator, config };
}

const migrate = (p: Pair, args: string[]) => runCli(bin, ['migrate', '--config', p.config, '--from', 'onprem', '--to', 'togo', ...args]);
const writes = (side: ServedSide) => side.emu.requests.filter((r) => r.method !== 'GET');
const credentialOf = (emu: SftpToGoEmulator, name: string) => [...emu.credentials.values()].find((c) => c.UserName === name);
const stateFile = () => join(dir, `state-${(files += 1)}.jsonl`);

/** The rows of a table on stdout, split on runs of two or more spaces, by their first cell. */
function rowsOf(stdout: string, header: RegExp): Map<string, string[]> {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => header.test(l));
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '' || !/ {2}/.test(line)) break;
    const cells = line.split(/ {2,}/);
    rows.set(cells[0]!, cells);
  }
  return rows;
}

const ED25519 = keyOf('ed25519');

describe('--dry-run', () => {
  it('prints the plan as a table and a summary line, or as JSON, and writes nothing', async () => {
    const p = await pair();
    const [source, target] = sidesOf(p.onprem, p.togo);
    await make(source.adapter, [
      { username: 'plain_reader', accessLevel: 'read-only', sshKeys: [ED25519.publicKey], networkRules: [rule('10.0.0.0/8')], password: 'Plain-reader-1' },
      { username: 'list_upload', permissions: ['list', 'download', 'upload'], password: 'List-upload-1' },
      { username: 'already_there', accessLevel: 'read-only', password: 'Already-there-1' },
    ], ctx);
    await make(target.adapter, [{ username: 'already_there', accessLevel: 'full' }], ctx);
    p.onprem.emu.clearRequests();
    p.togo.emu.clearRequests();
    const state = join(dir, 'never-written.jsonl');

    const text = await migrate(p, ['--dry-run', '--state', state]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const header = /^USERNAME\s+ACTION\s+TARGET NAME\s+PASSWORD\s+NARROWED\s+DROPPED\s+WHY$/;
    const rows = rowsOf(text.stdout, header);
    expect(rows.get('plain_reader')).toEqual(['plain_reader', 'create', 'plain_reader', 'generated', '-', '-', '-']);
    expect(rows.get('list_upload')!.slice(0, 2)).toEqual(['list_upload', 'skip']);
    expect(rows.get('list_upload')!.at(-1)).toContain('narrow would give it "read-only"');
    expect(rows.get('already_there')!.slice(0, 2)).toEqual(['already_there', 'differs']);
    expect(rows.get('already_there')!.at(-1)).toMatch(/^differs in .*accessLevel/);
    expect(text.stdout).toMatch(/^plan onprem → togo: 3 users: 1 to create, 1 to skip, 0 exist, 1 differ, 0 conflicts; passwords: 0 carried, 3 generated; 0 narrowed/m);

    const json = await migrate(p, ['--dry-run', '--json', '--narrow', '--only', 'list_upload,nobody']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as MigrationPlan;
    expect(plan).toMatchObject({
      from: { backend: 'onprem', provider: 'sftpgo' }, to: { backend: 'togo', provider: 'sftptogo' },
      policy: { narrow: true, acceptWidening: false }, unknownUsernames: ['nobody'],
      users: [{ username: 'list_upload', action: 'create', narrowed: [{ field: 'permissions', level: 'read-only' }], password: 'generated' }],
    });

    // Nothing written anywhere: the upstreams saw reads only, and no state file was made.
    expect(writes(p.onprem)).toEqual([]);
    expect(writes(p.togo)).toEqual([]);
    expect(existsSync(state)).toBe(false);
  });
});

describe('a run, SFTPGo 1.x → SFTP To Go', () => {
  it('shows each generated password on stdout only; a second run writes nothing; verify agrees until the target changes', async () => {
    const p = await pair();
    p.v1.seedUsers(4, 'seeded');
    const [source] = sidesOf(p.onprem, p.togo);
    await make(source.adapter, [
      { username: 'with_ssh_key', accessLevel: 'read-only', sshKeys: [ED25519.publicKey], networkRules: [rule('10.1.0.0/16')], password: 'With-key-pw-1' },
    ], ctx);
    const state = stateFile();

    // One user first, as JSON (and a name the source does not have).
    const one = await migrate(p, ['--only', 'with_ssh_key,nobody', '--json', '--state', state]);
    expect(one.code, one.stderr).toBe(0);
    const report = JSON.parse(one.stdout) as MigrationReport;
    expect(report.unknownUsernames).toEqual(['nobody']);
    const withKey = credentialOf(p.emu, 'with_ssh_key')!;
    expect(report.users).toEqual([expect.objectContaining({
      username: 'with_ssh_key', outcome: 'created', targetId: withKey.Id, password: 'generated', generatedPassword: withKey.Password,
    }) satisfies Partial<ReportedUser>]);
    expect(withKey.SshKeys.map((k) => k.Fingerprint)).toEqual([ED25519.fingerprint]);
    expect(withKey.InboundRules.map((r) => r.Source)).toEqual(['10.1.0.0/16']);
    expect(one.stderr).toContain('warning: not on onprem: nobody\n');

    // Then the rest, as a table.
    const all = await migrate(p, ['--state', state]);
    expect(all.code, all.stderr).toBe(0);
    const rows = rowsOf(all.stdout, /^USERNAME\s+OUTCOME\s+SOURCE ID\s+TARGET ID\s+PASSWORD\s+NARROWED\s+DROPPED\s+WHY$/);
    const seeded = ['seeded00001', 'seeded00002', 'seeded00003', 'seeded00004'];
    expect([...rows.keys()]).toEqual([...seeded, 'with_ssh_key']);
    expect(rows.get('with_ssh_key')!.slice(0, 5)).toEqual(['with_ssh_key', 'exists', expect.any(String), withKey.Id, '-']);
    const generated = seeded.map((name) => {
      const made = credentialOf(p.emu, name)!;
      const v1User = [...p.v1.users.values()].find((u) => u.username === name)!;
      expect(rows.get(name)!.slice(0, 5)).toEqual([name, 'created', String(v1User.id), made.Id, made.Password]);
      return made.Password;
    });
    expect(all.stdout).toMatch(/^run onprem → togo: 5 users: 4 created, 1 exists, 0 differs, 0 conflict, 0 skipped, 0 failed, 0 pending; 4 generated passwords; complete$/m);
    // Progress: one plain line per user (stderr is a pipe), then the warning about the passwords.
    expect(all.stderr).toMatch(/^\[\d\/5\] seeded00001 created$/m);
    expect(all.stderr.match(/^\[\d\/5\] \S+ (created|exists)$/gm)).toHaveLength(5);
    expect(all.stderr).toMatch(/4 generated passwords are in the report on stdout: they are shown only now and must be stored now/);
    // Audit events (the config has the stdout sink) went to stderr, naming `cli`; stdout holds the report only.
    const events = all.stderr.split('\n').filter((l) => l.startsWith('{"kind":"audit"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.action, e.apiKey, e.backend, e.username]).sort()).toEqual(seeded.map((n) => ['user.migrate', 'cli', 'togo', n]));
    expect(all.stdout).not.toContain('"kind":"audit"');
    // The passwords are nowhere but stdout.
    const stateText = readFileSync(state, 'utf8');
    for (const password of [...generated, withKey.Password]) {
      expect(all.stderr).not.toContain(password);
      expect(one.stderr).not.toContain(password);
      expect(stateText).not.toContain(password);
    }
    expect(stateText.split('\n')[0]).toMatch(/^\{"migration":"onprem~[0-9a-f]+>togo~[0-9a-f]+"\}$/);

    // A second run: everything exists, nothing written, no password shown.
    p.togo.emu.clearRequests();
    const again = await migrate(p, ['--state', state]);
    expect(again.code).toBe(0);
    expect([...rowsOf(again.stdout, /^USERNAME\s+OUTCOME/).values()].map((r) => [r[0], r[1], r[4]])).toEqual(
      [...seeded, 'with_ssh_key'].map((n) => [n, 'exists', '-']),
    );
    expect(writes(p.togo)).toEqual([]);
    expect(again.stderr).not.toMatch(/generated password/);

    const verified = await migrate(p, ['--verify']);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/^verify onprem → togo: 5 users: 5 same, 0 differ, 0 missing, 0 conflicts; ok$/m);

    // Changed behind the run's back: verify says where, and exits 1.
    credentialOf(p.emu, 'seeded00002')!.Permission = 'read-only';
    const changed = await migrate(p, ['--verify']);
    expect(changed.code).toBe(1);
    expect(rowsOf(changed.stdout, /^USERNAME\s+RESULT/).get('seeded00002')!.slice(0, 2)).toEqual(['seeded00002', 'differs']);
    expect(rowsOf(changed.stdout, /^USERNAME\s+FIELD\s+SOURCE\s+TARGET$/).get('seeded00002')).toEqual(['seeded00002', 'accessLevel', 'full', 'read-only']);
    expect(changed.stdout).toMatch(/1 differ, 0 missing, 0 conflicts; not ok$/m);
    const json = await migrate(p, ['--verify', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, summary: { same: 4, differs: 1, missing: 0, conflict: 0 } });
  }, 30_000);
});

describe('one run at a time', () => {
  it('a second command while one runs exits 1 saying so; the state file is in the current directory by default', async () => {
    const p = await pair();
    p.v1.seedUsers(3, 'lockheld');
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const args = ['migrate', '--config', p.config, '--from', 'onprem', '--to', 'togo'];
    const start = () => spawn(process.execPath, [bin, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    // The first holds its lock while the source's list answers late.
    p.onprem.emu.setFaults({ delayMs: 2_000, match: { method: 'GET', pathPrefix: '/user' }, times: 1 });
    const first = finished(start());
    const lock = join(cwd, 'sftp-gateway-migration.onprem.togo.jsonl.lock');
    for (let waited = 0; !existsSync(lock); waited += 20) {
      if (waited > 10_000) throw new Error('the first run never took its lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    const second: CliResult = await finished(start());
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^error: a migration from "onprem" to "togo" is running: wait for it to finish, then run again \(process \d+, lock file .*\.lock\)$/m);
    expect(second.stdout).toBe('');
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/3 created/);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(join(cwd, 'sftp-gateway-migration.onprem.togo.jsonl'))).toBe(true);
  }, 20_000);
});

describe('usage', () => {
  it('exits 2 on a backend not in the config, the same backend twice and conflicting flags; 1 on a bad config', async () => {
    const p = await pair();
    const unknown = await runCli(bin, ['migrate', '--config', p.config, '--from', 'onprem', '--to', 'nowhere']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe('error: --to: no backend "nowhere" in the config (configured: onprem, togo)\n');
    const same = await runCli(bin, ['migrate', '--config', p.config, '--from', 'togo', '--to', 'togo']);
    expect(same).toMatchObject({ code: 2, stderr: 'error: --from and --to name the same backend "togo": a migration needs two\n' });
    const both = await migrate(p, ['--dry-run', '--verify']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with option '--verify'/);
    expect((await migrate(p, ['--concurrency', '17'])).code).toBe(2);
    expect((await runCli(bin, ['migrate', '--from', 'onprem', '--to', 'togo'])).stderr).toMatch(/no config file/);
    expect((await runCli(bin, ['migrate', '--config', p.config, '--from', 'onprem'])).code).toBe(2);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"backends": {}}');
    const bad = await runCli(bin, ['migrate', '--config', broken, '--from', 'onprem', '--to', 'togo']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^config error: /);
    expect(writes(p.togo)).toEqual([]);
  }, 20_000);
});

describe('progress on a terminal', () => {
  const user = (username: string, outcome: ReportedUser['outcome']): ReportedUser =>
    ({ username, sourceId: '1', targetUsername: username, outcome, dropped: [], narrowed: [] });

  it('redraws one bar in place; other lines clear it and it comes back under them', () => {
    let written = '';
    const progress = createProgress({ isTTY: true, columns: 120, write: (t: string) => (written += t) });
    progress.user(1, 4, user('alice', 'created'));
    progress.user(2, 4, user('bob', 'failed'));
    progress.line('{"level":"warn"}\n');
    progress.user(3, 4, user('carol', 'pending'));
    progress.end();
    expect(written).toBe(
      '[######------------------] 1/4  created 1' +
      '\r\x1b[K[############------------] 2/4  created 1  failed 1' +
      '\r\x1b[K{"level":"warn"}\n[############------------] 2/4  created 1  failed 1' +
      '\r\x1b[K[##################------] 3/4  created 1  failed 1\n',
    );
  });

  it('elsewhere prints a line per user (why one failed), but not the pending users of a stopped run', () => {
    let written = '';
    const progress = createProgress({ write: (t: string) => (written += t) });
    progress.user(1, 3, user('alice', 'created'));
    progress.user(2, 3, { ...user('bob\u001b[2J', 'failed'), why: '502 upstream_error: down' });
    progress.user(3, 3, user('carol', 'pending'));
    progress.end();
    expect(written).toBe('[1/3] alice created\n[2/3] bob\\u001b[2J failed: 502 upstream_error: down\n');
  });
});
