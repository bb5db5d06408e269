import { afterEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoEmulator, SftpgoEmulatorOptions } from '../adapters/sftpgo/emulator/emulator.js';
import { goJsonText } from '../adapters/sftpgo/emulator/gojson.js';
import { keyOf } from './fixtures/ssh-keys.js';

const ED25519 = keyOf('ed25519').publicKey;
const RSA = keyOf('rsa').publicKey;

const alice = {
  username: 'alice',
  password: 'Secr3t!',
  home_dir: '/srv/sftpgo/data/alice',
  permissions: ['list', 'download'],
  status: 1,
  public_keys: [ED25519],
  quota_size: 1000,
};

let emu: SftpgoEmulator;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** An emulator in the seed's 0.9.x shape (the cases below were written for it). */
function fresh(opts: SftpgoEmulatorOptions = {}): SftpgoEmulator {
  emu = createSftpgoEmulator({ scanDurationMs: 30, version: '0.9.4', ...opts });
  return emu;
}

/** A call to the emulator's `/api/v1`; a string body is sent as is. */
function call(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return emu.fetch(`/api/v1${path}`, { method, body: payload, headers: { 'content-type': 'application/json' }, ...init });
}

async function callJson(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await call(method, path, body);
  return { status: res.status, body: await res.json() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('users', () => {
  it('POST /user answers 200 with the user, without password and public_keys', async () => {
    fresh();
    const res = await callJson('POST', '/user', alice);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 1, username: 'alice', home_dir: '/srv/sftpgo/data/alice', status: 1, quota_size: 1000 });
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('public_keys');
    expect(emu.users.get(1)?.password).toBe('Secr3t!');

    const got = await callJson('GET', '/user/1');
    expect(got.body).not.toHaveProperty('password');
    expect(got.body.public_keys).toEqual([ED25519]);
  });

  it('numbers ids from 1 and fills Go zero values', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const bob = await callJson('POST', '/user', { username: 'bob', password: 'x', home_dir: '/b', permissions: ['*'] });
    expect(bob.body).toEqual({
      id: 2, status: 0, username: 'bob', expiration_date: 0, home_dir: '/b', uid: 0, gid: 0, max_sessions: 0,
      quota_size: 0, quota_files: 0, permissions: ['*'], used_quota_size: 0, used_quota_files: 0,
      last_quota_update: 0, upload_bandwidth: 0, download_bandwidth: 0, last_login: 0,
    });
    expect((await callJson('GET', '/user/2')).body.public_keys).toBeNull();
  });

  it('writes used_quota_files, not the document\'s used_quota_file', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const { body } = await callJson('GET', '/user/1');
    expect(body).toHaveProperty('used_quota_files', 0);
    expect(body).not.toHaveProperty('used_quota_file');
  });

  it('answers a duplicate username with 500 "already exists"', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const res = await callJson('POST', '/user', alice);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ status: 500, message: '' });
    expect(res.body.error).toContain('already exists');
  });

  it('ignores unknown fields, and the used quota on create', async () => {
    fresh();
    const res = await callJson('POST', '/user', { ...alice, nickname: 'al', used_quota_size: 99 });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('nickname');
    expect(res.body.used_quota_size).toBe(0);
  });

  it('answers GET/PUT/DELETE of a non-integer id 400 and of an unknown id 404', async () => {
    fresh();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const bad = await callJson(method, '/user/abc', method === 'PUT' ? alice : undefined);
      expect(bad).toMatchObject({ status: 400, body: { status: 400, message: '' } });
      expect(bad.body.error).not.toBe('');
      const missing = await callJson(method, '/user/42', method === 'PUT' ? alice : undefined);
      expect(missing).toMatchObject({ status: 404, body: { status: 404 } });
    }
  });

  it('deletes a user', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    expect(await callJson('DELETE', '/user/1')).toEqual({ status: 200, body: { status: 200, message: 'User deleted', error: '' } });
    expect((await callJson('GET', '/user/1')).status).toBe(404);
    // ids are never reused
    expect((await callJson('POST', '/user', alice)).body.id).toBe(2);
  });
});

describe('PUT /user/{id}', () => {
  it('decodes the body onto the stored user: a partial body keeps the other fields', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const res = await callJson('PUT', '/user/1', { quota_files: 7 });
    expect(res).toEqual({ status: 200, body: { status: 200, message: 'User updated', error: '' } });
    const { body } = await callJson('GET', '/user/1');
    expect(body).toMatchObject({ quota_files: 7, quota_size: 1000, permissions: ['list', 'download'], public_keys: [ED25519] });
    expect(emu.users.get(1)?.password).toBe('Secr3t!');
  });

  it('refuses a body id that differs from the path id', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const res = await callJson('PUT', '/user/1', { id: 2, quota_files: 7 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('user ID in request body does not match user ID in path parameter');
    expect(emu.users.get(1)?.quota_files).toBe(0);
    expect((await callJson('PUT', '/user/1', { id: 1, quota_files: 7 })).status).toBe(200);
  });

  it('never renames', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    expect((await callJson('PUT', '/user/1', { username: 'mallory', max_sessions: 2 })).status).toBe(200);
    expect((await callJson('GET', '/user/1')).body).toMatchObject({ username: 'alice', max_sessions: 2 });
  });

  it('removes the password on "password": "", keeps it when absent, replaces it when set', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    await callJson('PUT', '/user/1', { status: 0 });
    expect(emu.users.get(1)?.password).toBe('Secr3t!');
    await callJson('PUT', '/user/1', { password: 'n3w' });
    expect(emu.users.get(1)?.password).toBe('n3w');
    expect((await callJson('PUT', '/user/1', { password: '' })).status).toBe(200);
    expect(emu.users.get(1)).not.toHaveProperty('password');
  });

  it('validates the result: no password and no keys is a 400', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    const res = await callJson('PUT', '/user/1', { password: '', public_keys: null });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('please set a password or at least a public_key');
    expect(emu.users.get(1)?.password).toBe('Secr3t!');
  });

  it('cannot change the used quota or the last login', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    await callJson('PUT', '/user/1', { used_quota_size: 5, used_quota_files: 5, last_login: 5 });
    expect((await callJson('GET', '/user/1')).body).toMatchObject({ used_quota_size: 0, used_quota_files: 0, last_login: 0 });
  });
});

describe('validation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['empty username', { ...alice, username: '' }, 'username is mandatory'],
    ['no password nor key', { ...alice, password: undefined, public_keys: [] }, 'please set a password or at least a public_key'],
    ['relative home_dir', { ...alice, home_dir: 'data/alice' }, 'home_dir must be an absolute path'],
    ['no permissions', { ...alice, permissions: [] }, 'permissions'],
    ['unknown permission', { ...alice, permissions: ['list', 'chmod'] }, 'invalid permission'],
    ['status 2', { ...alice, status: 2 }, 'invalid user status'],
    ['unparseable key', { ...alice, public_keys: [ED25519, 'ssh-rsa AAAAnotakey'] }, 'could not parse key nr. 1'],
    ['key whose blob names another algorithm', { ...alice, public_keys: [`ssh-ed25519 ${RSA.split(' ')[1]}`] }, 'could not parse key nr. 0'],
    ['invalid JSON', '{"username": ', 'invalid character'],
    ['empty body', '', 'EOF'],
    ['a string where an int goes', { ...alice, uid: '5' }, 'cannot unmarshal string into Go struct field User.uid of type int'],
    ['a fraction where an int goes', { ...alice, quota_size: 1.5 }, 'cannot unmarshal number 1.5'],
    ['an array body', [alice], 'cannot unmarshal array'],
  ];
  it.each(cases)('answers 400 for %s', async (_name, body, error) => {
    fresh();
    const res = await callJson('POST', '/user', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, message: '' });
    expect(res.body.error).toContain(error);
    expect(emu.users.size).toBe(0);
  });

  it('accepts every key type of the fixtures, options and comments included', async () => {
    fresh();
    const res = await callJson('POST', '/user', { ...alice, password: '', public_keys: [RSA, `no-pty ${ED25519}`] });
    expect(res.status).toBe(200);
  });
});

describe('GET /user', () => {
  it('clamps limit to 500, defaults to 100, pages with offset', async () => {
    fresh();
    emu.seedUsers(600);
    expect((await callJson('GET', '/user?limit=1000')).body).toHaveLength(500);
    const page = await callJson('GET', '/user');
    expect(page.body).toHaveLength(100);
    expect(page.body[0].username).toBe('user00001');
    const tail = await callJson('GET', '/user?offset=590&limit=20');
    expect(tail.body.map((u: any) => u.username)).toEqual(Array.from({ length: 10 }, (_, i) => `user00${591 + i}`));
  });

  it('orders DESC by username', async () => {
    fresh();
    for (const username of ['bob', 'Zed', 'alice']) await callJson('POST', '/user', { ...alice, username });
    const asc = await callJson('GET', '/user?order=ASC');
    expect(asc.body.map((u: any) => u.username)).toEqual(['Zed', 'alice', 'bob']); // binary collation
    const desc = await callJson('GET', '/user?order=DESC&limit=2');
    expect(desc.body.map((u: any) => u.username)).toEqual(['bob', 'alice']);
  });

  it('filters by exact, case-sensitive username', async () => {
    fresh();
    for (const username of ['alice', 'alice2', 'Alice']) await callJson('POST', '/user', { ...alice, username });
    const res = await callJson('GET', '/user?username=alice');
    expect(res.body.map((u: any) => u.username)).toEqual(['alice']);
    expect((await callJson('GET', '/user?username=ALICE')).body).toEqual([]);
  });

  it.each(['limit=abc', 'limit=0', 'limit=-1', 'offset=x', 'offset=-1', 'order=asc', 'limit='])('answers 400 for ?%s', async (query) => {
    fresh();
    const res = await callJson('GET', `/user?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Invalid (limit|offset|order)$/);
  });
});

describe('quota scans', () => {
  it('starts (201), refuses a second one (409) while running, then updates the usage', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    emu.setStored('alice', 4096, 3);
    expect(await callJson('POST', '/quota_scan', { username: 'alice' })).toEqual({
      status: 201, body: { status: 201, message: 'Scan started', error: '' },
    });
    const second = await callJson('POST', '/quota_scan', { username: 'alice' });
    expect(second).toMatchObject({ status: 409, body: { status: 409, message: 'Another scan is already in progress' } });
    const running = await callJson('GET', '/quota_scan');
    expect(running.body).toEqual([{ username: 'alice', start_time: expect.any(Number) }]);

    await sleep(60);
    expect((await callJson('GET', '/quota_scan')).body).toEqual([]);
    const { body } = await callJson('GET', '/user/1');
    expect(body).toMatchObject({ used_quota_size: 4096, used_quota_files: 3 });
    expect(body.last_quota_update).toBeGreaterThan(Date.now() - 5000);
    expect((await callJson('POST', '/quota_scan', { username: 'alice' })).status).toBe(201);
  });

  it('answers 404 for an unknown username', async () => {
    fresh();
    expect((await callJson('POST', '/quota_scan', { username: 'ghost' })).status).toBe(404);
  });
});

describe('connections, version, provider status, routing', () => {
  it('lists and closes connections', async () => {
    fresh();
    const list = await callJson('GET', '/connection');
    expect(list.body.length).toBeGreaterThanOrEqual(2);
    const [first] = list.body;
    expect(first).toMatchObject({ username: expect.any(String), connection_id: expect.any(String), protocol: 'SFTP' });
    expect(first.active_transfers[0]).toMatchObject({ operation_type: 'upload', size: expect.any(Number) });
    const closed = await callJson('DELETE', `/connection/${first.connection_id}`);
    expect(closed).toEqual({ status: 200, body: { status: 200, message: 'Connection closed', error: '' } });
    expect((await callJson('GET', '/connection')).body).toHaveLength(list.body.length - 1);
    expect((await callJson('DELETE', `/connection/${first.connection_id}`)).status).toBe(404);
    expect((fresh({ seedConnections: false }), (await callJson('GET', '/connection')).body)).toEqual([]);
  });

  it('answers /version with an object, or an array with versionAsArray', async () => {
    fresh();
    expect((await callJson('GET', '/version')).body).toMatchObject({ version: '0.9.4', build_date: expect.any(String), commit_hash: expect.any(String) });
    fresh({ versionAsArray: true });
    expect((await callJson('GET', '/version')).body).toEqual([expect.objectContaining({ version: '0.9.4' })]);
  });

  it('reports the provider alive, or down through the backdoor', async () => {
    fresh();
    expect(await callJson('GET', '/providerstatus')).toEqual({ status: 200, body: { status: 200, message: 'Alive', error: '' } });
    emu.setProviderDown(true);
    const down = await callJson('GET', '/providerstatus');
    expect(down).toMatchObject({ status: 500, body: { status: 500, message: '' } });
    expect(down.body.error).not.toBe('');
  });

  it('answers unknown routes 404 and other methods of known ones 405', async () => {
    fresh();
    expect((await callJson('GET', '/users')).status).toBe(404);
    expect((await emu.fetch('/nope')).status).toBe(404);
    expect((await callJson('PATCH', '/user/1', {})).status).toBe(405);
  });

  it('resets to the seed', async () => {
    fresh();
    await callJson('POST', '/user', alice);
    await callJson('DELETE', `/connection/${String(emu.connections[0]?.connection_id)}`);
    emu.setFaults({ status: 503 });
    emu.reset();
    expect(emu.users.size).toBe(0);
    expect(emu.connections).toHaveLength(3);
    expect(emu.requests).toHaveLength(0);
    expect((await callJson('POST', '/user', alice)).body.id).toBe(1);
  });
});

describe('request log', () => {
  it('records method, path, query, parsed body and headers', async () => {
    fresh();
    await call('POST', '/user', alice, { headers: { 'content-type': 'application/json', 'x-request-id': 'r1' } });
    await call('GET', '/user?limit=5&order=DESC');
    expect(emu.requests).toHaveLength(2);
    expect(emu.requests[0]).toMatchObject({ method: 'POST', path: '/api/v1/user', body: alice, headers: { 'x-request-id': 'r1' } });
    expect(emu.requests[1]).toMatchObject({ method: 'GET', path: '/api/v1/user', query: { limit: '5', order: 'DESC' }, body: undefined });
    expect(emu.requests[1]?.at).toBeGreaterThan(0);
    emu.clearRequests();
    expect(emu.requests).toHaveLength(0);
  });
});

describe('basic auth', () => {
  it('answers 401 without the right credentials', async () => {
    fresh({ basicAuth: { username: 'admin', password: 'pw' } });
    const none = await call('GET', '/version');
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ status: 401, error: 'Unauthorized' });
    const wrong = await call('GET', '/version', undefined, { headers: { authorization: `Basic ${btoa('admin:nope')}` } });
    expect(wrong.status).toBe(401);
    const right = await call('GET', '/version', undefined, { headers: { authorization: `Basic ${btoa('admin:pw')}` } });
    expect(right.status).toBe(200);
    expect((await emu.fetch('/__emulator/requests')).status).toBe(200);
  });
});

describe('faults', () => {
  it('delays answers', async () => {
    fresh();
    emu.setFaults({ delayMs: 80 });
    const started = Date.now();
    expect((await call('GET', '/version')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });

  it('answers a status with the error shape and extra headers', async () => {
    fresh();
    emu.setFaults({ status: 429, headers: { 'Retry-After': '2' } });
    const res = await call('GET', '/user');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ status: 429, message: '', error: expect.stringContaining('429') });
  });

  it('answers garbage that does not parse as JSON', async () => {
    fresh();
    emu.setFaults({ garbage: true });
    const res = await call('GET', '/user');
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('hangs until the caller aborts', async () => {
    fresh();
    emu.setFaults({ hang: true });
    const started = Date.now();
    await expect(call('GET', '/user', undefined, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('resets the connection in process as fetch failed', async () => {
    fresh();
    emu.setFaults({ reset: true });
    await expect(call('GET', '/user')).rejects.toThrow(new TypeError('fetch failed'));
    const direct = await emu.app.request('/api/v1/user');
    await expect(direct.text()).rejects.toThrow();
  });

  it('applies only to matching requests, and only N times', async () => {
    fresh();
    emu.setFaults({ status: 503, match: { method: 'get', pathPrefix: '/user' }, times: 2 });
    expect((await call('GET', '/version')).status).toBe(200);
    expect((await call('POST', '/user', alice)).status).toBe(200);
    expect((await call('GET', '/user')).status).toBe(503);
    expect((await call('GET', '/user/1')).status).toBe(503);
    expect((await call('GET', '/user/1')).status).toBe(200);
    emu.setFaults({ status: 502, match: { pathPrefix: '/api/v1/connection' } });
    expect((await call('GET', '/connection')).status).toBe(502);
    expect((await call('GET', '/user')).status).toBe(200);
    emu.setFaults(null);
    expect((await call('GET', '/connection')).status).toBe(200);
  });

  it('over a real socket: serves, resets by destroying the socket, is controlled by /__emulator', async () => {
    fresh();
    const server = await serveSftpgoEmulator(emu);
    closers.push(server.close);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/api/v1/version`)).status).toBe(200);

    const setFaults = await fetch(`${server.url}/__emulator/faults`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reset: true, times: 1 }),
    });
    expect(setFaults.status).toBe(200);
    await expect(fetch(`${server.url}/api/v1/user`)).rejects.toThrow('fetch failed');
    expect((await fetch(`${server.url}/api/v1/user`)).status).toBe(200);

    const badFaults = await fetch(`${server.url}/__emulator/faults`, { method: 'POST', body: '{"stauts": 500}' });
    expect(badFaults.status).toBe(400);
    await fetch(`${server.url}/__emulator/faults`, { method: 'POST', body: '{"hang": true}' });
    await expect(fetch(`${server.url}/api/v1/user`, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    expect((await fetch(`${server.url}/__emulator/faults`, { method: 'DELETE' })).status).toBe(204);

    const log = await (await fetch(`${server.url}/__emulator/requests`)).json();
    expect(log.map((r: any) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/version', 'GET /api/v1/user', 'GET /api/v1/user', 'GET /api/v1/user',
    ]);
    expect((await fetch(`${server.url}/__emulator/requests`, { method: 'DELETE' })).status).toBe(204);
    expect(emu.requests).toHaveLength(0);
  });

  it('closes a server that has a hanging request', async () => {
    fresh();
    const server = await serveSftpgoEmulator(emu);
    emu.setFaults({ hang: true });
    const pending = fetch(`${server.url}/api/v1/user`).catch((err: unknown) => err);
    await sleep(30);
    await server.close();
    expect(await pending).toBeInstanceOf(TypeError);
  });
});

// --- SFTPGo 1.2.2 (the default) ---------------------------------------------------------------------
// The replay of the recorded exchanges (sftpgo-recordings.test.ts) proves the shapes it covers;
// these cases cover what the recordings do not show.

const bob = {
  username: 'bob',
  password: 'Secr3t!',
  home_dir: '/srv/sftpgo/data/bob',
  permissions: { '/': ['list', 'download'] },
  status: 1,
  public_keys: [ED25519],
};

function fresh1(opts: SftpgoEmulatorOptions = {}): SftpgoEmulator {
  emu = createSftpgoEmulator({ scanDurationMs: 30, ...opts });
  return emu;
}

function create1(body: Record<string, unknown> = {}): ReturnType<typeof callJson> {
  return callJson('POST', '/user', { ...bob, ...body });
}

describe('1.x users', () => {
  it('defaults to 1.2.2 and says so', async () => {
    fresh1();
    expect(emu.version).toBe('1.2.2');
    expect((await callJson('GET', '/version')).body).toEqual({ version: '1.2.2', build_date: '', commit_hash: '', features: expect.any(Array) });
    expect((await emu.fetch('/healthz')).status).toBe(200);
  });

  it('stores and returns sub-directory permissions: cleaned, sorted, `*` alone, empty lists kept', async () => {
    fresh1();
    const res = await create1({ permissions: { '/out': [], '/in/': ['upload', '*'], '/': ['list', 'chmod', 'chown', 'chtimes'], '/a//b/../c': ['list'] } });
    expect(res.status).toBe(200);
    const expected = { '/': ['list', 'chmod', 'chown', 'chtimes'], '/a/c': ['list'], '/in': ['*'], '/out': [] };
    expect(res.body.permissions).toEqual(expected);
    expect(emu.users.get(1)?.permissions).toEqual(expected);
    const text = await (await call('GET', '/user/1')).text();
    expect(text).toContain('"permissions":{"/":["list","chmod","chown","chtimes"],"/a/c":["list"],"/in":["*"],"/out":[]}');
  });

  const permissionCases: Array<[string, unknown, string]> = [
    ['no permissions', {}, 'please grant some permissions to this user'],
    ['null permissions', null, 'please grant some permissions to this user'],
    ['no root', { '/in': ['list'] }, 'permissions for the root dir "/" must be set'],
    ['an empty root', { '/': [] }, 'no permissions granted for the directory: "/"'],
    ['an unknown permission', { '/': ['list'], '/in': ['fly'] }, 'invalid permission: "fly"'],
    ['more entries than permissions', { '/': Array(13).fill('list') }, 'invalid permissions'],
    ['a relative directory', { '/': ['*'], 'in': ['list'] }, 'cannot set permissions for non absolute path: "in"'],
    ['an alias of the root', { '/': ['*'], '/.': ['list'] }, 'cannot set permissions for invalid subdirectory: "/." is an alias for "/"'],
    ['a list where a map goes', ['*'], ''],
  ];
  it.each(permissionCases)('refuses %s', async (_name, permissions, message) => {
    fresh1();
    const res = await create1({ permissions });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: message ? `Validation error: ${message}` : 'json: cannot unmarshal array into Go struct field User.permissions of type map[string][]string',
      message: '',
    });
    expect(emu.users.size).toBe(0);
  });

  const filterCases: Array<[string, Record<string, unknown>, string]> = [
    ['an address without a mask', { allowed_ip: ['10.0.0.1'] }, 'could not parse allowed IP/Mask "10.0.0.1" : invalid CIDR address: 10.0.0.1'],
    ['a mask too wide', { allowed_ip: ['10.0.0.0/33'] }, 'could not parse allowed IP/Mask "10.0.0.0/33" : invalid CIDR address: 10.0.0.0/33'],
    ['a bad denied mask (checked first)', { allowed_ip: ['x'], denied_ip: ['2001:db8::/129'] }, 'could not parse denied IP/Mask "2001:db8::/129" : invalid CIDR address: 2001:db8::/129'],
    ['an unknown login method', { denied_login_methods: ['telepathy'] }, 'invalid login method: "telepathy"'],
    ['every login method', { denied_login_methods: ['publickey', 'password', 'keyboard-interactive', 'publickey+password', 'publickey+keyboard-interactive'] }, 'invalid denied_login_methods'],
    ['an unknown protocol', { denied_protocols: ['HTTP'] }, 'invalid protocol: "HTTP"'],
    ['an empty pattern filter', { file_patterns: [{ path: '/' }] }, 'empty file patterns filter for path "/"'],
    ['a bad pattern', { file_patterns: [{ path: '/', denied_patterns: ['[a-'] }] }, 'invalid file pattern filter "[a-"'],
  ];
  it.each(filterCases)('refuses filters with %s', async (_name, filters, message) => {
    fresh1();
    const res = await create1({ filters });
    expect([res.status, res.body]).toEqual([400, { error: `Validation error: ${message}`, message: '' }]);
  });

  it('takes CIDRs as Go 1.15 net.ParseCIDR does, and writes filters with omitempty', async () => {
    fresh1();
    const filters = {
      allowed_ip: ['192.0.2.0/24', '2001:db8::/32', '::ffff:192.0.2.1/128', '010.1.1.1/8', '::/0'],
      denied_login_methods: ['password'], denied_protocols: [], max_upload_file_size: 0,
      file_patterns: [{ path: '/docs/', allowed_patterns: ['*.PDF'] }],
    };
    const res = await create1({ filters });
    expect(res.status).toBe(200);
    expect(res.body.filters).toEqual({
      allowed_ip: filters.allowed_ip, denied_login_methods: ['password'], file_patterns: [{ path: '/docs', allowed_patterns: ['*.pdf'] }],
    });
  });

  it('fills home_dir from usersBaseDir, as users_base_dir does', async () => {
    fresh1({ usersBaseDir: '/data/users' });
    expect((await create1({ home_dir: undefined })).body.home_dir).toBe('/data/users/bob');
  });

  it('answers Go decoder errors: syntax, nesting, numbers', async () => {
    fresh1();
    const cases: Array<[string, string]> = [
      ['', 'EOF'],
      ['{"username": ', 'unexpected EOF'],
      ['{"username": x}', "invalid character 'x' looking for beginning of value"],
      ['{"username" "x"}', "invalid character '\"' after object key"],
      ['{"uid": 01}', "invalid character '1' after object key:value pair"],
      ['[1 2]', "invalid character '2' after array element"],
      ['{"status": tru}', "invalid character '}' in literal true (expecting 'e')"],
      ['{"filters": {"allowed_ip": "10.0.0.0/8"}}', 'json: cannot unmarshal string into Go struct field UserFilters.filters.allowed_ip of type []string'],
      ['{"permissions": {"/": "*"}}', 'json: cannot unmarshal string into Go struct field User.permissions of type []string'],
      ['{"filesystem": {"provider": "1"}}', 'json: cannot unmarshal string into Go struct field Filesystem.filesystem.provider of type dataprovider.FilesystemProvider'],
      ['{"quota_size": 1e3}', 'json: cannot unmarshal number 1e3 into Go struct field User.quota_size of type int64'],
      ['"bob"', 'json: cannot unmarshal string into Go value of type dataprovider.User'],
    ];
    for (const [body, error] of cases) {
      const res = await callJson('POST', '/user', body);
      expect([body, res.status, res.body]).toEqual([body, 400, { error, message: '' }]);
    }
  });

  it('ignores what follows the first JSON value and matches keys case-insensitively', async () => {
    fresh1();
    const res = await callJson('POST', '/user', `${JSON.stringify({ ...bob, USERNAME: 'Bob2', Quota_Size: 7 })} trailing`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: 'Bob2', quota_size: 7 });
  });

  it('numbers ids as SQLite AUTOINCREMENT, or as the memory provider (highest + 1)', async () => {
    fresh1();
    await create1();
    emu.users.set(7, { ...emu.users.get(1)!, id: 7, username: 'seven' });
    emu.users.delete(7);
    expect((await create1({ username: 'carl' })).body.id).toBe(2);
    emu.users.set(9, { ...emu.users.get(1)!, id: 9, username: 'nine' });
    expect((await create1({ username: 'dora' })).body.id).toBe(10);
    emu.users.delete(10);
    expect((await create1({ username: 'erin' })).body.id).toBe(11);

    fresh1({ dataProvider: 'memory' });
    await create1();
    await create1({ username: 'carl' });
    await callJson('DELETE', '/user/2');
    expect((await create1({ username: 'dora' })).body.id).toBe(2);
    expect(await callJson('GET', '/user/99')).toEqual({ status: 404, body: { error: 'Not found: user with ID 99 does not exist', message: '' } });
    // the memory provider finds the user to update by the body's username, so a rename is a 404
    expect(await callJson('PUT', '/user/1', { username: 'renamed' })).toEqual({ status: 404, body: { error: 'Not found: username "renamed" does not exist', message: '' } });
    expect((await callJson('POST', '/user', { ...bob })).body).toEqual({ error: 'username "bob" already exists', message: '' });
  });

  it('writes fields a later version adds (extra) after the known ones, and keeps them on update', async () => {
    fresh1();
    await create1();
    emu.users.get(1)!.extra = { description: 'from the future', status: 'shadowed' };
    const text = await (await call('GET', '/user/1')).text();
    expect(text).toMatch(/"filesystem":\{[^]*\},"description":"from the future"\}\n$/);
    expect(JSON.parse(text).status).toBe(1);
    await callJson('PUT', '/user/1', { max_sessions: 3 });
    expect(emu.users.get(1)?.extra).toEqual({ description: 'from the future', status: 'shadowed' });
  });

  it('seeds valid 1.x users', async () => {
    fresh1();
    emu.seedUsers(2, 'seed');
    const { body } = await callJson('GET', '/user?order=DESC');
    expect(body.map((u: { id: number; username: string; permissions: unknown }) => [u.id, u.username, u.permissions])).toEqual([[2, 'seed00002', { '/': ['*'] }], [1, 'seed00001', { '/': ['*'] }]]);
    expect(body[0]).toMatchObject({ filters: {}, filesystem: { provider: 0, s3config: {}, gcsconfig: {}, azblobconfig: {} } });
  });
});

describe('1.x PUT /user/{id}', () => {
  it('merges filters field by field, replaces slices and the permission map, keeps what is not sent', async () => {
    fresh1();
    await create1({ filters: { allowed_ip: ['10.0.0.0/8'], denied_login_methods: ['password'] }, permissions: { '/': ['*'], '/in': ['upload'] } });
    expect((await callJson('PUT', '/user/1', { filters: { denied_ip: ['192.0.2.0/24'] } })).body).toEqual({ message: 'User updated' });
    let user = (await callJson('GET', '/user/1')).body;
    expect(user.filters).toEqual({ allowed_ip: ['10.0.0.0/8'], denied_ip: ['192.0.2.0/24'], denied_login_methods: ['password'] });
    expect(user.permissions).toEqual({ '/': ['*'], '/in': ['upload'] });

    await callJson('PUT', '/user/1', { filters: { allowed_ip: [], denied_login_methods: null }, permissions: { '/': ['list'] } });
    user = (await callJson('GET', '/user/1')).body;
    expect(user.filters).toEqual({ denied_ip: ['192.0.2.0/24'] });
    expect(user.permissions).toEqual({ '/': ['list'] }); // replaced as a whole: '/in' is gone

    await callJson('PUT', '/user/1', { permissions: {}, quota_files: 5 });
    user = (await callJson('GET', '/user/1')).body;
    expect([user.permissions, user.quota_files, user.public_keys]).toEqual([{ '/': ['list'] }, 5, [ED25519]]);
    expect(emu.users.get(1)?.password).toBe('Secr3t!');
  });

  it('decodes a list of filters onto the stored elements, as Go does', async () => {
    fresh1();
    await create1({ filters: { file_patterns: [{ path: '/a', allowed_patterns: ['*.jpg'] }] } });
    await callJson('PUT', '/user/1', { filters: { file_patterns: [{ path: '/b', denied_patterns: ['*.zip'] }] } });
    expect((await callJson('GET', '/user/1')).body.filters.file_patterns).toEqual([{ path: '/b', allowed_patterns: ['*.jpg'], denied_patterns: ['*.zip'] }]);
  });

  it('validates the merged user, and leaves the stored one alone when it fails', async () => {
    fresh1();
    await create1();
    const res = await callJson('PUT', '/user/1', { filters: { allowed_ip: ['nope'] }, quota_files: 9 });
    expect(res).toEqual({ status: 400, body: { error: 'Validation error: could not parse allowed IP/Mask "nope" : invalid CIDR address: nope', message: '' } });
    expect([emu.users.get(1)?.quota_files, emu.users.get(1)?.filters]).toEqual([0, {}]);
    expect((await callJson('PUT', '/user/1', { password: '', public_keys: null })).body.error).toBe('Validation error: please set a password or at least a public_key');
  });

  it('checks the body id after decoding, and ?disconnect as strconv.Atoi', async () => {
    fresh1();
    await create1();
    expect(await callJson('PUT', '/user/1', '{"id": 2')).toEqual({ status: 400, body: { error: 'unexpected EOF', message: '' } });
    expect(await callJson('PUT', '/user/1?disconnect=yes', {})).toEqual({
      status: 400, body: { error: 'invalid disconnect parameter: strconv.Atoi: parsing "yes": invalid syntax', message: '' },
    });
    expect(await callJson('PUT', '/user/2', { id: 2 })).toEqual({ status: 404, body: { error: 'Not found: sql: no rows in result set', message: '' } });
  });

  it('disconnects the user on ?disconnect=1 and on delete', async () => {
    fresh1();
    await create1({ username: 'alice' });
    const before = emu.connections.length;
    await callJson('PUT', '/user/1?disconnect=1', { max_sessions: 1 });
    expect(emu.connections).toHaveLength(before - 1);
    emu.connections.push({ username: 'alice', connection_id: 'again' });
    await callJson('DELETE', '/user/1');
    expect(emu.connections.some((c) => c.username === 'alice')).toBe(false);
  });

  it('keeps the S3 secret when it comes back redacted or empty, and never shows its key', async () => {
    fresh1();
    const s3 = { bucket: 'b', region: 'eu-west-1', access_key: 'AK', access_secret: 'plain-secret', key_prefix: 'home/bob' };
    const created = await create1({ filesystem: { provider: 1, s3config: s3, gcsconfig: { bucket: 'ignored' } } });
    expect(created.status).toBe(200);
    const storedSecret = String((emu.users.get(1)?.filesystem.s3config as Record<string, unknown>).access_secret);
    expect(storedSecret).toMatch(/^\$aes\$[0-9a-f]{64}\$[0-9a-f]+$/);
    const shown = created.body.filesystem;
    expect(shown).toEqual({
      provider: 1, gcsconfig: {}, azblobconfig: {},
      s3config: { bucket: 'b', key_prefix: 'home/bob/', region: 'eu-west-1', access_key: 'AK', access_secret: `$aes$${storedSecret.split('$')[3]}` },
    });
    await callJson('PUT', '/user/1', { filesystem: shown });
    await callJson('PUT', '/user/1', { filesystem: { s3config: { access_secret: '' } } });
    expect((emu.users.get(1)?.filesystem.s3config as Record<string, unknown>).access_secret).toBe(storedSecret);
    await callJson('PUT', '/user/1', { filesystem: { s3config: { access_secret: 'rotated' } } });
    expect((emu.users.get(1)?.filesystem.s3config as Record<string, unknown>).access_secret).not.toBe(storedSecret);
    const bad = await callJson('PUT', '/user/1', { filesystem: { s3config: { region: '' } } });
    expect(bad.body.error).toBe('Validation error: could not validate s3config: region cannot be empty');
  });

  it('keeps virtual folders, with their folder ids, and checks them', async () => {
    fresh1();
    const res = await create1({ virtual_folders: [{ virtual_path: '/shared/', mapped_path: '/srv/shared', quota_size: -1, quota_files: -1 }] });
    expect(res.body.virtual_folders).toEqual([
      { id: 1, mapped_path: '/srv/shared', used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, virtual_path: '/shared', quota_size: -1, quota_files: -1 },
    ]);
    expect(Object.keys(res.body).slice(5, 8)).toEqual(['home_dir', 'virtual_folders', 'uid']);
    const inHome = await create1({ username: 'carl', home_dir: '/srv/sftpgo/data/carl', virtual_folders: [{ virtual_path: '/x', mapped_path: '/srv/sftpgo/data/carl/x' }] });
    expect(inHome.body.error).toBe('Validation error: invalid mapped folder "/srv/sftpgo/data/carl/x" cannot be inside or contain the user home dir "/srv/sftpgo/data/carl"');
  });
});

describe('1.x lists, scans, connections, provider', () => {
  it('lists as strconv.Atoi and SQL read the query', async () => {
    fresh1();
    emu.seedUsers(3);
    const names = async (q: string) => (await callJson('GET', `/user?${q}`)).body.map((u: { username: string }) => u.username);
    expect(await names('offset=-1&limit=2')).toEqual(['user00001', 'user00002']);
    expect(await names('order=DESC&limit=1&offset=1')).toEqual(['user00002']);
    expect(await names('limit=%2B2')).toEqual(['user00001', 'user00002']);
    expect((await callJson('GET', '/user?limit=+2')).body).toEqual({ error: 'Invalid limit', message: '' }); // '+' is a space
    expect(await names('username=user00002&offset=-3')).toEqual(['user00002']);
    expect(await names('username=')).toHaveLength(3);
    const neg = await call('GET', '/user?limit=-1');
    expect([neg.status, neg.headers.get('content-type'), await neg.text()]).toEqual([500, null, '']);
    expect((await callJson('GET', '/user?offset=1.5')).body).toEqual({ error: 'Invalid offset', message: '' });
    fresh1({ dataProvider: 'memory' });
    emu.seedUsers(1);
    expect(await names('username=user00001&offset=-1')).toEqual([]);
  });

  it('starts a quota scan with 202, refuses a second with 409, 404s an unknown user', async () => {
    fresh1();
    await create1();
    emu.setStored('bob', 10, 1);
    expect(await callJson('POST', '/quota_scan', { username: 'bob' })).toEqual({ status: 202, body: { message: 'Scan started' } });
    expect(await callJson('POST', '/quota_scan', { username: 'bob' })).toEqual({ status: 409, body: { message: 'Another scan is already in progress' } });
    expect((await callJson('GET', '/quota_scan')).body).toEqual([{ username: 'bob', start_time: expect.any(Number) }]);
    expect(await callJson('POST', '/quota_scan', { username: 'ghost' })).toEqual({ status: 404, body: { error: 'Not found: sql: no rows in result set', message: '' } });
    await sleep(60);
    expect((await callJson('GET', '/user/1')).body).toMatchObject({ used_quota_size: 10, used_quota_files: 1 });
    fresh1({ dataProvider: 'memory' });
    expect((await callJson('POST', '/quota_scan', { username: 'ghost' })).body.error).toBe('Not found: username "ghost" does not exist');
  });

  it('reports connections as 1.2.2 ConnectionStatus, and closes them', async () => {
    fresh1();
    const { body } = await callJson('GET', '/connection');
    expect(Object.keys(body[0])).toEqual(['username', 'connection_id', 'client_version', 'remote_address', 'connection_time', 'last_activity', 'protocol', 'active_transfers']);
    expect(Object.keys(body[0].active_transfers[0])).toEqual(['operation_type', 'start_time', 'size', 'path']);
    expect(body[1]).not.toHaveProperty('active_transfers');
    expect(await callJson('DELETE', `/connection/${body[0].connection_id}`)).toEqual({ status: 200, body: { message: 'Connection closed' } });
  });

  it('reports the provider down in the 1.x shape', async () => {
    fresh1();
    emu.setProviderDown(true);
    const down = await callJson('GET', '/providerstatus');
    expect(down.status).toBe(500);
    expect(down.body).toEqual({ error: expect.any(String), message: '' });
  });

  it('answers faults with the 1.x error shape', async () => {
    fresh1();
    emu.setFaults({ status: 503, times: 1 });
    expect(await callJson('GET', '/user')).toEqual({ status: 503, body: { error: 'emulated fault: HTTP 503', message: '' } });
  });

  it('escapes <, > and & as Go does', async () => {
    fresh1();
    await create1({ username: 'a<b>&c' });
    expect(await (await call('GET', '/user/1')).text()).toContain('"username":"a\\u003cb\\u003e\\u0026c"');
  });
});

describe("Go's JSON text (render.JSON)", () => {
  it.each([
    ['HTML characters', 'a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['line and paragraph separators', 'x\u2028y\u2029', '"x\\u2028y\\u2029"'],
    ['backspace and form feed as Go 1.15 writes them', 'b\bf\f', '"b\\u0008f\\u000c"'],
    ['a lone surrogate (invalid UTF-8 to Go)', 'lone\ud800x', '"lone\\ufffdx"'],
    ['an escaped backslash before a b stays one', 'back\\bslash', '"back\\\\bslash"'],
    ['a surrogate pair and other controls as they are', 'pair😀 \u0001 "q" \n', '"pair😀 \\u0001 \\"q\\" \\n"'],
  ])('%s', (_name, text, written) => {
    expect(goJsonText({ text })).toBe(`{"text":${written}}\n`);
  });
});
