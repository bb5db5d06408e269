/**
 * What the OpenAPI document promises, checked against the code and a real gateway: servers and
 * license; each operation's scope (as a security requirement and in its description) is the one the
 * app enforces; each operation lists the problems it can answer, and what a real gateway answers is
 * among them; every example is valid for its own zod schema; every constraint is in the document.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { documentedApp } from '../scripts/openapi-document.js';
import { Problem, UserCreate } from '../src/domain/model.js';
import { DEMO_PORT } from '../src/http/openapi-info.js';
import { PROBLEM_STATUSES, problemExample } from '../src/http/openapi-route-doc.js';
import { UserIdParams } from '../src/http/route-kit.js';
import { ListQuery } from '../src/http/routes/users.js';
import { Liveness, Readiness } from '../src/http/routes/system-doc.js';
import { parseConfig } from '../src/providers.js';
import { API_KEYS, createTestGateway, type TestGateway } from './helpers/gateway.js';
import { checkExamples, examplePointers, type RouteDefinition } from './helpers/openapi-examples.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { app: docApp, openApiDocument } = documentedApp();
const doc = openApiDocument() as Json;
const routes = docApp.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [d.route as unknown as RouteDefinition] : []));

interface Operation {
  method: string;
  path: string;
  op: Json;
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations: Operation[] = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ method, path, op })));
const byId = (operationId: string): Operation => {
  const found = operations.find((o) => o.op.operationId === operationId);
  if (!found) throw new Error(`no operation ${operationId}`);
  return found;
};
const statusesOf = (operationId: string) =>
  Object.keys(byId(operationId).op.responses).map(Number).filter((s) => s >= 400);
const resolve = (node: Json): Json => (node?.$ref ? String(node.$ref).split('/').slice(1).reduce((n: Json, k) => n[k], doc) : node);

describe('the document itself', () => {
  it('names its servers: this gateway, and the local demo on its default port', () => {
    expect(doc.servers).toEqual([
      { url: '/', description: expect.stringMatching(/this gateway/i) },
      { url: `http://127.0.0.1:${DEMO_PORT}`, description: expect.stringMatching(/demo/i) },
    ]);
    // The demo's port is the config's default port.
    const config = parseConfig(JSON.stringify({
      auth: { apiKeys: [{ name: 'ops', key: 'ops-key-0123456789abcdef', scopes: ['read'] }] },
      backends: { x: { provider: 'sftpgo', baseUrl: 'http://127.0.0.1:1' } },
    }), {});
    expect(config.server.port).toBe(DEMO_PORT);
  });

  it('has its license, and says how to authenticate', () => {
    expect(doc.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
    expect(doc.info.title).toBe('sftp-gateway');
    expect(doc.info.description).toMatch(/Bearer/);
    expect(doc.info.description).toMatch(/`read`.*`write`.*`admin`/s);
    expect(doc.info.description).toMatch(/demo mode.*no authentication/is);
  });

  it('reads the same as YAML 1.1 and 1.2: no example time becomes a date', () => {
    const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8');
    const json = JSON.parse(JSON.stringify(doc));
    expect(parse(committed, { version: '1.1' })).toEqual(json);
    expect(parse(committed)).toEqual(json);
  });

  it('describes every tag its operations use', () => {
    const described = (doc.tags as Json[]).map((t) => t.name);
    for (const { op } of operations) expect(described).toContain(op.tags[0]);
  });
});

describe('security: every operation says the scope the gateway enforces', () => {
  const SCOPES = ['read', 'write', 'admin'] as const;
  const keyOf = (kind: 'only' | 'no', scope: string) => `${kind}-${scope}-key-0123456789abcdef`;
  const scopeKeys = SCOPES.flatMap((scope) => [
    { name: `only-${scope}`, key: keyOf('only', scope), scopes: [scope] },
    { name: `no-${scope}`, key: keyOf('no', scope), scopes: SCOPES.filter((s) => s !== scope) },
  ]);
  let emu: SftpgoEmulator;
  let gw: TestGateway;

  beforeEach(() => {
    emu = createSftpgoEmulator();
    gw = createTestGateway({
      apiKeys: [...API_KEYS, ...scopeKeys],
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      defaultBackend: 'onprem',
      fetchFor: () => emu.fetch as typeof fetch,
    });
  });

  const keyed = () => operations.filter((o) => o.path.startsWith('/v1'));
  const concrete = (path: string) =>
    path.replace('{backend}', 'onprem').replace('{id}', '1').replace('{keyId}', 'k1').replace('{connectionId}', 'c1');

  it('documents all 35 keyed operations with one bearer scope, and says it in the description', () => {
    expect(keyed()).toHaveLength(35);
    for (const { method, path, op } of keyed()) {
      expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [expect.stringMatching(/^(read|write|admin)$/)] }]);
      const scope = op.security[0].bearerAuth[0];
      expect(op.description, `${method} ${path}`).toContain(`Scope: \`${scope}\``);
    }
  });

  it('a key without the scope gets 403 naming it; a key with only that scope gets past the check', async () => {
    for (const { method, path, op } of keyed()) {
      const scope: string = op.security[0].bearerAuth[0];
      const url = concrete(path);
      const refused = await gw.json(method.toUpperCase(), url, { key: keyOf('no', scope) });
      expect([refused.status, refused.body.code], `${method} ${path} without ${scope}`).toEqual([403, 'forbidden']);
      expect(refused.body.detail).toContain(`"${scope}" scope`);
      const allowed = await gw.call(method.toUpperCase(), url, { key: keyOf('only', scope) });
      expect([401, 403], `${method} ${path} with only ${scope}`).not.toContain(allowed.status);
    }
  });

  it('the scopes are those of CONTRACT §6: reads read, changes write, connections and scans admin', () => {
    const scopeOf = (id: string) => byId(id).op.security[0].bearerAuth[0];
    expect(['listBackends', 'getBackend', 'listUsers', 'getUser', 'listSshKeys', 'listNetworkRules'].map(scopeOf)).toEqual(Array(6).fill('read'));
    expect(['createUser', 'updateUser', 'deleteUser', 'rotatePassword', 'setPassword', 'addSshKey', 'deleteSshKey', 'replaceNetworkRules']
      .map(scopeOf)).toEqual(Array(8).fill('write'));
    expect(['listConnections', 'closeConnection', 'listQuotaScans', 'startQuotaScan', 'migrateUsers'].map(scopeOf)).toEqual(Array(5).fill('admin'));
    expect(byId('getUser').op.description).toContain('Scope: `read` (`admin` with `include=raw`).');
  });

  it('the unauthenticated routes say security: [] and answer without a key', async () => {
    const open = operations.filter((o) => !o.path.startsWith('/v1'));
    expect(open.map((o) => o.path).sort()).toEqual(['/docs', '/healthz', '/openapi.json', '/readyz']);
    for (const { path, op } of open) {
      expect(op.security, path).toEqual([]);
      expect(op.description).toContain('No API key needed.');
      expect((await gw.call('GET', path, { key: null })).status, path).toBe(200);
    }
    // What they answer is what the document says.
    expect(Liveness.safeParse(await (await gw.call('GET', '/healthz', { key: null })).json()).success).toBe(true);
    expect(Readiness.safeParse(await (await gw.call('GET', '/readyz', { key: null })).json()).success).toBe(true);
  });
});

describe('errors: each operation lists the problems it can answer', () => {
  const UPSTREAM = [502, 503, 504];
  it.each([
    ['listBackends', [401, 403, 429]],
    ['getBackend', [401, 403, 404, 429]],
    ['listUsersOnDefaultBackend', [400, 401, 403, 429, ...UPSTREAM]],
    ['listUsers', [400, 401, 403, 404, 429, ...UPSTREAM]],
    ['createUser', [400, 401, 403, 404, 409, 413, 415, 422, 429, ...UPSTREAM]],
    ['getUserOnDefaultBackend', [400, 401, 403, 404, 429, ...UPSTREAM]],
    ['updateUser', [400, 401, 403, 404, 409, 413, 415, 422, 429, ...UPSTREAM]],
    ['deleteUserOnDefaultBackend', [400, 401, 403, 404, 409, 429, ...UPSTREAM]],
    ['rotatePassword', [400, 401, 403, 404, 409, 422, 429, 501, ...UPSTREAM]],
    ['setPasswordOnDefaultBackend', [400, 401, 403, 404, 413, 415, 422, 429, 501, ...UPSTREAM]],
    ['listSshKeysOnDefaultBackend', [400, 401, 403, 404, 429, 501, ...UPSTREAM]],
    ['replaceNetworkRules', [400, 401, 403, 404, 413, 415, 422, 429, 501, ...UPSTREAM]],
    ['listConnectionsOnDefaultBackend', [401, 403, 429, 501, ...UPSTREAM]],
    ['listConnections', [401, 403, 404, 429, 501, ...UPSTREAM]],
    ['startQuotaScan', [400, 401, 403, 404, 409, 429, 501, ...UPSTREAM]],
    // Its body names backends (404) and no resource for a provider to refuse (no 422); 501 on Workers.
    ['migrateUsers', [400, 401, 403, 404, 409, 413, 415, 429, 501, ...UPSTREAM]],
    ['getLiveness', []],
  ])('%s: %j', (operationId, expected) => {
    expect(statusesOf(operationId)).toEqual(expected);
  });

  it('refers every problem to a shared response, and never lists If-Match answers', () => {
    for (const { method, path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (Number(status) < 400) continue;
        expect(response, `${method} ${path} ${status}`).toEqual({ $ref: `#/components/responses/Problem${status}` });
      }
      expect(Object.keys(op.responses)).not.toEqual(expect.arrayContaining(['412']));
      expect(Object.keys(op.responses)).not.toEqual(expect.arrayContaining(['428']));
      // A body's problems only where there is a body.
      if (!op.requestBody) expect(Object.keys(op.responses), `${method} ${path}`).not.toEqual(expect.arrayContaining(['415']));
    }
    expect(Object.keys(doc.components.responses).sort()).toEqual(PROBLEM_STATUSES.map((s) => `Problem${s}`).sort());
    expect(doc.components.responses.Problem401.headers).toHaveProperty('WWW-Authenticate');
    expect(doc.components.responses.Problem429.headers).toHaveProperty('Retry-After');
  });

  it('says when an operation answers 409', () => {
    expect(byId('createUser').op.description).toContain('409 `conflict` when the username is taken.');
    expect(byId('startQuotaScan').op.description).toContain('409 `conflict` when a scan is already running for the user.');
    expect(byId('migrateUsers').op.description).toContain('409 `conflict` when another migration between the same two backends is running.');
  });
});

describe('what a real gateway answers is documented for its operation', () => {
  let sftpgo: SftpgoEmulator;
  let togo: SftpToGoEmulator;
  let gw: TestGateway;

  const gatewayWith = (onprem: Record<string, unknown> = {}) =>
    createTestGateway({
      apiKeys: [...API_KEYS, { name: 'billing', key: 'billing-key-0123456789abcdef', scopes: ['read'] }],
      backends: {
        onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com', ...onprem },
        togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: togo.organizationId, apiKey: togo.apiKey },
      },
      defaultBackend: 'onprem',
      fetchFor: (name) => (name === 'onprem' ? sftpgo.fetch : togo.fetch) as typeof fetch,
    });

  beforeEach(() => {
    sftpgo = createSftpgoEmulator({ scanDurationMs: 5_000 });
    togo = createSftpToGoEmulator();
    gw = gatewayWith();
  });
  afterEach(() => sftpgo.setFaults(null));

  /** The answer's status is one its operation documents; the problem body is returned for more checks. */
  async function expectDocumented(operationId: string, status: number, res: Response): Promise<Json> {
    expect(res.status, operationId).toBe(status);
    expect(statusesOf(operationId), `${operationId} documents ${status}`).toContain(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.json();
    expect(Problem.safeParse(body).success).toBe(true);
    return body;
  }
  /** The documented example of the status, as this answer would be (its request id aside). */
  const expectExample = (body: Json, status: number) =>
    expect({ ...body, requestId: 'x' }).toEqual({ ...problemExample(status), requestId: 'x' });

  it('the gateway\'s own refusals: 400, 401, 403, 404, 409, 413, 415, 422, 501, each as its example', async () => {
    expectExample(await expectDocumented('listUsersOnDefaultBackend', 401, await gw.call('GET', '/v1/users', { key: null })), 401);
    expectExample(await expectDocumented('createUserOnDefaultBackend', 403,
      await gw.call('POST', '/v1/users', { key: 'billing-key-0123456789abcdef', body: { username: 'acme_uploads' } })), 403);
    expectExample(await expectDocumented('createUserOnDefaultBackend', 400, await gw.call('POST', '/v1/users', { body: { accessLevel: 'full' } })), 400);
    expectExample(await expectDocumented('getUser', 404, await gw.call('GET', '/v1/backends/onprem/users/42')), 404);
    const body = { username: 'acme_uploads', accessLevel: 'read-only' };
    expect((await gw.call('POST', '/v1/users', { body })).status).toBe(201);
    expectExample(await expectDocumented('createUserOnDefaultBackend', 409, await gw.call('POST', '/v1/users', { body })), 409);
    const huge = JSON.stringify({ username: 'acme_uploads', displayName: 'x'.repeat(1024 * 1024) });
    expectExample(await expectDocumented('createUserOnDefaultBackend', 413, await gw.call('POST', '/v1/users', { rawBody: huge })), 413);
    expectExample(await expectDocumented('createUserOnDefaultBackend', 415,
      await gw.call('POST', '/v1/users', { rawBody: 'username=acme', headers: { 'content-type': 'text/plain' } })), 415);
    expectExample(await expectDocumented('createUser', 422, await gw.call('POST', '/v1/backends/togo/users', {
      body: { username: 'acme_uploads', permissions: ['list', 'download', 'upload'] },
    })), 422);
    expectExample(await expectDocumented('listConnections', 501, await gw.call('GET', '/v1/backends/togo/connections')), 501);
  });

  it('more refusals: an unknown backend, a bad query, a running scan, a reused Idempotency-Key', async () => {
    const unknown = await expectDocumented('listUsers', 404, await gw.call('GET', '/v1/backends/nope/users'));
    expect(unknown.details).toEqual({ backends: ['onprem', 'togo'] });
    await expectDocumented('listUsersOnDefaultBackend', 400, await gw.call('GET', '/v1/users?limit=0'));
    await expectDocumented('getUserOnDefaultBackend', 400, await gw.call('GET', '/v1/users/%20padded'));
    const { id } = await (await gw.call('POST', '/v1/users', { body: { username: 'acme_scans', accessLevel: 'full' } })).json();
    expect((await gw.call('POST', `/v1/users/${id}/quota-scans`)).status).toBe(202);
    await expectDocumented('startQuotaScanOnDefaultBackend', 409, await gw.call('POST', `/v1/users/${id}/quota-scans`));
    const headers = { 'idempotency-key': 'rotate-0001' };
    expect((await gw.call('POST', `/v1/users/${id}/password-rotations`, { headers })).status).toBe(200);
    const reused = await expectDocumented('rotatePasswordOnDefaultBackend', 422, await gw.call('POST', '/v1/users/999/password-rotations', { headers }));
    expect(reused.code).toBe('idempotency_key_reused');
    const noBackend = await expectDocumented('migrateUsers', 404, await gw.call('POST', '/v1/migrations', { body: { from: 'onprem', to: 'nope' } }));
    expect(noBackend.details).toEqual({ backends: ['onprem', 'togo'] });
    await expectDocumented('migrateUsers', 400, await gw.call('POST', '/v1/migrations', { body: { from: 'togo', to: 'togo' } }));
  });

  it('upstream failures: 429, 502, 503, 504', async () => {
    const cases = [
      { faults: { status: 429, headers: { 'Retry-After': '7' } }, status: 429, code: 'rate_limited' },
      { faults: { status: 500 }, status: 502, code: 'upstream_error' },
      { faults: { reset: true }, status: 503, code: 'upstream_unavailable' },
      { faults: { hang: true }, status: 504, code: 'upstream_timeout' },
    ];
    for (const { faults, status, code } of cases) {
      sftpgo = createSftpgoEmulator();
      gw = gatewayWith({ timeoutMs: 200, retries: 0 });
      expect((await gw.call('GET', '/v1/users')).status).toBe(200); // the server found before its failures
      sftpgo.setFaults(faults);
      const body = await expectDocumented('getUserOnDefaultBackend', status, await gw.call('GET', '/v1/users/1'));
      const example = problemExample(status);
      expect([body.code, body.type, body.title]).toEqual([code, example.type, example.title]);
    }
  });
});

describe('examples', () => {
  const problemMedia = Object.fromEntries(
    PROBLEM_STATUSES.map((s) => [`/components/responses/Problem${s}/content/application~1problem+json/example`, Problem]),
  );

  it('every example in the document is valid for its own zod schema', () => {
    const { checked, failures } = checkExamples(doc, routes, problemMedia);
    expect(failures).toEqual([]);
    const unchecked = examplePointers(doc).filter((p) => !checked.has(p));
    expect(unchecked).toEqual([]);
    expect(checked.size).toBeGreaterThan(60);
  });

  it('the check catches a wrong example', () => {
    const broken = structuredClone(doc);
    broken.paths['/v1/users'].post.requestBody.content['application/json'].example.accessLevel = 'everything';
    broken.components.schemas.Readiness.example.status = 'asleep';
    const { failures } = checkExamples(broken, routes, problemMedia);
    expect(failures).toEqual(expect.arrayContaining([
      expect.stringContaining('/paths/~1v1~1users/post/requestBody/content/application~1json/example: accessLevel'),
      expect.stringContaining('/components/schemas/Readiness/example: status'),
    ]));
    expect(failures.every((f) => /accessLevel|Readiness/.test(f))).toBe(true);
  });

  it('every request body and every JSON answer has one', () => {
    for (const { method, path, op } of operations) {
      const bodies = Object.values((op.requestBody?.content ?? {}) as Json);
      const answers = Object.entries(op.responses as Json)
        .filter(([s]) => Number(s) < 300)
        .flatMap(([, r]) => Object.values((r.content ?? {}) as Json));
      for (const media of [...bodies, ...answers]) {
        expect(media.example ?? resolve(media.schema).example, `${method} ${path}`).toBeDefined();
      }
    }
  });

  it('shows the list page with its cursor, the created user with its one-time password, and problem answers', () => {
    const list = byId('listUsers').op.responses['200'].content['application/json'].example;
    expect(list).toMatchObject({ data: [expect.objectContaining({ username: 'acme_uploads' })], nextCursor: expect.any(String) });
    const created = byId('createUser').op.responses['201'].content['application/json'].example;
    expect(created.password).toEqual(expect.any(String));
    // A migration: the run's report with its one-time password, and the dry run's plan.
    const report = byId('migrateUsers').op.responses['200'].content['application/json'].example;
    expect(report.users).toContainEqual(expect.objectContaining({ outcome: 'created', generatedPassword: expect.any(String) }));
    expect(doc.components.schemas.MigrationPlan.example.users).toContainEqual(expect.objectContaining({ action: 'create' }));
    expect(doc.components.responses.Problem404.content['application/problem+json'].example).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('constraints: every zod constraint is in the document', () => {
  const param = (operationId: string, name: string) => {
    const p = (byId(operationId).op.parameters as Json[]).find((x) => x.name === name);
    if (!p) throw new Error(`${operationId} has no parameter ${name}`);
    return resolve(p.schema);
  };
  const schema = (name: string) => doc.components.schemas[name] as Json;

  it.each([
    ['list limit', () => param('listUsers', 'limit'), { type: 'integer', minimum: 1, maximum: 500, default: 100 }],
    ['list cursor', () => param('listUsers', 'cursor'), { type: 'string', minLength: 1, maxLength: 512 }],
    ['list username', () => param('listUsers', 'username'), { type: 'string', minLength: 1, maxLength: 255 }],
    ['list order', () => param('listUsers', 'order'), { enum: ['asc', 'desc'], default: 'asc' }],
    ['list status', () => param('listUsers', 'status'), { enum: ['active', 'disabled'] }],
    ['include', () => param('getUser', 'include'), { enum: ['raw'] }],
    ['user id', () => param('getUser', 'id'), { type: 'string', minLength: 1, maxLength: 255 }],
    ['SSH key id', () => param('deleteSshKey', 'keyId'), { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._~:@-]+$' }],
    ['connection id', () => param('closeConnection', 'connectionId'), { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._~:@-]+$' }],
    ['Idempotency-Key', () => param('createUser', 'Idempotency-Key'), { type: 'string', pattern: '^[\\x20-\\x7E]{1,255}$' }],
    ['username', () => schema('UserCreate').properties.username, { type: 'string', minLength: 1, maxLength: 255 }],
    ['username required', () => schema('UserCreate'), { required: ['username'], additionalProperties: false }],
    ['accessLevel', () => schema('AccessLevel'), { enum: ['none', 'read-only', 'write-only', 'read-write', 'full', 'custom'] }],
    ['homeDirectory', () => schema('UserCreate').properties.homeDirectory, { minLength: 1, maxLength: 4096, pattern: '^\\/' }],
    ['password', () => schema('PasswordInput').properties.password, { minLength: 1, maxLength: 1024 }],
    ['expiresAt', () => schema('UserCreate').properties.expiresAt, { format: 'date-time' }],
    ['sshKeys', () => schema('UserCreate').properties.sshKeys, { maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 16384 } }],
    ['permissions', () => schema('UserCreate').properties.permissions, { maxItems: 16 }],
    ['displayName', () => schema('UserPatch').properties.displayName, { maxLength: 255 }],
    ['directoryPermissions', () => schema('DirectoryPermissionsInput'), {
      maxProperties: 100, propertyNames: { type: 'string', minLength: 1, maxLength: 4096 }, additionalProperties: { maxItems: 16 },
    }],
    ['limits', () => schema('LimitsInput').properties.maxSessions, { minimum: 1, maximum: 2147483647 }],
    ['quotaBytes', () => schema('LimitsInput').properties.quotaBytes, { minimum: 1, maximum: Number.MAX_SAFE_INTEGER }],
    ['limits strict', () => schema('LimitsInput'), { additionalProperties: false }],
    ['network rules', () => schema('NetworkRuleSet').properties.data, { maxItems: 100 }],
    ['rule cidr', () => schema('NetworkRuleInput').properties.cidr, { minLength: 1, maxLength: 64 }],
    ['rule defaults', () => schema('NetworkRuleInput').properties, {
      protocol: { enum: ['any', 'sftp', 'ftps'], default: 'any' }, enabled: { default: true }, description: { maxLength: 1024, default: null },
    }],
    ['SSH key input', () => schema('SshKeyInput').properties.publicKey, { minLength: 1, maxLength: 16384 }],
    ['ssh key type', () => schema('SshKeyType'), { enum: ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'] }],
    ['migration', () => schema('MigrationRequest'), { required: ['from', 'to'], additionalProperties: false }],
    ['migration usernames', () => schema('MigrationRequest').properties.usernames, {
      minItems: 1, maxItems: 10_000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 255 },
    }],
    ['migration defaults', () => schema('MigrationRequest').properties, {
      dryRun: { default: true }, narrow: { default: false }, acceptWidening: { default: false },
      concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 4 },
    }],
  ])('%s', (_name, find, expected) => {
    expect(find()).toMatchObject(expected);
  });

  it('limit says what the list query schema enforces', () => {
    const limit = param('listUsers', 'limit');
    expect(ListQuery.safeParse({ limit: String(limit.maximum) }).success).toBe(true);
    expect(ListQuery.safeParse({ limit: String(limit.maximum + 1) }).success).toBe(false);
    expect(ListQuery.safeParse({ limit: String(limit.minimum - 1) }).success).toBe(false);
    expect(ListQuery.parse({}).limit).toBe(limit.default);
  });

  it("the user id's pattern is exactly what its schema takes (a regex and a refine)", () => {
    const pattern = new RegExp(param('getUser', 'id').pattern);
    const idText = fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ unit: fc.constantFrom(' ', '\t', '\u00a0', '\u2028', '\ufeff', '/', '\u0000', '\u007f', 'a', '.', 'é'), minLength: 1, maxLength: 6 }),
    );
    fc.assert(fc.property(idText, (id) => pattern.test(id) === UserIdParams.shape.id.safeParse(id).success), { numRuns: 2000 });
    for (const id of ['42', 'acme uploads', ' lead', 'trail\u00a0', 'a/b', 'tab\there']) {
      expect(pattern.test(id), id).toBe(UserIdParams.shape.id.safeParse(id).success);
    }
  });

  it("a directory key's pattern is exactly what the create body takes (absolute, below the root)", () => {
    const { pattern } = schema('DirectoryPermissionsInput').propertyNames;
    const regex = new RegExp(pattern);
    const takes = (dir: string) => UserCreate.safeParse({ username: 'u', directoryPermissions: { [dir]: ['list'] } }).success;
    const dir = fc.string({ unit: fc.constantFrom('/', '.', 'a', ' ', '\n'), minLength: 1, maxLength: 8 });
    fc.assert(fc.property(dir, (d) => regex.test(d) === takes(d)), { numRuns: 2000 });
    for (const d of ['/', '//', '/.', '/./', '/..', '/.x', '/a', 'a/b', '/a/./']) expect(regex.test(d), d).toBe(takes(d));
  });
});
