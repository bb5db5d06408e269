/**
 * Migration runs between the real adapters and the real emulators over loopback, in every
 * direction the providers allow: what the target holds afterwards, the report, a second run
 * that writes nothing, verify, the policy (narrow, accept widening), transient failures retried,
 * and a run stopped anywhere finished by the next one.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import type { SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createMemoryStore } from '../src/cache/store.js';
import { markReported, runMigration, type MigrationReport, type ReportedUser, type RunOptions } from '../src/migration/run.js';
import { cacheStoreState, type MigrationState } from '../src/migration/state.js';
import { verifyMigration } from '../src/migration/verify.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext } from '../src/provider-kit/adapter.js';
import type { AuditEvent, AuditSink } from '../src/security/audit.js';
import { keyOf } from './fixtures/ssh-keys.js';
import {
  emulatorSides, make, rule, sidesOf, storedPasswords, storedUsernames, type ServedSide,
} from './fixtures/migration-sides.js';

const ED25519 = keyOf('ed25519');
const RSA = keyOf('rsa');

const logLines: string[] = [];
const ctx: CallContext = {
  requestId: 'req-migration-run',
  logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
};

const { side, closeAll } = emulatorSides();
afterAll(closeAll);

const audited: AuditEvent[] = [];
const sink: AuditSink = { emit: (e) => void audited.push(e), close: async () => true };

/** A run with fresh adapters, fast retries and the given state (a new one by default). */
async function run(
  from: ServedSide, to: ServedSide, options: RunOptions = {}, state: MigrationState = newState(),
): Promise<MigrationReport> {
  const [source, target] = sidesOf(from, to);
  const report = await runMigration(source, target, { backoffMs: 10, ...options }, { ctx, state, audit: { sink, apiKey: 'ops' } });
  await markReported(report, state); // as the route and the command line do once the report is handed over
  return report;
}
const newState = () => cacheStoreState(createMemoryStore(), 'test:', { from: 'from', to: 'to', identity: 'from>to' });

const userOf = (report: MigrationReport, username: string): ReportedUser => {
  const found = report.users.find((u) => u.username === username);
  if (!found) throw new Error(`no ${username} in the report`);
  return found;
};
const writes = (side: ServedSide) => side.emu.requests.filter((r) => r.method !== 'GET');

beforeEach(() => {
  audited.length = 0;
});

describe('SFTP To Go → SFTPGo 1.x: passwords carried, keys and rules with them', () => {
  it('creates each user whole, reports old and new ids, and a second run writes nothing', async () => {
    const togo = await side('togo', 'sftptogo');
    const v1 = await side('onprem', 'sftpgo-1');
    const [source] = sidesOf(togo, v1);
    await make(source.adapter, [
      {
        username: 'acme_uploads', accessLevel: 'read-write', displayName: 'Acme uploads', sshKeys: [ED25519.publicKey],
        networkRules: [rule('203.0.113.0/24'), rule('198.51.100.0/24', { protocol: 'sftp', description: 'office' })],
      },
      { username: 'acme_reports', accessLevel: 'read-only', sshKeys: [RSA.publicKey] },
      { username: 'office_only', accessLevel: 'read-only', networkRules: [rule('198.51.100.0/24', { protocol: 'sftp' })] },
    ], ctx);
    togo.emu.clearRequests();

    const report = await run(togo, v1);
    const emu = togo.emu as SftpToGoEmulator;
    const target = v1.emu as SftpgoEmulator;
    const made = (name: string) => [...target.users.values()].find((u) => u.username === name)!;
    const credential = (name: string) => [...emu.credentials.values()].find((c) => c.UserName === name)!;

    expect(userOf(report, 'acme_uploads')).toEqual({
      username: 'acme_uploads', sourceId: credential('acme_uploads').Id, targetUsername: 'acme_uploads', outcome: 'created',
      targetId: String(made('acme_uploads').id), password: 'carried', attempts: 1,
      dropped: [
        { field: 'displayName', why: 'SFTPGo 1.2.2 has no display name' },
        {
          field: 'networkRules', cidr: '198.51.100.0/24',
          why: 'SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold its protocol (sftp), its description',
        },
      ],
      narrowed: [],
    });
    // The target holds the source's password, its key and the rule it can hold.
    expect(made('acme_uploads').password).toBe(credential('acme_uploads').Password);
    expect(made('acme_uploads').public_keys).toEqual([ED25519.publicKey]);
    expect(made('acme_uploads').filters?.allowed_ip).toEqual(['203.0.113.0/24']);
    expect(made('acme_reports').permissions).toEqual({ '/': ['list', 'download'] });
    expect(userOf(report, 'acme_reports')).toMatchObject({ outcome: 'created', password: 'carried' });
    // No password in the report: both were carried, none generated.
    expect(report.summary.generatedPasswords).toBe(0);
    for (const p of storedPasswords(togo.emu)) expect(JSON.stringify(report)).not.toContain(p);
    // Its only rule is for one protocol: SFTPGo cannot hold it, and without it would let the user in from anywhere.
    expect(userOf(report, 'office_only')).toMatchObject({ outcome: 'skipped', why: expect.stringContaining('could connect from any address') });
    // The root credential's rule (SFTP To Go's default) allows every address: losing it widens nothing.
    const root = userOf(report, emu.rootId);
    expect(root.outcome).toBe('created');
    expect(root.dropped.filter((d) => d.field === 'networkRules')).toEqual([{ field: 'networkRules', cidr: '0.0.0.0/0', why: expect.any(String) }]);
    expect(report.complete).toBe(true);
    // One audit event per created user, naming the run's key, the target and the new id.
    expect(audited.map((e) => [e.action, e.backend, e.apiKey, e.username, e.userId, e.status]).sort()).toEqual([
      ['user.migrate', 'onprem', 'ops', emu.rootId, String(made(emu.rootId).id), 201],
      ['user.migrate', 'onprem', 'ops', 'acme_reports', String(made('acme_reports').id), 201],
      ['user.migrate', 'onprem', 'ops', 'acme_uploads', String(made('acme_uploads').id), 201],
    ].sort());
    expect(audited[0]!.fields).toEqual([...audited[0]!.fields].sort());
    // Field names only: `password` says it was carried, never what it is.
    expect(audited.find((e) => e.username === 'acme_uploads')!.fields).toEqual(
      ['accessLevel', 'networkRules', 'password', 'sshKeys', 'status', 'username'],
    );
    for (const p of storedPasswords(togo.emu)) expect(JSON.stringify(audited)).not.toContain(p);
    // The source is only read.
    expect(new Set(togo.emu.requests.map((r) => r.method))).toEqual(new Set(['GET']));

    v1.emu.clearRequests();
    const again = await run(togo, v1);
    expect(again.users.map((u) => [u.username, u.outcome])).toEqual([
      [emu.rootId, 'exists'], ['acme_reports', 'exists'], ['acme_uploads', 'exists'], ['office_only', 'skipped'],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    expect(writes(v1)).toEqual([]);
    const verified = await verifyMigration(...sidesOf(togo, v1), {}, ctx);
    expect(verified.summary).toEqual({ same: 3, differs: 0, missing: 1, conflict: 0 });
    expect(verified.ok).toBe(false); // the skipped user is not there

    // Accepting the wider access migrates it too; then verify is clean.
    const widened = await run(togo, v1, { acceptWidening: true });
    expect(userOf(widened, 'office_only')).toMatchObject({ outcome: 'created', password: 'carried' });
    expect(made('office_only').filters?.allowed_ip ?? []).toEqual([]);
    const clean = await verifyMigration(...sidesOf(togo, v1), { acceptWidening: true }, ctx);
    expect(clean).toMatchObject({ ok: true, summary: { same: 4, differs: 0, missing: 0, conflict: 0 } });
  });
});

describe('SFTPGo 1.x → SFTP To Go: generated passwords, narrowing', () => {
  it('skips what it cannot carry unless asked to narrow; never broader; generated passwords shown once', async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const togo = await side('togo', 'sftptogo');
    const [source] = sidesOf(v1, togo);
    await make(source.adapter, [
      { username: 'plain_reader', accessLevel: 'read-only', sshKeys: [ED25519.publicKey], networkRules: [rule('10.0.0.0/8')], password: 'Plain-reader-1' },
      { username: 'list_upload', permissions: ['list', 'download', 'upload'], password: 'List-upload-1' },
      { username: 'expiring_one', accessLevel: 'read-only', expiresAt: '2030-01-01T00:00:00.000Z', password: 'Expiring-one-1' },
    ], ctx);

    const first = await run(v1, togo);
    expect(userOf(first, 'list_upload')).toMatchObject({
      outcome: 'skipped', why: expect.stringContaining('narrow would give it "read-only"'),
    });
    expect(userOf(first, 'expiring_one')).toMatchObject({ outcome: 'skipped', why: 'SFTP To Go users do not expire' });
    const reader = userOf(first, 'plain_reader');
    expect(reader).toMatchObject({ outcome: 'created', password: 'generated', generatedPassword: expect.any(String) });
    const emu = togo.emu as SftpToGoEmulator;
    const stored = [...emu.credentials.values()].find((c) => c.UserName === 'plain_reader')!;
    // The password shown is the one the target holds, and the one thing in the report.
    expect(reader.generatedPassword).toBe(stored.Password);
    expect(reader.targetId).toBe(stored.Id);
    expect(stored.SshKeys.map((k) => k.Fingerprint)).toEqual([ED25519.fingerprint]);
    expect(stored.InboundRules.map((r) => r.Source)).toEqual(['10.0.0.0/8']);
    // A folder of its own in the shared storage, jailed there, as SFTPGo jailed it in its home.
    expect([stored.HomeDirectory, stored.ChrootDirectory]).toEqual(['/plain_reader', '/plain_reader']);
    expect(logLines.join('\n')).not.toContain(stored.Password);

    const narrowed = await run(v1, togo, { narrow: true });
    expect(userOf(narrowed, 'list_upload')).toMatchObject({
      outcome: 'created', narrowed: [{ field: 'permissions', level: 'read-only' }],
    });
    const narrowedCredential = [...emu.credentials.values()].find((c) => c.UserName === 'list_upload')!;
    expect(narrowedCredential.Permission).toBe('read-only');
    expect(userOf(narrowed, 'plain_reader').outcome).toBe('exists');
    expect(userOf(narrowed, 'plain_reader').generatedPassword).toBeUndefined();
    // Narrowed users compare as the run made them: verify agrees, but for the one still skipped.
    const verified = await verifyMigration(...sidesOf(v1, togo), { narrow: true }, ctx);
    expect(verified.users.map((u) => [u.username, u.result])).toEqual([
      ['expiring_one', 'missing'], ['list_upload', 'same'], ['plain_reader', 'same'],
    ]);
  });
});

describe('SFTPGo 1.x → SFTPGo 2.x, and SFTP To Go → SFTPGo 2.x', () => {
  it('carries directories, home, expiry, limits and keys between SFTPGo versions; verify finds them the same', async () => {
    const v1 = await side('old', 'sftpgo-1');
    const v2 = await side('new', 'sftpgo-2');
    const [source] = sidesOf(v1, v2);
    await make(source.adapter, [{
      username: 'dirs_and_limits', accessLevel: 'read-only', directoryPermissions: { '/incoming': ['list', 'upload'] },
      homeDirectory: '/srv/sftpgo/data/dirs', expiresAt: '2031-05-01T00:00:00.000Z', limits: { maxSessions: 2, quotaFiles: 100 },
      sshKeys: [RSA.publicKey], networkRules: [rule('192.0.2.0/24')], password: 'Dirs-and-limits-1',
    }], ctx);
    const report = await run(v1, v2);
    expect(userOf(report, 'dirs_and_limits')).toMatchObject({ outcome: 'created', password: 'generated', dropped: [], narrowed: [] });
    const made = (v2.emu as SftpgoV2Emulator).users.get('dirs_and_limits')!;
    expect(made).toMatchObject({
      home_dir: '/srv/sftpgo/data/dirs', max_sessions: 2, quota_files: 100, public_keys: [RSA.publicKey],
      permissions: { '/': ['list', 'download'], '/incoming': ['list', 'upload'] },
    });
    expect((await verifyMigration(...sidesOf(v1, v2), {}, ctx)).ok).toBe(true);
  });

  it('SFTP To Go → 2.x: created with the source password', async () => {
    const togo = await side('togo', 'sftptogo');
    const v2 = await side('new', 'sftpgo-2');
    const [source] = sidesOf(togo, v2);
    await make(source.adapter, [{ username: 'togo_user_1', accessLevel: 'full', networkRules: [rule('203.0.113.7/32')] }], ctx);
    const report = await run(togo, v2, { usernames: ['togo_user_1', 'nobody_here'] });
    expect(report.unknownUsernames).toEqual(['nobody_here']);
    expect(report.users.map((u) => [u.username, u.outcome, u.password])).toEqual([['togo_user_1', 'created', 'carried']]);
    const made = (v2.emu as SftpgoV2Emulator).users.get('togo_user_1')!;
    const credential = [...(togo.emu as SftpToGoEmulator).credentials.values()].find((c) => c.UserName === 'togo_user_1')!;
    expect(made.password).toBe(credential.Password);
    expect((made.filters as { allowed_ip?: string[] }).allowed_ip).toEqual(['203.0.113.7/32']);
  });
});

describe('failures: retried when transient, never half-made, never someone else deleted', () => {
  it('a 5xx and a timeout on the create are retried; each user exists once', async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const togo = await side('togo', 'sftptogo', { timeoutMs: 300 });
    const [source] = sidesOf(v1, togo);
    await make(source.adapter, [
      { username: 'retry_user_1', accessLevel: 'read-only', sshKeys: [ED25519.publicKey], password: 'Retry-user-1-pw' },
    ], ctx);
    // The credential is made, its key POST fails: the adapter deletes it; then a create times out.
    togo.emu.setFaults({ status: 500, match: { method: 'POST', pathPrefix: '/users/' }, times: 1 });
    const report = await run(v1, togo, { concurrency: 1 });
    expect(userOf(report, 'retry_user_1')).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(storedUsernames(togo.emu).filter((n) => n === 'retry_user_1')).toHaveLength(1);

    await make(source.adapter, [{ username: 'retry_user_2', accessLevel: 'read-only', password: 'Retry-user-2-pw' }], ctx);
    togo.emu.setFaults({ delayMs: 1_000, match: { method: 'POST', pathPrefix: '/users' }, times: 1 });
    const timed = await run(v1, togo, { concurrency: 1 });
    expect(userOf(timed, 'retry_user_2')).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(storedUsernames(togo.emu).filter((n) => n === 'retry_user_2')).toHaveLength(1);
  });

  it('retries exhausted: the user fails, nothing of it stays, and the next run makes it', async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const v2 = await side('new', 'sftpgo-2');
    const [source] = sidesOf(v1, v2);
    await make(source.adapter, [{ username: 'always_fails', accessLevel: 'read-only', password: 'Always-fails-1' }], ctx);
    v2.emu.setFaults({ status: 503, match: { method: 'POST', pathPrefix: '/users' } });
    const state = newState();
    const failed = await run(v1, v2, { attempts: 3 }, state);
    expect(userOf(failed, 'always_fails')).toMatchObject({ outcome: 'failed', attempts: 3, why: '502 upstream_error: SFTPGo answered 503: emulated fault: HTTP 503' });
    expect(failed.complete).toBe(false);
    expect(storedUsernames(v2.emu)).not.toContain('always_fails');
    v2.emu.setFaults(null);
    const next = await run(v1, v2, {}, state);
    expect(userOf(next, 'always_fails').outcome).toBe('created');
  });

  it("a name taken on the target after the plan is a failure, and the other user is left alone", async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const v2 = await side('new', 'sftpgo-2');
    const [source, target] = sidesOf(v1, v2);
    await make(source.adapter, [{ username: 'taken_later', accessLevel: 'read-only', password: 'Taken-later-1' }], ctx);
    // Someone else's create lands between the plan's read and the run's create.
    const original = target.adapter.createUser.bind(target.adapter);
    target.adapter.createUser = async (input, c) => {
      await original({ username: input.username, accessLevel: 'full', password: 'Someone-else-1' }, c);
      return original(input, c);
    };
    const report = await runMigration(source, target, { backoffMs: 10 }, { ctx, state: newState() });
    expect(userOf(report, 'taken_later')).toMatchObject({ outcome: 'failed', attempts: 4, why: expect.stringMatching(/^409 conflict/) });
    expect((v2.emu as SftpgoV2Emulator).users.get('taken_later')?.permissions).toEqual({ '/': ['*'] });
  });
});

describe('stopped runs are finished by the next one', () => {
  it('a user a killed run was creating is deleted and made anew; a password it never reported is replaced', async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const togo = await side('togo', 'sftptogo');
    const [source, target] = sidesOf(v1, togo);
    await make(source.adapter, [
      { username: 'half_made_1', accessLevel: 'read-only', sshKeys: [ED25519.publicKey, RSA.publicKey], password: 'Half-made-1-pw' },
      { username: 'unreported_1', accessLevel: 'read-only', password: 'Unreported-1-pw' },
    ], ctx);
    const state = newState();
    // As a killed run leaves them: one credential made without its keys, recorded `creating`;
    // one made whole, recorded `done` with a generated password never reported.
    const half = await target.adapter.createUser({ username: 'half_made_1', accessLevel: 'read-only' }, ctx);
    await state.put('half_made_1', { step: 'creating', sourceId: '1', at: new Date().toISOString() });
    const whole = await target.adapter.createUser({ username: 'unreported_1', accessLevel: 'read-only' }, ctx);
    await state.put('unreported_1', { step: 'done', sourceId: '2', targetId: whole.user.id, password: 'generated', reported: false, at: new Date().toISOString() });

    // This run's report is lost (never marked handed over).
    const report = await runMigration(source, target, {}, { ctx, state });
    const emu = togo.emu as SftpToGoEmulator;
    const byName = (n: string) => [...emu.credentials.values()].filter((c) => c.UserName === n);
    expect(userOf(report, 'half_made_1')).toMatchObject({ outcome: 'created' });
    expect(byName('half_made_1')).toHaveLength(1);
    expect(byName('half_made_1')[0]!.Id).not.toBe(half.user.id);
    expect(byName('half_made_1')[0]!.SshKeys).toHaveLength(2);
    const unreported = userOf(report, 'unreported_1');
    expect(unreported).toMatchObject({ outcome: 'created', targetId: whole.user.id, generatedPassword: byName('unreported_1')[0]!.Password });
    expect(unreported.generatedPassword).not.toBe(whole.generatedPassword);
    // That report was never handed over: the next run replaces both generated passwords again.
    const next = await run(v1, togo, {}, state);
    for (const name of ['half_made_1', 'unreported_1']) {
      const replaced = userOf(next, name).generatedPassword;
      expect(replaced).toBe(byName(name)[0]!.Password);
      expect(replaced).not.toBe(userOf(report, name).generatedPassword);
    }
    // Handed over this time: a further run shows no password again.
    const third = await run(v1, togo, {}, state);
    expect(third.users.map((u) => [u.username, u.outcome, u.generatedPassword])).toEqual([
      ['half_made_1', 'exists', undefined], ['unreported_1', 'exists', undefined],
    ]);
  });

  it('a stop signal leaves the rest pending; one run at a time per pair of backends', async () => {
    const v1 = await side('onprem', 'sftpgo-1');
    const v2 = await side('new', 'sftpgo-2');
    (v1.emu as SftpgoEmulator).seedUsers(12, 'stopped');
    const stop = new AbortController();
    const state = newState();
    const [source, target] = sidesOf(v1, v2);
    const running = runMigration(source, target, { concurrency: 2, signal: stop.signal }, {
      ctx, state, progress: (done) => void (done === 3 && stop.abort()),
    });
    await expect(run(v1, v2, {}, state)).rejects.toMatchObject({ status: 409 });
    const report = await running;
    await markReported(report, state);
    expect(report.complete).toBe(false);
    expect(report.summary.outcomes.created).toBeGreaterThanOrEqual(3);
    expect(report.summary.outcomes.created).toBeLessThanOrEqual(4);
    expect(report.summary.outcomes.pending).toBe(12 - report.summary.outcomes.created);
    const rest = await run(v1, v2, {}, state);
    expect(rest.summary.outcomes).toMatchObject({ created: report.summary.outcomes.pending, exists: report.summary.outcomes.created });
    expect(storedUsernames(v2.emu)).toHaveLength(12);
  });
});
