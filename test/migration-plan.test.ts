/**
 * Migration plans between real adapters and the real emulators, served over loopback: SFTP To Go
 * → SFTPGo 1.x, 2.x and 0.9.x, SFTPGo 1.x → SFTP To Go, SFTPGo 1.x → 2.x. Users are made through
 * the adapters first; then the plan is made by fresh adapters, and the emulators' request logs
 * show that it only read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpgoV2Emulator, type SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import type { UserCreate } from '../src/domain/model.js';
import { planMigration, type MigrationPlan, type PlannedUser } from '../src/migration/plan.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext, ProviderAdapter } from '../src/provider-kit/adapter.js';
import type { RecordedRequest } from '../src/provider-kit/emulator-kit.js';
import {
  adaptersFor, make as makeUsers, rule, serveSide, storedPasswords, type Emulator, type ServedSide,
} from './fixtures/migration-sides.js';
import { keyOf } from './fixtures/ssh-keys.js';

const ED25519 = keyOf('ed25519');
const RSA = keyOf('rsa');

const logLines: string[] = [];
const ctx: CallContext = {
  requestId: 'req-migration-plan',
  logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
};

const servers: ServedSide[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Serves an emulator on 127.0.0.1 and answers the backend config that reaches it. */
async function serve(emu: Emulator): Promise<Record<string, unknown>> {
  const served = await serveSide('any', emu);
  servers.push(served);
  return served.config;
}

const make = (adapter: ProviderAdapter, users: UserCreate[]) => makeUsers(adapter, users, ctx);

/** Plans `from` → `to` with fresh adapters, after clearing both request logs. */
async function planBetween(
  from: { name: string; config: Record<string, unknown>; emu: Emulator },
  to: { name: string; config: Record<string, unknown>; emu: Emulator },
  usernames?: string[],
): Promise<MigrationPlan> {
  from.emu.clearRequests();
  to.emu.clearRequests();
  const adapters = adaptersFor({ [from.name]: from.config, [to.name]: to.config });
  return planMigration(
    { name: from.name, adapter: adapters.get(from.name)! },
    { name: to.name, adapter: adapters.get(to.name)! },
    usernames === undefined ? {} : { usernames },
    ctx,
  );
}

const userOf = (plan: MigrationPlan, username: string): PlannedUser => {
  const found = plan.users.find((u) => u.username === username);
  if (!found) throw new Error(`no ${username} in the plan`);
  return found;
};
const methods = (requests: RecordedRequest[]) => [...new Set(requests.map((r) => r.method))];

describe('SFTP To Go → SFTPGo 1.x', () => {
  let togo: SftpToGoEmulator;
  let v1: SftpgoEmulator;
  let plan: MigrationPlan;

  beforeAll(async () => {
    togo = createSftpToGoEmulator();
    v1 = createSftpgoEmulator();
    const [togoConfig, v1Config] = await Promise.all([serve(togo), serve(v1)]);
    const seed = adaptersFor({ togo: togoConfig, onprem: v1Config });
    await make(seed.get('togo')!, [
      {
        username: 'acme_uploads', accessLevel: 'read-write', displayName: 'Acme uploads', sshKeys: [ED25519.publicKey],
        networkRules: [rule('203.0.113.0/24'), rule('198.51.100.0/24', { protocol: 'sftp', description: 'office' })],
      },
      { username: 'same_user_01', accessLevel: 'read-only', sshKeys: [RSA.publicKey], networkRules: [rule('10.0.0.0/8')] },
      { username: 'differs_user', accessLevel: 'read-write', sshKeys: [ED25519.publicKey], networkRules: [rule('10.0.0.0/8')] },
    ]);
    await make(seed.get('onprem')!, [
      { username: 'same_user_01', accessLevel: 'read-only', sshKeys: [RSA.publicKey], networkRules: [rule('10.0.0.0/8')], password: 'Same-user-pass-1' },
      {
        username: 'differs_user', accessLevel: 'read-only', status: 'disabled', sshKeys: [RSA.publicKey],
        networkRules: [rule('192.0.2.0/24')], homeDirectory: '/srv/elsewhere', password: 'Differs-pass-1',
      },
    ]);
    plan = await planBetween({ name: 'togo', config: togoConfig, emu: togo }, { name: 'onprem', config: v1Config, emu: v1 });
  });

  it('plans every source user, sorted by username, the root credential among them', () => {
    expect(plan.from).toEqual({ backend: 'togo', provider: 'sftptogo', apiVersion: null, serverVersion: null });
    expect(plan.to).toEqual({ backend: 'onprem', provider: 'sftpgo', apiVersion: 'v1', serverVersion: '1.2.2' });
    expect(plan.users.map((u) => u.username)).toEqual(['acme_uploads', 'differs_user', 'same_user_01', togo.rootId].sort());
    expect(plan.users.map((u) => u.sourceId)).toEqual(plan.users.map((u) => [...togo.credentials.values()].find((c) => c.UserName === u.username)!.Id));
  });

  it('create: what 1.x cannot hold is dropped — the display name, and a rule for one protocol with a description', () => {
    expect(userOf(plan, 'acme_uploads')).toEqual({
      username: 'acme_uploads', sourceId: expect.any(String), targetUsername: 'acme_uploads', action: 'create',
      dropped: [
        { field: 'displayName', why: 'SFTPGo 1.2.2 has no display name' },
        {
          field: 'networkRules', cidr: '198.51.100.0/24',
          why: 'SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold its protocol (sftp), its description',
        },
      ],
      narrowed: [],
      password: 'carried',
    });
  });

  it('exists/same: level, status, keys by fingerprint and rules by CIDR agree (homes are not compared across providers)', () => {
    expect(userOf(plan, 'same_user_01')).toMatchObject({ action: 'exists', comparison: 'same', differences: [], dropped: [], password: 'carried' });
    expect(userOf(plan, 'same_user_01').targetId).toBe(String([...v1.users.values()].find((u) => u.username === 'same_user_01')!.id));
  });

  it('exists/differs: each differing field with both values', () => {
    expect(userOf(plan, 'differs_user')).toMatchObject({
      action: 'exists',
      comparison: 'differs',
      differences: [
        { field: 'accessLevel', source: 'read-write', target: 'read-only' },
        { field: 'status', source: 'active', target: 'disabled' },
        { field: 'sshKeys', source: [ED25519.fingerprint], target: [RSA.fingerprint] },
        { field: 'networkRules', source: ['10.0.0.0/8'], target: ['192.0.2.0/24'] },
      ],
    });
  });

  it('counts actions, comparisons, dropped fields and passwords', () => {
    expect(plan.summary).toEqual({
      users: 4,
      actions: { create: 2, exists: 2, conflict: 0 },
      comparisons: { same: 1, differs: 1 },
      // The root credential has an alias, and SFTP To Go's default rule: one protocol, with a description.
      dropped: { displayName: 2, networkRules: 2 },
      password: { carried: 4, generated: 0 },
      narrowed: 0,
      blocked: 0,
      unknownUsernames: 0,
    });
    expect(plan.unknownUsernames).toEqual([]);
  });

  it('only reads: both request logs hold GETs only', () => {
    expect(togo.requests.length).toBeGreaterThan(0);
    expect(methods(togo.requests)).toEqual(['GET']);
    expect(methods(v1.requests)).toEqual(['GET']);
  });

  it('holds no password, nor does the log, though each one was read to know it can be carried', () => {
    const text = JSON.stringify(plan);
    const passwords = [...storedPasswords(togo), ...storedPasswords(v1)];
    expect(passwords.length).toBeGreaterThanOrEqual(6);
    for (const p of passwords) {
      expect(text).not.toContain(p);
      expect(logLines.join('\n')).not.toContain(p);
    }
    expect(JSON.parse(text)).toEqual(plan); // plain data
  });
});

describe('SFTP To Go → SFTPGo 2.x that lowercases usernames', () => {
  let togo: SftpToGoEmulator;
  let v2: SftpgoV2Emulator;
  let plan: MigrationPlan;

  beforeAll(async () => {
    togo = createSftpToGoEmulator();
    v2 = createSftpgoV2Emulator({ namingRules: 2 });
    const [togoConfig, v2Config] = await Promise.all([serve(togo), serve(v2)]);
    const seed = adaptersFor({ togo: togoConfig, onprem: v2Config });
    await make(seed.get('togo')!, [
      { username: 'Fold_Me_User', accessLevel: 'read-only', networkRules: [] },
      { username: 'fold_me_user', accessLevel: 'read-only', networkRules: [] },
      { username: 'Mixed_Case_01', accessLevel: 'full', displayName: 'Mixed', networkRules: [] },
    ]);
    await make(seed.get('onprem')!, [
      { username: 'Mixed_Case_01', accessLevel: 'full', displayName: 'Other', password: 'Mixed-pass-0001' },
    ]);
    plan = await planBetween({ name: 'togo', config: togoConfig, emu: togo }, { name: 'onprem', config: v2Config, emu: v2 }, [
      'Fold_Me_User', 'fold_me_user', 'Mixed_Case_01',
    ]);
  });

  it('conflict: two source users that would be one lower-cased name', () => {
    expect(userOf(plan, 'Fold_Me_User')).toMatchObject({
      action: 'conflict', targetUsername: 'fold_me_user',
      why: '"fold_me_user" would be "fold_me_user" on SFTPGo 2.7.5 too (it may store usernames in lower case)',
    });
    expect(userOf(plan, 'fold_me_user')).toMatchObject({
      action: 'conflict', why: '"Fold_Me_User" would be "fold_me_user" on SFTPGo 2.7.5 too (it may store usernames in lower case)',
    });
  });

  it('exists: found under the name as the target stored it, its display name compared', () => {
    expect(userOf(plan, 'Mixed_Case_01')).toMatchObject({
      targetUsername: 'mixed_case_01', targetId: 'mixed_case_01', action: 'exists', comparison: 'differs',
      differences: [{ field: 'displayName', source: 'Mixed', target: 'Other' }],
      dropped: [],
      password: 'carried',
    });
  });

  it('only reads, and holds no password', () => {
    expect(methods(togo.requests)).toEqual(['GET']);
    expect(methods(v2.requests)).toEqual(['GET']);
    const text = JSON.stringify(plan);
    for (const p of [...storedPasswords(togo), ...storedPasswords(v2)]) expect(text).not.toContain(p);
  });
});

describe('SFTP To Go reveals passwords', () => {
  it("revealPassword answers the credential's password, or null for one without", async () => {
    const togo = createSftpToGoEmulator();
    const adapter = adaptersFor({ togo: await serve(togo) }).get('togo')!;
    const { user, generatedPassword } = await adapter.createUser({ username: 'reveal_me_01', accessLevel: 'read-only' }, ctx);
    expect(await adapter.revealPassword!(user.id, ctx)).toBe(generatedPassword);
    togo.credentials.get(user.id)!.Password = '';
    expect(await adapter.revealPassword!(user.id, ctx)).toBeNull();
  });
});

describe('SFTP To Go → SFTPGo 0.9.x', () => {
  it('drops every network rule (0.9.x has none) and the level "none" (SFTPGo needs one permission)', async () => {
    const togo = createSftpToGoEmulator();
    const old = createSftpgoEmulator({ version: '0.9.4' });
    const [togoConfig, oldConfig] = await Promise.all([serve(togo), serve(old)]);
    await make(adaptersFor({ togo: togoConfig }).get('togo')!, [
      { username: 'no_access_01', accessLevel: 'none', networkRules: [rule('203.0.113.7/32')] },
      { username: 'no_password_1', accessLevel: 'read-only', networkRules: [] },
    ]);
    [...togo.credentials.values()].find((c) => c.UserName === 'no_password_1')!.Password = '';
    const plan = await planBetween({ name: 'togo', config: togoConfig, emu: togo }, { name: 'old', config: oldConfig, emu: old }, [
      'no_access_01', 'no_password_1',
    ]);
    // Nothing to carry: the target makes one.
    expect(userOf(plan, 'no_password_1')).toMatchObject({ action: 'create', dropped: [], password: 'generated' });
    expect(plan.to).toMatchObject({ apiVersion: 'v1', serverVersion: '0.9.4' });
    expect(userOf(plan, 'no_access_01')).toMatchObject({
      action: 'create',
      dropped: [
        { field: 'accessLevel', why: 'SFTPGo 0.9.4 cannot store the level "none" at a user\'s root', narrower: [], broader: ['read-only', 'write-only'] },
        { field: 'networkRules', why: 'SFTPGo 0.9.4 has no network rules: the user could connect from any address' },
      ],
      password: 'carried',
    });
    expect(methods([...togo.requests, ...old.requests])).toEqual(['GET']);
  });
});

describe('SFTPGo 1.x → SFTP To Go', () => {
  let v1: SftpgoEmulator;
  let togo: SftpToGoEmulator;
  let v1Config: Record<string, unknown>;
  let togoConfig: Record<string, unknown>;
  let plan: MigrationPlan;

  beforeAll(async () => {
    v1 = createSftpgoEmulator();
    togo = createSftpToGoEmulator();
    [v1Config, togoConfig] = await Promise.all([serve(v1), serve(togo)]);
    const seed = adaptersFor({ onprem: v1Config, togo: togoConfig });
    const password = 'Source-pass-0001';
    await make(seed.get('onprem')!, [
      { username: 'short', accessLevel: 'read-only', password },
      { username: togo.rootId, accessLevel: 'full', password },
      { username: 'custom_perms1', permissions: ['list', 'upload'], password },
      { username: 'modes_user01', permissions: ['list', 'download', 'chmod'], password },
      {
        username: 'limited_user1', accessLevel: 'read-only', password, limits: { maxSessions: 2 }, expiresAt: '2030-01-01T00:00:00.000Z',
        directoryPermissions: { '/in': ['list', 'upload'] }, networkRules: [rule('10.1.0.0/16')],
      },
      { username: 'existing_user1', accessLevel: 'full', password, sshKeys: [RSA.publicKey], networkRules: [rule('0.0.0.0/0')] },
    ]);
    await make(seed.get('togo')!, [
      { username: 'existing_user1', accessLevel: 'full', sshKeys: [RSA.publicKey], networkRules: [rule('0.0.0.0/0')] },
    ]);
    plan = await planBetween({ name: 'onprem', config: v1Config, emu: v1 }, { name: 'togo', config: togoConfig, emu: togo });
  });

  it('conflict: a name SFTP To Go refuses, and the name of its root credential', () => {
    expect(userOf(plan, 'short')).toMatchObject({
      action: 'conflict',
      why: 'SFTP To Go cannot have the username "short": SFTP To Go usernames are 10 to 100 letters, digits, underscores, hyphens or periods',
    });
    expect(userOf(plan, togo.rootId)).toMatchObject({
      action: 'conflict', targetId: togo.rootId, why: `"${togo.rootId}" is SFTP To Go's root credential, which a migration must not change`,
    });
  });

  it('a custom set SFTP To Go cannot store is dropped with the nearest narrower and broader levels', () => {
    expect(userOf(plan, 'custom_perms1').dropped).toEqual([
      { field: 'permissions', why: 'SFTP To Go stores only the access levels none, read-only, write-only, read-write, full', narrower: ['none'], broader: ['read-write'] },
    ]);
    expect(userOf(plan, 'modes_user01').dropped).toEqual([
      { field: 'permissions', why: 'SFTP To Go has no permission "chmod"', narrower: ['read-only'], broader: [] },
    ]);
  });

  it('limits, expiry and directory permissions are dropped; network rules are carried', () => {
    expect(userOf(plan, 'limited_user1')).toMatchObject({
      action: 'create',
      dropped: [
        { field: 'directoryPermissions', why: "SFTP To Go has no per-directory permissions: the root's permissions would apply everywhere" },
        { field: 'expiresAt', why: 'SFTP To Go users do not expire' },
        { field: 'limits', why: 'SFTP To Go has no per-user limits' },
      ],
    });
  });

  it('exists/same with SFTP To Go; every password is generated (SFTPGo never reveals one)', () => {
    expect(userOf(plan, 'existing_user1')).toMatchObject({ action: 'exists', comparison: 'same', differences: [] });
    expect(plan.users.every((u) => u.password === 'generated')).toBe(true);
    expect(plan.summary).toMatchObject({
      actions: { create: 3, exists: 1, conflict: 2 },
      dropped: { permissions: 2, directoryPermissions: 1, expiresAt: 1, limits: 1 },
      password: { carried: 0, generated: 6 },
    });
  });

  it('only reads', () => {
    expect(methods(v1.requests)).toEqual(['GET']);
    expect(methods(togo.requests)).toEqual(['GET']);
  });

  it('usernames: only those users; a name the source does not have is reported, not thrown', async () => {
    const only = await planBetween({ name: 'onprem', config: v1Config, emu: v1 }, { name: 'togo', config: togoConfig, emu: togo }, [
      'nobody_here_1', 'custom_perms1',
    ]);
    expect(only.users.map((u) => u.username)).toEqual(['custom_perms1']);
    expect(only.unknownUsernames).toEqual(['nobody_here_1']);
    expect(only.summary).toMatchObject({ users: 1, unknownUsernames: 1 });
  });
});

describe('SFTPGo 1.x → SFTPGo 2.x', () => {
  let v1: SftpgoEmulator;
  let v2: SftpgoV2Emulator;
  let plan: MigrationPlan;
  const expiry = '2030-01-01T00:00:00.000Z';

  beforeAll(async () => {
    v1 = createSftpgoEmulator();
    v2 = createSftpgoV2Emulator();
    const [v1Config, v2Config] = await Promise.all([serve(v1), serve(v2)]);
    const seed = adaptersFor({ old: v1Config, new: v2Config });
    const same: UserCreate = {
      username: 'same_user_01', accessLevel: 'read-only', password: 'Same-pass-0001', limits: { quotaFiles: 100 }, expiresAt: expiry,
      directoryPermissions: { '/in': ['list', 'upload'] }, sshKeys: [ED25519.publicKey], networkRules: [rule('10.0.0.0/8')],
    };
    await make(seed.get('old')!, [
      { username: 'new_user_01', accessLevel: 'full', password: 'New-pass-00001' },
      same,
      {
        username: 'diff_user_01', permissions: ['list', 'upload'], password: 'Diff-pass-0001', homeDirectory: '/srv/a',
        limits: { maxSessions: 2 }, expiresAt: expiry, directoryPermissions: { '/in': ['list'] }, networkRules: [rule('10.0.0.0/8')],
      },
    ]);
    await make(seed.get('new')!, [
      { ...same, password: 'Same-pass-0002' },
      { username: 'diff_user_01', accessLevel: 'read-only', password: 'Diff-pass-0002', homeDirectory: '/srv/b' },
    ]);
    plan = await planBetween({ name: 'old', config: v1Config, emu: v1 }, { name: 'new', config: v2Config, emu: v2 });
  });

  it('create and exists/same (homes compared: both are paths on the server), passwords generated', () => {
    expect(userOf(plan, 'new_user_01')).toMatchObject({ action: 'create', dropped: [], password: 'generated' });
    expect(userOf(plan, 'same_user_01')).toMatchObject({ action: 'exists', targetId: 'same_user_01', comparison: 'same', differences: [] });
  });

  it('exists/differs: permissions, directories, home, expiry, limits and rules', () => {
    expect(userOf(plan, 'diff_user_01').differences).toEqual([
      { field: 'permissions', source: ['list', 'upload'], target: ['list', 'download'] },
      { field: 'directoryPermissions', source: { '/in': ['list'] }, target: {} },
      { field: 'homeDirectory', source: '/srv/a', target: '/srv/b' },
      { field: 'expiresAt', source: expiry, target: null },
      {
        field: 'limits',
        source: { maxSessions: 2, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null },
        target: { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null },
      },
      { field: 'networkRules', source: ['10.0.0.0/8'], target: ['any address'] },
    ]);
  });

  it('only reads, and holds no password', () => {
    expect(methods(v1.requests)).toEqual(['GET']);
    expect(methods(v2.requests)).toEqual(['GET']);
    const text = JSON.stringify(plan);
    for (const p of [...storedPasswords(v1), ...storedPasswords(v2)]) expect(text).not.toContain(p);
  });
});
