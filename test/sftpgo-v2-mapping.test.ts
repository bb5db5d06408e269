/**
 * The SFTPGo 2.x (API v2) user mapping, both directions, as tables: pure functions, no emulator.
 * The recorded 2.7.5 users (shared/reference/sftpgo-2.7.5-recorded) are read as the server sent them.
 */
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, type AccessLevel, type Permission, type UserCreate, type UserPatch } from '../src/domain/model.js';
import { type BackendContext } from '../adapters/sftpgo/mapping.js';
import {
  VOCABULARY_2X, mergeUserPatchV2, networkRulesFromUpstream, toUpstreamCreateV2, toUserV2, type CreateOptionsV2,
} from '../adapters/sftpgo/v2-mapping.js';
import {
  UpstreamUserV2, parseUpstreamUserListV2, parseUpstreamUserV2, type UpstreamUserV2 as UserV2,
} from '../adapters/sftpgo/v2-schema.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { errorOf } from './helpers/errors.js';
import { readExchangeV2, recordedJson } from './helpers/sftpgo-v2-recordings.js';

const ctx: BackendContext = { backend: 'onprem', sftpHost: 'sftp.example.com', sftpPort: 2022 };
const opts: CreateOptionsV2 = { publicKeys: [], password: 'Gen-Passw0rd-1', homeDirectoryBase: '/srv/sftpgo/data' };
const ALL = [...PERMISSIONS];

/** A user as 2.7.5 answers a GET for a minimal active user (Go's omitempty: no zero times, no description). */
function upstreamUser(over: Record<string, unknown> = {}): UserV2 {
  return UpstreamUserV2.parse({
    id: 7, status: 1, username: 'acme', has_password: true, home_dir: '/srv/sftpgo/data/acme', uid: 0, gid: 0,
    max_sessions: 0, quota_size: 0, quota_files: 0, permissions: { '/': ['*'] }, upload_data_transfer: 0,
    download_data_transfer: 0, total_data_transfer: 0, created_at: 1796526699525, updated_at: 1796526699525,
    last_password_change: 1796526699524,
    filters: { hooks: { external_auth_disabled: false, pre_login_disabled: false, check_password_disabled: false }, totp_config: { secret: {} } },
    filesystem: { provider: 0, osconfig: {}, s3config: {} },
    ...over,
  });
}

const create = (over: Partial<UserCreate> = {}) => toUpstreamCreateV2({ username: 'acme', accessLevel: 'full', ...over }, opts);

// ---------------------------------------------------------------------------------------------

describe('permissions, one name at a time (2.x has all sixteen)', () => {
  it('the vocabulary is every name', () => {
    expect(VOCABULARY_2X.names).toEqual(ALL);
    expect(ALL).toHaveLength(16);
  });

  it.each(ALL)('%s alone reads as itself, custom, and is written back alone', (name) => {
    const user = toUserV2(upstreamUser({ permissions: { '/': [name] } }), ctx);
    expect(user.permissions).toEqual([name]);
    expect(user.accessLevel).toBe('custom');
    expect(create({ accessLevel: undefined, permissions: [name] }).permissions).toEqual({ '/': [name] });
  });

  it.each(ALL)('%s alone in a sub-directory, both ways', (name) => {
    const user = toUserV2(upstreamUser({ permissions: { '/': ['list'], '/sub': [name] } }), ctx);
    expect(user.directoryPermissions).toEqual({ '/sub': [name] });
    expect(create({ directoryPermissions: { '/sub': [name] } }).permissions).toEqual({ '/': ['*'], '/sub': [name] });
  });
});

describe('permission sets ⇄ levels', () => {
  const readWrite: Permission[] = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'];
  it.each<[string, string[], Permission[], AccessLevel]>([
    ['*', ['*'], ALL, 'full'],
    ['* with names besides', ['list', '*'], ALL, 'full'],
    ['all sixteen listed', [...ALL].reverse(), ALL, 'full'],
    ['fifteen (no copy)', ALL.filter((p) => p !== 'copy'), ALL.filter((p) => p !== 'copy'), 'custom'],
    ['read-only', ['download', 'list'], ['list', 'download'], 'read-only'],
    ['read-only twice over', ['list', 'download', 'list'], ['list', 'download'], 'read-only'],
    ['write-only', ['create_dirs', 'upload'], ['upload', 'create_dirs'], 'write-only'],
    ['read-write', readWrite, readWrite, 'read-write'],
    ['read-only + chmod', ['list', 'download', 'chmod'], ['list', 'download', 'chmod'], 'custom'],
    [
      'read-write with delete_files + delete_dirs instead of delete (no folding)',
      ['list', 'download', 'upload', 'overwrite', 'delete_files', 'delete_dirs', 'rename', 'create_dirs'],
      ['list', 'download', 'upload', 'overwrite', 'rename', 'create_dirs', 'delete_files', 'delete_dirs'],
      'custom',
    ],
    [
      'read-write with rename_files + rename_dirs instead of rename',
      ['list', 'download', 'upload', 'overwrite', 'delete', 'rename_files', 'rename_dirs', 'create_dirs'],
      ['list', 'download', 'upload', 'overwrite', 'delete', 'create_dirs', 'rename_files', 'rename_dirs'],
      'custom',
    ],
    ['list + copy', ['copy', 'list'], ['list', 'copy'], 'custom'],
  ])('reading %s', (_, stored, permissions, level) => {
    const user = toUserV2(upstreamUser({ permissions: { '/': stored } }), ctx);
    expect(user.permissions).toEqual(permissions);
    expect(user.accessLevel).toBe(level);
  });

  it.each<[AccessLevel, string[]]>([
    ['read-only', ['list', 'download']],
    ['write-only', ['upload', 'create_dirs']],
    ['read-write', readWrite],
    ['full', ['*']],
  ])('writing level %s', (level, root) => {
    expect(create({ accessLevel: level }).permissions).toEqual({ '/': root });
  });

  it.each<[string, Permission[], string[]]>([
    ['all sixteen are written as *', [...ALL].reverse(), ['*']],
    ['a custom set in canonical order', ['copy', 'chmod', 'list'], ['list', 'chmod', 'copy']],
    ['delete_files + delete_dirs stay as they are', ['delete_dirs', 'delete_files'], ['delete_files', 'delete_dirs']],
  ])('writing permissions: %s', (_, permissions, root) => {
    expect(create({ accessLevel: undefined, permissions }).permissions).toEqual({ '/': root });
  });

  it('none cannot be stored: 422 with the nearest levels', () => {
    const err = errorOf(() => create({ accessLevel: 'none' }));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(err.extra.details).toEqual({ narrower: [], broader: ['read-only', 'write-only'] });
  });

  it('no permissions at all is a 400; a level that disagrees with permissions is a 400', () => {
    expect(errorOf(() => create({ accessLevel: undefined })).status).toBe(400);
    expect(errorOf(() => create({ accessLevel: 'read-only', permissions: ['list'] })).status).toBe(400);
  });
});

// ---------------------------------------------------------------------------------------------

describe('toUserV2: each field from upstream', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['id is the username', { id: 99, username: 'bob' }, { id: 'bob', username: 'bob', uri: 'sftp://bob@sftp.example.com:2022' }],
    ['status 1', { status: 1 }, { status: 'active' }],
    ['status 0', { status: 0 }, { status: 'disabled' }],
    ['description', { description: 'Acme Corp' }, { displayName: 'Acme Corp' }],
    ['no description', {}, { displayName: null }],
    ['empty description', { description: '' }, { displayName: null }],
    ['home_dir is home and jail', { home_dir: '/data/x' }, { homeDirectory: '/data/x', chrootDirectory: '/data/x' }],
    ['expiration_date', { expiration_date: 1828062698000 }, { expiresAt: '2027-12-06T03:11:38.000Z' }],
    ['expiration_date 0', { expiration_date: 0 }, { expiresAt: null }],
    ['public_keys', { public_keys: ['a', 'b'] }, { sshKeyCount: 2 }],
    ['no public_keys', {}, { sshKeyCount: 0 }],
    ['null public_keys', { public_keys: null }, { sshKeyCount: 0 }],
    ['created_at', { created_at: 1796526698718 }, { createdAt: '2026-12-06T03:11:38.718Z' }],
    ['created_at 0 (before 2.2.0)', { created_at: 0 }, { createdAt: null }],
    ['updated_at', { updated_at: 1796526699525 }, { updatedAt: '2026-12-06T03:11:39.525Z' }],
    ['last_login', { last_login: 1796526744023 }, { lastLoginAt: '2026-12-06T03:12:24.023Z' }],
    ['no last_login', {}, { lastLoginAt: null }],
    ['last_password_change', { last_password_change: 1796526699524 }, { passwordChangedAt: '2026-12-06T03:11:39.524Z' }],
    ['no last_password_change', { last_password_change: undefined }, { passwordChangedAt: null }],
    [
      'limits',
      { max_sessions: 2, quota_size: 10485760, quota_files: 100, upload_bandwidth: 512, download_bandwidth: 1024 },
      { limits: { maxSessions: 2, quotaBytes: 10485760, quotaFiles: 100, uploadKBps: 512, downloadKBps: 1024 } },
    ],
    ['limits 0 / omitted', {}, { limits: { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null } }],
    [
      'usage',
      { used_quota_size: 4096, used_quota_files: 3, last_quota_update: 1796526744023 },
      { usage: { bytes: 4096, files: 3, updatedAt: '2026-12-06T03:12:24.023Z' } },
    ],
    ['usage of a user with nothing stored (omitted)', {}, { usage: { bytes: 0, files: 0, updatedAt: null } }],
    ['directory permissions, sorted', { permissions: { '/': ['*'], '/z': ['list'], '/a': ['*'] } }, { directoryPermissions: { '/a': ALL, '/z': ['list'] } }],
    ['no sub-directories', {}, { directoryPermissions: {} }],
  ])('%s', (_, over, expected) => {
    expect(toUserV2(upstreamUser(over), ctx)).toMatchObject(expected);
  });

  it('host and uri follow the backend; no host, no uri', () => {
    expect(toUserV2(upstreamUser(), ctx)).toMatchObject({ host: 'sftp.example.com', uri: 'sftp://acme@sftp.example.com:2022', isRoot: false });
    expect(toUserV2(upstreamUser(), { ...ctx, sftpHost: null })).toMatchObject({ host: null, uri: null });
  });

  it('raw is the upstream object, unknown fields included, minus the password', () => {
    const u = upstreamUser({ future_field: { x: 1 }, password: 'secret' });
    const raw = toUserV2(u, ctx).raw();
    expect(raw).toMatchObject({ future_field: { x: 1 }, filesystem: { provider: 0 }, has_password: true });
    expect(raw).not.toHaveProperty('password');
  });

  it('network rules from filters.allowed_ip', () => {
    expect(networkRulesFromUpstream(upstreamUser({ filters: { allowed_ip: ['10.0.0.0/8'] } }))).toEqual([
      { id: '10.0.0.0_8', cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null },
    ]);
    expect(networkRulesFromUpstream(upstreamUser())).toEqual([]);
  });
});

describe('recorded 2.7.5 users', () => {
  const expected = {
    id: 'v2user', backend: 'onprem', provider: 'sftpgo', username: 'v2user', displayName: 'made by example',
    status: 'active', accessLevel: 'custom', permissions: ['list', 'download', 'upload'], directoryPermissions: { '/in': ALL },
    homeDirectory: '/srv/sftpgo/data/v2user', chrootDirectory: '/srv/sftpgo/data/v2user', expiresAt: '2027-12-06T03:11:38.000Z',
    sshKeyCount: 1, host: 'sftp.example.com', uri: 'sftp://v2user@sftp.example.com:2022', isRoot: false,
    limits: { maxSessions: 2, quotaBytes: 10485760, quotaFiles: 100, uploadKBps: 512, downloadKBps: 1024 },
    usage: { bytes: 0, files: 0, updatedAt: null },
    createdAt: '2026-12-06T03:11:38.718Z', updatedAt: '2026-12-06T03:11:38.718Z', lastLoginAt: null,
    passwordChangedAt: '2026-12-06T03:11:38.718Z',
  };

  it.each(['users-get.txt', 'users-create.txt'])('%s maps to the exact model user', (file) => {
    const body = recordedJson(readExchangeV2(file));
    const { raw, ...user } = toUserV2(parseUpstreamUserV2(body), ctx);
    expect(user).toEqual(expected);
    expect(raw()).toEqual(body); // no secrets in it: every field as sent
  });

  it('users-create.txt: the gateway writes the body that was recorded (less the unmodeled email, additional_info)', () => {
    const request = JSON.parse(readExchangeV2('users-create.txt').request?.body ?? '') as Record<string, unknown>;
    const key = (request.public_keys as string[])[0]!;
    const body = toUpstreamCreateV2({
      username: 'v2user', displayName: 'made by example', permissions: ['list', 'download', 'upload'],
      directoryPermissions: { '/in': ALL }, expiresAt: '2027-12-06T03:11:38.000Z',
      limits: { maxSessions: 2, quotaBytes: 10485760, quotaFiles: 100, uploadKBps: 512, downloadKBps: 1024 },
      networkRules: [{ cidr: '127.0.0.1', protocol: 'any', enabled: true, description: null }, { cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null }],
    }, { ...opts, password: 'V2-Passw0rd-123', publicKeys: [key] });
    const { email: _e, additional_info: _a, ...modeled } = request;
    expect(body).toEqual({ ...modeled, uid: 0, gid: 0 });
  });

  it.each([
    ['users-create-minimal.txt', 'disabled', '2026-12-06T03:11:39.524Z'],
    ['users-create-no-credentials-201.txt', 'disabled', null],
    ['users-get-after-empty-password.txt', 'disabled', '2026-12-06T03:11:39.524Z'],
  ])('%s: a create without status is disabled; times as sent', (file, status, passwordChangedAt) => {
    const user = toUserV2(parseUpstreamUserV2(recordedJson(readExchangeV2(file))), ctx);
    expect(user).toMatchObject({ status, accessLevel: 'full', permissions: ALL, displayName: null, passwordChangedAt });
  });

  it('a list is a bare array; a body that is not one is a 502', () => {
    expect(parseUpstreamUserListV2([upstreamUser(), upstreamUser({ username: 'b' })]).map((u) => u.username)).toEqual(['acme', 'b']);
    expect(errorOf(() => parseUpstreamUserListV2({ users: [] })).status).toBe(502);
    expect(errorOf(() => parseUpstreamUserV2({ ...upstreamUser(), permissions: ['*'] })).status).toBe(502);
    expect(errorOf(() => parseUpstreamUserV2({ ...upstreamUser(), permissions: { '/in': ['*'] } })).status).toBe(502);
  });
});

// ---------------------------------------------------------------------------------------------

describe('toUpstreamCreateV2: each field to upstream', () => {
  it('a minimal create sends status, home_dir, permissions and the password', () => {
    expect(create()).toEqual({
      status: 1, username: 'acme', expiration_date: 0, password: 'Gen-Passw0rd-1', public_keys: [],
      home_dir: '/srv/sftpgo/data/acme', uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0,
      upload_bandwidth: 0, download_bandwidth: 0, permissions: { '/': ['*'] },
    });
  });

  it.each<[string, Partial<UserCreate>, Record<string, unknown>]>([
    ['status disabled', { status: 'disabled' }, { status: 0 }],
    ['status active', { status: 'active' }, { status: 1 }],
    ['displayName → description', { displayName: 'Acme Corp' }, { description: 'Acme Corp' }],
    ['homeDirectory given (cleaned)', { homeDirectory: '/data/x/' }, { home_dir: '/data/x' }],
    ['chrootDirectory equal to home', { homeDirectory: '/data/x', chrootDirectory: '/data/x' }, { home_dir: '/data/x' }],
    ['expiresAt', { expiresAt: '2027-12-06T03:11:38.000Z' }, { expiration_date: 1828062698000 }],
    ['expiresAt null', { expiresAt: null }, { expiration_date: 0 }],
    ['expiresAt before 1970 (never "no expiration")', { expiresAt: '1960-01-01T00:00:00Z' }, { expiration_date: 1 }],
    [
      'limits',
      { limits: { maxSessions: 2, quotaBytes: 10, quotaFiles: 3, uploadKBps: 4, downloadKBps: 5 } },
      { max_sessions: 2, quota_size: 10, quota_files: 3, upload_bandwidth: 4, download_bandwidth: 5 },
    ],
    ['some limits', { limits: { quotaFiles: 3 } }, { max_sessions: 0, quota_files: 3 }],
    [
      'network rules (bare IP → /32, twice kept once)',
      { networkRules: [{ cidr: '10.0.0.1', protocol: 'any', enabled: true, description: null }, { cidr: '10.0.0.1/32', protocol: 'any', enabled: true, description: null }] },
      { filters: { allowed_ip: ['10.0.0.1/32'] } },
    ],
    ['directoryPermissions', { directoryPermissions: { '/in/': ['list'], '/out': ALL } }, { permissions: { '/': ['*'], '/in': ['list'], '/out': ['*'] } }],
  ])('%s', (_, over, expected) => {
    expect(create(over)).toMatchObject(expected);
  });

  it('no displayName, no rules: no description, no filters', () => {
    const body = create({ displayName: null, networkRules: [] });
    expect(body).not.toHaveProperty('description');
    expect(body).not.toHaveProperty('filters');
  });

  it('keys go to public_keys', () => {
    const key = keyOf('ed25519').publicKey;
    expect(toUpstreamCreateV2({ username: 'a', accessLevel: 'full' }, { ...opts, publicKeys: [key] }).public_keys).toEqual([key]);
  });

  it.each<[string, Partial<UserCreate>, string]>([
    ['a jail apart from home', { chrootDirectory: '/elsewhere' }, 'chrootDirectory'],
    ['no jail', { chrootDirectory: null }, 'chrootDirectory'],
    ['a rule for one protocol', { networkRules: [{ cidr: '10.0.0.0/8', protocol: 'sftp', enabled: true, description: null }] }, 'networkRules.0.protocol'],
    ['a disabled rule', { networkRules: [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: false, description: null }] }, 'networkRules.0.enabled'],
    ['a described rule', { networkRules: [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: 'office' }] }, 'networkRules.0.description'],
  ])('422: %s', (_, over, path) => {
    const err = errorOf(() => create(over));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(err.extra.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('a username that cannot name a home directory needs homeDirectory (400)', () => {
    expect(errorOf(() => create({ username: '..' })).status).toBe(400);
    expect(create({ username: '..', homeDirectory: '/data/dots' }).home_dir).toBe('/data/dots');
  });
});

// ---------------------------------------------------------------------------------------------

describe('mergeUserPatchV2: the whole user to PUT', () => {
  const key = keyOf('ed25519').publicKey;
  /** Every field the model does not carry, as 2.7.5 could send it, and one it does not know yet. */
  const unmodeled = {
    id: 12,
    email: 'ops@example.com',
    additional_info: 'ticket 42',
    role: 'support',
    uid: 1000,
    gid: 1000,
    has_password: true,
    first_upload: 1796526700000,
    upload_data_transfer: 100,
    download_data_transfer: 200,
    total_data_transfer: 300,
    used_upload_data_transfer: 7,
    used_download_data_transfer: 8,
    used_quota_size: 4096,
    used_quota_files: 3,
    last_quota_update: 1796526744023,
    last_login: 1796526744023,
    groups: [{ name: 'g1', type: 1 }],
    virtual_folders: [{ name: 'shared', virtual_path: '/shared', quota_size: -1 }],
    filesystem: { provider: 1, s3config: { bucket: 'b', region: 'eu', access_secret: { status: 'Secretbox', payload: 'x' } } },
    oidc_custom_fields: { department: 'ops' },
    future_field: { nested: [1, 2] },
  };
  const filters = {
    allowed_ip: ['10.0.0.0/8'],
    denied_ip: ['192.0.2.0/24'],
    hooks: { external_auth_disabled: true, pre_login_disabled: false, check_password_disabled: false },
    totp_config: { secret: {} },
    file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }],
  };
  const stored = upstreamUser({
    ...unmodeled, filters, description: 'Acme', expiration_date: 1828062698000, public_keys: [key],
    max_sessions: 2, quota_size: 10, quota_files: 3, upload_bandwidth: 4, download_bandwidth: 5,
    permissions: { '/': ['list', 'download'], '/in': ['*'], '/x': ['delete_files'] },
  });
  const storedCopy = structuredClone(stored);

  it.each<[string, UserPatch, { publicKeys?: string[] }, Record<string, unknown>]>([
    ['a status patch', { status: 'disabled' }, {}, { status: 0 }],
    ['a level patch (replaces / only)', { accessLevel: 'full' }, {}, { permissions: { '/': ['*'], '/in': ['*'], '/x': ['delete_files'] } }],
    ['a permissions patch', { permissions: ['delete_dirs', 'list'] }, {}, { permissions: { '/': ['list', 'delete_dirs'], '/in': ['*'], '/x': ['delete_files'] } }],
    ['a network-rules patch', { networkRules: [{ cidr: '203.0.113.9', protocol: 'any', enabled: true, description: null }] }, {}, { filters: { ...filters, allowed_ip: ['203.0.113.9/32'] } }],
    ['clearing the network rules', { networkRules: [] }, {}, { filters: { ...filters, allowed_ip: [] } }],
    ['a password set', { password: 'New-Passw0rd-9' }, {}, { password: 'New-Passw0rd-9' }],
    ['a key change', { sshKeys: [keyOf('rsa').publicKey] }, { publicKeys: [keyOf('rsa').publicKey] }, { public_keys: [keyOf('rsa').publicKey] }],
    ['removing every key', { sshKeys: [] }, { publicKeys: [] }, { public_keys: [] }],
    ['directoryPermissions replace every sub-directory', { directoryPermissions: { '/new': ['copy'] } }, {}, { permissions: { '/': ['list', 'download'], '/new': ['copy'] } }],
    ['directoryPermissions null clears them', { directoryPermissions: null }, {}, { permissions: { '/': ['list', 'download'] } }],
    ['a displayName', { displayName: 'Acme Corp' }, {}, { description: 'Acme Corp' }],
    ['an expiry', { expiresAt: null }, {}, { expiration_date: 0 }],
    ['a limit (the others kept)', { limits: { quotaFiles: null } }, {}, { quota_files: 0, quota_size: 10, max_sessions: 2 }],
    ['limits null (all unlimited)', { limits: null }, {}, { max_sessions: 0, quota_size: 0, quota_files: 0, upload_bandwidth: 0, download_bandwidth: 0 }],
    ['a homeDirectory (with the same jail)', { homeDirectory: '/data/new/', chrootDirectory: '/data/new' }, {}, { home_dir: '/data/new' }],
    ['the same username (no rename)', { username: 'acme' }, {}, {}],
    ['nothing', {}, {}, {}],
  ])('%s keeps every other field the server sent', (_, patch, mergeOpts, changed) => {
    const body = mergeUserPatchV2(stored, patch, mergeOpts);
    const { password: _p, ...rest } = body;
    expect(rest).toEqual({ ...storedCopy, ...changed, password: undefined });
    // The unmodeled fields explicitly, so a regression names one.
    expect(body).toMatchObject(unmodeled);
    if (!('filters' in changed)) expect(body.filters).toEqual(filters);
    expect(Object.hasOwn(body, 'password')).toBe('password' in changed);
    expect(stored).toEqual(storedCopy); // the stored user is not touched
  });

  it('status and home_dir and permissions are always in the body', () => {
    const body = mergeUserPatchV2(stored, { displayName: null });
    expect(body).toMatchObject({ status: 1, home_dir: '/srv/sftpgo/data/acme', permissions: stored.permissions });
  });

  it('displayName null removes the description', () => {
    expect(mergeUserPatchV2(stored, { displayName: null })).not.toHaveProperty('description');
  });

  it('a stored password (never sent by GET, but if it were) is not sent back', () => {
    const withPassword = upstreamUser({ password: '$2a$10$hash' });
    expect(mergeUserPatchV2(withPassword, { status: 'active' })).not.toHaveProperty('password');
    expect(mergeUserPatchV2(withPassword, { password: 'N3w-pass' }).password).toBe('N3w-pass');
  });

  it('the recorded user survives a read-merge-write: only the status changes', () => {
    const recorded = parseUpstreamUserV2(recordedJson(readExchangeV2('users-get.txt')));
    const body = mergeUserPatchV2(recorded, { status: 'disabled' });
    expect(body).toEqual({ ...(recordedJson(readExchangeV2('users-get.txt')) as object), status: 0 });
  });

  it.each<[string, UserPatch, number, string]>([
    ['an empty password', { password: '' }, 400, 'password'],
    ['a rename', { username: 'other' }, 422, 'username'],
    ['a jail apart from home', { chrootDirectory: '/elsewhere' }, 422, 'chrootDirectory'],
    ['level none', { accessLevel: 'none' }, 422, 'accessLevel'],
    ['permissions []', { permissions: [] }, 422, 'permissions'],
    ['a disabled rule', { networkRules: [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: false, description: null }] }, 422, 'networkRules.0.enabled'],
  ])('refused: %s', (_, patch, status, path) => {
    const err = errorOf(() => mergeUserPatchV2(stored, patch));
    expect(err.status).toBe(status);
    expect(err.extra.errors?.map((e) => e.path)).toEqual([path]);
  });
});

describe('round trip: a created body read back is the model asked for', () => {
  it.each<[string, Partial<UserCreate>]>([
    ['full', { accessLevel: 'full' }],
    ['custom with sub-directories', { accessLevel: undefined, permissions: ['list', 'delete_files', 'delete_dirs'], directoryPermissions: { '/in': ['upload'] } }],
    ['every field', { displayName: 'Acme', status: 'disabled', expiresAt: '2027-12-06T03:11:38.000Z', limits: { quotaBytes: 5, uploadKBps: 6 } }],
  ])('%s', (_, over) => {
    const body = create(over);
    const user = toUserV2(UpstreamUserV2.parse({ ...body, id: 1 }), ctx);
    const perms = over.permissions ?? ALL;
    expect(user).toMatchObject({
      permissions: perms, accessLevel: over.permissions ? 'custom' : 'full', directoryPermissions: over.directoryPermissions ?? {},
      displayName: over.displayName ?? null, status: over.status ?? 'active', expiresAt: over.expiresAt ?? null,
      limits: { maxSessions: null, quotaFiles: null, downloadKBps: null, quotaBytes: over.limits?.quotaBytes ?? null, uploadKBps: over.limits?.uploadKBps ?? null },
    });
  });
});
