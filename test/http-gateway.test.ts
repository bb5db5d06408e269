/**
 * The gateway's own promises, through its HTTP API, in front of a real SFTPGo emulator:
 * authentication and scopes, the order of checks, bad input, problem+json, request ids, logs.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { KEYS, createTestGateway, type TestGateway } from './helpers/gateway.js';

let emu: SftpgoEmulator;
let gw: TestGateway;

beforeEach(() => {
  emu = createSftpgoEmulator({ scanDurationMs: 50 });
  gw = createTestGateway({
    backends: {
      onprem: { provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' },
      togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: 'org', apiKey: 'togo-api-key-secret' },
    },
    defaultBackend: 'onprem',
    fetchFor: (name) => (name === 'onprem' ? (emu.fetch as typeof fetch) : undefined),
  });
});

const writes = () => emu.requests.filter((r) => r.method !== 'GET');

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = await res.json();
  expect(body).toMatchObject({ status, code, type: expect.stringContaining(code), title: expect.any(String), detail: expect.any(String) });
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  return body;
}

describe('authentication and authorization', () => {
  it('asks for a key with 401 and WWW-Authenticate', async () => {
    const res = await gw.call('GET', '/v1/users', { key: null });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(res, 401, 'unauthorized');
  });

  it('refuses an unknown key and a malformed header with 401', async () => {
    await expectProblem(await gw.call('GET', '/v1/users', { key: 'wrong-key-0123456789abcdef' }), 401, 'unauthorized');
    await expectProblem(await gw.call('GET', '/v1/users', { key: null, headers: { authorization: `Basic ${KEYS.ops}` } }), 401, 'unauthorized');
  });

  it('refuses a write with a read-only key (403) and makes no upstream call', async () => {
    const body = await expectProblem(await gw.call('POST', '/v1/users', { key: KEYS.reader, body: { username: 'newuser01', accessLevel: 'full' } }), 403, 'forbidden');
    expect(body.detail).toMatch(/write/);
    expect(emu.requests).toHaveLength(0);
  });

  it('keeps admin routes and include=raw for admin keys', async () => {
    await expectProblem(await gw.call('GET', '/v1/connections', { key: KEYS.writer }), 403, 'forbidden');
    await expectProblem(await gw.call('GET', '/v1/users?include=raw', { key: KEYS.writer }), 403, 'forbidden');
    expect((await gw.call('GET', '/v1/connections', { key: KEYS.ops })).status).toBe(200);
  });

  it('limits a key to its backends: 403 elsewhere, and /v1/backends shows only those', async () => {
    await expectProblem(await gw.call('GET', '/v1/backends/togo/users', { key: KEYS.onpremOnly }), 403, 'forbidden');
    await expectProblem(await gw.call('GET', '/v1/backends/togo', { key: KEYS.onpremOnly }), 403, 'forbidden');
    const { body } = await gw.json('GET', '/v1/backends', { key: KEYS.onpremOnly });
    expect(body.data.map((b: { name: string }) => b.name)).toEqual(['onprem']);
    const all = await gw.json('GET', '/v1/backends', { key: KEYS.reader });
    expect(all.body.data.map((b: { name: string }) => b.name)).toEqual(['onprem', 'togo']);
  });

  it('needs a key for /v1/backends but not for health, readiness and docs', async () => {
    await expectProblem(await gw.call('GET', '/v1/backends', { key: null }), 401, 'unauthorized');
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
      expect((await gw.call('GET', path, { key: null })).status, path).toBe(200);
    }
  });
});

describe('order of checks: 401, 403, 404 backend, 501, then the request', () => {
  it('answers 401 before anything about the backend or body', async () => {
    await expectProblem(await gw.call('PUT', '/v1/backends/nope/users/1/network-rules', { key: null, rawBody: '{bad' }), 401, 'unauthorized');
  });
  it('answers 403 for scope before an unknown backend', async () => {
    await expectProblem(await gw.call('POST', '/v1/backends/nope/users', { key: KEYS.reader, body: {} }), 403, 'forbidden');
  });
  it('answers 404 for an unknown backend', async () => {
    const body = await expectProblem(await gw.call('GET', '/v1/backends/nope/users'), 404, 'not_found');
    expect(body.detail).toMatch(/nope/);
    await expectProblem(await gw.call('GET', '/v1/backends/nope'), 404, 'not_found');
  });
  it('answers 501 for a missing capability before validating the body; one that depends on the server version finds it once', async () => {
    const old = createSftpgoEmulator({ version: '0.9.4' });
    const gw09 = createTestGateway({
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      fetchFor: () => old.fetch as typeof fetch,
    });
    const body = await expectProblem(await gw09.call('PUT', '/v1/users/1/network-rules', { rawBody: '{not json' }), 501, 'not_supported_by_provider');
    expect(body.backend).toBe('onprem');
    await expectProblem(await gw09.call('GET', '/v1/users/1/network-rules'), 501, 'not_supported_by_provider');
    // Network rules exist from SFTPGo 1.0 on: the first check asked the server's version, the second remembered it.
    expect(old.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/version']);
  });
  it('answers 501 for what the other provider lacks, before calling it', async () => {
    await expectProblem(await gw.call('GET', '/v1/backends/togo/connections'), 501, 'not_supported_by_provider');
    await expectProblem(await gw.call('PUT', '/v1/backends/togo/users/abc/password', { body: { password: 'x' } }), 501, 'not_supported_by_provider');
    await expectProblem(await gw.call('POST', '/v1/backends/togo/users/abc/quota-scans'), 501, 'not_supported_by_provider');
  });
});

describe('bad input: a clear 4xx and nothing changed upstream', () => {
  const user = { username: 'validuser01', accessLevel: 'read-only' };

  it.each([
    ['malformed JSON', { rawBody: '{"username": ' }, 400, 'invalid_request'],
    ['a JSON array', { body: [user] }, 400, 'invalid_request'],
    ['an unknown field', { body: { ...user, colour: 'red' } }, 400, 'invalid_request'],
    ['a wrong type', { body: { ...user, status: 1 } }, 400, 'invalid_request'],
    ['a relative home directory', { body: { ...user, homeDirectory: 'srv/x' } }, 400, 'invalid_request'],
    ['a bad expiresAt', { body: { ...user, expiresAt: 'tomorrow' } }, 400, 'invalid_request'],
    ['an invalid SSH key', { body: { ...user, sshKeys: ['ssh-ed25519 AAAAnotakey'] } }, 400, 'invalid_request'],
    ['a body that is not JSON', { rawBody: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
    ['a huge body', { body: { ...user, displayName: 'x'.repeat(1024 * 1024 + 10) } }, 413, 'payload_too_large'],
  ] as const)('refuses %s', async (_name, opts, status, code) => {
    await expectProblem(await gw.call('POST', '/v1/users', opts as never), status, code);
    expect(writes()).toHaveLength(0);
    expect(emu.users.size).toBe(0);
  });

  it('names each unknown field in errors[]', async () => {
    const res = await gw.call('POST', '/v1/users', { body: { ...user, colour: 'red', size: 2 } });
    const body = await expectProblem(res, 400, 'invalid_request');
    expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['colour', 'size']);
  });

  it.each([
    ['limit=0'], ['limit=501'], ['limit=ten'], ['order=sideways'], ['status=gone'], ['cursor=%25%25%25'], ['cursor=eyJ2IjoxfQ'], ['include=everything'], ['colour=red'],
  ])('refuses the query %s with 400 and no upstream call', async (qs) => {
    await expectProblem(await gw.call('GET', `/v1/users?${qs}`), 400, 'invalid_request');
    expect(emu.requests).toHaveLength(0);
  });

  it('refuses an id no provider would mint with 400, and a well-formed unknown one with 404', async () => {
    // A "/", a control character, an edge space or over 255 characters: no provider's id (nor SFTPGo 2.x username).
    for (const id of ['a/b', 'a\u0001b', ' lead', 'trail ', '9'.repeat(256)]) {
      await expectProblem(await gw.call('GET', `/v1/users/${encodeURIComponent(id)}`), 400, 'invalid_request');
    }
    // Well-formed, but no SFTPGo 1.x id (a positive int32): not found, without a call.
    await expectProblem(await gw.call('DELETE', '/v1/users/not-a-number'), 404, 'not_found');
    await expectProblem(await gw.call('GET', `/v1/users/${encodeURIComponent('a b')}`), 404, 'not_found');
    expect(emu.requests).toHaveLength(0);
    await expectProblem(await gw.call('GET', '/v1/users/12345'), 404, 'not_found');
  });

  it('refuses an empty password and never removes one', async () => {
    const created = await gw.json('POST', '/v1/users', { body: user });
    const before = emu.users.get(Number(created.body.id))!.password;
    await expectProblem(await gw.call('PATCH', `/v1/users/${created.body.id}`, { body: { password: '' } }), 400, 'invalid_request');
    await expectProblem(await gw.call('PATCH', `/v1/users/${created.body.id}`, { body: { password: null } }), 400, 'invalid_request');
    await expectProblem(await gw.call('PUT', `/v1/users/${created.body.id}/password`, { body: { password: '' } }), 400, 'invalid_request');
    expect(emu.users.get(Number(created.body.id))!.password).toBe(before);
  });

  it('answers an unknown route with a problem 404', async () => {
    await expectProblem(await gw.call('GET', '/v2/everything'), 404, 'not_found');
  });
});

describe('request ids and logs', () => {
  it('echoes a caller X-Request-Id, sends it upstream, and makes one otherwise', async () => {
    const res = await gw.call('GET', '/v1/users', { headers: { 'x-request-id': 'trace-42' } });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    expect(emu.requests.at(-1)!.headers['x-request-id']).toBe('trace-42');
    const other = await gw.call('GET', '/healthz', { key: null });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const evil = await gw.call('GET', '/healthz', { key: null, headers: { 'x-request-id': 'bad\u0007id with spaces' } });
    expect(evil.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one JSON line per request with method, route, status, duration, backend and request id', async () => {
    await gw.call('GET', '/v1/backends/onprem/users/7', { headers: { 'x-request-id': 'log-test-1' } });
    const lines = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.requestId === 'log-test-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', route: '/v1/backends/:backend/users/:id', status: 404, backend: 'onprem', principal: 'ops' });
    expect(lines[0].durationMs).toEqual(expect.any(Number));
  });

  it('never logs a password, an API key or an Authorization header', async () => {
    const created = await gw.json('POST', '/v1/users', { body: { username: 'logged_user', accessLevel: 'full', password: 'Sup3r-Secret-Pa55word' } });
    expect(created.status).toBe(201);
    await gw.call('PUT', `/v1/users/${created.body.id}/password`, { body: { password: 'An0ther-Secret-Pa55' } });
    const rotated = await gw.json('POST', `/v1/users/${created.body.id}/password-rotations`);
    await gw.call('GET', '/v1/users', { key: 'wrong-key-0123456789abcdef' });
    const all = gw.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of ['Sup3r-Secret-Pa55word', 'An0ther-Secret-Pa55', rotated.body.password, KEYS.ops, 'wrong-key-0123456789abcdef', 'togo-api-key-secret']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('system routes', () => {
  it('serves liveness and readiness without calling an upstream', async () => {
    emu.setFaults({ hang: true });
    expect(await (await gw.call('GET', '/healthz', { key: null })).json()).toEqual({ status: 'ok' });
    const ready = await gw.json('GET', '/readyz', { key: null });
    expect(ready.body).toMatchObject({ status: 'ready', config: 'ok', cache: { driver: 'memory', state: 'ok' } });
    expect(emu.requests).toHaveLength(0);
  });

  it('serves the OpenAPI 3.1 document and a reference page rendered from it', async () => {
    const doc = await (await gw.call('GET', '/openapi.json', { key: null })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/users', '/v1/backends/{backend}/users/{id}/ssh-keys']));
    const page = await gw.call('GET', '/docs', { key: null });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('/v1/backends/{backend}/users/{id}/password-rotations');
    expect(html).toContain('id="schema-User"');
    expect(html).not.toMatch(/<script/i);
  });

  it('shows a live health check that stays 200 when the upstream fails', async () => {
    const ok = await gw.json('GET', '/v1/backends/onprem');
    expect(ok.body.health).toMatchObject({ ok: true, detail: expect.stringContaining('SFTPGo 1.2.2') });
    expect([ok.body.apiVersion, ok.body.serverVersion]).toEqual(['v1', '1.2.2']);
    emu.setProviderDown(true);
    const down = await gw.json('GET', '/v1/backends/onprem');
    expect(down.status).toBe(200);
    expect(down.body.health.ok).toBe(false);
  });
});

describe('what a cache may keep (Cache-Control)', () => {
  it('an answer that may carry a password is no-store: create, rotation, and their Idempotency-Key replays', async () => {
    const headers = { 'idempotency-key': 'cc-create-1' };
    const created = await gw.call('POST', '/v1/users', { body: { username: 'cc_user_1', accessLevel: 'read-only' }, headers });
    expect([created.status, created.headers.get('cache-control')]).toEqual([201, 'no-store']);
    const { id, password } = await created.json();
    expect(password).toEqual(expect.any(String));
    const replay = await gw.call('POST', '/v1/users', { body: { username: 'cc_user_1', accessLevel: 'read-only' }, headers });
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.headers.get('cache-control')]).toEqual([201, 'true', 'no-store']);
    const rotation = { 'idempotency-key': 'cc-rotate-1' };
    for (let i = 0; i < 2; i++) {
      const rotated = await gw.call('POST', `/v1/users/${id}/password-rotations`, { headers: rotation });
      expect([rotated.status, rotated.headers.get('cache-control')]).toEqual([200, 'no-store']);
    }
    // A create with the caller's own password is no-store too: no create answer is cached.
    const own = await gw.call('POST', '/v1/users', { body: { username: 'cc_user_2', accessLevel: 'read-only', password: 'Own-password-1' } });
    expect(own.headers.get('cache-control')).toBe('no-store');
  });

  it('every other /v1 answer is private (no shared cache keeps it) and revalidated: reads, writes, errors, list hits', async () => {
    const created = await (await gw.call('POST', '/v1/users', { body: { username: 'cc_user_3', accessLevel: 'read-only' } })).json();
    const answers = [
      await gw.call('GET', '/v1/users'), await gw.call('GET', '/v1/users'), // a miss, then a hit of the stored page
      await gw.call('GET', `/v1/users/${created.id}`), await gw.call('GET', '/v1/backends'),
      await gw.call('PATCH', `/v1/users/${created.id}`, { body: { status: 'disabled' } }),
      await gw.call('PUT', `/v1/users/${created.id}/password`, { body: { password: 'Another-pass-123' } }),
      await gw.call('GET', '/v1/users/999999'), await gw.call('GET', '/v1/users', { key: null }), await gw.call('GET', '/v1/nowhere'),
    ];
    expect(answers[1]!.headers.get('x-cache')).toBe('HIT');
    for (const res of answers) expect([res.status, res.headers.get('cache-control')]).toEqual([res.status, 'private, no-cache']);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 204, 404, 401, 404]);
  });
});

describe('answers that tell callers what to do', () => {
  it('a missing field says "<field> is required", never the validation library\'s wording', async () => {
    const res = await gw.call('POST', '/v1/users', { body: { accessLevel: 'read-only' } });
    const body = await expectProblem(res, 400, 'invalid_request');
    expect(body.errors).toEqual([{ path: 'username', message: 'is required' }]);
    expect(body.detail).toBe('The request body is not valid: username is required');
    const rules = await expectProblem(await gw.call('PUT', '/v1/users/1/network-rules', { body: { data: [{}] } }), 400, 'invalid_request');
    expect(rules.detail).toContain('data.0.cidr is required');
    expect(JSON.stringify([body, rules])).not.toMatch(/nonoptional|received undefined|expected/);
  });

  it('a known path with another method is a 405 with Allow; an unknown path stays a 404', async () => {
    const res = await gw.call('PATCH', '/v1/users');
    const body = await expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(body.detail).toMatch(/PATCH is not allowed on \/v1\/users: use GET, HEAD, POST/);
    const one = await gw.call('POST', '/v1/backends/onprem/users/42');
    await expectProblem(one, 405, 'method_not_allowed');
    expect(one.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expect((await gw.call('PUT', '/v1/backends/onprem/users/42/ssh-keys')).headers.get('allow')).toBe('GET, HEAD, POST');
    await expectProblem(await gw.call('GET', '/v1/nothing/here'), 404, 'not_found');
    expect(emu.requests).toEqual([]);
  });

  it("an unknown backend's 404 lists the backends this key may use", async () => {
    for (const path of ['/v1/backends/nowhere/users', '/v1/backends/nowhere']) {
      const all = await expectProblem(await gw.call('GET', path), 404, 'not_found');
      expect(all.details).toEqual({ backends: ['onprem', 'togo'] });
      expect(all.detail).toContain('"onprem", "togo"');
      // A key limited to some backends is refused any other first (403, CONTRACT §1's order).
      await expectProblem(await gw.call('GET', path, { key: KEYS.onpremOnly }), 403, 'forbidden');
    }
  });

  it('a caller-chosen password shorter than passwordMinLength (12 code points) is a 400 on create, patch and PUT /password', async () => {
    const created = await (await gw.call('POST', '/v1/users', { body: { username: 'pwlen_user', accessLevel: 'read-only' } })).json();
    const short = 'é'.repeat(11); // 11 code points, 22 bytes
    for (const [method, path, body] of [
      ['POST', '/v1/users', { username: 'pwlen_user2', accessLevel: 'read-only', password: short }],
      ['PATCH', `/v1/users/${created.id}`, { password: short }],
      ['PUT', `/v1/users/${created.id}/password`, { password: 'x' }],
    ] as const) {
      const problem = await expectProblem(await gw.call(method, path, { body }), 400, 'invalid_request');
      expect(problem.errors).toEqual([{ path: 'password', message: 'shorter than 12 characters' }]);
    }
    expect(writes().filter((r) => r.method !== 'POST' || (r.body as { username?: string }).username !== 'pwlen_user')).toEqual([]);
    expect((await gw.call('PUT', `/v1/users/${created.id}/password`, { body: { password: 'é'.repeat(12) } })).status).toBe(204);
    // SFTP To Go takes no caller password at all: its 422 stands, whatever the length.
    await expectProblem(await gw.call('POST', '/v1/backends/togo/users', { body: { username: 'togo_pwlen_1', accessLevel: 'read-only', password: 'x' } }), 422, 'not_supported_by_provider');
  });

  it('passwordMinLength is a setting', async () => {
    const strict = createTestGateway({
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      fetchFor: () => emu.fetch as typeof fetch,
      config: { passwordMinLength: 20 },
    });
    const res = await strict.call('POST', '/v1/users', { body: { username: 'pwlen_user3', accessLevel: 'read-only', password: 'only-nineteen-chars' } });
    await expectProblem(res, 400, 'invalid_request');
  });
});
