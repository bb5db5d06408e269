/**
 * The SFTP To Go adapter against the SFTP To Go emulator: in process (its `fetch` injected) and
 * once over a real socket. Each test checks the emulator's request log and state — what really
 * went upstream — not only what the adapter answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallContext, ProviderAdapter } from '../src/provider-kit/adapter.js';
import type { SftpToGoBackendConfig } from '../adapters/sftptogo/index.js';
import { capabilitiesOf } from '../src/provider-kit/index.js';
import { createLogger } from '../src/observability/logger.js';
import type { AdapterUser, NetworkRuleInput } from '../src/domain/model.js';
import { parseSshPublicKey } from '../src/domain/ssh-key.js';
import { createSftpToGoAdapter, SFTPTOGO_FIELDS } from '../adapters/sftptogo/index.js';
import {
  createSftpToGoEmulator, serveSftpToGoEmulator, type SftpToGoEmulator,
} from '../adapters/sftptogo/emulator/emulator.js';
import { keyOf, sshKeys } from './fixtures/ssh-keys.js';
import { failure } from './helpers/errors.js';

/** An adapter user with its lazy `raw` evaluated, for deep comparison. */
const plain = (u: AdapterUser) => ({ ...u, raw: u.raw() });

let emu: SftpToGoEmulator;
let config: SftpToGoBackendConfig;
let adapter: ProviderAdapter;
let logLines: string[];
let ctx: CallContext;
let org: string;

beforeEach(() => {
  emu = createSftpToGoEmulator();
  org = `/organizations/${emu.organizationId}`;
  config = { provider: 'sftptogo', baseUrl: 'http://togo.test/', organizationId: emu.organizationId, apiKey: emu.apiKey, timeoutMs: 2000 };
  adapter = createSftpToGoAdapter(config, { backend: 'togo', fetch: emu.fetch as typeof fetch });
  logLines = [];
  ctx = { requestId: 'req-9', logger: createLogger({ level: 'warn', destination: { write: (l) => logLines.push(l) } }) };
});

afterEach(() => emu.reset());


/** The log as `METHOD path` lines below the organization, for compact assertions. */
const calls = () => emu.requests.map((r) => `${r.method} ${r.path.startsWith(org) ? r.path.slice(org.length) : r.path}`);
const nonRoot = () => [...emu.credentials.values()].filter((c) => !c.IsDefault);
const rule = (cidr: string, over: Partial<NetworkRuleInput> = {}): NetworkRuleInput =>
  ({ cidr, protocol: 'any', enabled: true, description: null, ...over });

async function createAcme(extra: Record<string, unknown> = {}) {
  const result = await adapter.createUser({ username: 'acme_uploads', accessLevel: 'read-write', ...extra }, ctx);
  emu.clearRequests();
  return result;
}

describe('factory', () => {
  it('has the sftptogo capabilities of the contract', () => {
    expect(adapter.provider).toBe('sftptogo');
    expect(capabilitiesOf(adapter)).toEqual({
      displayName: true, networkRules: true, independentChroot: true, rename: true, passwordSet: false,
      expiration: false, limits: false, usage: false, customPermissions: false, connections: false, quotaScans: false,
      passwordRotation: true, sshKeys: true, directoryPermissions: false,
    });
    expect(adapter.fields).toBe(SFTPTOGO_FIELDS);
    expect(adapter.permissions).toEqual(['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks']);
    expect(adapter.listAllUsers).toBeTypeOf('function');
    expect(adapter).not.toHaveProperty('setPassword');
    expect(adapter).not.toHaveProperty('listConnections');
    expect(adapter).not.toHaveProperty('startQuotaScan');
  });

  it('refuses a bad config at once, naming the field', () => {
    expect(() => createSftpToGoAdapter({ ...config, baseUrl: 'ftp://x' }, { backend: 'togo' })).toThrow(/backends\.togo\.baseUrl/);
    expect(() => createSftpToGoAdapter({ ...config, apiKey: '' }, { backend: 'togo' })).toThrow(/backends\.togo\.apiKey/);
    expect(() => createSftpToGoAdapter({ ...config, organizationId: '' }, { backend: 'togo' })).toThrow(/organizationId/);
  });

  it('calls {baseUrl}/organizations/{org} with the bearer key, one JSON content type and the request id', async () => {
    const urls: string[] = [];
    const spy = createSftpToGoAdapter({ ...config, organizationId: 'org/x y' }, {
      backend: 'togo', fetch: async (input, init) => (urls.push(String(input)), emu.fetch(input, init)),
    });
    await failure(spy.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect(urls).toEqual(['http://togo.test/organizations/org%2Fx%20y/users']);
    await adapter.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx);
    await adapter.updateUser(emu.rootId, { displayName: 'Root' }, ctx);
    for (const r of emu.requests.slice(-2)) {
      expect(r.headers.authorization).toBe(`Bearer ${emu.apiKey}`);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-request-id']).toBe('req-9');
    }
  });
});

describe('listing', () => {
  it('reads every credential in one call, the root included, and pages in the gateway', async () => {
    emu.seedCredentials(5, 'seeded');
    const all = await adapter.listAllUsers!(ctx);
    expect(calls()).toEqual(['GET /users']);
    expect(all).toHaveLength(6);
    expect(all.filter((u) => u.isRoot).map((u) => u.id)).toEqual([emu.rootId]);

    emu.clearRequests();
    const first = await adapter.listUsers({ limit: 2, offset: 0, order: 'asc' }, ctx);
    expect(calls()).toEqual(['GET /users']);
    const names = all.map((u) => u.username).sort();
    expect([first.data.map((u) => u.username), first.nextOffset]).toEqual([names.slice(0, 2), 2]);
    const last = await adapter.listUsers({ limit: 2, offset: 4, order: 'asc' }, ctx);
    expect([last.data.map((u) => u.username), last.nextOffset]).toEqual([names.slice(4), null]);
    const desc = await adapter.listUsers({ limit: 100, offset: 0, order: 'desc' }, ctx);
    expect(desc.data.map((u) => u.username)).toEqual([...names].reverse());
  });

  it('filters by exact username and by status', async () => {
    emu.seedCredentials(3, 'seeded');
    const [one] = [...emu.credentials.values()].filter((c) => c.UserName === 'seeded00002');
    one!.State = 'inactive';
    const byName = await adapter.listUsers({ limit: 10, offset: 0, order: 'asc', username: 'seeded00002' }, ctx);
    expect(byName.data.map((u) => u.username)).toEqual(['seeded00002']);
    const disabled = await adapter.listUsers({ limit: 10, offset: 0, order: 'asc', status: 'disabled' }, ctx);
    expect(disabled.data.map((u) => u.username)).toEqual(['seeded00002']);
  });

  it('answers 502 for a list that is not an array, and for an upstream 404 of the collection', async () => {
    const odd = createSftpToGoAdapter(config, { backend: 'togo', fetch: async () => Response.json({ users: [] }) });
    const err = await failure(odd.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect([err.status, err.detail]).toEqual([502, expect.stringMatching(/^SFTP To Go answered 200 with a body that is not a list of credentials/)]);
    const misplaced = createSftpToGoAdapter({ ...config, baseUrl: 'http://togo.test/v9' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    const lost = await failure(misplaced.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect([lost.status, lost.code]).toEqual([502, 'upstream_error']);
    expect(lost.detail).toMatch(/404.*baseUrl/);
  });
});

describe('getUser and ids', () => {
  it.each(['a/b', 'x'.repeat(65), 'abc def', 'é', '..', ''])('%j cannot exist: 404 without a call', async (id) => {
    const err = await failure(adapter.getUser(id, ctx));
    expect([err.status, err.code]).toEqual([404, 'not_found']);
    expect(emu.requests).toEqual([]);
  });

  it('maps an upstream 404 to not found', async () => {
    const err = await failure(adapter.getUser('ffffffffffffffffffffffffffffff', ctx));
    expect([err.status, err.detail]).toEqual([404, 'user ffffffffffffffffffffffffffffff not found']);
    expect(calls()).toEqual(['GET /users/ffffffffffffffffffffffffffffff']);
  });

  it('reads the root credential: isRoot, full, a uri without its password, raw without the password', async () => {
    const root = await adapter.getUser(emu.rootId, ctx);
    const stored = emu.credentials.get(emu.rootId)!;
    expect(root).toMatchObject({
      id: emu.rootId, username: emu.rootId, isRoot: true, accessLevel: 'full', displayName: 'Root', status: 'active',
      host: 'warm-soda-25793.sftptogo.com', uri: `sftp://${emu.rootId}@warm-soda-25793.sftptogo.com`,
      limits: null, usage: null, expiresAt: null, lastLoginAt: null,
    });
    const raw = root.raw();
    expect(raw).not.toHaveProperty('Password');
    expect(raw.URI).toBe(`sftp://${emu.rootId}@warm-soda-25793.sftptogo.com`);
    expect(JSON.stringify(raw)).not.toContain(stored.Password);
    expect(raw.OrganizationId).toBe(emu.organizationId);
  });

  it('reads an unknown Permission as custom with no permissions; raw keeps it', async () => {
    const { user } = await createAcme();
    emu.credentials.get(user.id)!.Permission = 'admin';
    const read = await adapter.getUser(user.id, ctx);
    expect([read.accessLevel, read.permissions, read.raw().Permission]).toEqual(['custom', [], 'admin']);
    emu.credentials.get(user.id)!.State = 'frozen';
    expect((await adapter.getUser(user.id, ctx)).status).toBe('disabled');
  });

  it('tolerates fields it does not know (extraField) and keeps them in raw', async () => {
    const extra = createSftpToGoEmulator({ extraField: true });
    const a = createSftpToGoAdapter({ ...config, organizationId: extra.organizationId, apiKey: extra.apiKey }, { backend: 'togo', fetch: extra.fetch as typeof fetch });
    const { user } = await a.createUser({ username: 'extra_field_user', accessLevel: 'read-only', sshKeys: [keyOf('ed25519').publicKey] }, ctx);
    expect(user.raw().MfaEnabled).toBe(false);
    expect((await a.listUsers({ limit: 10, offset: 0, order: 'asc' }, ctx)).data).toHaveLength(2);
    const [key] = await a.operations.sshKeys!.listSshKeys(user.id, ctx);
    expect(key).toMatchObject({ fingerprint: keyOf('ed25519').fingerprint });
    expect(await a.health(ctx)).toMatchObject({ ok: true });
  });
});

describe('createUser', () => {
  it('POSTs only the credential fields and returns the password SFTP To Go generated, once', async () => {
    const { user, generatedPassword } = await adapter.createUser(
      { username: 'acme_uploads', accessLevel: 'read-only', displayName: 'Acme', homeDirectory: '/acme', chrootDirectory: null, expiresAt: null, limits: null },
      ctx,
    );
    expect(calls()).toEqual(['POST /users']); // the create answer is the whole credential: no re-read
    expect(emu.requests[0]!.body).toEqual({
      UserName: 'acme_uploads', Permission: 'read-only', State: 'active', Alias: 'Acme', HomeDirectory: '/acme', ChrootDirectory: '',
    });
    const stored = emu.credentials.get(user.id)!;
    expect(generatedPassword).toBe(stored.Password);
    expect(user).toMatchObject({
      id: stored.Id, username: 'acme_uploads', displayName: 'Acme', accessLevel: 'read-only', homeDirectory: '/acme',
      chrootDirectory: null, isRoot: false, sshKeyCount: 0, uri: 'sftp://acme_uploads@warm-soda-25793.sftptogo.com',
    });
    expect(user.id).toMatch(/^[0-9a-f]{30}$/);
    expect(JSON.stringify(plain(user))).not.toContain(stored.Password);
    expect(plain(user)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('leaves HomeDirectory and ChrootDirectory to SFTP To Go when omitted, and sends status disabled as inactive', async () => {
    const { user } = await adapter.createUser({ username: 'acme_uploads', permissions: ['upload', 'create_dirs'], status: 'disabled' }, ctx);
    expect(emu.requests[0]!.body).toEqual({ UserName: 'acme_uploads', Permission: 'write-only', State: 'inactive' });
    expect([user.status, user.accessLevel]).toEqual(['disabled', 'write-only']);
  });

  it('adds each key, then the rules in one PATCH, then re-reads the whole credential', async () => {
    const [a, b] = [keyOf('rsa'), keyOf('ed25519')];
    const { user, generatedPassword } = await adapter.createUser({
      username: 'acme_uploads', accessLevel: 'full', sshKeys: [`  ${a.publicKey}\n`, b.publicKey],
      networkRules: [rule('203.0.113.9'), rule('2001:db8::/32', { protocol: 'ftps', enabled: false, description: 'v6' })],
    }, ctx);
    const id = user.id;
    expect(calls()).toEqual([
      'POST /users', `POST /users/${id}/ssh-public-keys`, `POST /users/${id}/ssh-public-keys`, `PATCH /users/${id}`, `GET /users/${id}`,
    ]);
    expect(emu.requests[0]!.body).not.toHaveProperty('Settings');
    expect(emu.requests[1]!.body).toEqual({ SshPublicKeyBody: a.publicKey });
    expect(emu.requests[3]!.body).toEqual({
      Settings: { Network: { InboundRules: [
        { Action: 'allow', Protocol: '*', State: 'enabled', Source: '203.0.113.9/32', Description: '' },
        { Action: 'allow', Protocol: 'FTPS', State: 'disabled', Source: '2001:db8::/32', Description: 'v6' },
      ] } },
    });
    expect(user.sshKeyCount).toBe(2);
    expect(generatedPassword).toBe(emu.credentials.get(id)!.Password);
    expect((await adapter.operations.networkRules!.listNetworkRules(id, ctx)).map((r) => r.cidr)).toEqual(['203.0.113.9/32', '2001:db8::/32']);
  });

  it('answers 409 for a taken username', async () => {
    emu.seedCredentials(1, 'takenname');
    const err = await failure(adapter.createUser({ username: 'takenname00001', accessLevel: 'full' }, ctx));
    expect([err.status, err.detail]).toEqual([409, 'username "takenname00001" is already taken']);
  });

  it.each([
    ['a 9-character username', { username: 'short_usr' }, 422, 'username'],
    ['a username with a space', { username: 'acme uploads' }, 422, 'username'],
    ['a password', { password: 'Chosen-pass-1' }, 422, 'password'],
    ['an expiresAt', { expiresAt: '2030-01-01T00:00:00Z' }, 422, 'expiresAt'],
    ['limits', { limits: { maxSessions: 1 } }, 422, 'limits'],
    ['a custom permission set', { accessLevel: undefined, permissions: ['list', 'upload'] }, 422, 'permissions'],
    ['accessLevel and permissions that disagree', { permissions: ['list'] }, 400, 'accessLevel'],
    ['neither accessLevel nor permissions', { accessLevel: undefined }, 400, 'accessLevel'],
    ['an invalid key', { sshKeys: [keyOf('rsa').publicKey, 'ssh-ed25519 nope'] }, 400, 'sshKeys[1]'],
    ['the same key twice', { sshKeys: [keyOf('rsa').publicKey, `${keyOf('rsa').publicKey.split(' ').slice(0, 2).join(' ')} again`] }, 400, 'sshKeys[1]'],
    ['a rule that is not a CIDR', { networkRules: [rule('10.0.0.0/8'), rule('10.0.0.0/33')] }, 400, 'networkRules[1].cidr'],
  ])('refuses %s before any upstream call', async (_name, extra, status, path) => {
    const err = await failure(adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', ...extra } as never, ctx));
    expect([err.status, err.extra.errors?.[0]?.path]).toEqual([status, path]);
    expect(emu.requests).toEqual([]);
    expect(nonRoot()).toEqual([]);
  });

  it('gives the nearest levels of a custom set', async () => {
    const err = await failure(adapter.createUser({ username: 'acme_uploads', permissions: ['list', 'upload'] }, ctx));
    expect(err.extra.details).toEqual({ narrower: ['none'], broader: ['read-write'] });
    expect(emu.requests).toEqual([]);
  });

  it('accepts accessLevel none (SFTP To Go stores it)', async () => {
    const { user } = await adapter.createUser({ username: 'acme_uploads', accessLevel: 'none' }, ctx);
    expect([user.accessLevel, user.permissions, emu.credentials.get(user.id)!.Permission]).toEqual(['none', [], 'none']);
  });
});

describe('createUser: no half-made users', () => {
  it('a failed key add deletes the credential and answers the step error', async () => {
    emu.setFaults({ status: 500, match: { method: 'POST', pathPrefix: '/users/' } });
    const err = await failure(adapter.createUser({ username: 'acme_uploads', accessLevel: 'full', sshKeys: [keyOf('rsa').publicKey] }, ctx));
    expect([err.status, err.code, err.detail]).toEqual([502, 'upstream_error', 'SFTP To Go answered 500: emulated fault: HTTP 500']);
    const id = (emu.requests[1]!.path.split('/')[4])!;
    expect(calls()).toEqual(['POST /users', `POST /users/${id}/ssh-public-keys`, `DELETE /users/${id}`]);
    expect(nonRoot()).toEqual([]);
    expect(logLines.join('\n')).toMatch(/deleted a half-made SFTP To Go credential/);
  });

  it('a key refused after another was added: 422 (SFTP To Go cannot store it), the credential and its first key gone', async () => {
    let posts = 0;
    const refusing: typeof fetch = async (input, init) => {
      if (init?.method === 'POST' && String(input).includes('/ssh-public-keys') && ++posts === 2) {
        return Response.json({ message: 'Unsupported key type' }, { status: 400 });
      }
      return emu.fetch(input, init);
    };
    const a = createSftpToGoAdapter(config, { backend: 'togo', fetch: refusing });
    const err = await failure(a.createUser({ username: 'acme_uploads', accessLevel: 'full', sshKeys: [keyOf('rsa').publicKey, keyOf('dsa').publicKey] }, ctx));
    expect([err.status, err.code, err.detail]).toEqual([422, 'not_supported_by_provider', 'SFTP To Go cannot store this dsa key: Unsupported key type']);
    expect(nonRoot()).toEqual([]);
    expect(calls().at(-1)).toMatch(/^DELETE \/users\/[0-9a-f]{30}$/);
  });

  it('a failed rules PATCH deletes the credential (its keys with it) and answers the step error', async () => {
    emu.setFaults({ status: 503, match: { method: 'PATCH' } });
    const err = await failure(adapter.createUser({
      username: 'acme_uploads', accessLevel: 'full', sshKeys: [keyOf('ecdsa').publicKey], networkRules: [rule('192.0.2.1')],
    }, ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    const id = (emu.requests[1]!.path.split('/')[4])!;
    expect(calls()).toEqual(['POST /users', `POST /users/${id}/ssh-public-keys`, `PATCH /users/${id}`, `DELETE /users/${id}`]);
    expect(nonRoot()).toEqual([]);
  });

  it('a rules PATCH that times out is cleaned up too (504)', async () => {
    const slow = createSftpToGoAdapter({ ...config, timeoutMs: 100 }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    emu.setFaults({ hang: true, match: { method: 'PATCH' }, times: 1 });
    const err = await failure(slow.createUser({ username: 'acme_uploads', accessLevel: 'full', networkRules: [rule('192.0.2.1')] }, ctx));
    expect(err.status).toBe(504);
    expect(nonRoot()).toEqual([]);
  });

  it('a failed cleanup is logged at error level with the credential id, never the password; the step error stands', async () => {
    const failing: typeof fetch = async (input, init) => {
      const url = String(input);
      if (init?.method === 'POST' && url.includes('/ssh-public-keys')) return Response.json({ message: 'boom' }, { status: 500 });
      if (init?.method === 'DELETE') return Response.json({ message: 'also boom' }, { status: 500 });
      return emu.fetch(input, init);
    };
    const a = createSftpToGoAdapter(config, { backend: 'togo', fetch: failing });
    const err = await failure(a.createUser({ username: 'acme_uploads', accessLevel: 'full', sshKeys: [keyOf('rsa').publicKey] }, ctx));
    expect([err.status, err.detail]).toEqual([502, 'SFTP To Go answered 500: boom']);
    const [left] = nonRoot();
    expect(left).toBeDefined(); // the emulator still holds it: the log must say which
    const errors = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ credentialId: left!.Id, msg: expect.stringMatching(/delete it by hand/) });
    expect(logLines.join('\n')).not.toContain(left!.Password);
  });

  it('a create answer that is not a credential is a 502, and the credential it made is deleted', async () => {
    const mangling: typeof fetch = async (input, init) => {
      const res = await emu.fetch(input, init);
      if (init?.method !== 'POST') return res;
      const body = (await res.json()) as Record<string, unknown>;
      return Response.json({ ...body, HomeDirectory: 42 }, { status: 201 });
    };
    const a = createSftpToGoAdapter(config, { backend: 'togo', fetch: mangling });
    const err = await failure(a.createUser({ username: 'acme_uploads', accessLevel: 'full' }, ctx));
    expect([err.status, err.detail]).toEqual([502, expect.stringMatching(/^SFTP To Go answered 201 with a body that is not a credential \(HomeDirectory/)]);
    expect(nonRoot()).toEqual([]);
  });
});

describe('updateUser', () => {
  it('PATCHes only the keys the patch names', async () => {
    const { user } = await createAcme({ displayName: 'Acme' });
    const updated = await adapter.updateUser(user.id, { status: 'disabled', displayName: null, chrootDirectory: '/acme' }, ctx);
    expect(calls()).toEqual([`PATCH /users/${user.id}`]);
    expect(emu.requests[0]!.body).toEqual({ State: 'inactive', Alias: '', ChrootDirectory: '/acme' });
    expect(updated).toMatchObject({ status: 'disabled', displayName: null, chrootDirectory: '/acme', accessLevel: 'read-write' });
    expect(plain(updated)).toEqual(plain(await adapter.getUser(user.id, ctx)));
  });

  it('an empty patch (or only nulls of what SFTP To Go lacks) reads, and sends no PATCH', async () => {
    const { user } = await createAcme();
    expect(plain(await adapter.updateUser(user.id, {}, ctx))).toEqual(plain(user));
    await adapter.updateUser(user.id, { expiresAt: null, limits: null }, ctx);
    expect(calls()).toEqual([`GET /users/${user.id}`, `GET /users/${user.id}`]);
  });

  it('repeating the username is no rename; another renames it', async () => {
    const { user } = await createAcme();
    await adapter.updateUser(user.id, { username: 'acme_uploads' }, ctx);
    expect(calls()).toEqual([`GET /users/${user.id}`]);
    emu.clearRequests();
    const renamed = await adapter.updateUser(user.id, { username: 'acme.archive', accessLevel: 'full' }, ctx);
    expect(calls()).toEqual([`GET /users/${user.id}`, `PATCH /users/${user.id}`]);
    expect(emu.requests[1]!.body).toEqual({ UserName: 'acme.archive', Permission: 'full' });
    expect([renamed.username, renamed.uri]).toEqual(['acme.archive', 'sftp://acme.archive@warm-soda-25793.sftptogo.com']);
  });

  it('a rename to a taken name is a 409', async () => {
    emu.seedCredentials(1, 'takenname');
    const { user } = await createAcme();
    const err = await failure(adapter.updateUser(user.id, { username: 'takenname00001' }, ctx));
    expect([err.status, err.detail]).toEqual([409, 'username "takenname00001" is already taken']);
    expect(emu.credentials.get(user.id)!.UserName).toBe('acme_uploads');
  });

  it.each([
    ['a rename to a 9-character name', { username: 'short_usr' }, 422],
    ['a password', { password: 'Patched-pass-1' }, 422],
    ['an expiresAt', { expiresAt: '2030-01-01T00:00:00Z' }, 422],
    ['limits', { limits: { quotaBytes: 5 } }, 422],
    ['a custom set', { permissions: ['list', 'upload'] }, 422],
    ['a name SFTP To Go does not have', { permissions: ['list', 'download', 'chmod'] }, 422],
    ['sub-directory permissions', { directoryPermissions: { '/in': ['list'] } }, 422],
    ['a disagreeing pair', { accessLevel: 'full', permissions: ['list'] }, 400],
    ['a rule that is no CIDR', { networkRules: [rule('10.0.0.0/33')] }, 400],
    ['a key that does not parse', { sshKeys: ['ssh-ed25519 AAAA'] }, 400],
  ])('refuses %s before any upstream call', async (_name, patch, status) => {
    const { user } = await createAcme();
    const before = { ...emu.credentials.get(user.id)! };
    const err = await failure(adapter.updateUser(user.id, patch as never, ctx));
    expect(err.status).toBe(status);
    expect(emu.requests).toEqual([]);
    expect(emu.credentials.get(user.id)).toEqual(before);
  });

  it("the root credential's username is never changed: 409 after a read, before any write; repeating it is fine", async () => {
    const err = await failure(adapter.updateUser(emu.rootId, { username: 'another_root_name' }, ctx));
    expect([err.status, err.code, err.detail]).toEqual([409, 'conflict', 'the root credential cannot be renamed']);
    expect(calls()).toEqual([`GET /users/${emu.rootId}`]);
    const rootName = emu.credentials.get(emu.rootId)!.UserName;
    expect((await adapter.updateUser(emu.rootId, { username: rootName, displayName: 'Root' }, ctx)).displayName).toBe('Root');
  });

  it('sshKeys make the key set exactly the given one: new keys added, the others deleted, the count read back', async () => {
    const [rsa, ecdsa, ed] = [keyOf('rsa'), keyOf('ecdsa'), keyOf('ed25519')];
    const { user } = await createAcme({ sshKeys: [rsa.publicKey, ecdsa.publicKey] });
    const rsaId = [...emu.credentials.get(user.id)!.SshKeys].find((k) => k.Fingerprint === rsa.fingerprint)!.Id;
    const updated = await adapter.updateUser(user.id, { sshKeys: [ed.publicKey, ecdsa.publicKey], status: 'disabled' }, ctx);
    expect(calls()).toEqual([
      `PATCH /users/${user.id}`, `GET /users/${user.id}/ssh-public-keys`, `POST /users/${user.id}/ssh-public-keys`,
      `DELETE /users/${user.id}/ssh-public-keys/${rsaId}`, `GET /users/${user.id}`,
    ]);
    expect([updated.sshKeyCount, updated.status]).toEqual([2, 'disabled']);
    expect(emu.credentials.get(user.id)!.SshKeys.map((k) => k.Fingerprint).sort()).toEqual([ecdsa.fingerprint, ed.fingerprint].sort());
    emu.clearRequests();
    expect((await adapter.updateUser(user.id, { sshKeys: [] }, ctx)).sshKeyCount).toBe(0);
    expect(calls().filter((c) => c.startsWith('DELETE'))).toHaveLength(2);
  });

  it('networkRules replace the whole rule set in the same PATCH', async () => {
    const { user } = await createAcme({ networkRules: [rule('192.0.2.1'), rule('192.0.2.2')] });
    const updated = await adapter.updateUser(user.id, { networkRules: [rule('198.51.100.0/24', { protocol: 'sftp' })] }, ctx);
    expect(calls()).toEqual([`PATCH /users/${user.id}`]);
    expect(emu.requests[0]!.body).toEqual({
      Settings: { Network: { InboundRules: [{ Action: 'allow', Protocol: 'SFTP', State: 'enabled', Source: '198.51.100.0/24', Description: '' }] } },
    });
    expect(emu.credentials.get(user.id)!.InboundRules.map((r) => r.Source)).toEqual(['198.51.100.0/24']);
    expect(updated.id).toBe(user.id);
  });

  it('an unknown user is a 404', async () => {
    const err = await failure(adapter.updateUser('ffffffffffffffffffffffffffffff', { status: 'disabled' }, ctx));
    expect([err.status, err.code]).toEqual([404, 'not_found']);
  });
});

describe('deleteUser', () => {
  it('reads, then DELETEs', async () => {
    const { user } = await createAcme();
    await adapter.deleteUser(user.id, ctx);
    expect(calls()).toEqual([`GET /users/${user.id}`, `DELETE /users/${user.id}`]);
    expect(emu.credentials.has(user.id)).toBe(false);
    const again = await failure(adapter.deleteUser(user.id, ctx));
    expect(again.status).toBe(404);
    expect(calls().filter((c) => c.startsWith('DELETE'))).toHaveLength(1);
  });

  it('refuses the root credential with 409 and sends no DELETE', async () => {
    const err = await failure(adapter.deleteUser(emu.rootId, ctx));
    expect([err.status, err.code, err.detail]).toEqual([409, 'conflict', 'the root credential cannot be deleted']);
    expect(calls()).toEqual([`GET /users/${emu.rootId}`]);
    expect(emu.credentials.has(emu.rootId)).toBe(true);
  });

  it("maps the upstream's refusal of a root delete to 409 too", async () => {
    // A read that does not show IsDefault (as if it changed in between): the upstream refuses.
    const lying: typeof fetch = async (input, init) => {
      const res = await emu.fetch(input, init);
      if ((init?.method ?? 'GET') !== 'GET') return res;
      return Response.json({ ...((await res.json()) as object), IsDefault: false });
    };
    const a = createSftpToGoAdapter(config, { backend: 'togo', fetch: lying });
    const err = await failure(a.deleteUser(emu.rootId, ctx));
    expect([err.status, err.code, err.detail]).toEqual([409, 'conflict', 'the root credential cannot be deleted']);
    expect(calls()).toEqual([`GET /users/${emu.rootId}`, `DELETE /users/${emu.rootId}`]);
    expect(emu.credentials.has(emu.rootId)).toBe(true);
  });
});

describe('rotatePassword', () => {
  it('POSTs a rotation, then reads the new password back', async () => {
    const { user, generatedPassword } = await createAcme();
    const rotation = await adapter.operations.passwordRotation!.rotatePassword(user.id, ctx);
    expect(calls()).toEqual([`POST /users/${user.id}/credential-rotations`, `GET /users/${user.id}`]);
    const stored = emu.credentials.get(user.id)!;
    expect(rotation).toEqual({ password: stored.Password, rotatedAt: new Date(stored.PasswordCreatedAt).toISOString() });
    expect(rotation.password).not.toBe(generatedPassword);
  });

  it('an unknown user is a 404 without a read', async () => {
    const err = await failure(adapter.operations.passwordRotation!.rotatePassword('ffffffffffffffffffffffffffffff', ctx));
    expect(err.status).toBe(404);
    expect(calls()).toEqual(['POST /users/ffffffffffffffffffffffffffffff/credential-rotations']);
  });

  it('uses the time of the call when the upstream gives no PasswordCreatedAt', async () => {
    const { user } = await createAcme();
    const blank: typeof fetch = async (input, init) => {
      const res = await emu.fetch(input, init);
      if ((init?.method ?? 'GET') !== 'GET') return res;
      const { PasswordCreatedAt: _p, ...rest } = (await res.json()) as Record<string, unknown>;
      return Response.json(rest);
    };
    const a = createSftpToGoAdapter(config, { backend: 'togo', fetch: blank });
    const before = Date.now();
    const { rotatedAt } = await a.operations.passwordRotation!.rotatePassword(user.id, ctx);
    expect(Date.parse(rotatedAt)).toBeGreaterThanOrEqual(before - 1);
  });
});

describe('SSH keys', () => {
  it('adds a key after checking it is not there, and lists it with its own id', async () => {
    const { user } = await createAcme();
    const fx = keyOf('ed25519');
    const added = await adapter.operations.sshKeys!.addSshKey(user.id, await parseSshPublicKey(fx.publicKey), ctx);
    expect(calls()).toEqual([`GET /users/${user.id}/ssh-public-keys`, `POST /users/${user.id}/ssh-public-keys`]);
    expect(emu.requests[1]!.body).toEqual({ SshPublicKeyBody: fx.publicKey });
    const stored = emu.credentials.get(user.id)!.SshKeys[0]!;
    expect(added).toEqual({
      id: stored.Id, type: 'ed25519', fingerprint: fx.fingerprint, comment: fx.comment, publicKey: fx.publicKey,
      createdAt: new Date(stored.CreatedAt).toISOString(),
    });
    expect(await adapter.operations.sshKeys!.listSshKeys(user.id, ctx)).toEqual([added]);
    expect((await adapter.getUser(user.id, ctx)).sshKeyCount).toBe(1);
  });

  it('the same key (another comment) is a 409 without a POST', async () => {
    const fx = keyOf('rsa');
    const { user } = await createAcme({ sshKeys: [fx.publicKey] });
    const err = await failure(adapter.operations.sshKeys!.addSshKey(user.id, await parseSshPublicKey(`${fx.publicKey.split(' ').slice(0, 2).join(' ')} other@host`), ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
    expect(calls()).toEqual([`GET /users/${user.id}/ssh-public-keys`]);
  });

  it('an upstream 409 on the POST (a race) is a 409 too', async () => {
    const { user } = await createAcme();
    emu.setFaults({ status: 409, match: { method: 'POST' } });
    const err = await failure(adapter.operations.sshKeys!.addSshKey(user.id, await parseSshPublicKey(keyOf('rsa').publicKey), ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
  });

  it('deletes a key by id; an unknown or impossible key id is 404 without a DELETE', async () => {
    const { user } = await createAcme({ sshKeys: [keyOf('rsa').publicKey, keyOf('ecdsa').publicKey] });
    const [first, second] = emu.credentials.get(user.id)!.SshKeys.map((k) => k.Id);
    await adapter.operations.sshKeys!.deleteSshKey(user.id, first!, ctx);
    expect(calls()).toEqual([`GET /users/${user.id}/ssh-public-keys`, `DELETE /users/${user.id}/ssh-public-keys/${first}`]);
    expect(emu.credentials.get(user.id)!.SshKeys.map((k) => k.Id)).toEqual([second]);
    emu.clearRequests();
    expect((await failure(adapter.operations.sshKeys!.deleteSshKey(user.id, first!, ctx))).status).toBe(404);
    expect(calls()).toEqual([`GET /users/${user.id}/ssh-public-keys`]);
    emu.clearRequests();
    expect((await failure(adapter.operations.sshKeys!.deleteSshKey(user.id, 'a:b', ctx))).status).toBe(404);
    expect(emu.requests).toEqual([]);
  });

  it('keys of an unknown user are a 404', async () => {
    const gone = 'ffffffffffffffffffffffffffffff';
    expect((await failure(adapter.operations.sshKeys!.listSshKeys(gone, ctx))).status).toBe(404);
    expect((await failure(adapter.operations.sshKeys!.addSshKey(gone, await parseSshPublicKey(keyOf('rsa').publicKey), ctx))).status).toBe(404);
    expect((await failure(adapter.operations.sshKeys!.deleteSshKey(gone, '97285e07-09fd-42de-a1d0-997a0818310a', ctx))).status).toBe(404);
  });

  it("reads every fixture type back with ssh-keygen's fingerprint", async () => {
    const { user } = await createAcme({ sshKeys: sshKeys.map((k) => k.publicKey) });
    const listed = await adapter.operations.sshKeys!.listSshKeys(user.id, ctx);
    expect(listed.map((k) => [k.type, k.fingerprint, k.comment])).toEqual(sshKeys.map((k) => [k.type, k.fingerprint, k.comment]));
  });

  it("computes the fingerprint from the body, and falls back to the upstream's when the body does not parse", async () => {
    const { user } = await createAcme({ sshKeys: [keyOf('rsa').publicKey, keyOf('ed25519').publicKey] });
    const [a, b] = emu.credentials.get(user.id)!.SshKeys;
    a!.Fingerprint = 'SHA256:RcoHnamHrApC'; // what the upstream says does not count when the body parses
    b!.SshPublicKeyBody = 'ssh-ed25519 AAAAC3Nza...truncated';
    b!.Fingerprint = 'SHA256:upstream-says';
    const [ka, kb] = await adapter.operations.sshKeys!.listSshKeys(user.id, ctx);
    expect(ka!.fingerprint).toBe(keyOf('rsa').fingerprint);
    expect(kb).toMatchObject({ type: 'ed25519', fingerprint: 'SHA256:upstream-says', publicKey: 'ssh-ed25519 AAAAC3Nza...truncated' });
    expect(logLines.join('\n')).toMatch(/does not parse/);
  });
});

describe('network rules', () => {
  it('lists the rules of the credential (the default one of a new credential)', async () => {
    const { user } = await createAcme();
    expect(await adapter.operations.networkRules!.listNetworkRules(user.id, ctx)).toEqual([{
      id: emu.credentials.get(user.id)!.InboundRules[0]!.Id, cidr: '0.0.0.0/0', protocol: 'sftp', enabled: true,
      description: 'Allow all inbound traffic from anywhere',
    }]);
    expect(calls()).toEqual([`GET /users/${user.id}`]);
  });

  it('replaces the whole set in one PATCH (Action allow, a sent id kept) and answers what the PATCH answered', async () => {
    const { user } = await createAcme();
    const rules = await adapter.operations.networkRules!.replaceNetworkRules(user.id, [
      rule('203.0.113.7'), rule('198.51.100.0/24', { id: 'office-rule', protocol: 'sftp', enabled: false, description: 'office' }),
    ], ctx);
    expect(calls()).toEqual([`PATCH /users/${user.id}`]);
    expect(emu.requests[0]!.body).toEqual({ Settings: { Network: { InboundRules: [
      { Action: 'allow', Protocol: '*', State: 'enabled', Source: '203.0.113.7/32', Description: '' },
      { Id: 'office-rule', Action: 'allow', Protocol: 'SFTP', State: 'disabled', Source: '198.51.100.0/24', Description: 'office' },
    ] } } });
    const stored = emu.credentials.get(user.id)!.InboundRules;
    expect(rules).toEqual([
      { id: stored[0]!.Id, cidr: '203.0.113.7/32', protocol: 'any', enabled: true, description: null },
      { id: 'office-rule', cidr: '198.51.100.0/24', protocol: 'sftp', enabled: false, description: 'office' },
    ]);
    expect(await adapter.operations.networkRules!.listNetworkRules(user.id, ctx)).toEqual(rules);
    expect(await adapter.operations.networkRules!.replaceNetworkRules(user.id, [], ctx)).toEqual([]);
  });

  it('reads a bare IP that the upstream holds as /32, and an unknown user is a 404', async () => {
    const { user } = await createAcme();
    emu.credentials.get(user.id)!.InboundRules[0]!.Source = '192.0.2.1';
    expect((await adapter.operations.networkRules!.listNetworkRules(user.id, ctx))[0]!.cidr).toBe('192.0.2.1/32');
    const gone = 'ffffffffffffffffffffffffffffff';
    expect((await failure(adapter.operations.networkRules!.listNetworkRules(gone, ctx))).status).toBe(404);
    expect((await failure(adapter.operations.networkRules!.replaceNetworkRules(gone, [rule('10.0.0.1')], ctx))).status).toBe(404);
  });
});

describe('health', () => {
  it('is ok with the number of credentials', async () => {
    emu.seedCredentials(2, 'seeded');
    expect(await adapter.health(ctx)).toEqual({ ok: true, detail: 'SFTP To Go: 3 credentials' });
    expect(calls()).toEqual(['GET /users']);
  });

  it("is not ok when SFTP To Go rejects the gateway's key or organization, or cannot be reached; never throws", async () => {
    const wrongKey = createSftpToGoAdapter({ ...config, apiKey: 'wrong-api-key-123' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    const bad = await wrongKey.health(ctx);
    expect(bad).toEqual({ ok: false, detail: expect.stringMatching(/rejected the gateway's API key \(401\)/) });
    expect(bad.detail).not.toContain('wrong-api-key-123');
    const wrongOrg = createSftpToGoAdapter({ ...config, organizationId: 'someone-else' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    expect(await wrongOrg.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/rejected the gateway's API key \(403\)/) });
    emu.setFaults({ status: 500 });
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: 'SFTP To Go answered 500: emulated fault: HTTP 500' });
    emu.setFaults({ garbage: true });
    expect(await adapter.health(ctx)).toMatchObject({ ok: false });
    emu.setFaults({ reset: true });
    expect(await adapter.health(ctx)).toEqual({ ok: false, detail: expect.stringMatching(/^unreachable/) });
  });
});

describe('upstream statuses', () => {
  it.each([
    // A refusal of a request the gateway built is never the caller's 400 (CONTRACT §4).
    [400, 502, 'upstream_error', /^SFTP To Go refused the request the gateway built \(400 on GET \/users\/[0-9a-f]{30}\): emulated fault: HTTP 400$/],
    [422, 502, 'upstream_error', /^SFTP To Go refused the request the gateway built \(422 on GET/],
    [409, 409, 'conflict', /^SFTP To Go refused the change/],
    [500, 502, 'upstream_error', /^SFTP To Go answered 500: emulated fault/],
    [503, 502, 'upstream_error', /^SFTP To Go answered 503/],
  ])('%i → %i %s', async (upstream, status, code, detail) => {
    emu.setFaults({ status: upstream });
    const err = await failure(adapter.getUser(emu.rootId, ctx));
    expect([err.status, err.code]).toEqual([status, code]);
    expect(err.detail).toMatch(detail);
  });

  it("401 (a wrong API key) is the gateway's problem: 502 naming the key setting, never the key", async () => {
    const wrong = createSftpToGoAdapter({ ...config, apiKey: 'wrong-api-key-123' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    const err = await failure(wrong.getUser(emu.rootId, ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    expect(err.detail).toMatch(/gateway's own API key \(401 on GET \/users\/[0-9a-f]{30}\): check the backend's apiKey/);
    expect(err.detail).not.toContain('wrong-api-key-123');
    expect(err.detail).not.toContain(emu.apiKey);
  });

  it('403 (a wrong organization id) is a 502 naming the organization id', async () => {
    const wrong = createSftpToGoAdapter({ ...config, organizationId: 'someone-else' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    const err = await failure(wrong.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    expect(err.detail).toMatch(/organizationId/);
  });

  it('429 passes Retry-After through', async () => {
    emu.setFaults({ status: 429, headers: { 'Retry-After': '7' } });
    const err = await failure(adapter.getUser(emu.rootId, ctx));
    expect([err.status, err.code, err.extra.headers]).toEqual([429, 'rate_limited', { 'Retry-After': '7' }]);
  });

  it('a body that is not JSON is 502, a dropped connection 503, a slow answer 504', async () => {
    emu.setFaults({ garbage: true, times: 1 });
    expect((await failure(adapter.getUser(emu.rootId, ctx))).status).toBe(502);
    emu.setFaults({ reset: true, times: 3 }); // a GET is tried 3 times (2 retries)
    expect((await failure(adapter.getUser(emu.rootId, ctx))).status).toBe(503);
    const slow = createSftpToGoAdapter({ ...config, timeoutMs: 100 }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    emu.setFaults({ hang: true, times: 1 });
    expect((await failure(slow.getUser(emu.rootId, ctx))).status).toBe(504);
  });

  it('never echoes the API key or a password in a URL that an upstream message repeats', async () => {
    const echo: typeof fetch = async () =>
      Response.json({ message: `key ${emu.apiKey} refused for sftp://acme_uploads:Leaky-Secret-1@h.example` }, { status: 400 });
    const leaky = createSftpToGoAdapter(config, { backend: 'togo', fetch: echo });
    const err = await failure(leaky.getUser(emu.rootId, ctx));
    expect(err.status).toBe(502);
    expect(err.detail).toBe(
      `SFTP To Go refused the request the gateway built (400 on GET /users/${emu.rootId}): key [redacted] refused for sftp://acme_uploads@h.example`,
    );
  });
});

describe('over a real socket', () => {
  it('creates with a key and a rule, reads, rotates and deletes through HTTP', async () => {
    const socketEmu = createSftpToGoEmulator({ apiKey: 'socket-api-key-123', organizationId: 'org-socket' });
    const served = await serveSftpToGoEmulator(socketEmu);
    try {
      const real = createSftpToGoAdapter({ ...config, baseUrl: `${served.url}/`, organizationId: 'org-socket', apiKey: 'socket-api-key-123' }, { backend: 'togo' });
      const { user, generatedPassword } = await real.createUser(
        { username: 'socket_user', accessLevel: 'read-only', sshKeys: [keyOf('ed25519').publicKey], networkRules: [rule('192.0.2.0/24')] },
        ctx,
      );
      expect(generatedPassword).toBe(socketEmu.credentials.get(user.id)!.Password);
      expect(user.sshKeyCount).toBe(1);
      expect(plain(await real.getUser(user.id, ctx))).toEqual(plain(user));
      const rotation = await real.operations.passwordRotation!.rotatePassword(user.id, ctx);
      expect(rotation.password).toBe(socketEmu.credentials.get(user.id)!.Password);
      expect(await real.health(ctx)).toEqual({ ok: true, detail: 'SFTP To Go: 2 credentials' });
      await real.deleteUser(user.id, ctx);
      expect(socketEmu.credentials.has(user.id)).toBe(false);
      expect(new Set(socketEmu.requests.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer socket-api-key-123']));
      expect(socketEmu.requests.every((r) => r.path.startsWith('/organizations/org-socket/users'))).toBe(true);
    } finally {
      await served.close();
    }
    const gone = createSftpToGoAdapter({ ...config, baseUrl: served.url }, { backend: 'togo' });
    expect((await failure(gone.getUser('abc', ctx))).status).toBe(503);
  });
});
