import { afterEach, describe, expect, it } from 'vitest';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import type { SftpToGoEmulator, SftpToGoEmulatorOptions } from '../adapters/sftptogo/emulator/emulator.js';
import { keyOf } from './fixtures/ssh-keys.js';

const RSA = keyOf('rsa');
const ED25519 = keyOf('ed25519');

let emu: SftpToGoEmulator;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function fresh(opts: SftpToGoEmulatorOptions = {}): SftpToGoEmulator {
  emu = createSftpToGoEmulator(opts);
  return emu;
}

interface CallOptions {
  token?: string | null;
  org?: string;
}

/** A call below `/organizations/{org}`, authenticated unless `token` is null. */
function call(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = opts.token === undefined ? emu.apiKey : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return emu.fetch(`/organizations/${opts.org ?? emu.organizationId}${path}`, { method, headers, body: payload });
}

async function callJson(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<{ status: number; body: any }> {
  const res = await call(method, path, body, opts);
  return { status: res.status, body: await res.json() };
}

const newUser = { Alias: 'Test Credential', UserName: 'my-user-name', HomeDirectory: '/', ChrootDirectory: '/', Permission: 'read-write', State: 'active' };

async function createUser(extra: Record<string, unknown> = {}): Promise<any> {
  const res = await callJson('POST', '/users', { ...newUser, ...extra });
  expect(res.status).toBe(201);
  return res.body;
}

describe('auth', () => {
  it('answers 401 {"message":"Unauthorized"} without or with a wrong bearer token', async () => {
    fresh({ apiKey: 'k-123' });
    for (const token of [null, 'wrong']) {
      const res = await call('GET', '/users', undefined, { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ message: 'Unauthorized' });
    }
    expect((await call('GET', '/users', undefined, { token: 'k-123' })).status).toBe(200);
  });

  it('answers 403 {"message":"Forbidden"} for another organization', async () => {
    fresh();
    const res = await callJson('GET', '/users', undefined, { org: 'another-org' });
    expect(res).toEqual({ status: 403, body: { message: 'Forbidden' } });
  });

  it('answers 404 {"message"} for an unknown route', async () => {
    fresh();
    const res = await callJson('GET', '/groups');
    expect(res).toEqual({ status: 404, body: { message: 'Not Found' } });
  });
});

describe('credentials', () => {
  it('starts with the root credential, which cannot be deleted', async () => {
    fresh();
    const list = await callJson('GET', '/users');
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({
      Alias: 'Root', Id: emu.rootId, UserName: emu.rootId, IsDefault: true, Permission: 'full',
      HomeDirectory: '/', ChrootDirectory: '/', State: 'active', OrganizationId: emu.organizationId,
    });
    expect(list.body[0].Settings.Network.InboundRules).toHaveLength(1);

    const del = await callJson('DELETE', `/users/${emu.rootId}`);
    expect(del).toEqual({ status: 400, body: { message: 'Root credentials cannot be deleted' } });
    expect(emu.credentials.has(emu.rootId)).toBe(true);
  });

  it('creates a credential with the seed\'s shape (201)', async () => {
    fresh();
    const before = Date.now();
    const res = await callJson('POST', '/users', newUser);
    expect(res.status).toBe(201);
    const cred = res.body;
    expect(Object.keys(cred)).toEqual([
      'Alias', 'ChrootDirectory', 'CreatedAt', 'HomeDirectory', 'Host', 'Id', 'UserName', 'IsDefault', 'OrganizationId',
      'Password', 'PasswordCreatedAt', 'Permission', 'Settings', 'SshPublicKeysCount', 'State', 'URI', 'UpdatedAt',
    ]);
    expect(cred).toMatchObject({ ...newUser, Host: 'warm-soda-25793.sftptogo.com', IsDefault: false, SshPublicKeysCount: 0 });
    expect(cred.Id).toMatch(/^[0-9a-f]{30}$/);
    expect(cred.Password).toMatch(/^[a-z0-9]{40}$/);
    expect(cred.URI).toBe(`sftp://my-user-name:${cred.Password}@warm-soda-25793.sftptogo.com`);
    expect(cred.CreatedAt).toBeGreaterThanOrEqual(before);
    expect(cred.UpdatedAt).toBe(cred.CreatedAt);
    expect(new Date(cred.PasswordCreatedAt).toISOString()).toBe(cred.PasswordCreatedAt);
    expect(cred.Settings.Network.InboundRules).toEqual([{
      Action: 'allow', Description: 'Allow all inbound traffic from anywhere', Id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      Protocol: 'SFTP', Source: '0.0.0.0/0', State: 'enabled',
    }]);
    expect(emu.credentials.get(cred.Id)?.Password).toBe(cred.Password);
  });

  it('fills defaults, ignores unknown keys (but logs them) and ignores Settings on create', async () => {
    fresh();
    const cred = await callJson('POST', '/users', { Foo: 'bar', Settings: { Network: { InboundRules: [] } } });
    expect(cred.status).toBe(201);
    expect(cred.body).toMatchObject({ UserName: cred.body.Id, Alias: '', HomeDirectory: '/', ChrootDirectory: '/', Permission: 'read-write', State: 'active' });
    expect(cred.body).not.toHaveProperty('Foo');
    expect(cred.body.Settings.Network.InboundRules).toHaveLength(1);
    expect(emu.requests.at(-1)?.body).toMatchObject({ Foo: 'bar' });
  });

  it('checks UserName (10..100 of [A-Za-z0-9_.-], unique), Permission, State and Password', async () => {
    fresh();
    const bad = ['a'.repeat(9), 'a'.repeat(101), 'bad name!!x', 'ümlaut-user'];
    for (const UserName of bad) expect((await call('POST', '/users', { UserName })).status).toBe(400);
    expect((await call('POST', '/users', { UserName: 'a'.repeat(10) })).status).toBe(201);
    expect((await call('POST', '/users', { UserName: `A_b.c-${'9'.repeat(94)}` })).status).toBe(201);
    expect((await call('POST', '/users', { UserName: 'a'.repeat(10) })).status).toBe(409);
    expect((await call('POST', '/users', { UserName: emu.rootId })).status).toBe(409);
    expect((await call('POST', '/users', { Permission: 'admin' })).status).toBe(400);
    expect((await call('POST', '/users', { State: 'enabled' })).status).toBe(400);
    expect((await call('POST', '/users', { Alias: 42 })).status).toBe(400);
    expect((await call('POST', '/users', { Password: 'mine' })).status).toBe(400);
    const garbled = await callJson('POST', '/users', '{not json');
    expect(garbled.status).toBe(400);
    expect(garbled.body).toEqual({ message: expect.any(String) });
    expect(emu.credentials.size).toBe(3);
  });

  it('lists every credential and gets one with its Password', async () => {
    fresh();
    const a = await createUser({ UserName: 'first-user-01' });
    await createUser({ UserName: 'second-user-02' });
    const list = await callJson('GET', '/users');
    expect(list.body.map((c: any) => c.UserName)).toEqual([emu.rootId, 'first-user-01', 'second-user-02']);
    const got = await callJson('GET', `/users/${a.Id}`);
    expect(got).toEqual({ status: 200, body: a });
    expect(got.body.Password).toMatch(/^[a-z0-9]{40}$/);
    expect((await callJson('GET', '/users/0123456789abcdef0123456789abcd')).status).toBe(404);
  });

  it('PATCH changes only the given keys and moves UpdatedAt', async () => {
    fresh();
    const cred = await createUser();
    const res = await callJson('PATCH', `/users/${cred.Id}`, { Alias: 'Test Credential (updated)', HomeDirectory: '/test' });
    expect(res.status).toBe(200);
    const { UpdatedAt, ...rest } = res.body;
    expect(rest).toEqual({ ...cred, Alias: 'Test Credential (updated)', HomeDirectory: '/test', UpdatedAt: undefined });
    expect(UpdatedAt).toBeGreaterThan(cred.UpdatedAt);
    expect((await callJson('PATCH', `/users/${cred.Id}`, { Permission: 'everything' })).status).toBe(400);
    expect((await callJson('PATCH', '/users/0123456789abcdef0123456789abcd', { Alias: 'x' })).status).toBe(404);
  });

  it('PATCH Settings.Network.InboundRules replaces the whole set, and checks each rule', async () => {
    fresh();
    const cred = await createUser();
    const rules = [
      { Action: 'allow', Description: 'office', Id: 'rule-1', Protocol: '*', Source: '192.0.2.10', State: 'enabled' },
      { Action: 'allow', Protocol: 'FTPS', Source: '2001:db8::/32', State: 'disabled' },
    ];
    const res = await callJson('PATCH', `/users/${cred.Id}`, { Settings: { Network: { InboundRules: rules } } });
    expect(res.status).toBe(200);
    expect(res.body.Settings.Network.InboundRules).toEqual([
      rules[0],
      { ...rules[1], Description: '', Id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    ]);

    const badRules = [
      { Action: 'deny', Protocol: 'SFTP', Source: '0.0.0.0/0', State: 'enabled' },
      { Action: 'allow', Protocol: 'SSH', Source: '0.0.0.0/0', State: 'enabled' },
      { Action: 'allow', Protocol: 'SFTP', Source: '0.0.0.0/0', State: 'on' },
      { Action: 'allow', Protocol: 'SFTP', Source: '10.0.0.256', State: 'enabled' },
      { Action: 'allow', Protocol: 'SFTP', Source: '10.0.0.0/33', State: 'enabled' },
      { Action: 'allow', Protocol: 'SFTP', Source: 'example.com', State: 'enabled' },
    ];
    for (const rule of badRules) {
      const bad = await callJson('PATCH', `/users/${cred.Id}`, { Settings: { Network: { InboundRules: [rule] } } });
      expect(bad.status, JSON.stringify(rule)).toBe(400);
    }
    expect(emu.credentials.get(cred.Id)?.InboundRules).toHaveLength(2);
  });

  it('PATCH Password is a 400; PATCH UserName renames (checked and unique)', async () => {
    fresh();
    const cred = await createUser();
    const other = await createUser({ UserName: 'other-user-name' });
    expect(await callJson('PATCH', `/users/${cred.Id}`, { Password: 'chosen-password' })).toMatchObject({ status: 400 });
    expect(emu.credentials.get(cred.Id)?.Password).toBe(cred.Password);

    expect((await call('PATCH', `/users/${cred.Id}`, { UserName: 'short' })).status).toBe(400);
    expect((await call('PATCH', `/users/${cred.Id}`, { UserName: other.UserName })).status).toBe(409);
    expect((await call('PATCH', `/users/${cred.Id}`, { UserName: cred.UserName })).status).toBe(200);
    const renamed = await callJson('PATCH', `/users/${cred.Id}`, { UserName: 'renamed-user' });
    expect(renamed.body).toMatchObject({ Id: cred.Id, UserName: 'renamed-user', URI: `sftp://renamed-user:${cred.Password}@warm-soda-25793.sftptogo.com` });
  });

  it('DELETE answers the deleted credential; the rotation renews Password, PasswordCreatedAt and URI', async () => {
    fresh();
    const cred = await createUser();
    const rotated = await callJson('POST', `/users/${cred.Id}/credential-rotations`);
    expect(rotated).toEqual({ status: 200, body: { message: 'Credentials reset.' } });
    const after = (await callJson('GET', `/users/${cred.Id}`)).body;
    expect(after.Password).toMatch(/^[a-z0-9]{40}$/);
    expect(after.Password).not.toBe(cred.Password);
    expect(after.URI).toContain(`:${after.Password}@`);
    expect(after.PasswordCreatedAt >= cred.PasswordCreatedAt).toBe(true);

    const del = await callJson('DELETE', `/users/${cred.Id}`);
    expect(del).toEqual({ status: 200, body: after });
    expect((await call('GET', `/users/${cred.Id}`)).status).toBe(404);
    expect((await call('DELETE', `/users/${cred.Id}`)).status).toBe(404);
    expect((await call('POST', `/users/${cred.Id}/credential-rotations`)).status).toBe(404);
  });
});

describe('ssh public keys', () => {
  it('adds a key with ssh-keygen\'s fingerprint, lists and deletes it, keeping the count', async () => {
    fresh();
    const cred = await createUser();
    const added = await callJson('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: RSA.publicKey });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      Comment: RSA.comment ?? '', CreatedAt: expect.any(Number), Fingerprint: RSA.fingerprint, Id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      SshPublicKeyBody: RSA.publicKey, Type: 'rsa', UpdatedAt: expect.any(Number), UserId: cred.Id,
    });
    const second = await callJson('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: `  ${ED25519.publicKey}\n` });
    expect(second.body).toMatchObject({ Type: 'ed25519', Fingerprint: ED25519.fingerprint, SshPublicKeyBody: ED25519.publicKey });
    expect((await callJson('GET', `/users/${cred.Id}`)).body.SshPublicKeysCount).toBe(2);

    const list = await callJson('GET', `/users/${cred.Id}/ssh-public-keys`);
    expect(list).toEqual({ status: 200, body: [added.body, second.body] });

    const removed = await callJson('DELETE', `/users/${cred.Id}/ssh-public-keys/${added.body.Id}`);
    expect(removed).toEqual({ status: 200, body: added.body });
    expect((await callJson('GET', `/users/${cred.Id}/ssh-public-keys`)).body).toEqual([second.body]);
    expect((await callJson('GET', `/users/${cred.Id}`)).body.SshPublicKeysCount).toBe(1);
    expect((await call('DELETE', `/users/${cred.Id}/ssh-public-keys/${added.body.Id}`)).status).toBe(404);
  });

  it('refuses a duplicate (409), an invalid key (400) and an unknown credential (404)', async () => {
    fresh();
    const cred = await createUser();
    await callJson('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: RSA.publicKey });
    const withOtherComment = RSA.publicKey.split(' ').slice(0, 2).join(' ') + ' someone@else';
    expect((await call('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: withOtherComment })).status).toBe(409);
    const invalid = await callJson('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: 'ssh-rsa AAAAnotakey' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(/SshPublicKeyBody/);
    expect((await call('POST', `/users/${cred.Id}/ssh-public-keys`, {})).status).toBe(400);
    expect((await call('GET', '/users/0123456789abcdef0123456789abcd/ssh-public-keys')).status).toBe(404);
    // the same key on another credential is fine
    expect((await call('POST', `/users/${emu.rootId}/ssh-public-keys`, { SshPublicKeyBody: RSA.publicKey })).status).toBe(201);
  });
});

describe('options, backdoor, faults', () => {
  it('extraField adds an unknown field to credentials and keys; host and organizationId are options', async () => {
    fresh({ extraField: true, host: 'cold-tea-1.sftptogo.com', organizationId: 'org-xyz' });
    const cred = await createUser();
    expect(cred).toMatchObject({ MfaEnabled: false, Host: 'cold-tea-1.sftptogo.com', OrganizationId: 'org-xyz' });
    expect(cred.URI).toMatch(/@cold-tea-1\.sftptogo\.com$/);
    const key = await callJson('POST', `/users/${cred.Id}/ssh-public-keys`, { SshPublicKeyBody: ED25519.publicKey });
    expect(key.body).toHaveProperty('LastUsedAt', null);
    expect((await callJson('GET', '/users')).body.every((c: any) => c.MfaEnabled === false)).toBe(true);

    fresh();
    expect((await createUser())).not.toHaveProperty('MfaEnabled');
  });

  it('seeds credentials with valid names and resets to the root credential', async () => {
    fresh();
    emu.seedCredentials(3, 'u');
    emu.seedCredentials(3, 'u'); // taken names are skipped
    const names = (await callJson('GET', '/users')).body.map((c: any) => c.UserName);
    expect(names).toEqual([emu.rootId, 'u000000001', 'u000000002', 'u000000003']);
    emu.seedCredentials(2);
    expect(emu.credentials.size).toBe(6);
    const rootPassword = emu.credentials.get(emu.rootId)?.Password;
    emu.reset();
    expect([...emu.credentials.keys()]).toEqual([emu.rootId]);
    expect(emu.credentials.get(emu.rootId)?.Password).not.toBe(rootPassword);
    expect(emu.requests).toHaveLength(0);
  });

  it('logs requests and applies kit faults (status with {"message"}, garbage), /__emulator needs no token', async () => {
    fresh();
    await call('GET', '/users');
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]).toMatchObject({ method: 'GET', path: `/organizations/${emu.organizationId}/users` });
    expect(emu.requests[0]?.headers.authorization).toBe(`Bearer ${emu.apiKey}`);

    emu.setFaults({ status: 503, headers: { 'Retry-After': '1' }, match: { method: 'GET', pathPrefix: '/users' }, times: 1 });
    const faulted = await call('GET', '/users');
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('1');
    expect(await faulted.json()).toEqual({ message: 'emulated fault: HTTP 503' });
    expect((await call('GET', '/users')).status).toBe(200);

    const control = await emu.fetch('/__emulator/faults', { method: 'POST', body: JSON.stringify({ garbage: true, times: 1 }) });
    expect(control.status).toBe(200);
    const garbage = await call('POST', '/users', newUser);
    expect(garbage.status).toBe(200);
    await expect(garbage.json()).rejects.toThrow();
    expect(emu.credentials.size).toBe(1); // the request never reached the handler
    expect((await emu.fetch('/__emulator/requests')).status).toBe(200);
    expect(emu.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'POST']); // /__emulator calls are not logged
    emu.clearRequests();
    expect(emu.requests).toHaveLength(0);
  });

  it('serves over a real socket (url = server root)', async () => {
    fresh();
    const served = await serveSftpToGoEmulator(emu);
    closers.push(served.close);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${served.url}/organizations/${emu.organizationId}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(newUser),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ UserName: 'my-user-name' });
    const unauth = await fetch(`${served.url}/organizations/${emu.organizationId}/users`);
    expect(unauth.status).toBe(401);
  });
});
