/**
 * SFTPGo 2.x through the gateway's HTTP API (issue 17): finding the API (`auto`), the 502 of a
 * backend pinned to the other one, credentials (API key or token) and health, users by username
 * (as the server stores them, its naming rules' refusals a 422), whole-user writes under
 * concurrent patches, and the exact-username list. The 2.7.5 emulator (and the 1.2.2 one, where a
 * server speaks API v1) answer in process.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpgoV2Emulator, type SftpgoV2Emulator, type SftpgoV2EmulatorOptions } from '../adapters/sftpgo/emulator/v2.js';
import { createTestGateway, type TestGateway } from './helpers/gateway.js';

const ADMIN = { username: 'admin', password: 'AdminPass-2024' };
const BASE = { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com', sftpPort: 2022 };

/** A gateway whose `onprem` backend reaches whatever `upstream.fetch` is at the time of each call. */
function gatewayFor(backend: Record<string, unknown>, upstream: { fetch: (r: Request) => Promise<Response> | Response }): TestGateway {
  const through: typeof fetch = async (input, init) => upstream.fetch(new Request(input, init));
  return createTestGateway({ backends: { onprem: { ...BASE, ...backend } }, defaultBackend: 'onprem', fetchFor: () => through });
}

let emu: SftpgoV2Emulator;
const v2Emulator = (opts: SftpgoV2EmulatorOptions = {}) => (emu = createSftpgoV2Emulator(opts));
const calls = (path?: string) => emu.requests.filter((r) => path === undefined || r.path === path).map((r) => `${r.method} ${r.path}`);

beforeEach(() => {
  v2Emulator();
});

describe('finding the API', () => {
  it('auto finds API v2 on first use and reports it, with the server version, capabilities and sixteen names', async () => {
    const gw = gatewayFor({ ...ADMIN }, emu);
    const before = await gw.json('GET', '/v1/backends');
    expect(before.body.data[0]).toMatchObject({ name: 'onprem', apiVersion: null, serverVersion: null });

    const created = await gw.json('POST', '/v1/users', { body: { username: 'first_user', accessLevel: 'full', displayName: 'First' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'first_user', username: 'first_user', displayName: 'First', permissions: expect.arrayContaining(['copy']) });
    // After a 404 on /api/v1/version (the emulator logs only /api/v2): API v2 there (401 without a token), then its version with one.
    expect(calls().slice(0, 4)).toEqual(['GET /api/v2/version', 'GET /api/v2/token', 'GET /api/v2/version', 'POST /api/v2/users']);

    const listed = await gw.json('GET', '/v1/backends');
    expect(listed.body.data[0]).toMatchObject({ apiVersion: 'v2', serverVersion: '2.7.5' });
    const one = await gw.json('GET', '/v1/backends/onprem');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      apiVersion: 'v2', serverVersion: '2.7.5',
      health: { ok: true, detail: 'SFTPGo 2.7.5, API v2; data provider (sqlite) active; users readable' },
      capabilities: {
        displayName: true, networkRules: true, rename: false, independentChroot: false, passwordSet: true, directoryPermissions: true,
        connections: true, quotaScans: true, sshKeys: true, passwordRotation: true,
      },
    });
    expect(one.body.permissions).toHaveLength(16);
  });

  it('auto with only an API key asks API v2 first', async () => {
    emu.setAllowApiKeyAuth(true);
    const gw = gatewayFor({ apiKey: emu.addApiKey() }, emu);
    expect((await gw.json('GET', '/v1/users')).status).toBe(200);
    expect(calls()).toEqual(['GET /api/v2/version', 'GET /api/v2/users']);
    expect(calls('/api/v2/token')).toHaveLength(0);
  });

  it('auto with an API key on a 1.x server: API v2 is not there, so API v1 (which has no keys) is used', async () => {
    const v1 = createSftpgoEmulator();
    const gw = gatewayFor({ apiKey: 'some-id.some-secret' }, v1);
    expect((await gw.json('POST', '/v1/users', { body: { username: 'key_user', accessLevel: 'full' } })).body.id).toBe('1');
    expect((await gw.json('GET', '/v1/backends')).body.data[0]).toMatchObject({ apiVersion: 'v1', serverVersion: '1.2.2' });
    // Its requests never carried the key.
    expect(v1.requests.every((r) => r.headers['x-sftpgo-api-key'] === undefined)).toBe(true);
  });

  it('auto on a 1.x server stays on API v1 (numeric ids)', async () => {
    const v1 = createSftpgoEmulator();
    const gw = gatewayFor({}, v1);
    const created = await gw.json('POST', '/v1/users', { body: { username: 'old_user', accessLevel: 'full' } });
    expect(created.body.id).toMatch(/^\d+$/);
    expect((await gw.json('GET', '/v1/backends')).body.data[0]).toMatchObject({ apiVersion: 'v1', serverVersion: '1.2.2' });
  });

  it('a backend pinned to the other API: a 502 saying which it speaks, never a 404 for a user that exists; health not ok', async () => {
    emu.seedUsers(1, 'kept');
    const onV2 = gatewayFor({ apiVersion: 'v1', ...ADMIN }, emu);
    const r1 = await onV2.json('GET', '/v1/users/1');
    expect([r1.status, r1.body.code]).toEqual([502, 'upstream_error']);
    expect(r1.body.detail).toBe(
      'the SFTPGo server at http://sftpgo.test speaks REST API v2 (SFTPGo 2.x), not API v1: set the backend\'s apiVersion to "v2" or "auto", with an apiKey or username and password',
    );
    expect((await onV2.json('GET', '/v1/backends/onprem')).body.health).toMatchObject({ ok: false, detail: r1.body.detail });

    const v1 = createSftpgoEmulator();
    const onV1 = gatewayFor({ apiVersion: 'v2', ...ADMIN }, v1);
    const r2 = await onV1.json('GET', '/v1/users/kept00001');
    expect([r2.status, r2.body.detail]).toEqual([
      502, 'the SFTPGo server at http://sftpgo.test speaks REST API v1 (SFTPGo 0.9.x or 1.x), not API v2: set the backend\'s apiVersion to "v1" or "auto", with username and password if the server asks for them',
    ]);
    expect((await onV1.json('GET', '/v1/backends/onprem')).body.health.ok).toBe(false);
  });

  it('auto follows a server upgraded in place from 1.x to 2.x: the next call finds API v2 and is answered', async () => {
    const upstream = { fetch: createSftpgoEmulator().fetch as (r: Request) => Promise<Response> | Response };
    const gw = gatewayFor({ ...ADMIN }, upstream);
    expect((await gw.json('GET', '/v1/backends/onprem')).body).toMatchObject({ apiVersion: 'v1', health: { ok: true } });

    emu.seedUsers(2, 'migrated');
    upstream.fetch = emu.fetch;
    // The list reaches the server, meets a router's 404 under /api/v1, finds API v2 and is answered there.
    const after = await gw.json('GET', '/v1/users');
    expect(after.status).toBe(200);
    expect(after.body.data.map((u: { id: string }) => u.id)).toEqual(['migrated00001', 'migrated00002']);
    expect((await gw.json('GET', '/v1/users/migrated00001')).body).toMatchObject({ id: 'migrated00001', username: 'migrated00001' });
    expect((await gw.json('GET', '/v1/backends')).body.data[0]).toMatchObject({ apiVersion: 'v2', serverVersion: '2.7.5' });
  });

  it('auto: a health check after an in-place upgrade finds API v2 and is ok', async () => {
    const upstream = { fetch: createSftpgoEmulator().fetch as (r: Request) => Promise<Response> | Response };
    const gw = gatewayFor({ ...ADMIN }, upstream);
    expect((await gw.json('GET', '/v1/backends/onprem')).body).toMatchObject({ apiVersion: 'v1', health: { ok: true } });
    upstream.fetch = emu.fetch;
    const after = (await gw.json('GET', '/v1/backends/onprem')).body;
    expect(after).toMatchObject({ apiVersion: 'v2', serverVersion: '2.7.5', health: { ok: true } });
    expect(after.permissions).toHaveLength(16);
  });
});

describe('credentials', () => {
  it('20 concurrent requests share one token; a server restarted with a new signing key makes it renew once', async () => {
    const upstream = { fetch: emu.fetch as (r: Request) => Promise<Response> | Response };
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, upstream);
    emu.seedUsers(3, 'conc');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.json('GET', `/v1/users/conc0000${(i % 3) + 1}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(calls('/api/v2/token')).toHaveLength(1);

    // A restart: the same users, a new token secret. The old token is refused (401) once, then renewed.
    const restarted = createSftpgoV2Emulator();
    restarted.seedUsers(3, 'conc');
    upstream.fetch = restarted.fetch;
    const again = await Promise.all(Array.from({ length: 5 }, () => gw.json('GET', '/v1/users/conc00002')));
    expect(again.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(restarted.requests.filter((r) => r.path === '/api/v2/token')).toHaveLength(1);
  });

  it('a refused password, an unknown key, a key whose admin does not allow keys: a 502 naming the setting, health not ok', async () => {
    const cases: Array<[Record<string, unknown>, RegExp, string]> = [
      [{ username: 'admin', password: 'Wrong-Pass-99' }, /check the backend's username and password$/, 'Wrong-Pass-99'],
      [{ apiKey: 'unknownid.unknown-secret-1' }, /^SFTPGo does not know the gateway's API key .*check the backend's apiKey$/, 'unknown-secret-1'],
      [{ apiKey: emu.addApiKey() }, /its admin must allow API key authentication \(allow_api_key_auth/, ''],
    ];
    for (const [credentials, said, secret] of cases) {
      const gw = gatewayFor({ apiVersion: 'v2', ...credentials }, emu);
      const res = await gw.json('GET', '/v1/users');
      expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([502, 'upstream_error']);
      expect(res.body.detail).toMatch(said);
      const health = (await gw.json('GET', '/v1/backends/onprem')).body.health;
      expect(health.ok).toBe(false);
      expect(health.detail).toMatch(said);
      if (secret) expect(JSON.stringify([res.body, health, gw.logs])).not.toContain(secret);
    }
  });

  it('health reports a data provider that is down', async () => {
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    emu.setProviderDown(true);
    expect((await gw.json('GET', '/v1/backends/onprem')).body.health).toMatchObject({
      ok: false, detail: 'SFTPGo 2.7.5, API v2; data provider (sqlite): unable to open database file (emulated provider failure)',
    });
  });
});

describe('users by username', () => {
  it('answers the name as the server stores it (naming_rules 3: any character, lowercased); a path finds it either way', async () => {
    v2Emulator({ namingRules: 3 });
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    const created = await gw.json('POST', '/v1/users', { body: { username: 'Jörg.Smith', accessLevel: 'read-only' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'jörg.smith', username: 'jörg.smith', homeDirectory: '/srv/sftpgo/data/Jörg.Smith' });
    expect(created.headers.get('location')).toBe(`/v1/backends/onprem/users/${encodeURIComponent('jörg.smith')}`);
    expect((await gw.json('GET', `/v1/users/${encodeURIComponent('JÖRG.SMITH')}`)).body.username).toBe('jörg.smith');
    expect(calls()).toContain('GET /api/v2/users/JÖRG.SMITH'); // the log shows the path decoded
  });

  it('a name the server\'s naming rules refuse is a 422 with its reason, and no user is made', async () => {
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    const res = await gw.json('POST', '/v1/users', { body: { username: 'with space', accessLevel: 'full' } });
    expect([res.status, res.body.code]).toEqual([422, 'not_supported_by_provider']);
    expect(res.body.detail).toBe('SFTPGo refuses the username: username "with space" is not valid, the following characters are allowed: a-zA-Z0-9-_.~');
    expect(res.body.errors).toEqual([{ path: 'username', message: expect.stringContaining('is not valid') }]);
    expect(emu.users.size).toBe(0);
  });

  it('a name no SFTPGo accepts ("/", an edge space) is a 422 before any call, on API v1 and v2', async () => {
    const v1 = createSftpgoEmulator();
    for (const [backend, upstream] of [[{ apiVersion: 'v2', ...ADMIN }, emu], [{ apiVersion: 'v1' }, v1]] as const) {
      const gw = gatewayFor(backend, upstream);
      for (const [username, why] of [['a/b', 'must not hold "/"'], [' lead', 'must not begin or end with a space'], ['trail ', 'must not begin or end with a space']]) {
        const res = await gw.json('POST', '/v1/users', { body: { username, accessLevel: 'full' } });
        expect([res.status, res.body.code, res.body.detail]).toEqual([422, 'not_supported_by_provider', `SFTPGo usernames ${why}`]);
      }
    }
    expect(emu.requests).toHaveLength(0);
    expect(v1.requests).toHaveLength(0);
  });

  it('creates with status and home_dir always sent; a rename is a 422 and writes nothing', async () => {
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    await gw.json('POST', '/v1/users', { body: { username: 'sent_fields', accessLevel: 'full' } });
    const body = emu.requests.find((r) => r.method === 'POST')!.body as Record<string, unknown>;
    expect(body).toMatchObject({ status: 1, home_dir: '/srv/sftpgo/data/sent_fields' });
    emu.clearRequests();
    const renamed = await gw.json('PATCH', '/v1/users/sent_fields', { body: { username: 'other_name' } });
    expect([renamed.status, renamed.body.code]).toEqual([422, 'not_supported_by_provider']);
    expect(emu.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it('concurrent patches of one user lose no change (each PUT carries the whole user)', async () => {
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    await gw.json('POST', '/v1/users', { body: { username: 'busy_user', accessLevel: 'read-only' } });
    const patches = [
      { displayName: 'Busy' }, { expiresAt: '2031-01-01T00:00:00.000Z' }, { limits: { quotaFiles: 7 } }, { limits: { maxSessions: 3 } },
      { status: 'disabled' }, { directoryPermissions: { '/in': ['upload'] } }, { homeDirectory: '/srv/other/busy' },
      { accessLevel: 'read-write' },
    ];
    const answers = await Promise.all(patches.map((body) => gw.json('PATCH', '/v1/users/busy_user', { body })));
    expect(answers.map((a) => a.status)).toEqual(Array(patches.length).fill(200));
    const final = (await gw.json('GET', '/v1/users/busy_user')).body;
    expect(final).toMatchObject({
      displayName: 'Busy', expiresAt: '2031-01-01T00:00:00.000Z', status: 'disabled', accessLevel: 'read-write',
      directoryPermissions: { '/in': ['upload'] }, homeDirectory: '/srv/other/busy', limits: { quotaFiles: 7, maxSessions: 3 },
    });
  });

  it('an exact-username list reads that one user (the server has no filter), with the status filter applied', async () => {
    const gw = gatewayFor({ apiVersion: 'v2', ...ADMIN }, emu);
    emu.seedUsers(5, 'listed');
    emu.clearRequests();
    const found = await gw.json('GET', '/v1/users?username=listed00003');
    expect(found.body.data.map((u: { id: string }) => u.id)).toEqual(['listed00003']);
    expect(calls().filter((c) => c.includes('/users'))).toEqual(['GET /api/v2/users/listed00003']);
    expect((await gw.json('GET', '/v1/users?username=listed00003&status=disabled')).body.data).toEqual([]);
    expect((await gw.json('GET', '/v1/users?username=nobody')).body.data).toEqual([]);
  });
});
