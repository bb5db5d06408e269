/**
 * SFTP To Go through the gateway's HTTP API: each promise of the adapter as a caller sees it,
 * with the emulator's request log showing what really went upstream.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createMemoryStore, type CacheStore } from '../src/cache/store.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { createTestGateway, type TestGateway } from './helpers/gateway.js';

let emu: SftpToGoEmulator;
let gw: TestGateway;
const apiKeys = [{ name: 'ops', key: 'ops-key-0123456789abcdef', scopes: ['read', 'write', 'admin'] }];

function gatewayFor(e: SftpToGoEmulator, apiKey = e.apiKey, cache: 'memory' | 'none' | CacheStore = 'memory') {
  return createTestGateway({
    apiKeys,
    backends: { togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: e.organizationId, apiKey } },
    fetchFor: () => e.fetch as typeof fetch,
    cache,
  });
}

beforeEach(() => {
  emu = createSftpToGoEmulator();
  gw = gatewayFor(emu);
});

const upstream = () => emu.requests.map((r) => `${r.method} ${r.path.replace(`/organizations/${emu.organizationId}`, '')}`);
const created = () => [...emu.credentials.values()].filter((c) => !c.IsDefault);

describe('SFTP To Go through the API', () => {
  it('refuses a username outside 10..100 of [A-Za-z0-9_.-] with 422 and no upstream call', async () => {
    for (const username of ['short_nm', 'x'.repeat(101), 'has space ok', 'ünïcode_name']) {
      const res = await gw.json('POST', '/v1/users', { body: { username, accessLevel: 'read-only' } });
      expect(res.status, username).toBe(422);
      expect(res.body).toMatchObject({ code: 'not_supported_by_provider', errors: [{ path: 'username' }] });
    }
    expect(emu.requests).toHaveLength(0);
  });

  it('refuses a password on create (422) and PUT /password (501): SFTP To Go generates them', async () => {
    const res = await gw.json('POST', '/v1/users', { body: { username: 'acme_uploads', accessLevel: 'full', password: 'mine-mine-mine' } });
    expect(res.status).toBe(422);
    expect((await gw.json('PUT', '/v1/users/abc/password', { body: { password: 'x' } })).status).toBe(501);
    expect(emu.requests).toHaveLength(0);
  });

  it('refuses a custom permission set with the nearest levels, and fields it cannot hold', async () => {
    const custom = await gw.json('POST', '/v1/users', { body: { username: 'acme_uploads', permissions: ['list', 'upload'] } });
    expect(custom.status).toBe(422);
    expect(custom.body.details).toEqual({ narrower: ['none'], broader: ['read-write'] });
    for (const extra of [{ expiresAt: '2030-01-01T00:00:00Z' }, { limits: { quotaBytes: 10 } }]) {
      expect((await gw.json('POST', '/v1/users', { body: { username: 'acme_uploads', accessLevel: 'full', ...extra } })).status).toBe(422);
    }
    expect(emu.requests).toHaveLength(0);
  });

  it('returns the generated password only in the create answer, with a uri and raw free of it', async () => {
    const res = await gw.json('POST', '/v1/users', { body: { username: 'acme_uploads', accessLevel: 'read-write', displayName: 'Acme' } });
    expect(res.status).toBe(201);
    const stored = created()[0]!;
    expect(res.body).toMatchObject({ password: stored.Password, displayName: 'Acme', accessLevel: 'read-write', isRoot: false });
    expect(res.body.uri).toBe('sftp://acme_uploads@warm-soda-25793.sftptogo.com');
    const got = await gw.json('GET', `/v1/users/${res.body.id}?include=raw`);
    expect(JSON.stringify(got.body)).not.toContain(stored.Password);
    expect(got.body.raw.URI).toBe('sftp://acme_uploads@warm-soda-25793.sftptogo.com');
    const list = await gw.json('GET', '/v1/users');
    expect(JSON.stringify(list.body)).not.toContain(stored.Password);
  });

  it('adds keys and rules after the create; a failed key add leaves no credential behind', async () => {
    const ok = await gw.json('POST', '/v1/users', {
      body: { username: 'with_extras', accessLevel: 'read-only', sshKeys: [keyOf('ed25519').publicKey], networkRules: [{ cidr: '203.0.113.7' }] },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.sshKeyCount).toBe(1);
    expect(upstream()).toEqual(['POST /users', `POST /users/${ok.body.id}/ssh-public-keys`, `PATCH /users/${ok.body.id}`, `GET /users/${ok.body.id}`]);
    expect((await gw.json('GET', `/v1/users/${ok.body.id}/network-rules`)).body.data).toEqual([
      { id: expect.any(String), cidr: '203.0.113.7/32', protocol: 'any', enabled: true, description: null },
    ]);

    emu.clearRequests();
    emu.setFaults({ status: 500, match: { method: 'POST', pathPrefix: '/users/' }, times: 1 });
    const failed = await gw.json('POST', '/v1/users', { body: { username: 'half_made_user', accessLevel: 'read-only', sshKeys: [keyOf('rsa').publicKey] } });
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe('upstream_error');
    expect(created().map((c) => c.UserName)).toEqual(['with_extras']);
    const madeId = emu.requests[1]!.path.split('/')[4];
    expect(upstream()).toEqual(['POST /users', `POST /users/${madeId}/ssh-public-keys`, `DELETE /users/${madeId}`]);
  });

  it('rotates by credential-rotations and reads the new password back, once', async () => {
    const user = (await gw.json('POST', '/v1/users', { body: { username: 'rotating_user', accessLevel: 'full' } })).body;
    emu.clearRequests();
    const rotated = await gw.json('POST', `/v1/users/${user.id}/password-rotations`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.password).toBe(emu.credentials.get(user.id)!.Password);
    expect(rotated.body.password).not.toBe(user.password);
    expect(upstream()).toEqual([`POST /users/${user.id}/credential-rotations`, `GET /users/${user.id}`]);
  });

  it('protects the root credential: 409 and no DELETE sent', async () => {
    const res = await gw.json('DELETE', `/v1/users/${emu.rootId}`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    expect(upstream()).toEqual([`GET /users/${emu.rootId}`]);
    expect(emu.credentials.has(emu.rootId)).toBe(true);
  });

  it('maps rule protocols and states both ways and refuses what is not a CIDR', async () => {
    const user = (await gw.json('POST', '/v1/users', { body: { username: 'rules_user_1', accessLevel: 'full' } })).body;
    const put = await gw.json('PUT', `/v1/users/${user.id}/network-rules`, {
      body: { data: [{ cidr: '10.0.0.0/8', protocol: 'ftps', enabled: false, description: 'office' }, { cidr: '2001:db8::1', protocol: 'sftp' }] },
    });
    expect(put.status).toBe(200);
    expect(emu.credentials.get(user.id)!.InboundRules.map((r) => [r.Source, r.Protocol, r.State, r.Action])).toEqual([
      ['10.0.0.0/8', 'FTPS', 'disabled', 'allow'], ['2001:db8::1/128', 'SFTP', 'enabled', 'allow'],
    ]);
    emu.clearRequests();
    expect((await gw.json('PUT', `/v1/users/${user.id}/network-rules`, { body: { data: [{ cidr: 'office.example.com' }] } })).status).toBe(400);
    expect(emu.requests).toHaveLength(0);
  });

  it("answers 502 (not the caller's 401) when SFTP To Go rejects the gateway's own key", async () => {
    const wrong = gatewayFor(emu, 'not-the-key');
    const res = await wrong.json('GET', '/v1/users');
    expect(res.status).toBe(502);
    expect(res.body.detail).toMatch(/apiKey/);
    expect(JSON.stringify(res.body)).not.toContain('not-the-key');
  });

  it('reads an unknown Permission as custom with no permissions, and tolerates unknown fields', async () => {
    const e = createSftpToGoEmulator({ extraField: true });
    const g = gatewayFor(e);
    e.credentials.get(e.rootId)!.Permission = 'superuser';
    const res = await g.json('GET', `/v1/users/${e.rootId}?include=raw`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accessLevel: 'custom', permissions: [], raw: { Permission: 'superuser', MfaEnabled: false } });
  });

  it('caches the whole list once and serves every page and filter from it', async () => {
    emu.seedCredentials(25, 'paged_user');
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { username: string }[]; nextCursor: string | null } } =
        await gw.json('GET', `/v1/users?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      walked.push(...page.body.data.map((u) => u.username));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(walked).toHaveLength(26); // the root and 25 more
    expect(new Set(walked).size).toBe(26);
    await gw.json('GET', '/v1/users?order=desc&limit=3');
    await gw.json('GET', '/v1/users?status=disabled');
    expect(emu.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users'))).toHaveLength(1);
  });

  it('answers the first page before the whole list is stored; pages asked meanwhile are cut from the same read', async () => {
    emu.seedCredentials(5, 'early_user');
    // A store whose write of the whole list waits until released: the answers must not.
    const store = createMemoryStore(100);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const writes: string[] = [];
    const slowStore: CacheStore = {
      ...store,
      async setBytes(key, bytes, ttl) {
        writes.push(key.includes('users:all') ? 'whole list' : 'page');
        if (key.includes('users:all')) await released;
        return store.setBytes(key, bytes, ttl);
      },
    };
    const early = gatewayFor(emu, emu.apiKey, slowStore);
    const first = await early.json('GET', '/v1/users?limit=2');
    expect([first.status, first.headers.get('x-cache'), first.body.data.length]).toEqual([200, 'MISS', 2]);
    await vi.waitFor(() => expect(writes).toContain('whole list')); // the write began, after the answer
    const second = await early.json('GET', `/v1/users?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect([second.status, second.body.data.length]).toEqual([200, 2]);
    expect(upstream().filter((r) => r === 'GET /users')).toHaveLength(1);
    release();
    await vi.waitFor(async () => expect((await early.call('GET', '/v1/users?order=desc')).headers.get('x-cache')).toBe('MISS'));
    expect(upstream().filter((r) => r === 'GET /users')).toHaveLength(1); // a new page, cut from the stored list
  });
});

describe('the whole list without a store (cache none)', () => {
  it('overlapping lists share one upstream read of it, but never one begun before a write finished', async () => {
    emu.seedCredentials(3, 'shared_user');
    const none = gatewayFor(emu, emu.apiKey, 'none');
    const listReads = () => upstream().filter((r) => r === 'GET /users').length;
    emu.setFaults({ delayMs: 150 });
    const together = await Promise.all(Array.from({ length: 10 }, (_, i) => none.json('GET', `/v1/users?limit=${1 + (i % 3)}`)));
    expect(together.map((r) => [r.status, r.headers.get('x-cache')])).toEqual(Array(10).fill([200, 'BYPASS']));
    expect(together.map((r) => r.body.data.length)).toEqual(Array.from({ length: 10 }, (_, i) => 1 + (i % 3)));
    expect(listReads()).toBe(1);
    emu.setFaults({});

    // A slow list begins (only it is delayed); a create runs and finishes while it is in flight.
    // A list asked after the create must make its own upstream read, not join the older one.
    emu.setFaults({ delayMs: 500, match: { method: 'GET', pathPrefix: `/organizations/${emu.organizationId}/users` }, times: 1 });
    const before = none.json('GET', '/v1/users');
    await new Promise((r) => setTimeout(r, 20));
    expect(listReads()).toBe(2);
    const made = await none.call('POST', '/v1/users', { body: { username: 'made_meanwhile', accessLevel: 'full' } });
    expect(made.status).toBe(201);
    const readsAfterCreate = listReads();
    const after = await none.json('GET', '/v1/users');
    expect(listReads()).toBe(readsAfterCreate + 1);
    expect(after.body.data.map((u: { username: string }) => u.username)).toContain('made_meanwhile');
    expect((await before).status).toBe(200);
  });

  it('answers the same pages, cursors and filters as a gateway with a store', async () => {
    emu.seedCredentials(7, 'paged_user');
    const [none, memory] = [gatewayFor(emu, emu.apiKey, 'none'), gatewayFor(emu, emu.apiKey, 'memory')];
    for (const path of ['/v1/users?limit=3', '/v1/users?limit=3&order=desc', '/v1/users?status=active&limit=5', '/v1/users?username=paged_user00004']) {
      const [a, b] = [await none.json('GET', path), await memory.json('GET', path)];
      expect(a.headers.get('x-cache')).toBe('BYPASS');
      expect(a.body, path).toEqual(b.body);
      expect(a.body.data.length, path).toBeGreaterThan(0);
      if (a.body.nextCursor) {
        const next = `${path}&cursor=${encodeURIComponent(a.body.nextCursor)}`;
        expect((await none.json('GET', next)).body, next).toEqual((await memory.json('GET', next)).body);
      }
    }
  });
});
