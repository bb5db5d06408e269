/**
 * The SFTPGo mappings, both directions, as tables: pure functions, no emulator.
 */
import { describe, expect, it } from 'vitest';
import { BASIC_PERMISSIONS, type Permission, type UserCreate } from '../src/domain/model.js';
import { BASIC_VOCABULARY } from '../src/domain/permissions.js';
import { parseSshPublicKey } from '../src/domain/ssh-key.js';
import {
  LIMIT_FIELDS, VOCABULARY_1X, checkUserPatch, cleanPath, directoryPermissionsFromUpstream, isoFromMs, limitsFromUpstream,
  limitsToUpstream, mergeUserPatch, msFromIso, networkRulesFromUpstream, permissionsFromUpstream, permissionsToUpstream,
  rawOf, ruleIdOf, sftpUri, shapeOf, statusFromUpstream, statusToUpstream, toConnection, toQuotaScan, toSshKey,
  toUpstreamCreate, toUser, usageFromUpstream, type BackendContext,
} from '../adapters/sftpgo/mapping.js';
import {
  UpstreamConnection, UpstreamUser, UpstreamUserList, VersionAnswer, parseUpstream, type UpstreamPermission,
} from '../adapters/sftpgo/schema.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { errorOf } from './helpers/errors.js';

const ctx: BackendContext = { backend: 'onprem', sftpHost: 'sftp.example.com', sftpPort: 2022 };

/** A user as a 0.9.x server writes it (`used_quota_files`, no password, no public_keys when empty). */
function upstreamUser(over: Partial<UpstreamUser> = {}): UpstreamUser {
  return UpstreamUser.parse({
    id: 42, status: 1, username: 'acme_uploads', expiration_date: 0, home_dir: '/srv/sftpgo/data/acme_uploads',
    uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0, permissions: ['*'], used_quota_size: 0,
    used_quota_files: 0, last_quota_update: 0, upload_bandwidth: 0, download_bandwidth: 0, last_login: 0,
    ...over,
  });
}


describe('status', () => {
  it.each([
    [1, 'active'],
    [0, 'disabled'],
  ] as const)('%i ⇄ %s', (upstream, status) => {
    expect(statusFromUpstream(upstream)).toBe(status);
    expect(statusToUpstream(status)).toBe(upstream);
  });
});

describe('times', () => {
  it.each([
    [1616615059930, '2021-03-24T19:44:19.930Z'],
    [1, '1970-01-01T00:00:00.001Z'],
  ])('%i ms ⇄ %s', (ms, iso) => {
    expect(isoFromMs(ms)).toBe(iso);
    expect(msFromIso(iso)).toBe(ms);
  });

  it.each([[0], [-5], [undefined], [null], [9e15]])('%s ms reads as null', (ms) => {
    expect(isoFromMs(ms)).toBeNull();
  });

  it('null writes as 0 (never); an offset is honoured; a pre-1970 date still expires', () => {
    expect(msFromIso(null)).toBe(0);
    expect(msFromIso(undefined)).toBe(0);
    expect(msFromIso('2021-03-24T21:44:19.930+02:00')).toBe(1616615059930);
    expect(msFromIso('1970-01-01T00:00:00.000Z')).toBe(1);
    expect(msFromIso('1960-01-01T00:00:00.000Z')).toBe(1);
  });
});

/** A user as a 1.x server writes it: the permission map, `filters` and `filesystem` (recordings: get-1.txt). */
function mapUser(over: Partial<UpstreamUser> = {}): UpstreamUser {
  return UpstreamUser.parse({
    ...upstreamUser(),
    permissions: { '/': ['*'] },
    filters: {},
    filesystem: { provider: 0, s3config: {}, gcsconfig: {}, azblobconfig: {} },
    ...over,
  });
}

const ELEVEN = [...BASIC_PERMISSIONS, 'chmod', 'chown', 'chtimes'] as Permission[];

describe('permissions ⇄ levels, 0.9.x (one list of eight names)', () => {
  const cases: Array<[UpstreamPermission[], Permission[], string]> = [
    [['*'], [...BASIC_PERMISSIONS], 'full'],
    [['*', 'list'], [...BASIC_PERMISSIONS], 'full'],
    [['download', 'list'], ['list', 'download'], 'read-only'],
    [['create_dirs', 'upload'], ['upload', 'create_dirs'], 'write-only'],
    [['rename', 'list', 'download', 'upload', 'overwrite', 'delete', 'create_dirs'],
      ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'], 'read-write'],
    [['list', 'list', 'upload'], ['list', 'upload'], 'custom'],
  ];

  it.each(cases)('%j reads as %j (%s)', (upstream, perms, level) => {
    expect(permissionsFromUpstream(upstream, BASIC_VOCABULARY)).toEqual(perms);
    const user = toUser(upstreamUser({ permissions: upstream }), ctx);
    expect([user.permissions, user.accessLevel, user.directoryPermissions]).toEqual([perms, level, null]);
  });

  it.each([
    [[...BASIC_PERMISSIONS], ['*']],
    [['create_symlinks', 'create_dirs', 'rename', 'delete', 'overwrite', 'upload', 'download', 'list'], ['*']],
    [['download', 'list'], ['list', 'download']],
    [['upload', 'list'], ['list', 'upload']],
  ] as Array<[Permission[], UpstreamPermission[]]>)('%j writes as %j', (perms, upstream) => {
    expect(permissionsToUpstream(perms, BASIC_VOCABULARY)).toEqual(upstream);
  });
});

describe('permissions ⇄ levels, 1.x (a map; eleven names)', () => {
  const cases: Array<[UpstreamPermission[], Permission[], string]> = [
    [['*'], ELEVEN, 'full'],
    [[...ELEVEN].reverse() as UpstreamPermission[], ELEVEN, 'full'],
    [[...BASIC_PERMISSIONS], [...BASIC_PERMISSIONS], 'custom'],
    [['download', 'list'], ['list', 'download'], 'read-only'],
    [['list', 'download', 'chmod'], ['list', 'download', 'chmod'], 'custom'],
    [['upload', 'create_dirs'], ['upload', 'create_dirs'], 'write-only'],
    [['chtimes', 'chown'], ['chown', 'chtimes'], 'custom'],
  ];

  it.each(cases)('"/": %j reads as %j (%s)', (upstream, perms, level) => {
    expect(permissionsFromUpstream(upstream, VOCABULARY_1X)).toEqual(perms);
    const user = toUser(mapUser({ permissions: { '/': upstream } }), ctx);
    expect([user.permissions, user.accessLevel, user.directoryPermissions]).toEqual([perms, level, {}]);
  });

  it.each([
    [ELEVEN, ['*']],
    [[...BASIC_PERMISSIONS], [...BASIC_PERMISSIONS]],
    [['chmod', 'list'], ['list', 'chmod']],
  ] as Array<[Permission[], UpstreamPermission[]]>)('%j writes as %j', (perms, upstream) => {
    expect(permissionsToUpstream(perms, VOCABULARY_1X)).toEqual(upstream);
  });

  it('sub-directories read as directoryPermissions, sorted, * as every name; "/" stays out of them', () => {
    const u = mapUser({ permissions: { '/': ['list'], '/z': ['upload', 'list'], '/in': ['*'], '/empty': [] } });
    expect(directoryPermissionsFromUpstream(u, VOCABULARY_1X)).toEqual({ '/empty': [], '/in': ELEVEN, '/z': ['list', 'upload'] });
    expect(Object.keys(toUser(u, ctx).directoryPermissions!)).toEqual(['/empty', '/in', '/z']);
    expect(toUser(u, ctx).permissions).toEqual(['list']);
  });

  it('the shape is told by the answer', () => {
    expect(shapeOf(upstreamUser())).toBe('list');
    expect(shapeOf(mapUser())).toBe('map');
  });
});

describe('every permission name, both directions, both shapes', () => {
  const SIXTEEN = [...ELEVEN, 'delete_files', 'delete_dirs', 'rename_files', 'rename_dirs', 'copy'] as Permission[];
  const createOpts = { publicKeys: [], password: 'pw-123456', homeDirectoryBase: '/srv' };

  it.each(ELEVEN)('1.x: "%s" alone at "/" and in a sub-directory reads back as itself and writes as itself', (name) => {
    const u = toUser(mapUser({ permissions: { '/': [name], '/sub': [name] } }), ctx);
    expect([u.permissions, u.accessLevel, u.directoryPermissions]).toEqual([[name], 'custom', { '/sub': [name] }]);
    const body = toUpstreamCreate({ username: 'acme', permissions: [name], directoryPermissions: { '/sub': [name] } }, { ...createOpts, shape: 'map' });
    expect(body.permissions).toEqual({ '/': [name], '/sub': [name] });
  });

  it.each(BASIC_PERMISSIONS)('0.9.x: "%s" alone reads back as itself and writes as itself', (name) => {
    const u = toUser(upstreamUser({ permissions: [name] }), ctx);
    expect([u.permissions, u.accessLevel]).toEqual([[name], 'custom']);
    expect(toUpstreamCreate({ username: 'acme', permissions: [name] }, { ...createOpts, shape: 'list' }).permissions).toEqual([name]);
  });

  it.each(SIXTEEN.filter((p) => !ELEVEN.includes(p)))('1.x: "%s" (2.x only) is a 422 naming it, at "/" and below', (name) => {
    for (const input of [{ permissions: [name] }, { accessLevel: 'full' as const, directoryPermissions: { '/in': [name] } }]) {
      const err = errorOf(() => toUpstreamCreate({ username: 'acme', ...input }, { ...createOpts, shape: 'map' }));
      expect([err.status, err.detail]).toEqual([422, expect.stringContaining(`"${name}"`)]);
    }
  });

  it.each(SIXTEEN.filter((p) => !BASIC_PERMISSIONS.includes(p)))('0.9.x: "%s" is a 422 naming it', (name) => {
    const err = errorOf(() => toUpstreamCreate({ username: 'acme', permissions: ['list', name] }, { ...createOpts, shape: 'list' }));
    expect([err.status, err.detail]).toEqual([422, expect.stringContaining(`"${name}"`)]);
  });
});

describe('network rules ⇄ filters.allowed_ip (1.x)', () => {
  it('each CIDR is a rule for any protocol, enabled, without description; its id comes from the CIDR', () => {
    const u = mapUser({ filters: { allowed_ip: ['192.0.2.0/24', '2001:db8::/32'], denied_ip: ['10.0.0.1/32'] } });
    expect(networkRulesFromUpstream(u)).toEqual([
      { id: '192.0.2.0_24', cidr: '192.0.2.0/24', protocol: 'any', enabled: true, description: null },
      { id: '2001:db8::_32', cidr: '2001:db8::/32', protocol: 'any', enabled: true, description: null },
    ]);
    expect(ruleIdOf('10.0.0.0/8')).toBe('10.0.0.0_8');
    expect(networkRulesFromUpstream(mapUser())).toEqual([]);
    expect(networkRulesFromUpstream(mapUser({ filters: { allowed_ip: null } }))).toEqual([]);
    expect(networkRulesFromUpstream(upstreamUser())).toEqual([]);
  });
});

describe('limits', () => {
  const upstream = { max_sessions: 2, quota_size: 0, quota_files: 1000, upload_bandwidth: 0, download_bandwidth: 512 };
  const limits = { maxSessions: 2, quotaBytes: null, quotaFiles: 1000, uploadKBps: null, downloadKBps: 512 };

  it('0 ⇄ null per field', () => {
    expect(limitsFromUpstream(upstream)).toEqual(limits);
    expect(limitsToUpstream(limits)).toEqual(upstream);
  });

  it.each(Object.entries(LIMIT_FIELDS))('%s reads from and writes to %s alone', (limit, field) => {
    const read = limitsFromUpstream({ [field]: 7 });
    expect(Object.entries(read).filter(([, v]) => v !== null)).toEqual([[limit, 7]]);
    expect(Object.keys(read).sort()).toEqual(Object.keys(LIMIT_FIELDS).sort());
    const written = limitsToUpstream({ [limit]: 7 });
    expect(Object.entries(written).filter(([, v]) => v !== 0)).toEqual([[field, 7]]);
  });

  it('absent fields are unlimited on create and unchanged on patch; null clears them all', () => {
    expect(limitsToUpstream({ quotaBytes: 10 })).toEqual({
      max_sessions: 0, quota_size: 10, quota_files: 0, upload_bandwidth: 0, download_bandwidth: 0,
    });
    expect(limitsToUpstream({ quotaBytes: 10, maxSessions: null }, upstream)).toEqual({ ...upstream, quota_size: 10, max_sessions: 0 });
    expect(limitsToUpstream(null, upstream)).toEqual({
      max_sessions: 0, quota_size: 0, quota_files: 0, upload_bandwidth: 0, download_bandwidth: 0,
    });
    expect(limitsToUpstream(undefined, upstream)).toEqual(upstream);
  });
});

describe('usage', () => {
  it.each([
    [{ used_quota_size: 2048, used_quota_files: 3, last_quota_update: 1616615059930 }, { bytes: 2048, files: 3, updatedAt: '2021-03-24T19:44:19.930Z' }],
    [{ used_quota_size: 2048, used_quota_file: 4 }, { bytes: 2048, files: 4, updatedAt: null }],
    [{ used_quota_files: 5, used_quota_file: 4 }, { bytes: 0, files: 5, updatedAt: null }],
    [{}, { bytes: 0, files: 0, updatedAt: null }],
  ])('%j → %j', (fields, usage) => {
    const { used_quota_files: _s, used_quota_size: _b, ...base } = upstreamUser();
    expect(usageFromUpstream(UpstreamUser.parse({ ...base, ...fields }))).toEqual(usage);
  });
});

describe('uri', () => {
  it.each([
    ['acme', 'sftp.example.com', 22, 'sftp://acme@sftp.example.com'],
    ['acme', 'sftp.example.com', 2022, 'sftp://acme@sftp.example.com:2022'],
    ['a b@c', 'sftp.example.com', 22, 'sftp://a%20b%40c@sftp.example.com'],
    ['acme', '2001:db8::1', 2022, 'sftp://acme@[2001:db8::1]:2022'],
    ['acme', null, 2022, null],
  ])('%s at %s:%i → %s', (username, host, port, uri) => {
    expect(sftpUri(username, host, port)).toBe(uri);
  });

  it('host is null without a configured sftpHost', () => {
    const user = toUser(upstreamUser(), { ...ctx, sftpHost: null });
    expect([user.host, user.uri]).toEqual([null, null]);
  });
});

describe('toUser', () => {
  it('maps every field', () => {
    const u = upstreamUser({
      status: 0, expiration_date: 1616615059930, public_keys: ['ssh-ed25519 AAAA x', 'ssh-rsa BBBB y'],
      permissions: ['list', 'download'], quota_size: 1024, last_login: 1616615000000,
    });
    const { raw, ...user } = toUser(u, ctx);
    expect(raw()).toEqual({ ...u });
    expect(user).toEqual({
      id: '42', backend: 'onprem', provider: 'sftpgo', username: 'acme_uploads', displayName: null,
      status: 'disabled', accessLevel: 'read-only', permissions: ['list', 'download'], directoryPermissions: null,
      homeDirectory: '/srv/sftpgo/data/acme_uploads', chrootDirectory: '/srv/sftpgo/data/acme_uploads',
      expiresAt: '2021-03-24T19:44:19.930Z', sshKeyCount: 2, host: 'sftp.example.com',
      uri: 'sftp://acme_uploads@sftp.example.com:2022', isRoot: false,
      limits: { maxSessions: null, quotaBytes: 1024, quotaFiles: null, uploadKBps: null, downloadKBps: null },
      usage: { bytes: 0, files: 0, updatedAt: null },
      createdAt: null, updatedAt: null, lastLoginAt: '2021-03-24T19:43:20.000Z', passwordChangedAt: null,
    });
  });

  it('maps a 1.x user as recorded (get-1.txt): the map, its sub-directories, and raw without the S3 secret', () => {
    const recorded = {
      id: 1, status: 1, username: 'raw_map', expiration_date: 0,
      public_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICF+zF4jQqWewIBSxT63F1/jdSfxj/TYzimipbRabtuE e2e@example'],
      home_dir: '/srv/sftpgo/data/raw_map', uid: 0, gid: 0, max_sessions: 2, quota_size: 1048576, quota_files: 10,
      permissions: { '/': ['list', 'download'], '/in': ['chmod', 'upload'] }, used_quota_size: 0, used_quota_files: 0,
      last_quota_update: 0, upload_bandwidth: 100, download_bandwidth: 200, last_login: 0, filters: {},
      filesystem: { provider: 1, s3config: { bucket: 'b', access_secret: '$aes$x' }, gcsconfig: {}, azblobconfig: {} },
    };
    const { raw, ...user } = toUser(UpstreamUser.parse(recorded), ctx);
    expect(user).toMatchObject({
      id: '1', username: 'raw_map', accessLevel: 'read-only', permissions: ['list', 'download'],
      directoryPermissions: { '/in': ['upload', 'chmod'] }, sshKeyCount: 1,
      limits: { maxSessions: 2, quotaBytes: 1048576, quotaFiles: 10, uploadKBps: 100, downloadKBps: 200 },
    });
    expect(raw()).toEqual({ ...recorded, filesystem: { provider: 1, s3config: { bucket: 'b' }, gcsconfig: {}, azblobconfig: {} } });
  });

  it('public_keys null or absent counts 0 keys', () => {
    expect(toUser(upstreamUser({ public_keys: null }), ctx).sshKeyCount).toBe(0);
    expect(toUser(upstreamUser(), ctx).sshKeyCount).toBe(0);
  });

  it('raw keeps every field, documented or not, except secrets', () => {
    const u = upstreamUser({ password: '$2a$10$hash', filters: { allowed_ip: [] }, fs: { sftp: { private_key: 'k', endpoint: 'e' } } });
    const raw = rawOf(u);
    expect(raw).not.toHaveProperty('password');
    expect(raw.filters).toEqual({ allowed_ip: [] });
    expect(raw.fs).toEqual({ sftp: { endpoint: 'e' } });
    expect(raw.used_quota_files).toBe(0);
    expect(Object.keys(raw)).toHaveLength(Object.keys(u).length - 1);
    expect(JSON.stringify(toUser(u, ctx).raw())).not.toContain('$2a$10$hash');
  });
});

describe('schema', () => {
  it('refuses a 200 that is not a user with a 502, never a half-mapped object', () => {
    for (const body of [{ id: 'x', username: 'a' }, [], null, { ...upstreamUser(), permissions: ['fly'] }, { ...upstreamUser(), status: 2 }]) {
      const err = errorOf(() => parseUpstream(UpstreamUser, body, 'a user'));
      expect([err.status, err.code]).toEqual([502, 'upstream_error']);
      expect(err.detail).toMatch(/^SFTPGo answered 200 with a body that is not a user/);
    }
    expect(errorOf(() => parseUpstream(UpstreamUserList, {}, 'a list of users')).status).toBe(502);
  });

  it('accepts the document spelling used_quota_file and /version as object or array', () => {
    const { used_quota_files: _f, ...doc } = upstreamUser();
    expect(UpstreamUser.parse({ ...doc, used_quota_file: 7 }).used_quota_file).toBe(7);
    expect(VersionAnswer.safeParse({ version: '1.2.0' }).success).toBe(true);
    expect(VersionAnswer.safeParse([{ version: '1.2.0', build_date: 'x', commit_hash: 'y' }]).success).toBe(true);
    expect(VersionAnswer.safeParse([]).success).toBe(false);
  });
});

describe('connections, quota scans, keys', () => {
  it('maps a ConnectionStatus', () => {
    const c = UpstreamConnection.parse({
      username: 'alice', connection_id: 'abc', client_version: 'SSH-2.0-OpenSSH_8.2p1', remote_address: '192.0.2.10:52144',
      connection_time: 1616615000000, last_activity: 1616615059930, protocol: 'SFTP',
      active_transfers: [{ operation_type: 'upload', path: '/a.csv', start_time: 1616615050000, size: 1024, last_activity: 1616615059000 }],
    });
    expect(toConnection(c)).toEqual({
      id: 'abc', username: 'alice', protocol: 'SFTP', clientVersion: 'SSH-2.0-OpenSSH_8.2p1',
      remoteAddress: '192.0.2.10:52144', connectedAt: '2021-03-24T19:43:20.000Z', lastActivityAt: '2021-03-24T19:44:19.930Z',
      transfers: [{ operation: 'upload', path: '/a.csv', startedAt: '2021-03-24T19:44:10.000Z', bytes: 1024, lastActivityAt: '2021-03-24T19:44:19.000Z' }],
    });
    const bare = toConnection(UpstreamConnection.parse({ username: 'b', connection_id: 'x', protocol: 'SCP', client_version: '' }));
    expect(bare).toMatchObject({ clientVersion: null, remoteAddress: null, connectedAt: null, transfers: [] });
  });

  it('maps a QuotaScan', () => {
    expect(toQuotaScan({ username: 'a', start_time: 1616615059930 })).toEqual({ username: 'a', startedAt: '2021-03-24T19:44:19.930Z' });
    expect(toQuotaScan({ username: 'a' })).toEqual({ username: 'a', startedAt: null });
  });

  it('maps a parsed key, id = fingerprint in base64url', async () => {
    const fixture = keyOf('rsa');
    const key = toSshKey(await parseSshPublicKey(fixture.publicKey));
    expect(key).toEqual({
      id: fixture.fingerprint.slice(7).replace(/\+/g, '-').replace(/\//g, '_'), type: 'rsa',
      fingerprint: fixture.fingerprint, comment: fixture.comment, publicKey: fixture.publicKey, createdAt: null,
    });
  });
});

const rule = (cidr: string, over: Record<string, unknown> = {}) =>
  ({ cidr, protocol: 'any', enabled: true, description: null, ...over }) as UserCreate['networkRules'] extends (infer R)[] | undefined ? R : never;

describe('create body → upstream, 0.9.x', () => {
  const opts = { publicKeys: ['ssh-ed25519 AAAA me'], password: 'pw-123456', homeDirectoryBase: '/srv/sftpgo/data/', shape: 'list' as const };

  it('sends the whole user, every documented field, uid/gid 0', () => {
    const input: UserCreate = {
      username: 'acme', accessLevel: 'read-only', status: 'disabled', expiresAt: '2027-01-01T00:00:00.000Z',
      limits: { quotaBytes: 1_000_000, downloadKBps: null },
    };
    expect(toUpstreamCreate(input, opts)).toEqual({
      status: 0, username: 'acme', expiration_date: Date.parse('2027-01-01T00:00:00.000Z'), password: 'pw-123456',
      public_keys: ['ssh-ed25519 AAAA me'], home_dir: '/srv/sftpgo/data/acme', uid: 0, gid: 0,
      max_sessions: 0, quota_size: 1_000_000, quota_files: 0, permissions: ['list', 'download'],
      used_quota_size: 0, used_quota_file: 0, last_quota_update: 0, upload_bandwidth: 0, download_bandwidth: 0,
      last_login: 0,
    });
  });

  it('defaults: active, no expiry, unlimited; full is *; a chroot equal to home is fine', () => {
    const body = toUpstreamCreate({ username: 'acme', permissions: [...BASIC_PERMISSIONS], homeDirectory: '/data/x/', chrootDirectory: '/data/x' }, opts);
    expect(body).toMatchObject({ status: 1, expiration_date: 0, home_dir: '/data/x', permissions: ['*'], quota_size: 0 });
  });

  it.each<[string, UserCreate, string[]]>([
    ['displayName', { username: 'acme', accessLevel: 'full', displayName: 'Acme' }, ['displayName']],
    ['networkRules', { username: 'acme', accessLevel: 'full', networkRules: [rule('10.0.0.0/8')] }, ['networkRules']],
    ['directoryPermissions', { username: 'acme', accessLevel: 'full', directoryPermissions: { '/in': ['list'] } }, ['directoryPermissions']],
    ['a name 0.9.x does not have', { username: 'acme', permissions: ['list', 'chmod'] }, ['permissions']],
    ['a null chroot', { username: 'acme', accessLevel: 'full', chrootDirectory: null }, ['chrootDirectory']],
    ['a chroot apart from home', { username: 'acme', accessLevel: 'full', chrootDirectory: '/srv/other' }, ['chrootDirectory']],
    ['several at once', { username: 'acme', accessLevel: 'full', displayName: 'A', chrootDirectory: null }, ['displayName', 'chrootDirectory']],
  ])('refuses %s with 422 naming the field', (_name, input, paths) => {
    const err = errorOf(() => toUpstreamCreate(input, opts));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(err.extra.errors?.map((e) => e.path)).toEqual(paths);
  });

  it('accepts displayName null, networkRules [] and directoryPermissions {} or null', () => {
    for (const extra of [{ displayName: null, networkRules: [] }, { directoryPermissions: {} }, { directoryPermissions: null }]) {
      expect(() => toUpstreamCreate({ username: 'acme', accessLevel: 'full', ...extra }, opts)).not.toThrow();
    }
  });

  it.each<[UserCreate, string]>([
    [{ username: 'acme', accessLevel: 'none' }, 'accessLevel'],
    [{ username: 'acme', permissions: [] }, 'permissions'],
  ])('refuses the empty permission set %j with 422 and the nearest levels', (input, path) => {
    const err = errorOf(() => toUpstreamCreate(input, opts));
    expect(err.status).toBe(422);
    expect(err.extra.details).toEqual({ narrower: [], broader: ['read-only', 'write-only'] });
    expect(err.extra.errors?.[0]?.path).toBe(path);
  });

  it.each<[string, UserCreate]>([
    ['neither accessLevel nor permissions', { username: 'acme' }],
    ['accessLevel and permissions that disagree', { username: 'acme', accessLevel: 'full', permissions: ['list'] }],
    ['a username that names the parent of the home base', { username: '..', accessLevel: 'full' }],
  ])('refuses %s with 400', (_name, input) => {
    expect(errorOf(() => toUpstreamCreate(input, opts)).status).toBe(400);
  });

  it.each([
    ['a "/"', '../etc', 'SFTPGo usernames must not hold "/"'],
    ['a leading space', ' acme', 'SFTPGo usernames must not begin or end with a space'],
    ['a trailing space', 'acme ', 'SFTPGo usernames must not begin or end with a space'],
  ])('refuses a username with %s with 422, as no SFTPGo takes it', (_name, username, detail) => {
    const err = errorOf(() => toUpstreamCreate({ username, accessLevel: 'full' }, opts));
    expect([err.status, err.code, err.detail]).toEqual([422, 'not_supported_by_provider', detail]);
  });
});

describe('create body → upstream, 1.x', () => {
  const opts = { publicKeys: ['ssh-ed25519 AAAA me'], password: 'pw-123456', homeDirectoryBase: '/srv/sftpgo/data', shape: 'map' as const };

  it('sends the map with "/" and each sub-directory, filters only with rules; status, home_dir, permissions always', () => {
    const body = toUpstreamCreate({
      username: 'acme', permissions: ['upload', 'list'], directoryPermissions: { '/in/': ['download', 'list'], '/all': ELEVEN },
      networkRules: [rule('192.0.2.7'), rule('10.0.0.0/8'), rule('10.0.0.0/8')], limits: { maxSessions: 2 },
    }, opts);
    expect(body).toEqual({
      status: 1, username: 'acme', expiration_date: 0, password: 'pw-123456', public_keys: ['ssh-ed25519 AAAA me'],
      home_dir: '/srv/sftpgo/data/acme', uid: 0, gid: 0, max_sessions: 2, quota_size: 0, quota_files: 0,
      upload_bandwidth: 0, download_bandwidth: 0,
      permissions: { '/': ['list', 'upload'], '/all': ['*'], '/in': ['list', 'download'] },
      filters: { allowed_ip: ['192.0.2.7/32', '10.0.0.0/8'] },
    });
    expect(toUpstreamCreate({ username: 'acme', accessLevel: 'full' }, opts)).not.toHaveProperty('filters');
    expect(toUpstreamCreate({ username: 'acme', accessLevel: 'full' }, opts).permissions).toEqual({ '/': ['*'] });
  });

  it('full is all eleven names (*); the eight old names alone are a custom set', () => {
    expect(toUpstreamCreate({ username: 'acme', permissions: [...BASIC_PERMISSIONS] }, opts).permissions).toEqual({ '/': [...BASIC_PERMISSIONS] });
    expect(toUpstreamCreate({ username: 'acme', permissions: ELEVEN }, opts).permissions).toEqual({ '/': ['*'] });
  });

  it.each<[string, UserCreate, string[]]>([
    ['a 2.x name at "/"', { username: 'acme', permissions: ['list', 'copy'] }, ['permissions']],
    ['a 2.x name in a sub-directory', { username: 'acme', accessLevel: 'full', directoryPermissions: { '/in': ['delete_files'] } }, ['directoryPermissions./in']],
    ['a rule for one protocol', { username: 'acme', accessLevel: 'full', networkRules: [rule('10.0.0.0/8', { protocol: 'sftp' })] }, ['networkRules.0.protocol']],
    ['a disabled rule', { username: 'acme', accessLevel: 'full', networkRules: [rule('10.0.0.0/8', { enabled: false })] }, ['networkRules.0.enabled']],
    ['a rule with a description', { username: 'acme', accessLevel: 'full', networkRules: [rule('10.0.0.0/8', { description: 'office' })] }, ['networkRules.0.description']],
  ])('refuses %s with 422 naming it', (_name, input, paths) => {
    const err = errorOf(() => toUpstreamCreate(input, opts));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(err.extra.errors?.map((e) => e.path)).toEqual(paths);
  });

  it('a rule that is not a CIDR is a 400', () => {
    const err = errorOf(() => toUpstreamCreate({ username: 'acme', accessLevel: 'full', networkRules: [rule('10.0.0.0/33')] }, opts));
    expect([err.status, err.extra.errors?.[0]?.path]).toEqual([400, 'networkRules.0.cidr']);
  });
});

describe('patch merge, 0.9.x', () => {
  const stored = upstreamUser({
    status: 1, permissions: ['list', 'download'], public_keys: ['ssh-ed25519 AAAA me'], max_sessions: 3,
    quota_size: 500, expiration_date: 1616615059930, uid: 1001, filters: { denied_ip: ['10.0.0.1'] },
  });

  it('keeps every untouched field, unknown ones included, and sends no password', () => {
    const merged = mergeUserPatch(stored, { status: 'disabled' });
    expect(merged).toEqual({ ...stored, status: 0 });
    expect(merged).not.toHaveProperty('password');
  });

  it('drops a password the stored object carried; sets the one the patch gives', () => {
    expect(mergeUserPatch({ ...stored, password: '$2a$hash' }, {})).not.toHaveProperty('password');
    expect(mergeUserPatch(stored, { password: 'n3w-secret' }).password).toBe('n3w-secret');
  });

  it.each<[string, Parameters<typeof mergeUserPatch>[1], Partial<UpstreamUser>]>([
    ['limits: only given fields', { limits: { quotaFiles: 9, maxSessions: null } }, { quota_files: 9, max_sessions: 0, quota_size: 500 }],
    ['limits: null clears all', { limits: null }, { max_sessions: 0, quota_size: 0, quota_files: 0 }],
    ['expiresAt null → 0', { expiresAt: null }, { expiration_date: 0 }],
    ['accessLevel full → *', { accessLevel: 'full' }, { permissions: ['*'] }],
    ['permissions canonical', { permissions: ['upload', 'list'] }, { permissions: ['list', 'upload'] }],
    ['homeDirectory alone moves the jail', { homeDirectory: '/data/new/' }, { home_dir: '/data/new' }],
    ['chroot equal to the new home', { homeDirectory: '/data/new', chrootDirectory: '/data/new/' }, { home_dir: '/data/new' }],
    ['chroot equal to the stored home', { chrootDirectory: '/srv/sftpgo/data/acme_uploads' }, {}],
    ['the same username is no rename', { username: 'acme_uploads', displayName: null }, {}],
    ['networkRules [] and directoryPermissions {} are nothing to change', { networkRules: [], directoryPermissions: {} }, {}],
  ])('%s', (_name, patch, changed) => {
    expect(mergeUserPatch(stored, patch)).toEqual({ ...stored, ...changed });
  });

  it.each<[string, Parameters<typeof mergeUserPatch>[1], number, string]>([
    ['a rename', { username: 'other' }, 422, 'username'],
    ['a displayName', { displayName: 'Acme' }, 422, 'displayName'],
    ['a chroot apart from home', { chrootDirectory: '/elsewhere' }, 422, 'chrootDirectory'],
    ['a chroot apart from the new home', { homeDirectory: '/data/new', chrootDirectory: '/srv/sftpgo/data/acme_uploads' }, 422, 'chrootDirectory'],
    ['a null chroot', { chrootDirectory: null }, 422, 'chrootDirectory'],
    ['no permissions', { accessLevel: 'none' }, 422, 'accessLevel'],
    ['a 1.x name', { permissions: ['chmod'] }, 422, 'permissions'],
    ['network rules', { networkRules: [rule('10.0.0.0/8')] }, 422, 'networkRules'],
    ['sub-directory permissions', { directoryPermissions: { '/in': ['list'] } }, 422, 'directoryPermissions'],
  ])('refuses %s', (_name, patch, status, path) => {
    const err = errorOf(() => mergeUserPatch(stored, patch));
    expect(err.status).toBe(status);
    expect(err.extra.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('refuses an empty password with 400 (it would remove the password upstream)', () => {
    expect(errorOf(() => mergeUserPatch(stored, { password: '' })).status).toBe(400);
  });

  it('refuses contradictory accessLevel and permissions with 400', () => {
    expect(errorOf(() => mergeUserPatch(stored, { accessLevel: 'read-only', permissions: ['upload'] })).status).toBe(400);
  });
});

describe('patch merge, 1.x: nothing the model does not carry is lost', () => {
  /** A user with everything the model does not carry: filters beyond allowed_ip, filesystem, virtual folders, uid/gid, a field of a later server. */
  const stored = mapUser({
    permissions: { '/': ['list', 'download'], '/in': ['upload'], '/scratch': ['*'] },
    public_keys: ['ssh-ed25519 AAAA me'], uid: 1001, gid: 1002, max_sessions: 3,
    filters: {
      allowed_ip: ['192.0.2.0/24'], denied_ip: ['10.0.0.1/32'], denied_login_methods: ['password'], denied_protocols: ['FTP'],
      file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }], max_upload_file_size: 1024,
    },
    filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_key: 'k', access_secret: '$aes$secret' }, gcsconfig: {}, azblobconfig: {} },
    virtual_folders: [{ virtual_path: '/shared', mapped_path: '/srv/shared', quota_size: -1, quota_files: -1 }],
    future_field: { nested: [1, 2] },
  } as Partial<UpstreamUser>);

  it.each<[string, Parameters<typeof mergeUserPatch>[1], (s: UpstreamUser) => Partial<UpstreamUser>]>([
    ['a status change', { status: 'disabled' }, () => ({ status: 0 })],
    ['an empty patch', {}, () => ({})],
    ['a password', { password: 'n3w-secret-pw' }, () => ({ password: 'n3w-secret-pw' })],
    ['limits', { limits: { quotaFiles: 5 } }, () => ({ quota_files: 5 })],
    ['a root level replaces "/" only', { accessLevel: 'full' }, (s) => ({ permissions: { ...(s.permissions as object), '/': ['*'] } })],
    ['a root set replaces "/" only', { permissions: ['upload', 'chmod'] }, (s) => ({ permissions: { ...(s.permissions as object), '/': ['upload', 'chmod'] } })],
    ['directoryPermissions replaces every other directory', { directoryPermissions: { '/out/': ['list'] } },
      () => ({ permissions: { '/': ['list', 'download'], '/out': ['list'] } })],
    ['directoryPermissions null clears them', { directoryPermissions: null }, () => ({ permissions: { '/': ['list', 'download'] } })],
    ['both at once', { accessLevel: 'read-only', directoryPermissions: { '/x': ELEVEN } },
      () => ({ permissions: { '/': ['list', 'download'], '/x': ['*'] } })],
    ['networkRules replace allowed_ip only', { networkRules: [rule('2001:DB8::1')] },
      (s) => ({ filters: { ...s.filters, allowed_ip: ['2001:db8::1/128'] } })],
    ['networkRules [] clears allowed_ip only', { networkRules: [] }, (s) => ({ filters: { ...s.filters, allowed_ip: [] } })],
  ])('%s', (_name, patch, changed) => {
    expect(mergeUserPatch(stored, patch)).toEqual({ ...storedWithoutPassword(stored), ...changed(stored) });
  });

  it('sshKeys replace the keys and nothing else', () => {
    expect(mergeUserPatch(stored, { sshKeys: ['x'] }, { publicKeys: ['ssh-ed25519 BBBB other'] })).toEqual({
      ...stored, public_keys: ['ssh-ed25519 BBBB other'],
    });
  });

  it('the stored map is not changed in place', () => {
    const before = JSON.stringify(stored);
    mergeUserPatch(stored, { accessLevel: 'write-only', directoryPermissions: {}, networkRules: [] });
    expect(JSON.stringify(stored)).toBe(before);
  });

  it('checkUserPatch refuses what needs no stored user, and passes what does', () => {
    expect(errorOf(() => checkUserPatch({ permissions: ['copy'] }, 'map')).status).toBe(422);
    expect(errorOf(() => checkUserPatch({ displayName: 'x' }, 'map')).status).toBe(422);
    expect(errorOf(() => checkUserPatch({ chrootDirectory: null }, 'map')).status).toBe(422);
    expect(errorOf(() => checkUserPatch({ homeDirectory: '/a', chrootDirectory: '/b' }, 'map')).status).toBe(422);
    expect(errorOf(() => checkUserPatch({ networkRules: [rule('x')] }, 'map')).status).toBe(400);
    expect(errorOf(() => checkUserPatch({ directoryPermissions: { '/a': [], '/a/': [] } }, 'map')).status).toBe(400);
    expect(() => checkUserPatch({ username: 'other', chrootDirectory: '/elsewhere' }, 'map')).not.toThrow();
  });
});

const storedWithoutPassword = (u: UpstreamUser) => {
  const { password: _p, ...rest } = u;
  return rest;
};

describe('cleanPath', () => {
  it.each([
    ['/srv/x/', '/srv/x'],
    ['/srv//x/./y/../z', '/srv/x/z'],
    ['/', '/'],
    ['/../..', '/'],
  ])('%s → %s', (input, output) => {
    expect(cleanPath(input)).toBe(output);
  });
});
