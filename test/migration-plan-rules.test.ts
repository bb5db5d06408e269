/**
 * The comparison and drop rules of a migration plan, as tables, in both directions between SFTP
 * To Go and SFTPGo 1.x and 2.x: pure functions over the providers' real field flags and names.
 */
import { describe, expect, it } from 'vitest';
import { SFTPGO_FIELDS, SFTPGO_V2_FIELDS } from '../adapters/sftpgo/fields.js';
import { SFTPTOGO_FIELDS } from '../adapters/sftptogo/adapter.js';
import { BASIC_PERMISSIONS, PERMISSIONS, type NetworkRule, type Permission, type User } from '../src/domain/model.js';
import { vocabularyOf } from '../src/domain/permissions.js';
import { differences, droppedFields, type SideProfile, type UserFacts } from '../src/migration/field-rules.js';
import type { ServerInfo } from '../src/provider-kit/adapter.js';
import { carry, storageHome } from '../src/migration/carry.js';
import { summaryOf, type PlanField, type PlannedUser } from '../src/migration/plan.js';
import { sftpgoNaming } from '../adapters/sftpgo/naming.js';
import { createSftpToGoAdapter } from '../adapters/sftptogo/adapter.js';
import * as sftpgoMapping from '../adapters/sftpgo/mapping.js';
import * as sftptogoMapping from '../adapters/sftptogo/mapping.js';

/** What each provider's adapter refuses, from the functions its adapter answers with. */
const REFUSALS: Record<'sftptogo' | 'sftpgo', SideProfile['refusals']> = {
  sftptogo: { usernameRefusal: sftptogoMapping.usernameRefusal, networkRuleRefusal: () => undefined },
  sftpgo: { usernameRefusal: sftpgoMapping.usernameRefusal, networkRuleRefusal: sftpgoMapping.networkRuleRefusal },
};

/** How each provider names users, as its adapter says (SFTPGo's by the server found). */
const NAMING = {
  sftptogo: createSftpToGoAdapter({ provider: 'sftptogo', baseUrl: 'http://127.0.0.1:9', organizationId: 'org', apiKey: 'k', timeoutMs: 1000 }, { backend: 't' }).naming,
  sftpgo: (server: ServerInfo) => sftpgoNaming(() => server),
};
const profile = (label: string, provider: 'sftptogo' | 'sftpgo', fields: SideProfile['fields'], names: readonly Permission[], networkRules = true): SideProfile => {
  const [, version] = label.split(' ');
  const rules = provider === 'sftptogo' ? NAMING.sftptogo : NAMING.sftpgo({ apiVersion: version!.startsWith('2') ? 'v2' : 'v1', serverVersion: version! });
  return { label, provider, fields, vocab: vocabularyOf(names), sshKeys: true, networkRules, rules, refusals: REFUSALS[provider] };
};
const TOGO = profile('SFTP To Go', 'sftptogo', SFTPTOGO_FIELDS, BASIC_PERMISSIONS);
const V09 = profile('SFTPGo 0.9.4', 'sftpgo', SFTPGO_FIELDS.list, BASIC_PERMISSIONS, false);
const V1 = profile('SFTPGo 1.2.2', 'sftpgo', SFTPGO_FIELDS.map, PERMISSIONS.slice(0, 11));
const V2 = profile('SFTPGo 2.7.5', 'sftpgo', SFTPGO_V2_FIELDS, PERMISSIONS);

const BASE: UserFacts['user'] = {
  accessLevel: 'read-only', permissions: ['list', 'download'], directoryPermissions: null, status: 'active',
  homeDirectory: '/', chrootDirectory: null, expiresAt: null, limits: null, displayName: null,
};
const facts = (user: Partial<User> = {}, extra: Partial<Omit<UserFacts, 'user'>> = {}): UserFacts =>
  ({ user: { ...BASE, ...user }, sshKeys: [], networkRules: [], ...extra });
const rule = (cidr: string, extra: Partial<NetworkRule> = {}): NetworkRule =>
  ({ id: cidr, cidr, protocol: 'any', enabled: true, description: null, ...extra });
const key = (fingerprint: string) => ({ id: fingerprint, type: 'ed25519' as const, fingerprint, comment: null, publicKey: 'x', createdAt: null });
const fields = (drops: ReturnType<typeof droppedFields>) => drops.map((d) => d.field);

describe('droppedFields', () => {
  it.each([
    ['a level every target stores', facts({ accessLevel: 'read-write', permissions: ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'] }), [TOGO, V09, V1, V2], []],
    ['an unset field is never dropped', facts({ displayName: '', limits: { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null }, directoryPermissions: {} }, { networkRules: [] }), [TOGO, V09, V1], []],
    ['a display name where none is held', facts({ displayName: 'Acme' }), [V09, V1], ['displayName']],
    ['a display name where it is held', facts({ displayName: 'Acme' }), [TOGO, V2], []],
    ['expiry and limits into SFTP To Go', facts({ expiresAt: '2030-01-01T00:00:00.000Z', limits: { maxSessions: 2, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null } }), [TOGO], ['expiresAt', 'limits']],
    ['expiry and limits into SFTPGo', facts({ expiresAt: '2030-01-01T00:00:00.000Z', limits: { maxSessions: 2, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null } }), [V09, V1, V2], []],
    ['a jail apart from the home into SFTPGo', facts({ homeDirectory: '/acme', chrootDirectory: '/' }), [V09, V1, V2], ['chrootDirectory']],
    ['a jail apart from the home into SFTP To Go', facts({ homeDirectory: '/acme', chrootDirectory: '/' }), [TOGO], []],
    ['directory permissions where none are held', facts({ directoryPermissions: { '/in': ['list'] } }), [TOGO, V09], ['directoryPermissions']],
    ['network rules where none are held', facts({}, { networkRules: [rule('10.0.0.0/8')] }), [V09], ['networkRules']],
    ['a plain rule where rules are held', facts({}, { networkRules: [rule('10.0.0.0/8')] }), [TOGO, V1, V2], []],
  ] as const)('%s', (_name, source, targets, expected) => {
    for (const to of targets) expect(fields(droppedFields(source, to)), to.label).toEqual(expected);
  });

  it('a custom set into SFTP To Go: the nearest narrower and broader levels', () => {
    expect(droppedFields(facts({ accessLevel: 'custom', permissions: ['list', 'upload'] }), TOGO)).toEqual([
      { field: 'permissions', why: 'SFTP To Go stores only the access levels none, read-only, write-only, read-write, full', narrower: ['none'], broader: ['read-write'] },
    ]);
  });

  it('a custom set of names that is a level there is carried (1.x\'s eight old names are SFTP To Go\'s full)', () => {
    expect(droppedFields(facts({ accessLevel: 'custom', permissions: [...BASIC_PERMISSIONS] }), TOGO)).toEqual([]);
  });

  it('names the target lacks: 2.x\'s copy into 1.x, 1.x\'s chmod into SFTP To Go; custom sets are kept by SFTPGo', () => {
    expect(droppedFields(facts({ accessLevel: 'custom', permissions: ['list', 'download', 'copy'] }), V1)).toEqual([
      { field: 'permissions', why: 'SFTPGo 1.2.2 has no permission "copy"', narrower: ['read-only'], broader: [] },
    ]);
    expect(droppedFields(facts({ accessLevel: 'custom', permissions: ['list', 'download', 'chmod'] }), TOGO)[0]).toMatchObject({ narrower: ['read-only'], broader: [] });
    expect(droppedFields(facts({ accessLevel: 'custom', permissions: ['list', 'upload'] }), V1)).toEqual([]);
  });

  it('"none" into SFTPGo, which needs one permission at the root', () => {
    expect(droppedFields(facts({ accessLevel: 'none', permissions: [] }), V2)).toEqual([
      { field: 'accessLevel', why: 'SFTPGo 2.7.5 cannot store the level "none" at a user\'s root', narrower: [], broader: ['read-only', 'write-only'] },
    ]);
    expect(droppedFields(facts({ accessLevel: 'none', permissions: [] }), TOGO)).toEqual([]);
  });

  it('a directory\'s names the target lacks: that directory, with its nearest levels', () => {
    expect(droppedFields(facts({ directoryPermissions: { '/a': ['list'], '/b': ['list', 'download', 'copy'] } }), V1)).toEqual([
      { field: 'directoryPermissions', directory: '/b', why: 'SFTPGo 1.2.2 has no permission "copy" (for /b)', narrower: ['read-only'], broader: [] },
    ]);
  });

  it('rules SFTPGo cannot hold, each by CIDR; SFTP To Go holds them all', () => {
    const rules = [rule('10.0.0.0/8'), rule('192.0.2.0/24', { enabled: false }), rule('198.51.100.0/24', { protocol: 'ftps', description: 'x' })];
    expect(droppedFields(facts({}, { networkRules: rules }), V2)).toEqual([
      { field: 'networkRules', cidr: '192.0.2.0/24', why: 'SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold its disabled state' },
      { field: 'networkRules', cidr: '198.51.100.0/24', why: 'SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold its protocol (ftps), its description' },
    ]);
    expect(droppedFields(facts({}, { networkRules: rules }), TOGO)).toEqual([]);
  });
});

describe('differences', () => {
  it.each([
    ['nothing differs', TOGO, V1, facts(), facts({ homeDirectory: '/srv/x' }), []],
    ['a level is compared as a level (full is each backend\'s own)', TOGO, V1, facts({ accessLevel: 'full', permissions: [...BASIC_PERMISSIONS] }), facts({ accessLevel: 'full', permissions: PERMISSIONS.slice(0, 11) }), []],
    ['homes between SFTPGo servers', V1, V2, facts({ homeDirectory: '/srv/a' }), facts({ homeDirectory: '/srv/b' }), ['homeDirectory']],
    ['homes between SFTP To Go organizations, and jails', TOGO, TOGO, facts({ homeDirectory: '/a', chrootDirectory: '/a' }), facts({ homeDirectory: '/b', chrootDirectory: null }), ['homeDirectory', 'chrootDirectory']],
    ['homes across providers are not compared', V1, TOGO, facts({ homeDirectory: '/srv/a' }), facts({ homeDirectory: '/a' }), []],
    ['a display name only where both hold one', TOGO, V1, facts({ displayName: 'A' }), facts(), []],
    ['a display name where both hold one ("" is unset)', TOGO, V2, facts({ displayName: 'A' }), facts({ displayName: '' }), ['displayName']],
    ['expiry and limits only where both hold them', V1, TOGO, facts({ expiresAt: '2030-01-01T00:00:00.000Z' }), facts(), []],
    ['the same instant written alike', V1, V2, facts({ expiresAt: '2030-01-01T00:00:00.000Z' }), facts({ expiresAt: '2030-01-01T00:00:00.000Z' }), []],
    ['limits: unset ones are null on both', V1, V2, facts({ limits: { maxSessions: 2, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null } }), facts({ limits: null }), ['limits']],
    ['keys by fingerprint, in any order', TOGO, V2, facts({}, { sshKeys: [key('SHA256:a'), key('SHA256:b')] }), facts({}, { sshKeys: [key('SHA256:b'), key('SHA256:a')] }), []],
    ['rules by CIDR only', TOGO, V1, facts({}, { networkRules: [rule('10.0.0.0/8', { description: 'office' })] }), facts({}, { networkRules: [rule('10.0.0.0/8')] }), []],
    ['rules where the target has none are not compared', TOGO, V09, facts({}, { networkRules: [rule('10.0.0.0/8')] }), facts({}, { networkRules: null }), []],
    ['status and a custom set', V2, V1, facts({ accessLevel: 'custom', permissions: ['list', 'upload'], status: 'disabled' }), facts(), ['permissions', 'status']],
  ] as const)('%s', (_name, from, to, source, target, expected) => {
    expect(differences(source, target, from, to).map((d) => d.field)).toEqual(expected);
  });

  it('reports both values', () => {
    expect(differences(facts({ status: 'disabled' }, { sshKeys: [key('SHA256:a')] }), facts(), V1, TOGO)).toEqual([
      { field: 'status', source: 'disabled', target: 'active' },
      { field: 'sshKeys', source: ['SHA256:a'], target: [] },
    ]);
  });
});

describe('target naming rules', () => {
  it.each([
    ['sftptogo', 'acme_uploads', undefined],
    ['sftptogo', 'short', 'SFTP To Go usernames are 10 to 100 letters, digits, underscores, hyphens or periods'],
    ['sftptogo', 'has space in it', 'SFTP To Go usernames are 10 to 100 letters, digits, underscores, hyphens or periods'],
    ['sftpgo', 'a', undefined],
    ['sftpgo', 'a/b', 'SFTPGo usernames must not hold "/"'],
    ['sftpgo', ' alice', 'SFTPGo usernames must not begin or end with a space'],
    ['sftpgo', 'x'.repeat(256), 'SFTPGo usernames are 1 to 255 characters'],
  ] as const)('%s %j', (provider, name, why) => {
    expect(REFUSALS[provider].usernameRefusal(name)).toBe(why);
  });

  it('only SFTPGo 2.x may lowercase names', () => {
    expect(NAMING.sftpgo({ apiVersion: 'v2', serverVersion: '2.7.5' }).mayLowercase()).toBe(true);
    expect(NAMING.sftpgo({ apiVersion: 'v1', serverVersion: '1.2.2' }).mayLowercase()).toBe(false);
    expect(NAMING.sftpgo({ apiVersion: null, serverVersion: null }).label()).toBe('SFTPGo');
    expect(NAMING.sftptogo.mayLowercase()).toBe(false);
    expect(V1.label).toBe(V1.rules.label());
  });
});

describe('summaryOf', () => {
  it('counts each dropped field once per user, in field order', () => {
    const planned = (action: PlannedUser['action'], dropped: PlanField[], extra: Partial<PlannedUser> = {}): PlannedUser => ({
      username: 'u', sourceId: '1', targetUsername: 'u', action, password: 'generated', narrowed: [],
      dropped: dropped.map((field) => ({ field, why: '' })), ...extra,
    });
    expect(summaryOf([
      planned('create', ['networkRules', 'networkRules', 'displayName']),
      planned('exists', ['displayName'], { comparison: 'same' }),
      planned('conflict', []),
    ], 2)).toEqual({
      users: 3,
      actions: { create: 1, exists: 1, conflict: 1 },
      comparisons: { same: 1, differs: 0 },
      dropped: { displayName: 2, networkRules: 1 },
      password: { carried: 0, generated: 3 },
      narrowed: 0,
      blocked: 0,
      unknownUsernames: 2,
    });
  });
});

describe('what a run carries (carry): narrowing, skipping, widening', () => {
  const STRICT = { narrow: false, acceptWidening: false };
  const NARROW = { narrow: true, acceptWidening: false };
  const carried = (source: UserFacts, from: SideProfile, to: SideProfile, policy = STRICT) =>
    carry(source, droppedFields(source, to), from, to, 'acme', policy);

  it.each([
    // [name, source, from, to, narrow's level (undefined: carried as is), strict run blocked?]
    ['a level both store', facts(), V1, TOGO, undefined, false],
    ['a custom set into SFTP To Go narrows to the largest level inside it', facts({ accessLevel: 'custom', permissions: ['list', 'download', 'upload'] }), V1, TOGO, 'read-only', true],
    ['upload only: write-only is inside', facts({ accessLevel: 'custom', permissions: ['upload', 'overwrite', 'delete', 'rename', 'create_dirs'] }), V1, TOGO, 'write-only', true],
    ['a custom set into SFTPGo is kept', facts({ accessLevel: 'custom', permissions: ['list', 'upload'] }), V1, V2, undefined, false],
    ['2.x copy into 1.x: the set without it, as its nearest level', facts({ accessLevel: 'custom', permissions: ['list', 'download', 'copy'] }), V2, V1, 'read-only', true],
  ] as const)('%s', (_name, source, from, to, level, blockedWhenStrict) => {
    const strict = carried(source, from, to);
    expect(strict.blocked !== undefined, 'strict run skips it').toBe(blockedWhenStrict);
    const narrow = carried(source, from, to, NARROW);
    expect(narrow.blocked).toBeUndefined();
    if (level === undefined) {
      expect(narrow.narrowed).toEqual([]);
      expect(narrow.intended.user.permissions).toEqual(source.user.permissions);
    } else {
      expect(narrow.narrowed).toEqual([{ field: expect.any(String), level }]);
      expect(narrow.input.accessLevel).toBe(level);
      // Never broader: every name the target gets, the source granted.
      for (const p of narrow.intended.user.permissions) expect(source.user.permissions).toContain(p);
    }
  });

  it('"none" into SFTPGo has no narrower level there: skipped even when narrowing', () => {
    const none = facts({ accessLevel: 'none', permissions: [] });
    expect(carried(none, TOGO, V1, NARROW).blocked).toMatch(/no level SFTPGo 1.2.2 can store there is narrower/);
  });

  it('directories into SFTP To Go fold into the root: what the root and every directory all grant', () => {
    const source = facts({ accessLevel: 'read-write', permissions: ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'], directoryPermissions: { '/in': ['list', 'upload'] } });
    expect(carried(source, V1, TOGO).blocked).toMatch(/per-directory permissions/);
    const narrow = carried(source, V1, TOGO, NARROW);
    // list ∩ upload: no level but "none" fits inside; the user keeps no access rather than more.
    expect(narrow.narrowed).toEqual([{ field: 'directoryPermissions', level: 'none' }]);
    expect(narrow.input).toMatchObject({ accessLevel: 'none' });
    expect(narrow.input.directoryPermissions).toBeUndefined();
  });

  it('a 2.x directory with a name 1.x lacks is narrowed alone', () => {
    const source = facts({ directoryPermissions: { '/a': ['list', 'download', 'copy'], '/b': ['list'] } });
    const narrow = carried(source, V2, V1, NARROW);
    expect(narrow.narrowed).toEqual([{ field: 'directoryPermissions', directory: '/a', level: 'read-only' }]);
    expect(narrow.input.directoryPermissions).toEqual({ '/a': ['list', 'download'], '/b': ['list'] });
  });

  it.each([
    ['an expiry into SFTP To Go', facts({ expiresAt: '2030-01-01T00:00:00.000Z' }), V1, TOGO, true],
    ['rules into 0.9.x, which has none', facts({}, { networkRules: [rule('10.0.0.0/8')] }), TOGO, V09, true],
    ['only disabled rules into 0.9.x: they allowed nothing', facts({}, { networkRules: [rule('10.0.0.0/8', { enabled: false })] }), TOGO, V09, false],
    ['the only rule is for one protocol: 1.x cannot hold it', facts({}, { networkRules: [rule('10.0.0.0/8', { protocol: 'sftp' })] }), TOGO, V1, true],
    ['one of two rules lost: the other still holds the user in', facts({}, { networkRules: [rule('10.0.0.0/8', { protocol: 'sftp' }), rule('192.0.2.0/24')] }), TOGO, V1, false],
    ['a lost rule for every address widens nothing', facts({}, { networkRules: [rule('0.0.0.0/0', { protocol: 'sftp', description: 'default' })] }), TOGO, V1, false],
    ['limits and a display name are lost without widening', facts({ displayName: 'A', limits: { maxSessions: 1, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null } }), V2, TOGO, false],
  ] as const)('widening: %s', (_name, source, from, to, widens) => {
    expect(carried(source, from, to).blocked !== undefined).toBe(widens);
    expect(carried(source, from, to, { narrow: false, acceptWidening: true }).blocked).toBeUndefined();
  });

  it('carries keys, the rules the target holds, and homes only between providers that name them alike', () => {
    const source = facts(
      { homeDirectory: '/srv/acme', expiresAt: '2031-01-01T00:00:00.000Z', displayName: 'Acme' },
      { sshKeys: [{ ...key('SHA256:a'), publicKey: 'ssh-ed25519 AAAA a' }], networkRules: [rule('10.0.0.0/8'), rule('192.0.2.0/24', { description: 'office' })] },
    );
    expect(carried(source, V1, V2).input).toEqual({
      username: 'acme', status: 'active', accessLevel: 'read-only', homeDirectory: '/srv/acme', expiresAt: '2031-01-01T00:00:00.000Z',
      displayName: 'Acme', sshKeys: ['ssh-ed25519 AAAA a'], networkRules: [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null }],
    });
    // Into SFTP To Go's shared storage: a folder of its own, jailed there (not the whole storage).
    expect(carried(source, V1, TOGO, { narrow: false, acceptWidening: true }).input).toEqual({
      username: 'acme', status: 'active', accessLevel: 'read-only', homeDirectory: '/acme', chrootDirectory: '/acme',
      displayName: 'Acme', sshKeys: ['ssh-ed25519 AAAA a'],
      networkRules: [
        { cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null },
        { cidr: '192.0.2.0/24', protocol: 'any', enabled: true, description: 'office' },
      ],
    });
  });

  it.each([
    ['/srv/sftpgo/data/acme_uploads', 'acme_uploads', '/acme_uploads'],
    ['/srv/shared/acme/', 'acme_two', '/acme'],
    ['/', 'root_home', '/root_home'],
  ])('a disk home %s into a shared storage: %s gets %s', (home, username, expected) => {
    expect(storageHome(home, username)).toBe(expected);
  });

  it('compares rule sets as where they let a user in from', () => {
    const anywhere = [facts({}, { networkRules: [] }), facts({}, { networkRules: [rule('0.0.0.0/0')] }), facts({}, { networkRules: [rule('10.0.0.0/8', { enabled: false })] })];
    for (const a of anywhere) for (const b of anywhere) expect(differences(a, b, V1, TOGO)).toEqual([]);
    expect(differences(facts({}, { networkRules: [rule('10.0.0.0/8')] }), anywhere[0]!, V1, TOGO)).toEqual([
      { field: 'networkRules', source: ['10.0.0.0/8'], target: ['any address'] },
    ]);
  });
});
