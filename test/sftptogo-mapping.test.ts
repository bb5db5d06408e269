/**
 * The SFTP To Go mappings, both directions, as tables: pure functions, no emulator.
 */
import { describe, expect, it } from 'vitest';
import type { AccessLevel, NetworkRuleInput, Permission, UserCreate, UserPatch } from '../src/domain/model.js';
import { parseSshPublicKey } from '../src/domain/ssh-key.js';
import {
  isoFromMs, isoFromTime, keyTypeFromUpstream, levelFromUpstream, permissionToUpstream, protocolFromUpstream,
  protocolToUpstream, rawOf, rulesOf, sftpUri, statusFromUpstream, statusToUpstream, toNetworkRule, toSshKey,
  toUpstreamCreate, toUpstreamPatch, toUpstreamRules, toUser, type BackendContext,
} from '../adapters/sftptogo/mapping.js';
import { withoutUriPassword } from '../src/provider-kit/failure.js';
import {
  UpstreamCredential, UpstreamCredentialList, UpstreamInboundRule, UpstreamSshKey, parseUpstream,
} from '../adapters/sftptogo/schema.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { errorOf } from './helpers/errors.js';

const ctx: BackendContext = { backend: 'togo' };
const PASSWORD = '0hzw7ztvcrf245f6718pf0g0uyzi68nktlaco9rc';

/** The seed's create answer (with PasswordCreatedAt, which its list example has). */
function credential(over: Record<string, unknown> = {}): UpstreamCredential {
  return UpstreamCredential.parse({
    Alias: 'Test Credential',
    ChrootDirectory: '/',
    CreatedAt: 1616615059930,
    HomeDirectory: '/',
    Host: 'warm-soda-25793.sftptogo.com',
    Id: 'cfc211269c8c0f925c64b1a223d8eb',
    UserName: 'my-user-name',
    IsDefault: false,
    OrganizationId: '72e9cf24-be8c-4f15-9aa2-813281fb98fe',
    Password: PASSWORD,
    PasswordCreatedAt: '2020-10-26T07:19:26.908Z',
    Permission: 'read-write',
    SshPublicKeysCount: 0,
    Settings: {
      Network: {
        InboundRules: [{
          Action: 'allow', Description: 'Allow all inbound traffic from anywhere', Id: 'c1d91788-e46f-45a0-9c7b-386e90db000a',
          Protocol: 'SFTP', Source: '0.0.0.0/0', State: 'enabled',
        }],
      },
    },
    State: 'active',
    URI: `sftp://cfc211269c8c0f925c64b1a223d8eb:${PASSWORD}@warm-soda-25793.sftptogo.com`,
    UpdatedAt: 1616615059931,
    ...over,
  });
}


const create = (over: Partial<UserCreate> = {}): UserCreate => ({ username: 'acme_uploads', accessLevel: 'read-write', ...over });

describe('Permission ⇄ access level ⇄ permissions (CONTRACT §3)', () => {
  const table: Array<[string, AccessLevel, Permission[]]> = [
    ['none', 'none', []],
    ['read-only', 'read-only', ['list', 'download']],
    ['write-only', 'write-only', ['upload', 'create_dirs']],
    ['read-write', 'read-write', ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs']],
    ['full', 'full', ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks']],
  ];

  it.each(table)('%s ⇄ %s ⇄ %j', (permission, level, perms) => {
    expect(levelFromUpstream(permission)).toEqual({ accessLevel: level, permissions: perms });
    expect(permissionToUpstream(perms)).toBe(permission);
    expect(permissionToUpstream([...perms].reverse())).toBe(permission);
    expect(toUpstreamCreate(create({ accessLevel: level })).Permission).toBe(permission);
    expect(toUpstreamCreate(create({ accessLevel: undefined, permissions: [...perms].reverse() })).Permission).toBe(permission);
    expect(toUpstreamPatch({ accessLevel: level })).toEqual({ Permission: permission });
    const user = toUser(credential({ Permission: permission }), ctx);
    expect([user.accessLevel, user.permissions]).toEqual([level, perms]);
  });

  it.each([
    ['admin'], ['READ-ONLY'], ['read'], [''], ['custom'],
  ])('an unknown Permission %j reads as custom with no permissions, and raw keeps it', (permission) => {
    const c = credential({ Permission: permission });
    const user = toUser(c, ctx);
    expect([user.accessLevel, user.permissions]).toEqual(['custom', []]);
    expect(user.raw().Permission).toBe(permission);
  });

  it.each([
    [['list', 'upload'], { narrower: ['none'], broader: ['read-write'] }],
    [['list'], { narrower: ['none'], broader: ['read-only'] }],
    [['list', 'download', 'upload', 'create_dirs'], { narrower: ['read-only', 'write-only'], broader: ['read-write'] }],
    [['list', 'download', 'create_symlinks'], { narrower: ['read-only'], broader: ['full'] }],
  ] as Array<[Permission[], object]>)('a custom set %j is a 422 with the nearest levels %j', (perms, details) => {
    expect(permissionToUpstream(perms)).toBeUndefined();
    for (const fn of [() => toUpstreamCreate(create({ accessLevel: undefined, permissions: perms })), () => toUpstreamPatch({ permissions: perms })]) {
      const err = errorOf(fn);
      expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
      expect(err.extra.details).toEqual(details);
      expect(err.extra.errors).toEqual([{ path: 'permissions', message: expect.stringMatching(/none, read-only/) }]);
    }
  });

  const EIGHT: Permission[] = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks'];
  const OTHERS: Permission[] = ['chmod', 'chown', 'chtimes', 'delete_files', 'delete_dirs', 'rename_files', 'rename_dirs', 'copy'];

  it.each(EIGHT)('"%s" alone is a set SFTP To Go cannot store: 422 with the nearest levels, never widened', (name) => {
    const err = errorOf(() => toUpstreamPatch({ permissions: [name] }));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    const { narrower, broader } = err.extra.details as { narrower: AccessLevel[]; broader: AccessLevel[] };
    expect(narrower).toEqual(['none']);
    for (const level of broader) expect(levelFromUpstream(level).permissions, level).toContain(name);
  });

  it.each(OTHERS)('"%s" is a name SFTP To Go does not have: 422 naming it, at create and patch', (name) => {
    for (const fn of [() => toUpstreamCreate(create({ accessLevel: undefined, permissions: ['list', name] })), () => toUpstreamPatch({ permissions: [name] })]) {
      const err = errorOf(fn);
      expect([err.status, err.extra.errors?.[0]?.path]).toEqual([422, 'permissions']);
      expect(err.detail).toContain(`"${name}"`);
    }
  });

  it('directoryPermissions: {} and null are nothing to change; any sub-directory is a 422', () => {
    expect(toUpstreamPatch({ directoryPermissions: {} })).toEqual({});
    expect(toUpstreamPatch({ directoryPermissions: null })).toEqual({});
    const err = errorOf(() => toUpstreamCreate(create({ directoryPermissions: { '/in': ['list'] } })));
    expect([err.status, err.extra.errors?.[0]?.path]).toEqual([422, 'directoryPermissions']);
  });

  it('accessLevel and permissions that disagree are a 400; custom without permissions too', () => {
    expect(errorOf(() => toUpstreamCreate(create({ accessLevel: 'full', permissions: ['list'] }))).status).toBe(400);
    expect(errorOf(() => toUpstreamPatch({ accessLevel: 'read-only', permissions: ['upload', 'create_dirs'] })).status).toBe(400);
    expect(errorOf(() => toUpstreamPatch({ accessLevel: 'custom' })).status).toBe(400);
  });
});

describe('State ⇄ status', () => {
  it.each([
    ['active', 'active'],
    ['inactive', 'disabled'],
  ] as const)('%s ⇄ %s', (state, status) => {
    expect(statusFromUpstream(state)).toBe(status);
    expect(statusToUpstream(status)).toBe(state);
    expect(toUser(credential({ State: state }), ctx).status).toBe(status);
  });

  it.each([['suspended'], ['Active'], ['']])('an unknown State %j reads as disabled', (state) => {
    expect(statusFromUpstream(state)).toBe('disabled');
  });
});

describe('times', () => {
  it.each([
    [1616615059930, '2021-03-24T19:44:19.930Z'],
    [1565537159609, '2019-08-11T15:25:59.609Z'],
    [0, null], [-1, null], [null, null], [undefined, null], [9e15, null],
  ])('epoch ms %s → %s', (ms, iso) => {
    expect(isoFromMs(ms)).toBe(iso);
  });

  it.each([
    ['2020-10-26T07:19:26.908Z', '2020-10-26T07:19:26.908Z'],
    ['2020-10-26T07:19:26Z', '2020-10-26T07:19:26.000Z'],
    ['2020-10-26T09:19:26.908+02:00', '2020-10-26T07:19:26.908Z'],
    [1603696766908, '2020-10-26T07:19:26.908Z'],
    ['yesterday', null], ['', null], [null, null], [undefined, null],
  ])('PasswordCreatedAt %j → %s', (value, iso) => {
    expect(isoFromTime(value)).toBe(iso);
  });

  it('CreatedAt, UpdatedAt and PasswordCreatedAt map; there is no expiry or last login', () => {
    const user = toUser(credential(), ctx);
    expect(user).toMatchObject({
      createdAt: '2021-03-24T19:44:19.930Z', updatedAt: '2021-03-24T19:44:19.931Z', passwordChangedAt: '2020-10-26T07:19:26.908Z',
      expiresAt: null, lastLoginAt: null,
    });
    const bare = toUser(credential({ CreatedAt: undefined, UpdatedAt: undefined, PasswordCreatedAt: undefined }), ctx);
    expect([bare.createdAt, bare.updatedAt, bare.passwordChangedAt]).toEqual([null, null, null]);
  });
});

describe('Alias ⇄ displayName, ChrootDirectory ⇄ chrootDirectory, HomeDirectory ⇄ homeDirectory', () => {
  it.each([
    ['Test Credential', 'Test Credential'],
    ['', null],
  ])('Alias %j ⇄ displayName %j', (alias, displayName) => {
    expect(toUser(credential({ Alias: alias }), ctx).displayName).toBe(displayName);
    expect(toUpstreamPatch({ displayName })).toEqual({ Alias: alias });
    expect(toUpstreamCreate(create({ displayName })).Alias).toBe(alias);
  });

  it('a null or absent Alias reads as null', () => {
    expect(toUser(credential({ Alias: null }), ctx).displayName).toBeNull();
    expect(toUser(credential({ Alias: undefined }), ctx).displayName).toBeNull();
  });

  it.each([
    ['/', '/'],
    ['/home/acme', '/home/acme'],
    ['', null],
  ])('ChrootDirectory %j ⇄ chrootDirectory %j', (chroot, chrootDirectory) => {
    expect(toUser(credential({ ChrootDirectory: chroot }), ctx).chrootDirectory).toBe(chrootDirectory);
    expect(toUpstreamPatch({ chrootDirectory })).toEqual({ ChrootDirectory: chroot });
    expect(toUpstreamCreate(create({ chrootDirectory })).ChrootDirectory).toBe(chroot);
  });

  it('home and chroot are independent', () => {
    const user = toUser(credential({ HomeDirectory: '/home/acme/files', ChrootDirectory: '/home/acme' }), ctx);
    expect([user.homeDirectory, user.chrootDirectory]).toEqual(['/home/acme/files', '/home/acme']);
    expect(toUpstreamPatch({ homeDirectory: '/a', chrootDirectory: '/' })).toEqual({ HomeDirectory: '/a', ChrootDirectory: '/' });
  });
});

describe('host and uri', () => {
  it.each([
    ['my-user-name', 'warm-soda-25793.sftptogo.com', 'sftp://my-user-name@warm-soda-25793.sftptogo.com'],
    ['a.b_c-d1234', 'h.example', 'sftp://a.b_c-d1234@h.example'],
    ['my-user-name', '2001:db8::1', 'sftp://my-user-name@[2001:db8::1]'],
    ['my-user-name', '', null],
    ['my-user-name', null, null],
  ])('%s at %j → %s', (username, host, uri) => {
    expect(sftpUri(username, host)).toBe(uri);
  });

  it('the uri is rebuilt from UserName and Host, never the upstream URI with its password', () => {
    const user = toUser(credential(), ctx);
    expect(user.host).toBe('warm-soda-25793.sftptogo.com');
    expect(user.uri).toBe('sftp://my-user-name@warm-soda-25793.sftptogo.com');
    expect(user.uri).not.toContain(PASSWORD);
    const hostless = toUser(credential({ Host: undefined }), ctx);
    expect([hostless.host, hostless.uri]).toEqual([null, null]);
  });

  it.each([
    ['sftp://user:secret@host.example', 'sftp://user@host.example'],
    ['sftp://user@host.example', 'sftp://user@host.example'],
    ['see sftp://u:p%40ss@h and ftps://x:y@z/path', 'see sftp://u@h and ftps://x@z/path'],
    ['no url here: a:b@c', 'no url here: a:b@c'],
  ])('withoutUriPassword(%j) → %j', (text, clean) => {
    expect(withoutUriPassword(text)).toBe(clean);
  });
});

describe('toUser', () => {
  it('maps every field of the seed credential', () => {
    const { raw: _raw, ...user } = toUser(credential({ SshPublicKeysCount: 2 }), ctx);
    expect(user).toEqual({
      id: 'cfc211269c8c0f925c64b1a223d8eb', backend: 'togo', provider: 'sftptogo', username: 'my-user-name',
      displayName: 'Test Credential', status: 'active', accessLevel: 'read-write',
      permissions: ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'], directoryPermissions: null,
      homeDirectory: '/', chrootDirectory: '/', expiresAt: null, sshKeyCount: 2,
      host: 'warm-soda-25793.sftptogo.com', uri: 'sftp://my-user-name@warm-soda-25793.sftptogo.com', isRoot: false,
      limits: null, usage: null, createdAt: '2021-03-24T19:44:19.930Z', updatedAt: '2021-03-24T19:44:19.931Z',
      lastLoginAt: null, passwordChangedAt: '2020-10-26T07:19:26.908Z',
    });
  });

  it.each([
    [true, true], [false, false], [undefined, false], [null, false],
  ])('IsDefault %s → isRoot %s', (isDefault, isRoot) => {
    expect(toUser(credential({ IsDefault: isDefault }), ctx).isRoot).toBe(isRoot);
  });

  it('SshPublicKeysCount absent counts 0 keys', () => {
    expect(toUser(credential({ SshPublicKeysCount: undefined }), ctx).sshKeyCount).toBe(0);
  });
});

describe('raw', () => {
  it('keeps every field sent, documented or not, without Password and with a clean URI', () => {
    const c = credential({ MfaEnabled: false, Quota: { Bytes: 10 } });
    const raw = rawOf(c);
    expect(raw).not.toHaveProperty('Password');
    expect(raw.URI).toBe('sftp://cfc211269c8c0f925c64b1a223d8eb@warm-soda-25793.sftptogo.com');
    expect(raw.MfaEnabled).toBe(false);
    expect(raw.Quota).toEqual({ Bytes: 10 });
    expect(raw.PasswordCreatedAt).toBe('2020-10-26T07:19:26.908Z');
    expect(raw.Settings).toEqual(c.Settings);
    expect(Object.keys(raw).sort()).toEqual(Object.keys(c).filter((k) => k !== 'Password').sort());
    expect(JSON.stringify(toUser(c, ctx).raw())).not.toContain(PASSWORD);
  });

  it('never holds a password: nested password keys dropped, the value cut from any text', () => {
    const raw = rawOf(credential({
      Note: `password is ${PASSWORD}`,
      Extra: { password: 'nested-secret', Inner: [{ PASSWORD: 'x1234' }] },
      URI: `sftp://my-user-name:${encodeURIComponent(PASSWORD)}@h`,
    }));
    const text = JSON.stringify(raw);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('nested-secret');
    expect(text).not.toMatch(/"password"/i);
    expect(raw.Note).toBe('password is [redacted]');
    expect(raw.Extra).toEqual({ Inner: [{}] });
  });
});

describe('network rules', () => {
  const rule = (over: Record<string, unknown> = {}) =>
    UpstreamInboundRule.parse({ Action: 'allow', Description: 'office', Id: 'r-1', Protocol: 'SFTP', Source: '198.51.100.0/24', State: 'enabled', ...over });

  it.each([
    ['*', 'any'], ['SFTP', 'sftp'], ['FTPS', 'ftps'],
  ] as const)('Protocol %s ⇄ %s', (upstream, protocol) => {
    expect(protocolFromUpstream(upstream)).toBe(protocol);
    expect(protocolToUpstream(protocol)).toBe(upstream);
    expect(toNetworkRule(rule({ Protocol: upstream })).protocol).toBe(protocol);
  });

  it('reads a protocol in another case, and refuses an unknown one with 502 rather than guess', () => {
    expect(protocolFromUpstream('sftp')).toBe('sftp');
    expect(protocolFromUpstream('SSH')).toBeUndefined();
    const err = errorOf(() => toNetworkRule(rule({ Protocol: 'SSH' })));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
  });

  it.each([
    ['enabled', true], ['disabled', false], ['paused', false],
  ])('State %s → enabled %s', (state, enabled) => {
    expect(toNetworkRule(rule({ State: state })).enabled).toBe(enabled);
  });

  it.each([
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['203.0.113.7', '203.0.113.7/32'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['office-vpn', 'office-vpn'], // not parseable: kept as sent
  ])('Source %s → cidr %s', (source, cidr) => {
    expect(toNetworkRule(rule({ Source: source })).cidr).toBe(cidr);
  });

  it('Description "" or absent → null; the whole rule', () => {
    expect(toNetworkRule(rule())).toEqual({ id: 'r-1', cidr: '198.51.100.0/24', protocol: 'sftp', enabled: true, description: 'office' });
    expect(toNetworkRule(rule({ Description: '' })).description).toBeNull();
    expect(toNetworkRule(rule({ Description: undefined })).description).toBeNull();
  });

  it('rulesOf reads Settings.Network.InboundRules, none when absent', () => {
    expect(rulesOf(credential()).map((r) => r.Id)).toEqual(['c1d91788-e46f-45a0-9c7b-386e90db000a']);
    expect(rulesOf(credential({ Settings: undefined }))).toEqual([]);
    expect(rulesOf(credential({ Settings: { Network: {} } }))).toEqual([]);
  });

  it('writes Action allow, keeps a sent id as Id, omits Id otherwise, normalizes the CIDR', () => {
    const inputs: NetworkRuleInput[] = [
      { cidr: '203.0.113.7', protocol: 'any', enabled: true, description: null },
      { id: 'keep-me', cidr: '2001:db8::1', protocol: 'ftps', enabled: false, description: 'vpn' },
    ];
    expect(toUpstreamRules(inputs, (i) => `data.${i}.cidr`)).toEqual([
      { Action: 'allow', Protocol: '*', State: 'enabled', Source: '203.0.113.7/32', Description: '' },
      { Id: 'keep-me', Action: 'allow', Protocol: 'FTPS', State: 'disabled', Source: '2001:db8::1/128', Description: 'vpn' },
    ]);
  });

  it('round-trips: what is written reads back as the input', () => {
    const input: NetworkRuleInput = { id: 'r-9', cidr: '192.0.2.0/24', protocol: 'sftp', enabled: false, description: 'lab' };
    const [written] = toUpstreamRules([input], () => 'x');
    expect(toNetworkRule(UpstreamInboundRule.parse(written))).toEqual(input);
  });

  it('a CIDR that is not one is a 400 naming its path', () => {
    const err = errorOf(() => toUpstreamRules(
      [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null }, { cidr: 'not-an-ip', protocol: 'any', enabled: true, description: null }],
      (i) => `networkRules[${i}].cidr`,
    ));
    expect([err.status, err.extra.errors]).toEqual([400, [{ path: 'networkRules[1].cidr', message: 'not a CIDR' }]]);
  });
});

describe('SSH keys', () => {
  const upstreamKey = (over: Record<string, unknown> = {}) => UpstreamSshKey.parse({
    Comment: 'ladybug@Ladybugs-MacBook-Pro.local', CreatedAt: 1617354664883, Fingerprint: 'SHA256:RcoHnamHrApC',
    Id: '97285e07-09fd-42de-a1d0-997a0818310a', SshPublicKeyBody: keyOf('rsa').publicKey, Type: 'rsa',
    UpdatedAt: 1617354664883, UserId: '4ddb2ea265b8eaf7685b4e125a1292', ...over,
  });

  it('type and fingerprint come from the parsed body, not the upstream fields', async () => {
    const fx = keyOf('ecdsa');
    const k = upstreamKey({ SshPublicKeyBody: fx.publicKey, Type: 'rsa', Comment: fx.comment });
    expect(toSshKey(k, await parseSshPublicKey(k.SshPublicKeyBody))).toEqual({
      id: '97285e07-09fd-42de-a1d0-997a0818310a', type: 'ecdsa', fingerprint: fx.fingerprint, comment: fx.comment,
      publicKey: fx.publicKey, createdAt: '2021-04-02T09:11:04.883Z',
    });
  });

  it('Comment "" reads as the body comment or null', async () => {
    const withComment = upstreamKey({ Comment: '' });
    expect(toSshKey(withComment, await parseSshPublicKey(withComment.SshPublicKeyBody))!.comment).toBe(keyOf('rsa').comment);
    const bare = upstreamKey({ Comment: '', SshPublicKeyBody: keyOf('ed25519-no-comment').publicKey });
    expect(toSshKey(bare, await parseSshPublicKey(bare.SshPublicKeyBody))!.comment).toBeNull();
  });

  it("falls back to the upstream Type and Fingerprint when the body does not parse (as the seed's truncated example)", () => {
    const k = upstreamKey({ SshPublicKeyBody: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDS2KBmXgE...' });
    expect(toSshKey(k, null)).toMatchObject({ type: 'rsa', fingerprint: 'SHA256:RcoHnamHrApC', comment: 'ladybug@Ladybugs-MacBook-Pro.local' });
    expect(toSshKey(upstreamKey({ Type: 'ssh-ed25519' }), null)!.type).toBe('ed25519');
    expect(toSshKey(upstreamKey({ Type: 'quantum' }), null)).toBeNull();
    expect(toSshKey(upstreamKey({ Fingerprint: undefined }), null)).toBeNull();
  });

  it.each([
    ['rsa', 'rsa'], ['ed25519', 'ed25519'], ['ssh-rsa', 'rsa'], ['ecdsa-sha2-nistp256', 'ecdsa'], ['sk-ecdsa', 'sk-ecdsa'],
    ['RSA', undefined], ['', undefined], [null, undefined],
  ])('upstream Type %j → %j', (type, expected) => {
    expect(keyTypeFromUpstream(type)).toBe(expected);
  });
});

describe('create body', () => {
  it('sends UserName, Permission and State always; the rest only when given', () => {
    expect(toUpstreamCreate(create())).toEqual({ UserName: 'acme_uploads', Permission: 'read-write', State: 'active' });
    expect(toUpstreamCreate(create({
      accessLevel: 'read-only', status: 'disabled', displayName: 'Acme', homeDirectory: '/in', chrootDirectory: '/',
      expiresAt: null, limits: null, sshKeys: [], networkRules: [],
    }))).toEqual({
      UserName: 'acme_uploads', Permission: 'read-only', State: 'inactive', Alias: 'Acme', HomeDirectory: '/in', ChrootDirectory: '/',
    });
  });

  it.each([
    ['a 9-character username', { username: 'short_usr' }, 'username'],
    ['a 101-character username', { username: 'a'.repeat(101) }, 'username'],
    ['a username with a space', { username: 'acme uploads' }, 'username'],
    ['a username with a slash', { username: 'acme/uploads' }, 'username'],
    ['a password', { password: 'Chosen-pass-1' }, 'password'],
    ['an expiresAt', { expiresAt: '2030-01-01T00:00:00Z' }, 'expiresAt'],
    ['limits', { limits: { maxSessions: 2 } }, 'limits'],
    ['empty limits', { limits: {} }, 'limits'],
  ] as Array<[string, Partial<UserCreate>, string]>)('%s → 422 naming it', (_name, over, path) => {
    const err = errorOf(() => toUpstreamCreate(create(over)));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(err.extra.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('accepts the username bounds 10 and 100 and every allowed character', () => {
    expect(toUpstreamCreate(create({ username: 'Az09_.-xyz' })).UserName).toBe('Az09_.-xyz');
    expect(toUpstreamCreate(create({ username: 'b'.repeat(100) })).UserName).toHaveLength(100);
  });

  it('names every problem at once', () => {
    const err = errorOf(() => toUpstreamCreate(create({ username: 'x', password: 'p', accessLevel: undefined, permissions: ['list', 'upload'] })));
    expect(err.extra.errors?.map((e) => e.path)).toEqual(['username', 'password', 'permissions']);
    expect(err.extra.details).toEqual({ narrower: ['none'], broader: ['read-write'] });
  });

  it('needs accessLevel or permissions (400)', () => {
    const err = errorOf(() => toUpstreamCreate({ username: 'acme_uploads' }));
    expect([err.status, err.code]).toEqual([400, 'invalid_request']);
  });
});

describe('patch body', () => {
  it.each([
    [{}, {}],
    [{ expiresAt: null, limits: null }, {}],
    [{ status: 'disabled' }, { State: 'inactive' }],
    [{ status: 'active' }, { State: 'active' }],
    [{ username: 'renamed_user' }, { UserName: 'renamed_user' }],
    [{ permissions: ['download', 'list'] }, { Permission: 'read-only' }],
    [{ accessLevel: 'none' }, { Permission: 'none' }],
    [{ displayName: 'Acme', homeDirectory: '/x' }, { Alias: 'Acme', HomeDirectory: '/x' }],
    [{ networkRules: [] }, { Settings: { Network: { InboundRules: [] } } }],
    [{ networkRules: [{ cidr: '10.0.0.1', protocol: 'ftps', enabled: false, description: 'x', id: 'r1' }] },
      { Settings: { Network: { InboundRules: [{ Id: 'r1', Action: 'allow', Protocol: 'FTPS', State: 'disabled', Source: '10.0.0.1/32', Description: 'x' }] } } }],
    [{ sshKeys: ['ssh-ed25519 AAAA'] }, {}],
  ] as Array<[UserPatch, object]>)('%j → %j (only the named keys)', (patch, body) => {
    expect(toUpstreamPatch(patch)).toEqual(body);
  });

  it.each([
    [{ username: 'too_short' }, 'username'],
    [{ password: 'Patched-pass-1' }, 'password'],
    [{ expiresAt: '2030-01-01T00:00:00Z' }, 'expiresAt'],
    [{ limits: { quotaBytes: 10 } }, 'limits'],
  ] as Array<[UserPatch, string]>)('%j → 422 naming %s', (patch, path) => {
    const err = errorOf(() => toUpstreamPatch(patch));
    expect([err.status, err.extra.errors?.[0]?.path]).toEqual([422, path]);
  });
});

describe('schema', () => {
  it('accepts unknown fields and keeps them, and a credential without the optional ones', () => {
    const c = UpstreamCredential.parse({ ...credential(), MfaEnabled: true });
    expect((c as Record<string, unknown>).MfaEnabled).toBe(true);
    expect(UpstreamCredential.safeParse({ Id: 'a', UserName: 'b', HomeDirectory: '/', Permission: 'full', State: 'active' }).success).toBe(true);
  });

  it('refuses a 200 that is not a credential with a 502 that names the field, never the value', () => {
    for (const body of [{ Id: 'x' }, [], null, 'text', { ...credential(), Permission: 7 }, { ...credential(), Password: 42, Id: '' }]) {
      const err = errorOf(() => parseUpstream(UpstreamCredential, body, 'a credential'));
      expect([err.status, err.code]).toEqual([502, 'upstream_error']);
      expect(err.detail).toMatch(/^SFTP To Go answered 200 with a body that is not a credential/);
      expect(err.detail).not.toContain(PASSWORD);
    }
    expect(errorOf(() => parseUpstream(UpstreamCredentialList, {}, 'a list of credentials', 200)).status).toBe(502);
  });
});
