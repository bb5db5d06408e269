import type { AdapterUser } from '../src/model.js';
/**
 * The SFTPGo adapter against the SFTPGo 1.2.0 emulator: in process (its `fetch` injected) and once
 * over a real socket. Each test checks the emulator's request log and state — what really went
 * upstream — not only what the adapter answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallContext, ProviderAdapter } from '../src/adapter.js';
import type { SftpgoBackendConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { parseSshPublicKey, sshKeyIdOf } from '../src/ssh-key.js';
import { createSftpgoAdapter } from '../adapters/sftpgo/index.js';
import { SFTPGO_CAPABILITIES } from '../adapters/sftpgo/adapter.js';
import { createSftpgoEmulator, serveSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator.js';
import { keyOf, sshKeys } from './fixtures/ssh-keys.js';
import { failure } from './helpers/errors.js';

/** An adapter user with its lazy `raw` evaluated, for deep comparison. */
const plain = (u: AdapterUser) => ({ ...u, raw: u.raw() });

const config: SftpgoBackendConfig = {
  provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://sftpgo.test/', sftpHost: 'sftp.example.com', sftpPort: 2022,
  homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 2000,
};

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
const calls = () => emu.requests.map((r) => `${r.method} ${r.path}`);

async function createAcme(extra: Record<string, unknown> = {}) {
  const { user } = await adapter.createUser({ username: 'acme_uploads', accessLevel: 'read-write', password: 'Initial-pass-1', ...extra }, ctx);
  emu.clearRequests();
  return user;
}

describe('factory', () => {
  it('has the sftpgo capabilities of the contract', () => {
    expect(adapter.provider).toBe('sftpgo');
    expect(adapter.capabilities).toEqual({
      displayName: false, networkRules: false, independentChroot: false, rename: false, passwordSet: true,
      expiration: true, limits: true, usage: true, customPermissions: true, connections: true, quotaScans: true,
      passwordRotation: true, sshKeys: true,
    });
    expect(SFTPGO_CAPABILITIES).toBe(adapter.capabilities);
  });

  it('refuses a bad config at once, naming the field', () => {
    expect(() => createSftpgoAdapter({ ...config, baseUrl: 'ftp://x' }, { backend: 'onprem' })).toThrow(/backends\.onprem\.baseUrl/);
    expect(() => createSftpgoAdapter({ ...config, username: 'admin' }, { backend: 'onprem' })).toThrow(/password/);
  });
});

describe('createUser', () => {
  it('checks the username, then POSTs the whole user with a generated password and the normalized keys', async () => {
    const key = keyOf('ed25519');
    const { user, generatedPassword } = await adapter.createUser(
      { username: 'acme_uploads', accessLevel: 'read-only', sshKeys: [`  ${key.publicKey}  `], limits: { quotaFiles: 10 } },
      ctx,
    );
    expect(calls()).toEqual(['GET /api/v1/user', 'POST /api/v1/user']);
    expect(emu.requests[0]!.query).toEqual({ username: 'acme_uploads', limit: '1', offset: '0', order: 'ASC' });
    const body = emu.requests[1]!.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'download_bandwidth', 'expiration_date', 'gid', 'home_dir', 'last_login', 'last_quota_update', 'max_sessions',
      'password', 'permissions', 'public_keys', 'quota_files', 'quota_size', 'status', 'uid', 'upload_bandwidth',
      'used_quota_file', 'used_quota_size', 'username',
    ]);
    expect(body).toMatchObject({
      uid: 0, gid: 0, status: 1, home_dir: '/srv/sftpgo/data/acme_uploads', permissions: ['list', 'download'],
      public_keys: [key.publicKey], quota_files: 10, password: generatedPassword,
    });
    expect(generatedPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    const stored = emu.users.get(Number(user.id))!;
    expect(stored.password).toBe(generatedPassword);
    // Built from the 200 answer (no keys in it) plus the keys sent: no extra GET.
    expect(user).toMatchObject({
      username: 'acme_uploads', sshKeyCount: 1, accessLevel: 'read-only', status: 'active',
      homeDirectory: '/srv/sftpgo/data/acme_uploads', chrootDirectory: '/srv/sftpgo/data/acme_uploads',
      limits: { quotaFiles: 10, quotaBytes: null }, usage: { bytes: 0, files: 0, updatedAt: null },
      uri: 'sftp://acme_uploads@sftp.example.com:2022',
    });
    expect(user.raw()).not.toHaveProperty('password');
    expect(plain(user)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('sends the caller password and returns none', async () => {
    const result = await adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', password: 'Caller-chosen-1' }, ctx);
    expect(result.generatedPassword).toBeUndefined();
    expect(emu.users.get(Number(result.user.id))!.password).toBe('Caller-chosen-1');
    expect((emu.requests[1]!.body as { permissions: string[] }).permissions).toEqual(['*']);
  });

  it('answers 409 for a taken username without POSTing', async () => {
    emu.seedUsers(1, 'taken');
    emu.clearRequests();
    const err = await failure(adapter.createUser({ username: 'taken00001', accessLevel: 'full' }, ctx));
    expect([err.status, err.detail]).toEqual([409, 'username "taken00001" is already taken']);
    expect(calls()).toEqual(['GET /api/v1/user']);
  });

  it('turns the 500 "already exists" of a racing create into 409', async () => {
    emu.seedUsers(1, 'race');
    // The check runs before the other create lands: it sees no user.
    const racing: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      if (url.pathname === '/api/v1/user' && url.searchParams.has('username')) return Response.json([]);
      return emu.fetch(input, init);
    };
    const raced = createSftpgoAdapter(config, { backend: 'onprem', fetch: racing });
    const err = await failure(raced.createUser({ username: 'race00001', accessLevel: 'full', password: 'Secret-pass-9' }, ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
    expect(calls().at(-1)).toBe('POST /api/v1/user');
  });

  it.each([
    ['displayName', { displayName: 'Acme' }, 422],
    ['networkRules', { networkRules: [{ cidr: '10.0.0.0/8', protocol: 'any', enabled: true, description: null }] }, 422],
    ['a null chrootDirectory', { chrootDirectory: null }, 422],
    ['a chrootDirectory apart from home', { chrootDirectory: '/srv' }, 422],
    ['no permissions at all', { accessLevel: 'none' }, 422],
    ['neither accessLevel nor permissions', { accessLevel: undefined }, 400],
    ['a bad SSH key', { sshKeys: ['ssh-ed25519 nope'] }, 400],
    ['the same key twice', { sshKeys: [keyOf('rsa').publicKey, `${keyOf('rsa').publicKey.split(' ').slice(0, 2).join(' ')} other`] }, 400],
  ])('refuses %s before any upstream call', async (_name, extra, status) => {
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

describe('getUser and ids', () => {
  it.each(['0', '-1', 'abc', '01', '1.5', '2147483648', '99999999999', ''])('%j cannot exist: 404 without a call', async (id) => {
    const err = await failure(adapter.getUser(id, ctx));
    expect([err.status, err.detail]).toEqual([404, `user ${id} not found`]);
    expect(emu.requests).toEqual([]);
  });

  it('maps an upstream 404 to not found', async () => {
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
    Object.assign(emu.users.get(Number(user.id))!, { used_quota_size: 4096, used_quota_files: 3, last_quota_update: 1616615059930 });
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
    const stored = emu.users.get(Number(user.id))!;
    expect(stored).toMatchObject({ status: 0, quota_size: 0, max_sessions: 2, password: 'Initial-pass-1' });
    expect(plain(updated)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('sends a password only when the patch has one', async () => {
    const user = await createAcme();
    await adapter.updateUser(user.id, { password: 'Patched-pass-2' }, ctx);
    expect((emu.requests[1]!.body as { password: string }).password).toBe('Patched-pass-2');
    expect(emu.users.get(Number(user.id))!.password).toBe('Patched-pass-2');
  });

  it('treats the same username as no rename and refuses another with 422, before any PUT', async () => {
    const user = await createAcme();
    await adapter.updateUser(user.id, { username: 'acme_uploads', accessLevel: 'full' }, ctx);
    expect(emu.users.get(Number(user.id))!.permissions).toEqual(['*']);
    emu.clearRequests();
    const err = await failure(adapter.updateUser(user.id, { username: 'renamed' }, ctx));
    expect([err.status, err.code]).toEqual([422, 'not_supported_by_provider']);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`]);
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
    expect(emu.users.get(Number(user.id))).toMatchObject({ status: 0, quota_files: 77, permissions: ['list', 'download'] });
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
      () => adapter.updateUser('0', {}, ctx), () => adapter.rotatePassword!('x', ctx), () => adapter.setPassword!('-1', 'Abcdefgh1', ctx),
      () => adapter.addSshKey!('abc', {} as never, ctx), () => adapter.deleteSshKey!('', 'k', ctx), () => adapter.deleteUser('1e3', ctx),
      () => adapter.listSshKeys!('3000000000', ctx), () => adapter.startQuotaScan!('07', ctx),
    ]) {
      expect((await failure(call())).status).toBe(404);
    }
    expect(emu.requests).toEqual([]);
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
    const { password, rotatedAt } = await adapter.rotatePassword!(user.id, ctx);
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(Date.parse(rotatedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(emu.users.get(Number(user.id))).toMatchObject({ password, public_keys: [keyOf('ecdsa').publicKey] });
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`, `PUT /api/v1/user/${user.id}`]);
  });

  it('sets the caller password', async () => {
    const user = await createAcme();
    await adapter.setPassword!(user.id, 'Caller-set-3', ctx);
    expect(emu.users.get(Number(user.id))!.password).toBe('Caller-set-3');
  });
});

describe('SSH keys', () => {
  it('lists parsed keys and skips (with a warning) a stored key that does not parse', async () => {
    const rsa = keyOf('rsa');
    const user = await createAcme({ sshKeys: [rsa.publicKey] });
    emu.users.get(Number(user.id))!.public_keys!.push('ssh-rsa-cert-v01@openssh.com AAAA broken');
    const keys = await adapter.listSshKeys!(user.id, ctx);
    expect(keys).toEqual([{
      id: sshKeyIdOf(rsa.fingerprint), type: 'rsa', fingerprint: rsa.fingerprint, comment: rsa.comment,
      publicKey: rsa.publicKey, createdAt: null,
    }]);
    expect(logLines.join('')).toMatch(/skipping an SFTPGo public key/);
  });

  it('adds a key (409 when present) and keeps the other keys and fields', async () => {
    const user = await createAcme({ sshKeys: [keyOf('rsa').publicKey], limits: { quotaFiles: 5 } });
    const added = await adapter.addSshKey!(user.id, await parseSshPublicKey(keyOf('ed25519').publicKey), ctx);
    expect(added.fingerprint).toBe(keyOf('ed25519').fingerprint);
    expect(emu.users.get(Number(user.id))).toMatchObject({
      public_keys: [keyOf('rsa').publicKey, keyOf('ed25519').publicKey], quota_files: 5, password: 'Initial-pass-1',
    });
    expect(emu.requests[1]!.body).not.toHaveProperty('password');
    const again = await failure(adapter.addSshKey!(user.id, await parseSshPublicKey(`${keyOf('rsa').publicKey.split(' ').slice(0, 2).join(' ')} renamed`), ctx));
    expect(again.status).toBe(409);
  });

  it('deletes a key by id; an unknown id is 404 without a PUT', async () => {
    const [a, b] = [keyOf('rsa'), keyOf('ed25519')];
    const user = await createAcme({ sshKeys: [a.publicKey, b.publicKey] });
    await adapter.deleteSshKey!(user.id, sshKeyIdOf(a.fingerprint), ctx);
    expect(emu.users.get(Number(user.id))!.public_keys).toEqual([b.publicKey]);
    emu.clearRequests();
    const err = await failure(adapter.deleteSshKey!(user.id, 'nope', ctx));
    expect(err.status).toBe(404);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`]);
  });

  it('refuses with 409 to remove the last key of a user without a password', async () => {
    const key = keyOf('ed25519');
    const user = await createAcme({ sshKeys: [key.publicKey] });
    delete emu.users.get(Number(user.id))!.password;
    const err = await failure(adapter.deleteSshKey!(user.id, sshKeyIdOf(key.fingerprint), ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
    expect(err.detail).toMatch(/set a password first/);
    expect(emu.users.get(Number(user.id))!.public_keys).toEqual([key.publicKey]);
  });

  it('reads every fixture key type back', async () => {
    const lines = sshKeys.map((k) => k.publicKey);
    const user = await createAcme({ sshKeys: lines });
    expect((await adapter.listSshKeys!(user.id, ctx)).map((k) => k.fingerprint)).toEqual(sshKeys.map((k) => k.fingerprint));
  });
});

describe('connections and quota scans', () => {
  it('lists connections as reported and closes one by its encoded id', async () => {
    const urls: string[] = [];
    adapter = createSftpgoAdapter(config, { backend: 'onprem', fetch: (input, init) => (urls.push(String(input)), emu.fetch(input, init)) });
    const conns = await adapter.listConnections!(ctx);
    expect(conns).toHaveLength(3);
    expect(conns[0]).toMatchObject({
      id: '6a1c3b4f5e2d7a8b9c0d1e2f3a4b5c6d', username: 'alice', protocol: 'SFTP', remoteAddress: '192.0.2.10:52144',
      transfers: [{ operation: 'upload', path: '/uploads/report.csv', bytes: 1_048_576 }],
    });
    expect(conns[0]!.transfers[0]!.startedAt).toMatch(/Z$/);
    await adapter.closeConnection!(conns[1]!.id, ctx);
    expect(emu.connections).toHaveLength(2);
    const err = await failure(adapter.closeConnection!('a/b c', ctx));
    expect([err.status, err.detail]).toEqual([404, 'connection a/b c not found']);
    expect(urls.at(-1)).toBe('http://sftpgo.test/api/v1/connection/a%2Fb%20c');
  });

  it('starts a scan with the user object, 409 while it runs, and lists it', async () => {
    const user = await createAcme();
    await adapter.startQuotaScan!(user.id, ctx);
    expect(calls()).toEqual([`GET /api/v1/user/${user.id}`, 'POST /api/v1/quota_scan']);
    expect(emu.requests[1]!.body).toMatchObject({ id: Number(user.id), username: 'acme_uploads' });
    const err = await failure(adapter.startQuotaScan!(user.id, ctx));
    expect([err.status, err.detail]).toEqual([409, 'a quota scan is already running for acme_uploads']);
    const scans = await adapter.listQuotaScans!(ctx);
    expect(scans).toEqual([{ username: 'acme_uploads', startedAt: expect.stringMatching(/Z$/) }]);
    expect((await failure(adapter.startQuotaScan!('404', ctx))).status).toBe(404);
  });
});

describe('health', () => {
  it('is ok with the version and the data provider state', async () => {
    expect(await adapter.health(ctx)).toEqual({ ok: true, detail: 'SFTPGo 1.2.0; data provider: Alive' });
    expect(calls().sort()).toEqual(['GET /api/v1/providerstatus', 'GET /api/v1/version']);
  });

  it('reads /version as an array too', async () => {
    const arrayEmu = createSftpgoEmulator({ versionAsArray: true });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: arrayEmu.fetch });
    expect((await a.health(ctx)).detail).toBe('SFTPGo 1.2.0; data provider: Alive');
  });

  it('is not ok when the data provider fails or SFTPGo is unreachable, and never throws', async () => {
    emu.setProviderDown(true);
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/^SFTPGo 1\.2\.0; data provider: unable to open database/) });
    emu.setProviderDown(false);
    emu.setFaults({ reset: true });
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/^unreachable/) });
  });
});

describe('upstream statuses', () => {
  it.each([
    [401, 502, 'upstream_error', /rejected the gateway's own credentials/],
    [403, 502, 'upstream_error', /rejected the gateway's own credentials/],
    [400, 400, 'invalid_request', /^SFTPGo rejected the request: emulated fault/],
    [405, 400, 'invalid_request', /^SFTPGo rejected the request/],
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
    const echo: typeof fetch = async (_input, init) =>
      init?.method === 'POST'
        ? Response.json({ status: 400, error: 'bad password "Leaky-Secret-1"' }, { status: 400 })
        : Response.json([]);
    const leaky = createSftpgoAdapter(config, { backend: 'onprem', fetch: echo });
    const err = await failure(leaky.createUser({ username: 'acme', accessLevel: 'full', password: 'Leaky-Secret-1' }, ctx));
    expect(err.status).toBe(400);
    expect(err.detail).not.toContain('Leaky-Secret-1');
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
        Array(3).fill(`Basic ${Buffer.from('admin:Admin-pass-123').toString('base64')}`),
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
