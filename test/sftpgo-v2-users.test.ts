/**
 * The user operations of the SFTPGo REST API v2 backend (adapters/sftpgo/v2-users.ts) against the
 * 2.7.5 emulator: what the caller gets back, and what reached the server.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoV2Emulator, type SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import type { SftpgoBackendConfig } from '../adapters/sftpgo/config.js';
import { createSftpgoV2Backend, type SftpgoV2Backend } from '../adapters/sftpgo/v2-backend.js';
import { createUserV2, deleteUserV2, getUserV2, listUsersV2, updateUserV2 } from '../adapters/sftpgo/v2-users.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext, ListUsersQuery } from '../src/provider-kit/index.js';
import { failure } from './helpers/errors.js';

const ctx: CallContext = { requestId: 'req-v2-users', logger: createLogger({ level: 'silent' }) };
const query = (q: Partial<ListUsersQuery> = {}): ListUsersQuery => ({ limit: 10, offset: 0, order: 'asc', ...q });

let emu: SftpgoV2Emulator;
let b: SftpgoV2Backend;

beforeEach(() => {
  emu = createSftpgoV2Emulator();
  b = createSftpgoV2Backend(v2Config({ baseUrl: 'http://sftpgo.test/', username: 'admin', password: 'AdminPass-2024', sftpHost: 'sftp.example', sftpPort: 2022 }),
    { backend: 'v2', fetch: emu.fetch as typeof fetch },
  );
});

function v2Config(over: Partial<SftpgoBackendConfig>): SftpgoBackendConfig {
  return { provider: 'sftpgo', apiVersion: 'v2', baseUrl: 'http://sftpgo.test', sftpPort: 22, homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 5000, ...over };
}

const names = (page: { data: Array<{ username: string }> }) => page.data.map((u) => u.username);
const userCalls = () => emu.requests.filter((r) => r.path.startsWith('/api/v2/users'));

describe('create, get, delete', () => {
  it('creates a user with a generated password, reads it back, deletes it', async () => {
    const created = await createUserV2(b, { username: 'alice', accessLevel: 'read-write', displayName: 'Alice' }, ctx);
    expect(created.generatedPassword).toMatch(/.{12,}/);
    expect(created.user).toMatchObject({ id: 'alice', username: 'alice', status: 'active', accessLevel: 'read-write', displayName: 'Alice', backend: 'v2' });
    const stored = emu.users.get('alice')!;
    expect(stored.password).toBe(created.generatedPassword);
    expect(stored.status).toBe(1);
    expect(stored.description).toBe('Alice');
    expect(stored.home_dir).toBe('/srv/sftpgo/data/alice');

    const got = await getUserV2(b, 'alice', ctx);
    expect(got).toMatchObject({ id: 'alice', username: 'alice', accessLevel: 'read-write', displayName: 'Alice', homeDirectory: '/srv/sftpgo/data/alice' });
    expect(got.createdAt).not.toBeNull();

    await deleteUserV2(b, 'alice', ctx);
    expect(emu.users.has('alice')).toBe(false);
    const err = await failure(getUserV2(b, 'alice', ctx));
    expect(err.status).toBe(404);
    expect(err.detail).toBe('user alice not found');
    expect((await failure(deleteUserV2(b, 'alice', ctx))).status).toBe(404);
  });

  it('returns no password when the caller gave one, and never repeats it', async () => {
    const created = await createUserV2(b, { username: 'bob', password: 'Bob-Secret-123', accessLevel: 'read-only' }, ctx);
    expect(created.generatedPassword).toBeUndefined();
    expect(emu.users.get('bob')!.password).toBe('Bob-Secret-123');
    expect(JSON.stringify(created.user)).not.toContain('Bob-Secret-123');
  });

  it('answers a duplicate username with 409, and leaves the stored user alone', async () => {
    await createUserV2(b, { username: 'dup', password: 'First-Pass-1', accessLevel: 'full' }, ctx);
    const err = await failure(createUserV2(b, { username: 'dup', password: 'Second-Pass-2', accessLevel: 'read-only' }, ctx));
    expect(err.status).toBe(409);
    expect(err.detail).toBe('username "dup" is already taken');
    expect(emu.users.get('dup')!.password).toBe('First-Pass-1');
  });

  it('percent-encodes the username in the path: a name with "/" or a space is one 404, never another route', async () => {
    emu.seedUsers(1, 'x');
    for (const name of ['a/b', 'a b', '../users']) {
      const err = await failure(getUserV2(b, name, ctx));
      expect(err.status).toBe(404);
      expect(err.detail).toBe(`user ${name} not found`);
    }
    // Each reached the one-user route: the "/" in a name was encoded, not taken as a separator.
    const paths = userCalls().map((r) => r.path);
    expect(paths).toHaveLength(3);
    expect(paths.map((p) => p.split('/').length)).toEqual([5, 5, 5]);
    expect(paths[0]).toBe('/api/v2/users/a%2Fb');
    // The server's naming rules refuse such names on create (naming_rules 0: a-zA-Z0-9-_.~): a 422 with its reason.
    const refused = await failure(createUserV2(b, { username: 'a b', accessLevel: 'full' }, ctx));
    expect([refused.status, refused.code]).toEqual([422, 'not_supported_by_provider']);
    expect(refused.detail).toBe('SFTPGo refuses the username: username "a b" is not valid, the following characters are allowed: a-zA-Z0-9-_.~');
    expect(emu.users.has('a b')).toBe(false);
  });

  it('"." and ".." cannot be a path segment (every URL parser resolves them away): 404 without a call', async () => {
    for (const name of ['.', '..']) {
      expect((await failure(getUserV2(b, name, ctx))).status).toBe(404);
      expect((await failure(deleteUserV2(b, name, ctx))).status).toBe(404);
      expect((await failure(updateUserV2(b, name, { status: 'disabled' }, ctx))).status).toBe(404);
      expect((await listUsersV2(b, query({ username: name }), ctx)).data).toEqual([]);
    }
    expect(userCalls()).toEqual([]);
  });

  it('names the setting to fix when SFTPGo refuses the gateway, never the secret', async () => {
    const wrong = createSftpgoV2Backend(v2Config({ baseUrl: 'http://sftpgo.test', username: 'admin', password: 'Wrong-Pass-99' }), { backend: 'v2', fetch: emu.fetch as typeof fetch });
    const err = await failure(getUserV2(wrong, 'alice', ctx));
    expect(err.status).toBe(502);
    expect(err.detail).toContain('username and password');
    expect(err.detail).not.toContain('Wrong-Pass-99');

    const badKey = createSftpgoV2Backend(v2Config({ baseUrl: 'http://sftpgo.test', apiKey: 'nokey.nosecret-123' }), { backend: 'v2', fetch: emu.fetch as typeof fetch });
    const keyErr = await failure(listUsersV2(badKey, query(), ctx));
    expect(keyErr.status).toBe(502);
    expect(keyErr.detail).toContain('apiKey');
    expect(keyErr.detail).not.toContain('nosecret-123');

    // A known key id with the wrong secret is a 401 on 2.7.5.
    emu.setAllowApiKeyAuth(true);
    const id = emu.addApiKey().split('.')[0]!;
    const wrongSecret = createSftpgoV2Backend(v2Config({ baseUrl: 'http://sftpgo.test', apiKey: `${id}.wrong-secret-77` }), { backend: 'v2', fetch: emu.fetch as typeof fetch });
    const secretErr = await failure(getUserV2(wrongSecret, 'alice', ctx));
    expect(secretErr.status).toBe(502);
    expect(secretErr.detail).toContain("check the backend's apiKey");
    expect(secretErr.detail).not.toContain('wrong-secret-77');
  });

  it('works with an API key as well as a token', async () => {
    emu.setAllowApiKeyAuth(true);
    const key = emu.addApiKey();
    const withKey = createSftpgoV2Backend(v2Config({ baseUrl: 'http://sftpgo.test', apiKey: key }), { backend: 'v2', fetch: emu.fetch as typeof fetch });
    await createUserV2(withKey, { username: 'keyed', accessLevel: 'full' }, ctx);
    expect((await getUserV2(withKey, 'keyed', ctx)).username).toBe('keyed');
    expect(emu.requests.filter((r) => r.path === '/api/v2/token')).toHaveLength(0);
  });
});

describe('list', () => {
  beforeEach(() => {
    emu.seedUsers(7, 'u');
    // Disable u00002, u00004, u00006 through the backdoor.
    for (const n of [2, 4, 6]) emu.users.get(`u0000${n}`)!.status = 0;
  });

  it('orders ascending and descending, sending the order in upper case', async () => {
    expect(names(await listUsersV2(b, query(), ctx))).toEqual(['u00001', 'u00002', 'u00003', 'u00004', 'u00005', 'u00006', 'u00007']);
    expect(names(await listUsersV2(b, query({ order: 'desc', limit: 3 }), ctx))).toEqual(['u00007', 'u00006', 'u00005']);
    const orders = userCalls().map((r) => r.query.order);
    expect(orders).toEqual(['ASC', 'DESC']);
  });

  it('pages by offset until nextOffset is null', async () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    const offsets: number[] = [];
    while (offset !== null) {
      offsets.push(offset);
      const page = await listUsersV2(b, query({ limit: 3, offset }), ctx);
      seen.push(...names(page));
      offset = page.nextOffset;
    }
    expect(offsets).toEqual([0, 3, 6]);
    expect(seen).toEqual(['u00001', 'u00002', 'u00003', 'u00004', 'u00005', 'u00006', 'u00007']);
    const exact = await listUsersV2(b, query({ limit: 7 }), ctx);
    expect(exact.nextOffset).toBeNull();
    expect(exact.data).toHaveLength(7);
  });

  it('reads one user for an exact username: a found one, an unknown one as an empty page', async () => {
    emu.clearRequests();
    const found = await listUsersV2(b, query({ username: 'u00003' }), ctx);
    expect(names(found)).toEqual(['u00003']);
    expect(found.nextOffset).toBeNull();
    expect(userCalls().map((r) => r.path)).toEqual(['/api/v2/users/u00003']);
    expect(await listUsersV2(b, query({ username: 'nobody' }), ctx)).toEqual({ data: [], nextOffset: null });
    expect(names(await listUsersV2(b, query({ username: 'u00002', status: 'active' }), ctx))).toEqual([]);
    expect(names(await listUsersV2(b, query({ username: 'u00002', status: 'disabled' }), ctx))).toEqual(['u00002']);
  });

  it('filters by status across pages, resuming where the last page stopped', async () => {
    const first = await listUsersV2(b, query({ status: 'active', limit: 2 }), ctx);
    expect(names(first)).toEqual(['u00001', 'u00003']);
    expect(first.nextOffset).toBe(3);
    const second = await listUsersV2(b, query({ status: 'active', limit: 2, offset: first.nextOffset! }), ctx);
    expect(names(second)).toEqual(['u00005', 'u00007']);
    expect(second.nextOffset).toBeNull();
    const disabled = await listUsersV2(b, query({ status: 'disabled', order: 'desc' }), ctx);
    expect(names(disabled)).toEqual(['u00006', 'u00004', 'u00002']);
    expect(disabled.data.every((u) => u.status === 'disabled')).toBe(true);
  });

  it('clamps the limit to 500', async () => {
    emu.seedUsers(600, 'z');
    emu.clearRequests();
    const page = await listUsersV2(b, query({ limit: 10_000 }), ctx);
    expect(page.data).toHaveLength(500);
    expect(page.nextOffset).toBe(500);
    expect(userCalls().map((r) => r.query.limit)).toEqual(['500', '1']);
  });
});

describe('update', () => {
  beforeEach(async () => {
    await createUserV2(b, { username: 'carol', password: 'Carol-Pass-1', accessLevel: 'read-only', displayName: 'Carol' }, ctx);
    const stored = emu.users.get('carol')!;
    // What the model does not carry, set through the backdoor: a PUT that left it out would reset it.
    stored.email = 'carol@example.com';
    stored.additional_info = 'billing: team-7';
    (stored.filters as Record<string, unknown>).denied_ip = ['198.51.100.0/24'];
    stored.max_sessions = 3;
  });

  it('changes status, level and display name, keeping every field the model does not carry', async () => {
    const updated = await updateUserV2(b, 'carol', { status: 'disabled', accessLevel: 'full', displayName: 'Carol C.' }, ctx);
    expect(updated).toMatchObject({ id: 'carol', status: 'disabled', accessLevel: 'full', displayName: 'Carol C.' });
    const stored = emu.users.get('carol')!;
    expect(stored.status).toBe(0);
    expect(stored.description).toBe('Carol C.');
    expect(stored.permissions).toEqual({ '/': ['*'] });
    expect(stored.email).toBe('carol@example.com');
    expect(stored.additional_info).toBe('billing: team-7');
    expect((stored.filters as Record<string, unknown>).denied_ip).toEqual(['198.51.100.0/24']);
    expect(stored.max_sessions).toBe(3);
    expect(stored.password).toBe('Carol-Pass-1');
    expect(await getUserV2(b, 'carol', ctx)).toMatchObject({ status: 'disabled', accessLevel: 'full', displayName: 'Carol C.' });
    const put = userCalls().find((r) => r.method === 'PUT')!;
    expect(put.path).toBe('/api/v2/users/carol');
    expect(put.body).not.toContain('Carol-Pass-1');
  });

  it('lands both of two concurrent patches of one user', async () => {
    await Promise.all([
      updateUserV2(b, 'carol', { displayName: 'Concurrent' }, ctx),
      updateUserV2(b, 'carol', { status: 'disabled' }, ctx),
    ]);
    const stored = emu.users.get('carol')!;
    expect(stored.description).toBe('Concurrent');
    expect(stored.status).toBe(0);
    expect(stored.email).toBe('carol@example.com');
  });

  it('sets the password the patch carries', async () => {
    await updateUserV2(b, 'carol', { password: 'Carol-New-2' }, ctx);
    expect(emu.users.get('carol')!.password).toBe('Carol-New-2');
  });

  it('answers 404 for an unknown user, with no PUT sent', async () => {
    const err = await failure(updateUserV2(b, 'ghost', { status: 'disabled' }, ctx));
    expect(err.status).toBe(404);
    expect(err.detail).toBe('user ghost not found');
    expect(userCalls().some((r) => r.method === 'PUT')).toBe(false);
  });

  it('refuses a rename before any write', async () => {
    const err = await failure(updateUserV2(b, 'carol', { username: 'caroline' }, ctx));
    expect(err.status).toBe(422);
    expect(emu.users.has('carol')).toBe(true);
    expect(userCalls().some((r) => r.method === 'PUT')).toBe(false);
  });
});
