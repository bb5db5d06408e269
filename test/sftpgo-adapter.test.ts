/**
 * The SFTPGo adapter against the SFTPGo emulator, which answers as a real 1.2.2 server does (the
 * recordings) or, with `version: '0.9.4'`, in the seed's 0.9.x shape: in process (its `fetch`
 * injected) and once over a real socket. Each test checks the emulator's request log and state —
 * what really went upstream — not only what the adapter answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import type { CallContext, ProviderAdapter } from '../src/provider-kit/adapter.js';
import type { SftpgoBackendConfig } from '../adapters/sftpgo/index.js';
import { createLogger } from '../src/observability/logger.js';
import type { AdapterUser, NetworkRuleInput, Permission } from '../src/domain/model.js';
import { parseSshPublicKey, sshKeyIdOf } from '../src/domain/ssh-key.js';
import { createSftpgoAdapter } from '../adapters/sftpgo/index.js';
import { SFTPGO_FIELDS } from '../adapters/sftpgo/fields.js';
import { capabilitiesOf } from '../src/provider-kit/index.js';
import { createSftpgoEmulator, serveSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { keyOf, sshKeys } from './fixtures/ssh-keys.js';
import { failure } from './helpers/errors.js';

/** An adapter user with its lazy `raw` evaluated, for deep comparison. */
const plain = (u: AdapterUser) => ({ ...u, raw: u.raw() });

const config: SftpgoBackendConfig = {
  provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://sftpgo.test/', sftpHost: 'sftp.example.com', sftpPort: 2022,
  homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 2000,
};
const EIGHT: Permission[] = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks'];
const ELEVEN: Permission[] = [...EIGHT, 'chmod', 'chown', 'chtimes'];

let emu: SftpgoEmulator;
let adapter: ProviderAdapter;
let logLines: string[];
let ctx: CallContext;

beforeEach(() => {
  emu = createSftpgoEmulator({ scanDurationMs: 60_000 });
  adapter = createSftpgoAdapter(config, { backend: 'onprem', fetch: emu.fetch });
  logLines = [];
  ctx = { requestId: 'req-7', logger: createLogger({ level: 'warn', destination: { write: (l) => logLines.push(l) } }) };
});

afterEach(() => emu.reset()); // clears scan timers

/** The log as `METHOD path` lines, for compact assertions. */
const calls = (e: SftpgoEmulator = emu) => e.requests.map((r) => `${r.method} ${r.path}`);
const stored = (id: string, e: SftpgoEmulator = emu) => e.users.get(Number(id))!;
const rule = (cidr: string, over: Partial<NetworkRuleInput> = {}): NetworkRuleInput =>
  ({ cidr, protocol: 'any', enabled: true, description: null, ...over });

async function createAcme(extra: Record<string, unknown> = {}, a: ProviderAdapter = adapter, e: SftpgoEmulator = emu) {
  const { user } = await a.createUser({ username: 'acme_uploads', accessLevel: 'read-write', password: 'Initial-pass-1', ...extra }, ctx);
  e.clearRequests();
  return user;
}

/** A 0.9.x server and an adapter in front of it. */
function oldServer() {
  const e = createSftpgoEmulator({ version: '0.9.4', scanDurationMs: 60_000 });
  return { e, a: createSftpgoAdapter(config, { backend: 'onprem', fetch: e.fetch }) };
}

/**
 * What a real SFTPGo 2.x server answers to an API v1 client: its router's 404 under `/api/v1`
 * (reference/sftpgo-1.2.2-recorded/not-found-path.txt: the same router body), and under `/api/v2`
 * a 401 without a token (reference/sftpgo-2.7.5-recorded/users-401-no-auth.txt).
 */
function apiV2Server(): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const app = new Hono();
  app.use('*', async (c, next) => {
    requests.push(`${c.req.method} ${c.req.path}`);
    await next();
  });
  app.all('/api/v2/*', (c) => c.json({ error: 'no token found', message: 'Unauthorized' }, 401));
  app.notFound((c) => c.json({ message: 'Not Found' }, 404));
  return { fetch: async (input, init) => app.fetch(new Request(input, init)), requests };
}

/** The sftpgo columns of CONTRACT §2: 1.x, and 0.9.x (the seed's shape). */
const COMMON_CAPABILITIES = {
  displayName: false, independentChroot: false, rename: false, passwordSet: true, expiration: true, limits: true,
  usage: true, customPermissions: true, connections: true, quotaScans: true, passwordRotation: true, sshKeys: true,
};
const CAPABILITIES_1X = { ...COMMON_CAPABILITIES, networkRules: true, directoryPermissions: true };
const CAPABILITIES_09X = { ...COMMON_CAPABILITIES, networkRules: false, directoryPermissions: false };

describe('factory', () => {
  it('has the sftpgo capabilities of the contract, per shape; before any contact it assumes 1.x', () => {
    expect(adapter.provider).toBe('sftpgo');
    expect(capabilitiesOf(adapter)).toEqual(CAPABILITIES_1X);
    expect(adapter.fields).toBe(SFTPGO_FIELDS.map);
    expect(adapter.permissions).toEqual(ELEVEN);
    expect(adapter.server!()).toEqual({ apiVersion: null, serverVersion: null });
  });

  it('refuses a bad config at once, naming the field', () => {
    expect(() => createSftpgoAdapter({ ...config, baseUrl: 'ftp://x' }, { backend: 'onprem' })).toThrow(/backends\.onprem\.baseUrl/);
    expect(() => createSftpgoAdapter({ ...config, username: 'admin' }, { backend: 'onprem' })).toThrow(/password/);
    expect(() => createSftpgoAdapter({ ...config, apiVersion: 'v3' as never }, { backend: 'onprem' })).toThrow(/apiVersion: must be "auto", "v1" or "v2"/);
    expect(() => createSftpgoAdapter({ ...config, apiKey: 'id.secret' }, { backend: 'onprem' })).toThrow(/apiKey: REST API v1 .* has no API keys/);
  });
});

describe('finding the server', () => {
  it('a write asks /version once and remembers it: 1.2.2 is the map shape', async () => {
    await adapter.createUser({ username: 'first_user', accessLevel: 'full' }, ctx);
    await adapter.createUser({ username: 'second_user', accessLevel: 'full' }, ctx);
    expect(calls().filter((c) => c === 'GET /api/v1/version')).toHaveLength(1);
    expect(calls()[0]).toBe('GET /api/v1/version');
    expect(adapter.server!()).toEqual({ apiVersion: 'v1', serverVersion: '1.2.2' });
    expect(emu.requests.find((r) => r.method === 'POST')!.body).toMatchObject({ permissions: { '/': ['*'] } });
  });

  it('0.9.4 is the list shape: eight names, no network rules or directory permissions', async () => {
    const { e, a } = oldServer();
    await a.resolve!(ctx, 'networkRules');
    expect([capabilitiesOf(a), a.permissions, a.server!()]).toEqual([
      CAPABILITIES_09X, EIGHT, { apiVersion: 'v1', serverVersion: '0.9.4' },
    ]);
    await a.createUser({ username: 'old_user', accessLevel: 'full' }, ctx);
    expect(e.requests.find((r) => r.method === 'POST')!.body).toMatchObject({ permissions: ['*'] });
    expect(stored((await a.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx)).data[0]!.id, e).permissions).toEqual({ '/': ['*'] });
  });

  it('resolve asks only for a capability that depends on the version', async () => {
    await adapter.resolve!(ctx, 'sshKeys');
    expect(calls()).toEqual([]);
    await adapter.resolve!(ctx, 'directoryPermissions');
    await adapter.resolve!(ctx, 'networkRules');
    expect(calls()).toEqual(['GET /api/v1/version']);
  });

  it('before the server is found, a refusal that holds for either shape makes no call; one that depends on the shape asks first', async () => {
    for (const run of [
      () => adapter.createUser({ username: 'x_user', accessLevel: 'full', displayName: 'X' }, ctx),
      () => adapter.createUser({ username: 'x_user', permissions: ['copy'] }, ctx),
      () => adapter.updateUser('1', { chrootDirectory: null }, ctx),
      () => adapter.operations.networkRules!.replaceNetworkRules('1', [rule('10.0.0.0/8', { description: 'office' })], ctx),
    ]) {
      expect((await failure(run())).status).toBe(422);
    }
    expect(calls()).toEqual([]);
    // chmod exists on 1.x only: the 0.9.x server is asked, then refuses it.
    const { e, a } = oldServer();
    const err = await failure(a.createUser({ username: 'x_user', permissions: ['list', 'chmod'] }, ctx));
    expect([err.status, calls(e)]).toEqual([422, ['GET /api/v1/version']]);
    // On 1.2.2 the same create goes through.
    const { user } = await adapter.createUser({ username: 'x_user', permissions: ['list', 'chmod'] }, ctx);
    expect(user.permissions).toEqual(['list', 'chmod']);
    expect(calls()[0]).toBe('GET /api/v1/version');
  });

  it('concurrent first uses share one /version call', async () => {
    await Promise.all(Array.from({ length: 10 }, () => adapter.resolve!(ctx, 'networkRules')));
    expect(calls()).toEqual(['GET /api/v1/version']);
  });

  it('reads /version as an array too (the seed document), and a version it cannot read by one stored user', async () => {
    const arrayEmu = createSftpgoEmulator({ versionAsArray: true, version: '0.9.4' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: arrayEmu.fetch });
    await a.resolve!(ctx, 'networkRules');
    expect([a.server!().serverVersion, capabilitiesOf(a).networkRules]).toEqual(['0.9.4', false]);

    for (const [version, seeded, networkRules] of [['0.9.4', 1, false], ['1.2.2', 1, true], ['0.9.4', 0, true]] as const) {
      const e = createSftpgoEmulator({ version });
      e.seedUsers(seeded);
      const odd: typeof fetch = async (input, init) =>
        new URL(String(input)).pathname === '/api/v1/version' ? Response.json({ version: 'dev-build' }) : e.fetch(input, init);
      const b = createSftpgoAdapter(config, { backend: 'onprem', fetch: odd });
      await b.resolve!(ctx, 'networkRules');
      // No users: 1.x, what servers run.
      expect([b.server!(), capabilitiesOf(b).networkRules], `${version}, ${seeded} user`).toEqual([
        { apiVersion: 'v1', serverVersion: 'dev-build' }, networkRules,
      ]);
    }
  });

  it('an answer in the other shape (the server was replaced) makes it find the server again', async () => {
    let target = emu;
    const switching: typeof fetch = (input, init) => target.fetch(input, init);
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: switching });
    await a.resolve!(ctx, 'networkRules');
    expect(a.server!().serverVersion).toBe('1.2.2');
    const { e: old } = oldServer();
    old.seedUsers(1);
    target = old;
    const read = await a.getUser('1', ctx);
    expect([read.permissions, read.directoryPermissions]).toEqual([EIGHT, null]);
    expect([a.server!(), capabilitiesOf(a).networkRules]).toEqual([{ apiVersion: null, serverVersion: null }, false]);
    await a.resolve!(ctx, 'networkRules');
    expect(a.server!().serverVersion).toBe('0.9.4');
  });

  it('a 400 saying the body had the other shape is a 502 naming it, and the server is found again', async () => {
    let lie = true;
    const lying: typeof fetch = async (input, init) =>
      lie && new URL(String(input)).pathname === '/api/v1/version' ? Response.json({ version: '0.9.4' }) : emu.fetch(input, init);
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: lying });
    const err = await failure(a.createUser({ username: 'shape_user', accessLevel: 'full' }, ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    expect(err.detail).toBe(
      'SFTPGo refused the request the gateway built (400 on POST /api/v1/user): ' +
        'json: cannot unmarshal array into Go struct field User.permissions of type map[string][]string',
    );
    lie = false;
    await a.createUser({ username: 'shape_user', accessLevel: 'full' }, ctx);
    expect(a.server!().serverVersion).toBe('1.2.2');
    // The lie was answered beside the emulator: the one /version it saw is the second finding.
    expect(calls().filter((c) => c === 'GET /api/v1/version')).toHaveLength(1);
  });

  it('an API v2 server (SFTPGo 2.x): a 502 that says so, never "user 1 not found"; health not ok', async () => {
    const v2 = apiV2Server();
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: v2.fetch });
    const speaksV2 = /^the SFTPGo server at http:\/\/sftpgo\.test speaks REST API v2 \(SFTPGo 2\.x\), not API v1/;
    for (const run of [() => a.getUser('1', ctx), () => a.deleteUser('1', ctx), () => a.createUser({ username: 'x', accessLevel: 'full' }, ctx),
      () => a.updateUser('1', { status: 'disabled' }, ctx), () => a.operations.passwordRotation!.rotatePassword('1', ctx), () => a.resolve!(ctx, 'networkRules')]) {
      const err = await failure(run());
      expect([err.status, err.code], err.detail).toEqual([502, 'upstream_error']);
      expect(err.detail).toMatch(speaksV2);
    }
    expect(await a.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(speaksV2) });
    expect(v2.requests).toContain('GET /api/v2/version');
  });

  it('nothing under /api/v1 nor /api/v2: a 502 about the baseUrl; credentials refused: a 502 naming the setting', async () => {
    const nothing = createSftpgoAdapter(config, { backend: 'onprem', fetch: async () => Response.json({ message: 'Not Found' }, { status: 404 }) });
    expect((await failure(nothing.getUser('1', ctx))).detail).toMatch(/no SFTPGo REST API at http:\/\/sftpgo\.test .*baseUrl the server root/);
    const locked = createSftpgoEmulator({ basicAuth: { username: 'admin', password: 'Right-pass-1' } });
    const wrong = createSftpgoAdapter({ ...config, username: 'admin', password: 'Wrong-pass-1' }, { backend: 'onprem', fetch: locked.fetch });
    const err = await failure(wrong.createUser({ username: 'x_user', accessLevel: 'full' }, ctx));
    expect([err.status, err.detail]).toEqual([
      502, "SFTPGo rejected the gateway's own credentials (401 on GET /api/v1/version): check the backend's username and password",
    ]);
  });
});

describe('createUser, 1.x', () => {
  it('checks the username, then POSTs the user with a generated password, the normalized keys and the map', async () => {
    const key = keyOf('ed25519');
    const { user, generatedPassword } = await adapter.createUser(
      { username: 'acme_uploads', accessLevel: 'read-only', sshKeys: [`  ${key.publicKey}  `], limits: { quotaFiles: 10 } },
      ctx,
    );
    expect(calls()).toEqual(['GET /api/v1/version', 'GET /api/v1/user', 'POST /api/v1/user']);
    expect(emu.requests[1]!.query).toEqual({ username: 'acme_uploads', limit: '1', offset: '0', order: 'ASC' });
    const body = emu.requests[2]!.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'download_bandwidth', 'expiration_date', 'gid', 'home_dir', 'max_sessions', 'password', 'permissions', 'public_keys',
      'quota_files', 'quota_size', 'status', 'uid', 'upload_bandwidth', 'username',
    ]);
    expect(body).toMatchObject({
      uid: 0, gid: 0, status: 1, home_dir: '/srv/sftpgo/data/acme_uploads', permissions: { '/': ['list', 'download'] },
      public_keys: [key.publicKey], quota_files: 10, password: generatedPassword,
    });
    expect(generatedPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(stored(user.id).password).toBe(generatedPassword);
    expect(user).toMatchObject({
      username: 'acme_uploads', sshKeyCount: 1, accessLevel: 'read-only', permissions: ['list', 'download'], directoryPermissions: {},
      status: 'active', homeDirectory: '/srv/sftpgo/data/acme_uploads', chrootDirectory: '/srv/sftpgo/data/acme_uploads',
      limits: { quotaFiles: 10, quotaBytes: null }, usage: { bytes: 0, files: 0, updatedAt: null },
      uri: 'sftp://acme_uploads@sftp.example.com:2022',
    });
    expect(user.raw()).not.toHaveProperty('password');
    expect(plain(user)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('sends sub-directory permissions and network rules, and reads them back as stored', async () => {
    const user = await createAcme({
      permissions: ['list', 'download', 'chmod'], accessLevel: undefined,
      directoryPermissions: { '/in/': ['upload', 'list'], '/all': ELEVEN }, networkRules: [rule('192.0.2.7'), rule('10.0.0.0/8')],
    });
    expect(stored(user.id).permissions).toEqual({ '/': ['list', 'download', 'chmod'], '/all': ['*'], '/in': ['list', 'upload'] });
    expect(stored(user.id).filters).toMatchObject({ allowed_ip: ['192.0.2.7/32', '10.0.0.0/8'] });
    expect([user.accessLevel, user.directoryPermissions]).toEqual(['custom', { '/all': ELEVEN, '/in': ['list', 'upload'] }]);
    expect(await adapter.operations.networkRules!.listNetworkRules(user.id, ctx)).toEqual([
      { id: '192.0.2.7_32', cidr: '192.0.2.7/32', protocol: 'any', enabled: true, description: null },
      { id: '10.0.0.0_8', cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null },
    ]);
  });

  it('sends the caller password and returns none; full is *', async () => {
    const result = await adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', password: 'Caller-chosen-1' }, ctx);
    expect(result.generatedPassword).toBeUndefined();
    expect(stored(result.user.id).password).toBe('Caller-chosen-1');
    expect(stored(result.user.id).permissions).toEqual({ '/': ['*'] });
    expect([result.user.accessLevel, result.user.permissions]).toEqual(['full', ELEVEN]);
  });

  it('answers 409 for a taken username without POSTing', async () => {
    emu.seedUsers(1, 'taken');
    await adapter.resolve!(ctx, 'networkRules');
    emu.clearRequests();
    const err = await failure(adapter.createUser({ username: 'taken00001', accessLevel: 'full' }, ctx));
    expect([err.status, err.detail]).toEqual([409, 'username "taken00001" is already taken']);
    expect(calls()).toEqual(['GET /api/v1/user']);
  });

  it.each(['sqlite', 'memory'] as const)('turns the 500 of a racing create (%s data provider) into 409', async (dataProvider) => {
    const e = createSftpgoEmulator({ dataProvider });
    e.seedUsers(1, 'race');
    // The check runs before the other create lands: it sees no user.
    const racing: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      if (url.pathname === '/api/v1/user' && url.searchParams.has('username')) return Response.json([]);
      return e.fetch(input, init);
    };
    const raced = createSftpgoAdapter(config, { backend: 'onprem', fetch: racing });
    const err = await failure(raced.createUser({ username: 'race00001', accessLevel: 'full', password: 'Secret-pass-9' }, ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
    expect(calls(e).at(-1)).toBe('POST /api/v1/user');
    expect([...e.users.values()].filter((u) => u.username === 'race00001')).toHaveLength(1);
  });

  it.each([
    ['displayName', { displayName: 'Acme' }, 422],
    ['a rule for one protocol', { networkRules: [rule('10.0.0.0/8', { protocol: 'sftp' })] }, 422],
    ['a permission 1.x does not have', { permissions: ['list', 'copy'], accessLevel: undefined }, 422],
    ['a sub-directory name 1.x does not have', { directoryPermissions: { '/in': ['delete_files'] } }, 422],
    ['a null chrootDirectory', { chrootDirectory: null }, 422],
    ['a chrootDirectory apart from home', { chrootDirectory: '/srv' }, 422],
    ['no permissions at all', { accessLevel: 'none' }, 422],
    ['neither accessLevel nor permissions', { accessLevel: undefined }, 400],
    ['two keys for one directory', { directoryPermissions: { '/a': ['list'], '/a/': ['upload'] } }, 400],
    ['a rule that is no CIDR', { networkRules: [rule('300.1.1.1')] }, 400],
    ['a bad SSH key', { sshKeys: ['ssh-ed25519 nope'] }, 400],
    ['the same key twice', { sshKeys: [keyOf('rsa').publicKey, `${keyOf('rsa').publicKey.split(' ').slice(0, 2).join(' ')} other`] }, 400],
  ])('refuses %s before any user call', async (_name, extra, status) => {
    await adapter.resolve!(ctx, 'networkRules');
    emu.clearRequests();
    const err = await failure(adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', ...extra } as never, ctx));
    expect(err.status).toBe(status);
    expect(emu.requests).toEqual([]);
  });

  it('names the bad key by its index', async () => {
    const err = await failure(adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', sshKeys: [keyOf('rsa').publicKey, 'garbage'] }, ctx));
    expect(err.extra.errors?.[0]?.path).toBe('sshKeys[1]');
  });

  it('gives the nearest levels for the empty set', async () => {
    const err = await failure(adapter.createUser({ username: 'acme_uploads', permissions: [] }, ctx));
    expect(err.extra.details).toEqual({ narrower: [], broader: ['read-only', 'write-only'] });
  });
});

describe('createUser, 0.9.x', () => {
  it('POSTs the seed document\'s whole user with the list, and answers with the keys it sent', async () => {
    const { e, a } = oldServer();
    const key = keyOf('ed25519');
    const { user } = await a.createUser({ username: 'acme_uploads', accessLevel: 'read-only', sshKeys: [key.publicKey] }, ctx);
    const body = e.requests.find((r) => r.method === 'POST')!.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'download_bandwidth', 'expiration_date', 'gid', 'home_dir', 'last_login', 'last_quota_update', 'max_sessions',
      'password', 'permissions', 'public_keys', 'quota_files', 'quota_size', 'status', 'uid', 'upload_bandwidth',
      'used_quota_file', 'used_quota_size', 'username',
    ]);
    expect(body.permissions).toEqual(['list', 'download']);
    // 0.9.x answers the create without keys: the adapter adds the ones it sent, with no extra GET.
    expect([user.sshKeyCount, user.directoryPermissions]).toEqual([1, null]);
    expect(calls(e).filter((c) => c.startsWith('GET /api/v1/user/'))).toEqual([]);
  });

  it.each([
    ['network rules', { networkRules: [rule('10.0.0.0/8')] }],
    ['sub-directory permissions', { directoryPermissions: { '/in': ['list'] } }],
    ['a 1.x permission', { permissions: ['list', 'chmod'], accessLevel: undefined }],
  ])('refuses %s with 422 before any user call', async (_name, extra) => {
    const { e, a } = oldServer();
    await a.resolve!(ctx, 'networkRules');
    e.clearRequests();
    const err = await failure(a.createUser({ username: 'acme_uploads', accessLevel: 'full', ...extra } as never, ctx));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(e.requests).toEqual([]);
  });
});

describe('getUser and ids', () => {
  it.each(['0', '-1', 'abc', '01', '1.5', '2147483648', '99999999999', ''])('%j cannot exist: 404 without a call', async (id) => {
    const err = await failure(adapter.getUser(id, ctx));
    expect([err.status, err.detail]).toEqual([404, `user ${id} not found`]);
    expect(emu.requests).toEqual([]);
  });

  it("maps SFTPGo's own 404 (with its error text) to not found, with no other call", async () => {
    const err = await failure(adapter.getUser('2147483647', ctx));
    expect([err.status, err.detail]).toEqual([404, 'user 2147483647 not found']);
    expect(calls()).toEqual(['GET /api/v1/user/2147483647']);
  });

  it('sends the request id and no credentials when none are configured', async () => {
    await failure(adapter.getUser('5', ctx));
    expect(emu.requests[0]!.headers['x-request-id']).toBe('req-7');
    expect(emu.requests[0]!.headers).not.toHaveProperty('authorization');
  });

  it('reads usage after a quota update (server spelling used_quota_files)', async () => {
    const user = await createAcme();
    Object.assign(stored(user.id), { used_quota_size: 4096, used_quota_files: 3, last_quota_update: 1616615059930 });
    expect((await adapter.getUser(user.id, ctx)).usage).toEqual({ bytes: 4096, files: 3, updatedAt: '2021-03-24T19:44:19.930Z' });
  });

  it('answers 502 for a 200 that is not a user', async () => {
    const odd = createSftpgoAdapter(config, { backend: 'onprem', fetch: async () => Response.json({ id: 'seven' }) });
    const err = await failure(odd.getUser('7', ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    expect(err.detail).toMatch(/SFTPGo answered 200 with a body that is not a user/);
  });
});

describe('listUsers', () => {
  const list = (q: Partial<Parameters<ProviderAdapter['listUsers']>[0]>) =>
    adapter.listUsers({ limit: 100, offset: 0, order: 'asc', ...q }, ctx);

  it('asks limit+1 and pages by offset', async () => {
    emu.seedUsers(7);
    const first = await list({ limit: 3 });
    expect(first.data.map((u) => u.username)).toEqual(['user00001', 'user00002', 'user00003']);
    expect(first.nextOffset).toBe(3);
    expect(emu.requests[0]!.query).toEqual({ offset: '0', limit: '4', order: 'ASC' });
    const last = await list({ limit: 3, offset: 6 });
    expect([last.data.map((u) => u.username), last.nextOffset]).toEqual([['user00007'], null]);
    const exact = await list({ limit: 4, offset: 3 });
    expect(exact.nextOffset).toBeNull();
  });

  it('orders DESC and filters by exact username', async () => {
    emu.seedUsers(3);
    expect((await list({ order: 'desc' })).data.map((u) => u.username)).toEqual(['user00003', 'user00002', 'user00001']);
    expect(emu.requests[0]!.query.order).toBe('DESC');
    emu.clearRequests();
    const one = await list({ username: 'user00002' });
    expect([one.data.map((u) => u.username), one.nextOffset]).toEqual([['user00002'], null]);
    expect(emu.requests[0]!.query.username).toBe('user00002');
  });

  it('at limit 500 asks 500, then probes one at offset+500', async () => {
    emu.seedUsers(501);
    const page = await list({ limit: 500 });
    expect([page.data.length, page.nextOffset]).toEqual([500, 500]);
    expect(emu.requests.map((r) => r.query)).toEqual([
      { offset: '0', limit: '500', order: 'ASC' },
      { offset: '500', limit: '1', order: 'ASC' },
    ]);
    emu.users.delete(501);
    expect((await list({ limit: 500 })).nextOffset).toBeNull();
  });

  it('filters by status by scanning pages, resuming just after the last user consumed', async () => {
    emu.seedUsers(1200);
    for (const id of [3, 600, 601, 1150]) emu.users.get(id)!.status = 0;
    const first = await list({ status: 'disabled', limit: 2 });
    expect(first.data.map((u) => u.id)).toEqual(['3', '600']);
    expect(first.nextOffset).toBe(600); // position 599 held user 600
    expect(emu.requests.map((r) => r.query.offset)).toEqual(['0', '500']);
    expect(emu.requests.every((r) => r.query.limit === '500')).toBe(true);
    const second = await list({ status: 'disabled', limit: 2, offset: first.nextOffset! });
    expect([second.data.map((u) => u.id), second.nextOffset]).toEqual([['601', '1150'], null]);
    const active = await list({ status: 'active', limit: 3 });
    expect(active.data.map((u) => u.id)).toEqual(['1', '2', '4']);
    expect(active.nextOffset).toBe(4);
  });

  it('stops a status scan after 20 upstream pages with the position reached', async () => {
    emu.seedUsers(10_050);
    emu.users.get(10_040)!.status = 0;
    const first = await list({ status: 'disabled', limit: 10 });
    expect([first.data, first.nextOffset]).toEqual([[], 10_000]);
    expect(emu.requests).toHaveLength(20);
    const next = await list({ status: 'disabled', limit: 10, offset: 10_000 });
    expect([next.data.map((u) => u.id), next.nextOffset]).toEqual([['10040'], null]);
  });
});

describe('updateUser', () => {
  it('reads, merges and PUTs the whole user with its id, without a password key', async () => {
    const user = await createAcme({ limits: { maxSessions: 2, quotaBytes: 100 }, sshKeys: [keyOf('rsa').publicKey] });
    const updated = await adapter.updateUser(user.id, { status: 'disabled', limits: { quotaBytes: null }, expiresAt: '2030-01-01T00:00:00Z' }, ctx);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`, `PUT /api/v1/user/${user.id}`]);
    const body = emu.requests[1]!.body as Record<string, unknown>;
    expect(body).not.toHaveProperty('password');
    expect(body).toMatchObject({ id: Number(user.id), status: 0, max_sessions: 2, quota_size: 0, public_keys: [keyOf('rsa').publicKey] });
    expect(updated).toMatchObject({ status: 'disabled', expiresAt: '2030-01-01T00:00:00.000Z', limits: { maxSessions: 2, quotaBytes: null }, sshKeyCount: 1 });
    expect(stored(user.id)).toMatchObject({ status: 0, quota_size: 0, max_sessions: 2, password: 'Initial-pass-1' });
    expect(plain(updated)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('sends a password only when the patch has one', async () => {
    const user = await createAcme();
    await adapter.updateUser(user.id, { password: 'Patched-pass-2' }, ctx);
    expect((emu.requests[1]!.body as { password: string }).password).toBe('Patched-pass-2');
    expect(stored(user.id).password).toBe('Patched-pass-2');
  });

  it('treats the same username as no rename and refuses another with 422 after one read, before any PUT', async () => {
    const user = await createAcme();
    await adapter.updateUser(user.id, { username: 'acme_uploads', accessLevel: 'full' }, ctx);
    expect(stored(user.id).permissions).toEqual({ '/': ['*'] });
    emu.clearRequests();
    const err = await failure(adapter.updateUser(user.id, { username: 'renamed' }, ctx));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`]);
  });

  it.each([
    ['a display name', { displayName: 'x' }, 422],
    ['a permission 1.x lacks', { permissions: ['copy'] }, 422],
    ['a null jail', { chrootDirectory: null }, 422],
    ['a jail apart from the new home', { homeDirectory: '/a', chrootDirectory: '/b' }, 422],
    ['an empty root set', { permissions: [] }, 422],
    ['a rule with a description', { networkRules: [rule('10.0.0.0/8', { description: 'office' })] }, 422],
    ['a rule that is no CIDR', { networkRules: [rule('10.0.0.0/40')] }, 400],
    ['a key that does not parse', { sshKeys: ['ssh-rsa AAAA'] }, 400],
    ['disagreeing level and set', { accessLevel: 'read-only', permissions: ['upload'] }, 400],
  ])('refuses %s before any call', async (_name, patch, status) => {
    const user = await createAcme();
    const before = structuredClone(stored(user.id));
    const err = await failure(adapter.updateUser(user.id, patch as never, ctx));
    expect(err.status).toBe(status);
    expect(emu.requests).toEqual([]);
    expect(stored(user.id)).toEqual(before);
  });

  it('moves the jail with homeDirectory and refuses a chroot apart from it', async () => {
    const user = await createAcme();
    const moved = await adapter.updateUser(user.id, { homeDirectory: '/data/acme' }, ctx);
    expect([moved.homeDirectory, moved.chrootDirectory]).toEqual(['/data/acme', '/data/acme']);
    const err = await failure(adapter.updateUser(user.id, { chrootDirectory: '/data' }, ctx));
    expect(err.status).toBe(422);
  });

  it('keeps both of two concurrent patches (read-merge-write under a per-user lock)', async () => {
    const user = await createAcme();
    await Promise.all([
      adapter.updateUser(user.id, { status: 'disabled' }, ctx),
      adapter.updateUser(user.id, { limits: { quotaFiles: 77 } }, ctx),
      adapter.updateUser(user.id, { accessLevel: 'read-only' }, ctx),
    ]);
    expect(stored(user.id)).toMatchObject({ status: 0, quota_files: 77, permissions: { '/': ['list', 'download'] } });
    expect(calls()).toEqual(Array(3).fill([`GET /api/v1/user/${user.id}`, `PUT /api/v1/user/${user.id}`]).flat());
  });

  it('reads but does not write for an empty patch', async () => {
    const user = await createAcme();
    expect(plain(await adapter.updateUser(user.id, {}, ctx))).toEqual(plain(await adapter.getUser(user.id, ctx)));
    expect(calls()).toEqual(Array(2).fill(`GET /api/v1/user/${user.id}`));
  });

  it('answers 404 for an unknown user, and for an impossible id without a call (as a rejection)', async () => {
    expect((await failure(adapter.updateUser('999', { status: 'active' }, ctx))).status).toBe(404);
    emu.clearRequests();
    for (const call of [
      () => adapter.updateUser('0', {}, ctx), () => adapter.operations.passwordRotation!.rotatePassword('x', ctx), () => adapter.operations.passwordSet!.setPassword('-1', 'Abcdefgh1', ctx),
      () => adapter.operations.sshKeys!.addSshKey('abc', {} as never, ctx), () => adapter.operations.sshKeys!.deleteSshKey('', 'k', ctx), () => adapter.deleteUser('1e3', ctx),
      () => adapter.operations.sshKeys!.listSshKeys('3000000000', ctx), () => adapter.operations.quotaScans!.startQuotaScan('07', ctx),
      () => adapter.operations.networkRules!.listNetworkRules('0', ctx), () => adapter.operations.networkRules!.replaceNetworkRules('a', [], ctx),
    ]) {
      expect((await failure(call())).status).toBe(404);
    }
    expect(emu.requests).toEqual([]);
  });
});

describe('nothing the model does not carry is lost (1.x)', () => {
  /** A user with everything: sub-directories, filters beyond allowed_ip, virtual folders, uid/gid, a later server's field. */
  async function fullUser() {
    const user = await createAcme({ sshKeys: [keyOf('rsa').publicKey], networkRules: [rule('192.0.2.0/24')] });
    const u = stored(user.id);
    u.permissions = { ...u.permissions, '/legacy': ['*'], '/drop': ['upload'], '/locked': [] };
    u.filters = {
      ...u.filters, denied_ip: ['10.9.9.0/24'], denied_login_methods: ['keyboard-interactive'], denied_protocols: ['FTP'],
      file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }], max_upload_file_size: 1_048_576,
    };
    u.virtual_folders = [{
      id: 1, mapped_path: '/srv/shared-folder', used_quota_size: 0, used_quota_files: 0, last_quota_update: 0,
      virtual_path: '/shared', quota_size: -1, quota_files: -1,
    }];
    u.uid = 1001;
    u.gid = 1002;
    u.extra = { future_field: { added_by: 'a later server' } };
    return user;
  }
  const whole = (id: string) => structuredClone(stored(id));

  it.each<[string, (id: string) => Promise<unknown>, (before: ReturnType<typeof whole>) => void]>([
    ['a status patch', (id) => adapter.updateUser(id, { status: 'disabled' }, ctx), (b) => void (b.status = 0)],
    ['a root level replaces "/" only', (id) => adapter.updateUser(id, { accessLevel: 'full' }, ctx), (b) => void (b.permissions['/'] = ['*'])],
    ['directoryPermissions replace every other directory', (id) => adapter.updateUser(id, { directoryPermissions: { '/out/': ['list'] } }, ctx),
      (b) => void (b.permissions = { '/': b.permissions['/']!, '/out': ['list'] })],
    ['networkRules replace allowed_ip only', (id) => adapter.updateUser(id, { networkRules: [rule('198.51.100.7')] }, ctx),
      (b) => void (b.filters.allowed_ip = ['198.51.100.7/32'])],
    ['an empty rule set', (id) => adapter.operations.networkRules!.replaceNetworkRules(id, [], ctx), (b) => void delete b.filters.allowed_ip],
    ['sshKeys replace the keys only', (id) => adapter.updateUser(id, { sshKeys: [keyOf('ed25519').publicKey] }, ctx),
      (b) => void (b.public_keys = [keyOf('ed25519').publicKey])],
    ['a rotation', (id) => adapter.operations.passwordRotation!.rotatePassword(id, ctx), (b) => void (b.password = expect.any(String) as never)],
    ['a password set', (id) => adapter.operations.passwordSet!.setPassword(id, 'Another-pass-7', ctx), (b) => void (b.password = 'Another-pass-7')],
    ['a key add', async (id) => adapter.operations.sshKeys!.addSshKey(id, await parseSshPublicKey(keyOf('ecdsa').publicKey), ctx),
      (b) => void b.public_keys!.push(keyOf('ecdsa').publicKey)],
    ['a key delete', (id) => adapter.operations.sshKeys!.deleteSshKey(id, sshKeyIdOf(keyOf('rsa').fingerprint), ctx), (b) => void (b.public_keys = null)],
  ])('%s: the whole upstream object is as before but for that change', async (_name, write, change) => {
    const user = await fullUser();
    const expected = whole(user.id);
    change(expected);
    await write(user.id);
    expect(stored(user.id)).toEqual(expected);
    // A field only a later server has went back unchanged in the PUT.
    const put = emu.requests.find((r) => r.method === 'PUT')!.body as Record<string, unknown>;
    expect(put.future_field).toEqual({ added_by: 'a later server' });
  });

  it('an S3 filesystem keeps its secret through a write (the server shows it redacted and keeps it)', async () => {
    const user = await createAcme();
    stored(user.id).filesystem = {
      provider: 1, s3config: { bucket: 'b', region: 'eu-west-1', access_key: 'AKIA1', access_secret: `$aes$${'ab'.repeat(32)}$c0ffee` },
      gcsconfig: {}, azblobconfig: {},
    };
    const before = whole(user.id);
    await adapter.updateUser(user.id, { status: 'disabled' }, ctx);
    expect(stored(user.id)).toEqual({ ...before, status: 0 });
    const raw = (await adapter.getUser(user.id, ctx)).raw();
    expect(JSON.stringify(raw)).not.toContain('c0ffee');
  });
});

describe('deleteUser', () => {
  it('DELETEs and maps 404', async () => {
    const user = await createAcme();
    await adapter.deleteUser(user.id, ctx);
    expect(calls()).toEqual([`DELETE /api/v1/user/${user.id}`]);
    expect(emu.users.size).toBe(0);
    expect((await failure(adapter.deleteUser(user.id, ctx))).detail).toBe(`user ${user.id} not found`);
  });
});

describe('passwords', () => {
  it('rotates: a generated password PUT with the whole user', async () => {
    const user = await createAcme({ sshKeys: [keyOf('ecdsa').publicKey] });
    const before = Date.now();
    const { password, rotatedAt } = await adapter.operations.passwordRotation!.rotatePassword(user.id, ctx);
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(Date.parse(rotatedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(stored(user.id)).toMatchObject({ password, public_keys: [keyOf('ecdsa').publicKey] });
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`, `PUT /api/v1/user/${user.id}`]);
  });

  it('sets the caller password; an empty one is a 400 without a call', async () => {
    const user = await createAcme();
    await adapter.operations.passwordSet!.setPassword(user.id, 'Caller-set-3', ctx);
    expect(stored(user.id).password).toBe('Caller-set-3');
    emu.clearRequests();
    expect((await failure(adapter.operations.passwordSet!.setPassword(user.id, '', ctx))).status).toBe(400);
    expect(emu.requests).toEqual([]);
  });
});

describe('SSH keys', () => {
  it('lists parsed keys and skips (with a warning) a stored key that does not parse', async () => {
    const rsa = keyOf('rsa');
    const user = await createAcme({ sshKeys: [rsa.publicKey] });
    stored(user.id).public_keys!.push('ssh-rsa-cert-v01@openssh.com AAAA broken');
    const keys = await adapter.operations.sshKeys!.listSshKeys(user.id, ctx);
    expect(keys).toEqual([{
      id: sshKeyIdOf(rsa.fingerprint), type: 'rsa', fingerprint: rsa.fingerprint, comment: rsa.comment,
      publicKey: rsa.publicKey, createdAt: null,
    }]);
    expect(logLines.join('')).toMatch(/skipping an SFTPGo public key/);
  });

  it('adds a key (409 when present) and keeps the other keys and fields', async () => {
    const user = await createAcme({ sshKeys: [keyOf('rsa').publicKey], limits: { quotaFiles: 5 } });
    const added = await adapter.operations.sshKeys!.addSshKey(user.id, await parseSshPublicKey(keyOf('ed25519').publicKey), ctx);
    expect(added.fingerprint).toBe(keyOf('ed25519').fingerprint);
    expect(stored(user.id)).toMatchObject({
      public_keys: [keyOf('rsa').publicKey, keyOf('ed25519').publicKey], quota_files: 5, password: 'Initial-pass-1',
    });
    expect(emu.requests[1]!.body).not.toHaveProperty('password');
    const again = await failure(adapter.operations.sshKeys!.addSshKey(user.id, await parseSshPublicKey(`${keyOf('rsa').publicKey.split(' ').slice(0, 2).join(' ')} renamed`), ctx));
    expect(again.status).toBe(409);
  });

  it('deletes a key by id; an unknown id is 404 without a PUT', async () => {
    const [a, b] = [keyOf('rsa'), keyOf('ed25519')];
    const user = await createAcme({ sshKeys: [a.publicKey, b.publicKey] });
    await adapter.operations.sshKeys!.deleteSshKey(user.id, sshKeyIdOf(a.fingerprint), ctx);
    expect(stored(user.id).public_keys).toEqual([b.publicKey]);
    emu.clearRequests();
    const err = await failure(adapter.operations.sshKeys!.deleteSshKey(user.id, 'nope', ctx));
    expect(err.status).toBe(404);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`]);
  });

  it.each(['1.2.2', '0.9.4'])('%s: the last key of a user without a password stays: a delete or an empty key set is a 409, nothing written', async (version) => {
    const e = createSftpgoEmulator({ version });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: e.fetch });
    const key = keyOf('ed25519');
    const user = await createAcme({ sshKeys: [key.publicKey] }, a, e);
    delete stored(user.id, e).password;
    const before = structuredClone(stored(user.id, e));
    for (const run of [() => a.operations.sshKeys!.deleteSshKey(user.id, sshKeyIdOf(key.fingerprint), ctx), () => a.updateUser(user.id, { sshKeys: [] }, ctx)]) {
      const err = await failure(run());
      expect([err.status, err.code]).toEqual([409, 'conflict']);
      expect(err.detail).toMatch(/has no password: .* would leave no way to log in; set a password first/);
    }
    expect(stored(user.id, e)).toEqual(before);
  });

  it('reads every fixture key type back', async () => {
    const lines = sshKeys.map((k) => k.publicKey);
    const user = await createAcme({ sshKeys: lines });
    expect((await adapter.operations.sshKeys!.listSshKeys(user.id, ctx)).map((k) => k.fingerprint)).toEqual(sshKeys.map((k) => k.fingerprint));
  });
});

describe('network rules (1.x)', () => {
  it('replaces allowed_ip as a whole set and lists it; [] removes every rule', async () => {
    const user = await createAcme();
    const rules = await adapter.operations.networkRules!.replaceNetworkRules(user.id, [rule('203.0.113.7'), rule('2001:DB8::/32'), rule('203.0.113.7/32')], ctx);
    expect(rules.map((r) => [r.id, r.cidr])).toEqual([['203.0.113.7_32', '203.0.113.7/32'], ['2001:db8::_32', '2001:db8::/32']]);
    expect(stored(user.id).filters.allowed_ip).toEqual(['203.0.113.7/32', '2001:db8::/32']);
    expect(await adapter.operations.networkRules!.listNetworkRules(user.id, ctx)).toEqual(rules);
    expect(await adapter.operations.networkRules!.replaceNetworkRules(user.id, [], ctx)).toEqual([]);
    expect(await adapter.operations.networkRules!.listNetworkRules(user.id, ctx)).toEqual([]);
  });

  it('refuses a rule SFTPGo cannot hold with 422, before any call', async () => {
    const user = await createAcme();
    for (const over of [{ protocol: 'ftps' }, { enabled: false }, { description: 'x' }] as const) {
      const err = await failure(adapter.operations.networkRules!.replaceNetworkRules(user.id, [rule('10.0.0.0/8', over)], ctx));
      expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    }
    expect(emu.requests).toEqual([]);
  });
});

describe('connections and quota scans', () => {
  it('lists connections as reported and closes one by its encoded id', async () => {
    const urls: string[] = [];
    adapter = createSftpgoAdapter(config, { backend: 'onprem', fetch: (input, init) => (urls.push(String(input)), emu.fetch(input, init)) });
    const conns = await adapter.operations.connections!.listConnections(ctx);
    expect(conns).toHaveLength(3);
    expect(conns[0]).toMatchObject({
      id: '6a1c3b4f5e2d7a8b9c0d1e2f3a4b5c6d', username: 'alice', protocol: 'SFTP', remoteAddress: '192.0.2.10:52144',
      transfers: [{ operation: 'upload', path: '/uploads/report.csv', bytes: 1_048_576, lastActivityAt: null }],
    });
    expect(conns[0]!.transfers[0]!.startedAt).toMatch(/Z$/);
    await adapter.operations.connections!.closeConnection(conns[1]!.id, ctx);
    expect(emu.connections).toHaveLength(2);
    const err = await failure(adapter.operations.connections!.closeConnection('a/b c', ctx));
    expect([err.status, err.detail]).toEqual([404, 'connection a/b c not found']);
    expect(urls.at(-1)).toBe('http://sftpgo.test/api/v1/connection/a%2Fb%20c');
  });

  it.each(['1.2.2', '0.9.4'])('%s: starts a scan with the user object, 409 while it runs, and lists it', async (version) => {
    const e = createSftpgoEmulator({ version, scanDurationMs: 60_000 });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: e.fetch });
    const user = await createAcme({}, a, e);
    await a.operations.quotaScans!.startQuotaScan(user.id, ctx);
    expect(calls(e)).toEqual([`GET /api/v1/user/${user.id}`, 'POST /api/v1/quota_scan']);
    expect(e.requests[1]!.body).toMatchObject({ id: Number(user.id), username: 'acme_uploads' });
    const err = await failure(a.operations.quotaScans!.startQuotaScan(user.id, ctx));
    expect([err.status, err.detail]).toEqual([409, 'a quota scan is already running for acme_uploads']);
    expect(await a.operations.quotaScans!.listQuotaScans(ctx)).toEqual([{ username: 'acme_uploads', startedAt: expect.stringMatching(/Z$/) }]);
    expect((await failure(a.operations.quotaScans!.startQuotaScan('404', ctx))).status).toBe(404);
    e.reset();
  });
});

describe('health', () => {
  it('is ok with the version, the data provider state and one user read', async () => {
    emu.seedUsers(2);
    expect(await adapter.health(ctx)).toEqual({ ok: true, detail: 'SFTPGo 1.2.2, API v1 (1.x shape); data provider: Alive; users readable' });
    expect(calls()).toEqual(['GET /api/v1/version', 'GET /api/v1/providerstatus', 'GET /api/v1/user']);
    expect(adapter.server!()).toEqual({ apiVersion: 'v1', serverVersion: '1.2.2' });
    const { a } = oldServer();
    expect((await a.health(ctx)).detail).toBe('SFTPGo 0.9.4, API v1 (0.9.x shape); data provider: Alive; users readable');
  });

  it('is not ok, saying why, when the users cannot be read', async () => {
    emu.seedUsers(1);
    const broken: typeof fetch = async (input, init) =>
      new URL(String(input)).pathname === '/api/v1/user' ? Response.json([{ id: 1, username: 'x', status: 1, home_dir: '/x', permissions: 'all' }]) : emu.fetch(input, init);
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: broken });
    expect(await a.health(ctx)).toEqual({
      ok: false,
      detail: expect.stringMatching(/^SFTPGo answered 200 with a body that is not a list of users \(0\.permissions: /),
    });
  });

  it('is not ok when the data provider fails or SFTPGo is unreachable, and never throws', async () => {
    emu.setProviderDown(true);
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/^SFTPGo 1\.2\.2, API v1 \(1\.x shape\); data provider: .+/) });
    emu.setProviderDown(false);
    emu.setFaults({ reset: true });
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/SFTPGo could not be reached|fetch failed|connection/i) });
  });
});

describe('upstream statuses', () => {
  it.each([
    [401, 502, 'upstream_error', /rejected the gateway's own credentials/],
    [403, 502, 'upstream_error', /rejected the gateway's own credentials/],
    [400, 502, 'upstream_error', /^SFTPGo refused the request the gateway built \(400 on GET \/api\/v1\/user\): emulated fault/],
    [405, 502, 'upstream_error', /^SFTPGo refused the request the gateway built \(405 on GET/],
    [500, 502, 'upstream_error', /^SFTPGo answered 500: emulated fault/],
    [503, 502, 'upstream_error', /^SFTPGo answered 503/],
  ])('%i → %i %s', async (upstream, status, code, detail) => {
    emu.setFaults({ status: upstream });
    const err = await failure(adapter.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect([err.status, err.code]).toEqual([status, code]);
    expect(err.detail).toMatch(detail);
  });

  it('429 passes Retry-After through', async () => {
    emu.setFaults({ status: 429, headers: { 'Retry-After': '7' } });
    const err = await failure(adapter.getUser('1', ctx));
    expect([err.status, err.code, err.extra.headers]).toEqual([429, 'rate_limited', { 'Retry-After': '7' }]);
  });

  it('a body that is not JSON is 502, a dropped connection 503, a slow answer 504', async () => {
    emu.setFaults({ garbage: true, times: 1 });
    expect((await failure(adapter.getUser('1', ctx))).status).toBe(502);
    emu.setFaults({ reset: true, times: 3 }); // a GET is tried 3 times (2 retries)
    expect((await failure(adapter.getUser('1', ctx))).status).toBe(503);
    const slow = createSftpgoAdapter({ ...config, timeoutMs: 100 }, { backend: 'onprem', fetch: emu.fetch });
    emu.setFaults({ hang: true, times: 1 });
    expect((await failure(slow.getUser('1', ctx))).status).toBe(504);
  });

  it('never echoes a password an upstream error repeats', async () => {
    const echo: typeof fetch = async (input, init) => {
      const path = new URL(String(input)).pathname;
      if (init?.method === 'POST') return Response.json({ error: 'bad password "Leaky-Secret-1"', message: '' }, { status: 400 });
      return path === '/api/v1/version' ? Response.json({ version: '1.2.2' }) : Response.json([]);
    };
    const leaky = createSftpgoAdapter(config, { backend: 'onprem', fetch: echo });
    const err = await failure(leaky.createUser({ username: 'acme', accessLevel: 'full', password: 'Leaky-Secret-1' }, ctx));
    expect(err.status).toBe(502);
    expect(err.detail).toBe('SFTPGo refused the request the gateway built (400 on POST /api/v1/user): bad password "[redacted]"');
  });
});

describe('over a real socket, with basic auth', () => {
  it('creates and reads a user through HTTP, sending the configured credentials', async () => {
    const socketEmu = createSftpgoEmulator({ basicAuth: { username: 'admin', password: 'Admin-pass-123' } });
    const served = await serveSftpgoEmulator(socketEmu);
    try {
      const real = createSftpgoAdapter({ ...config, baseUrl: `${served.url}/`, username: 'admin', password: 'Admin-pass-123' }, { backend: 'onprem' });
      const { user } = await real.createUser({ username: 'socket_user', accessLevel: 'write-only', password: 'Socket-pass-1', sshKeys: [keyOf('dsa').publicKey] }, ctx);
      expect(plain(await real.getUser(user.id, ctx))).toEqual(plain(user));
      expect(socketEmu.requests.map((r) => r.headers.authorization)).toEqual(
        Array(4).fill(`Basic ${Buffer.from('admin:Admin-pass-123').toString('base64')}`),
      );
      expect(await real.health(ctx)).toMatchObject({ ok: true });

      const wrong = createSftpgoAdapter({ ...config, baseUrl: served.url, username: 'admin', password: 'Wrong-pass-456' }, { backend: 'onprem' });
      const err = await failure(wrong.getUser(user.id, ctx));
      expect([err.status, err.code]).toEqual([502, 'upstream_error']);
      expect(err.detail).not.toMatch(/Wrong-pass-456|Admin-pass-123/);
      expect(await wrong.health(ctx)).toMatchObject({ ok: false, detail: expect.stringMatching(/credentials/) });
    } finally {
      await served.close();
    }
    const gone = createSftpgoAdapter({ ...config, baseUrl: served.url }, { backend: 'onprem' });
    expect((await failure(gone.getUser('1', ctx))).status).toBe(503);
  });
});
