/**
 * The adapter fed the answers a real SFTPGo 1.2.2 gave (shared/reference/sftpgo-1.2.2-recorded),
 * byte for byte, with no emulator in between: the recorded users, lists, versions and error bodies
 * go through the adapter's own schemas and readings as they are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallContext } from '../src/provider-kit/adapter.js';
import type { SftpgoBackendConfig } from '../adapters/sftpgo/index.js';
import { createLogger } from '../src/observability/logger.js';
import { createSftpgoAdapter } from '../adapters/sftpgo/index.js';
import { ApiResponse, UpstreamConnectionList, UpstreamQuotaScanList, UpstreamUser, UpstreamUserList, parseUpstream } from '../adapters/sftpgo/schema.js';
import { shapeOfVersion, versionOf } from '../adapters/sftpgo/server.js';
import { upstreamMessage } from '../src/reliability/upstream.js';
import { E2E_KEY, RECORDINGS, readExchange } from './helpers/sftpgo-recordings.js';
import { failure } from './helpers/errors.js';

const config: SftpgoBackendConfig = {
  provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://127.0.0.1:8081', username: 'admin', password: 'AdminPass-2024',
  sftpHost: 'sftp.example.com', sftpPort: 2022, homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 2000,
};
const ctx: CallContext = { requestId: 'req-rec', logger: createLogger({ level: 'silent' }) };

/** The recorded answer of `file` as a Response, with its status, content type and body. */
function answerOf(file: string): Response {
  const { response } = readExchange(file);
  const headers = response.headers['content-type'] ? { 'content-type': response.headers['content-type'] } : undefined;
  return new Response(response.body === '' ? null : response.body, { status: response.status, headers });
}

/** A fetch that answers each call with a recording, chosen by `METHOD path` (query left out). */
function recordedServer(routes: Record<string, string>): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const call = `${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`;
      calls.push(call);
      const file = routes[call];
      if (!file) throw new Error(`no recording for ${call}`);
      return answerOf(file);
    },
  };
}

const bodyOf = (file: string): unknown => JSON.parse(readExchange(file).response.body);
/** Every curl-shaped recording (duplicate-memory.txt holds two bare answers: read on its own below). */
const recordedFiles = readdirSync(RECORDINGS).filter((f) => f.endsWith('.txt') && f !== 'duplicate-memory.txt');

describe('recorded bodies through the adapter schemas, as they are', () => {
  const userBodies = recordedFiles.filter((f) => /^(get-1|create-(map-shape|keyonly-nopw|no-home))/.test(f));
  const listBodies = recordedFiles.filter((f) => /^list-(default|offset-neg|username|username-missing|limit0)\.txt$/.test(f));

  it.each(userBodies)('%s is a 1.x user', (file) => {
    const user = parseUpstream(UpstreamUser, bodyOf(file), 'a user');
    expect(Array.isArray(user.permissions)).toBe(false);
    expect(user.filters).toEqual({});
  });

  it.each(listBodies)('%s is a list of users', (file) => {
    expect(() => parseUpstream(UpstreamUserList, bodyOf(file), 'a list of users')).not.toThrow();
  });

  it('connections, quota scans, provider status and the version', () => {
    expect(parseUpstream(UpstreamConnectionList, bodyOf('connections.txt'), 'connections')).toEqual([]);
    expect(parseUpstream(UpstreamQuotaScanList, bodyOf('quota-scans.txt'), 'scans')).toEqual([]);
    expect(ApiResponse.parse(bodyOf('providerstatus.txt')).message).toBe('Alive');
    expect(versionOf(bodyOf('version.txt'))).toBe('1.2.2');
    expect(shapeOfVersion('1.2.2')).toBe('map');
  });

  it.each(recordedFiles.filter((f) => readExchange(f).response.status >= 400 && readExchange(f).response.body !== ''))(
    'the error body of %s is an ApiResponse whose text the adapter reads',
    (file) => {
      const body = bodyOf(file);
      expect(ApiResponse.safeParse(body).success).toBe(true);
      expect(upstreamMessage(body)).not.toBe('');
    },
  );
});

describe('the adapter on the recorded answers', () => {
  it('reads user 1 (get-1.txt) with its permissions, limits and key', async () => {
    const server = recordedServer({ 'GET /api/v1/user/1': 'get-1.txt' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    const user = await a.getUser('1', ctx);
    expect(user).toMatchObject({
      id: '1', username: 'raw_map', status: 'active', accessLevel: 'read-only', permissions: ['list', 'download'],
      directoryPermissions: {}, homeDirectory: '/srv/sftpgo/data/raw_map', sshKeyCount: 1, expiresAt: null,
      limits: { maxSessions: 2, quotaBytes: 1048576, quotaFiles: 10, uploadKBps: 100, downloadKBps: 200 },
    });
    expect(user.raw()).toMatchObject({ filters: {}, filesystem: { provider: 0 } });
  });

  it('lists (list-default.txt) and reads the expired users of list-offset-neg.txt', async () => {
    for (const [file, names] of [['list-default.txt', ['raw_map']], ['list-offset-neg.txt', ['e2e2_exp', 'e2e_exp']]] as const) {
      const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: recordedServer({ 'GET /api/v1/user': file }).fetch });
      const page = await a.listUsers({ limit: 100, offset: 0, order: 'asc' }, ctx);
      expect(page.data.map((u) => u.username)).toEqual(names);
    }
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: recordedServer({ 'GET /api/v1/user': 'list-offset-neg.txt' }).fetch });
    const [first] = (await a.listUsers({ limit: 100, offset: 0, order: 'asc' }, ctx)).data;
    expect([first!.expiresAt, first!.accessLevel]).toEqual(['2020-01-01T00:00:00.000Z', 'read-write']);
  });

  it('creates a user: /version, the name check, and the 200 answer of create-map-shape.txt', async () => {
    const server = recordedServer({
      'GET /api/v1/version': 'version.txt', 'GET /api/v1/user': 'list-username-missing.txt', 'POST /api/v1/user': 'create-map-shape.txt',
    });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    const { user } = await a.createUser({ username: 'raw_map', accessLevel: 'read-only', password: 'Passw0rd-raw-1', sshKeys: [E2E_KEY] }, ctx);
    expect(server.calls).toEqual(['GET /api/v1/version', 'GET /api/v1/user', 'POST /api/v1/user']);
    expect(user).toMatchObject({ id: '1', username: 'raw_map', accessLevel: 'read-only', sshKeyCount: 1 });
    expect(a.server!()).toEqual({ apiVersion: 'v1', serverVersion: '1.2.2' });
  });

  it.each([
    ['duplicate-sqlite.txt', 409, 'conflict', /^username "raw_map" is already taken$/],
    ['create-gateway-shape.txt', 502, 'upstream_error',
      /^SFTPGo refused the request the gateway built \(400 on POST \/api\/v1\/user\): json: cannot unmarshal array into Go struct field User\.permissions of type map\[string\]\[\]string$/],
    ['create-badkey.txt', 502, 'upstream_error', /could not parse key nr\. 1: ssh: no key found$/],
    ['create-nopw-nokey.txt', 502, 'upstream_error', /please set a password or at least a public_key$/],
  ])('a create answered as in %s → %i %s', async (file, status, code, detail) => {
    const server = recordedServer({ 'GET /api/v1/version': 'version.txt', 'GET /api/v1/user': 'list-username-missing.txt', 'POST /api/v1/user': file });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    const err = await failure(a.createUser({ username: 'raw_map', accessLevel: 'full', password: 'x-password-1' }, ctx));
    expect([err.status, err.code]).toEqual([status, code]);
    expect(err.detail).toMatch(detail);
  });

  it('the memory data provider\'s duplicate (duplicate-memory.txt, a 500) is a 409 too', async () => {
    const [, , body = '', status = ''] = readFileSync(resolve(RECORDINGS, 'duplicate-memory.txt'), 'utf8').split('\n');
    const server = recordedServer({ 'GET /api/v1/version': 'version.txt', 'GET /api/v1/user': 'list-username-missing.txt' });
    const fetch: typeof globalThis.fetch = async (input, init) =>
      init?.method === 'POST' ? new Response(`${body}\n`, { status: Number(status.trim()), headers: { 'content-type': 'application/json; charset=utf-8' } }) : server.fetch(input, init);
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch });
    const err = await failure(a.createUser({ username: 'memdup', accessLevel: 'full' }, ctx));
    expect([Number(status.trim()), err.status, err.detail]).toEqual([500, 409, 'username "memdup" is already taken']);
  });

  it('SFTPGo\'s own 404 (get-999.txt) is not found; the router\'s (not-found-path.txt) makes it check API v1 first', async () => {
    const own = recordedServer({ 'GET /api/v1/user/999': 'get-999.txt' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: own.fetch });
    expect((await failure(a.getUser('999', ctx))).detail).toBe('user 999 not found');
    expect(own.calls).toEqual(['GET /api/v1/user/999']);
    const router = recordedServer({ 'GET /api/v1/user/999': 'not-found-path.txt', 'GET /api/v1/version': 'version.txt' });
    const b = createSftpgoAdapter(config, { backend: 'onprem', fetch: router.fetch });
    expect((await failure(b.getUser('999', ctx))).status).toBe(404);
    expect(router.calls).toEqual(['GET /api/v1/user/999', 'GET /api/v1/version']);
  });

  it('removing the keys of a key-only user (put-keyonly-empty-keys.txt) is a 409', async () => {
    const server = recordedServer({
      'GET /api/v1/version': 'version.txt', 'GET /api/v1/user/24': 'create-keyonly-nopw.txt', 'PUT /api/v1/user/24': 'put-keyonly-empty-keys.txt',
    });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    const err = await failure(a.updateUser('24', { sshKeys: [] }, ctx));
    expect([err.status, err.code]).toEqual([409, 'conflict']);
  });

  it('a patch PUTs and reads its own result (put-partial-status.txt)', async () => {
    const server = recordedServer({ 'GET /api/v1/version': 'version.txt', 'GET /api/v1/user/1': 'get-1.txt', 'PUT /api/v1/user/1': 'put-partial-status.txt' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    expect((await a.updateUser('1', { status: 'disabled' }, ctx)).status).toBe('disabled');
  });

  it("a refused login (unauth.txt) is the gateway's credentials: a 502 naming the setting, and health not ok", async () => {
    const server = recordedServer({ 'GET /api/v1/user': 'unauth.txt', 'GET /api/v1/version': 'unauth.txt' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    const err = await failure(a.listUsers({ limit: 1, offset: 0, order: 'asc' }, ctx));
    expect([err.status, err.detail]).toEqual([502, "SFTPGo rejected the gateway's own credentials (401 on GET /api/v1/user): check the backend's username and password"]);
    expect(await a.health(ctx)).toMatchObject({ ok: false, detail: expect.stringMatching(/credentials \(401 on GET \/api\/v1\/version\)/) });
  });

  it('health on the recorded version, provider status and list is ok', async () => {
    const server = recordedServer({ 'GET /api/v1/version': 'version.txt', 'GET /api/v1/providerstatus': 'providerstatus.txt', 'GET /api/v1/user': 'list-default.txt' });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    expect(await a.health(ctx)).toEqual({ ok: true, detail: 'SFTPGo 1.2.2, API v1 (1.x shape); data provider: Alive; users readable' });
  });

  it('connections, a missing one (close-conn-missing.txt) and quota scans', async () => {
    const server = recordedServer({
      'GET /api/v1/connection': 'connections.txt', 'DELETE /api/v1/connection/doesnotexist': 'close-conn-missing.txt',
      'GET /api/v1/quota_scan': 'quota-scans.txt',
    });
    const a = createSftpgoAdapter(config, { backend: 'onprem', fetch: server.fetch });
    expect(await a.operations.connections!.listConnections(ctx)).toEqual([]);
    expect((await failure(a.operations.connections!.closeConnection('doesnotexist', ctx))).detail).toBe('connection doesnotexist not found');
    expect(await a.operations.quotaScans!.listQuotaScans(ctx)).toEqual([]);
  });
});
