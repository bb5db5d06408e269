/**
 * The shared conformance suite: what CONTRACT.md promises, checked through the gateway's HTTP API
 * in front of one provider's emulator. Every provider runs the SAME cases; a case that depends on
 * a capability exists twice (the behaviour when the backend has it, the 501/422 when it lacks it)
 * and skips itself at run time according to `GET /v1/backends/{backend}`.
 *
 * Where it matters, a case also looks behind the gateway through the target's backdoor: what
 * reached the upstream (a refused request makes no write), which users exist, which password the
 * upstream holds.
 *
 * @example
 * runConformance({ name: 'sftpgo', setup: async () => ({ gateway, backend: 'onprem', upstream, teardown }), username: () => 'conf_0001' });
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import type { Capability, SshKeyType } from '../../src/domain/model.js';
import { KEYS, type CallOptions, type TestGateway } from '../helpers/gateway.js';
import { sshKeys, type Fixture } from '../fixtures/ssh-keys.js';

export interface UpstreamBackdoor {
  /** Every request that reached the upstream since the last clear: method, path (e.g. '/api/v1/user/3'), parsed body. */
  requests(): { method: string; path: string; body: unknown }[];
  clearRequests(): void;
  /** Usernames that exist upstream now. */
  usernames(): string[];
  /** The password the upstream holds for a username (undefined when it has none or the emulator cannot tell). */
  passwordOf(username: string): string | undefined;
  /** Make the next quota scan find these (only for providers with quota scans). */
  setStored?(username: string, bytes: number, files: number): void;
  /** A connection id that exists upstream (only for providers with connections). */
  someConnectionId?(): string;
  /**
   * Gives the stored user everything the provider has that the gateway's model does not carry
   * (SFTPGo: filters besides allowed_ip, filesystem, virtual folders, uid/gid, a field of a later
   * server; SFTP To Go: fields outside CONTRACT §2).
   */
  enrich?(username: string): void;
  /** The part of the stored user the model does not carry, for before/after comparisons. */
  unmodeled?(username: string): unknown;
  /** Makes the user one without a password (only for providers where users may lack one). */
  removePassword?(username: string): void;
}

export interface ConformanceTarget {
  /** Label in test names, e.g. 'sftpgo'. */
  name: string;
  /** Builds a fresh gateway whose backend `backend` (named e.g. 'onprem') fronts a fresh emulator. Called in beforeEach. */
  setup(): Promise<{ gateway: TestGateway; backend: string; upstream: UpstreamBackdoor; teardown(): Promise<void> }>;
  /** A valid username for this provider, unique per call (SFTP To Go needs 10..100 of [A-Za-z0-9_.-]). */
  username(): string;
  /**
   * The SSH key types the provider stores; every fixture of these types is added in the SSH key
   * cases and must come back with ssh-keygen's fingerprint. @default ['ed25519', 'rsa', 'ecdsa']
   */
  sshKeyTypes?: readonly SshKeyType[];
}

// --- the contract, written out here so the suite checks it rather than the implementation ---------

const CAPABILITY_NAMES = [
  'displayName', 'networkRules', 'independentChroot', 'rename', 'passwordSet', 'expiration', 'limits',
  'usage', 'customPermissions', 'connections', 'quotaScans', 'passwordRotation', 'sshKeys', 'directoryPermissions',
] as const satisfies readonly Capability[];

/** CONTRACT §2 `User`, without `raw`. */
const USER_FIELDS = [
  'id', 'backend', 'provider', 'username', 'displayName', 'status', 'accessLevel', 'permissions', 'directoryPermissions',
  'homeDirectory', 'chrootDirectory', 'expiresAt', 'sshKeyCount', 'host', 'uri', 'isRoot', 'limits', 'usage',
  'createdAt', 'updatedAt', 'lastLoginAt', 'passwordChangedAt',
].sort();

/** CONTRACT §2: every permission name, in canonical order. */
const PERMISSION_ORDER = [
  'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks',
  'chmod', 'chown', 'chtimes', 'delete_files', 'delete_dirs', 'rename_files', 'rename_dirs', 'copy',
];
/** CONTRACT §3: access level ⇄ permission set, in canonical order; `full` is every name the backend has (set in beforeAll). */
const LEVELS: Record<string, string[]> = {
  none: [],
  'read-only': ['list', 'download'],
  'write-only': ['upload', 'create_dirs'],
  'read-write': ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'],
  full: [],
};
const ACCESS_LEVELS = ['none', 'read-only', 'write-only', 'read-write', 'full', 'custom'];

const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'code', 'requestId'];
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CONNECTION_FIELDS = ['id', 'username', 'protocol', 'clientVersion', 'remoteAddress', 'connectedAt', 'lastActivityAt', 'transfers'].sort();
const TRANSFER_FIELDS = ['operation', 'path', 'startedAt', 'bytes', 'lastActivityAt'].sort();
const SSH_KEY_FIELDS = ['id', 'type', 'fingerprint', 'comment', 'publicKey', 'createdAt'].sort();
const NETWORK_RULE_FIELDS = ['id', 'cidr', 'protocol', 'enabled', 'description'].sort();
const LIMITS_FIELDS = ['maxSessions', 'quotaBytes', 'quotaFiles', 'uploadKBps', 'downloadKBps'].sort();
const UNLIMITED = { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One answer of the gateway as the suite saw it. */
interface Answer {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

type Setup = Awaited<ReturnType<ConformanceTarget['setup']>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key of every object inside `value`, at any depth. */
function keysDeep(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysDeep(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysDeep(v, out);
    }
  }
  return out;
}

const withoutPassword = (user: Json): Json => {
  const { password: _password, ...rest } = user as Record<string, unknown>;
  return rest;
};

export function runConformance(target: ConformanceTarget): void {
  describe(`conformance: ${target.name}`, () => {
    let env: Setup;
    let base: string;
    let caps: Record<Capability, boolean>;
    let provider: string;
    /** The permission names the backend can grant (`Backend.permissions`). */
    let names: string[];
    let answers: Answer[] = [];
    /** Every password seen in this file (create/rotate answers, set by the suite, held upstream). */
    const secrets = new Set<string>();
    /** The log lines of every gateway built in this file. */
    const gatewayLogs: string[][] = [];

    const keyTypes = new Set<string>(target.sshKeyTypes ?? ['ed25519', 'rsa', 'ecdsa']);

    // --- helpers ----------------------------------------------------------------------------

    /** A request through the gateway (ops key unless `key` says otherwise), recorded for the afterEach checks. */
    async function call(method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
      const res = await env.gateway.call(method, path, opts);
      const text = await res.text();
      let body: Json;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const answer = { method, path, status: res.status, headers: res.headers, text, body };
      answers.push(answer);
      return answer;
    }

    /** For assertion messages: what the gateway answered. */
    const said = (a: Answer) => `${a.method} ${a.path} → ${a.status} ${a.text.slice(0, 600)}`;

    function expectStatus(a: Answer, status: number): void {
      expect(a.status, said(a)).toBe(status);
    }

    function expectProblem(a: Answer, status: number, code: string): void {
      expect(a.status, said(a)).toBe(status);
      expect(a.headers.get('content-type') ?? '', said(a)).toMatch(/^application\/problem\+json/);
      expect(a.body?.code, said(a)).toBe(code);
    }

    /** 400 naming `field` (or a path under it) in `errors[].path`. */
    function expectInvalidField(a: Answer, field: string): void {
      expectProblem(a, 400, 'invalid_request');
      const paths: string[] = (a.body.errors ?? []).map((e: { path: string }) => e.path);
      expect(paths.some((p) => p === field || p.startsWith(`${field}.`) || p.startsWith(`${field}[`)), said(a)).toBe(true);
    }

    const writes = () => env.upstream.requests().filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    const expectNoUpstreamWrite = () => expect(writes(), 'no write may reach the upstream').toEqual([]);

    const users = (suffix = '') => `${base}/users${suffix}`;
    const user = (id: string, suffix = '') => `${base}/users/${encodeURIComponent(id)}${suffix}`;

    function remember(password: unknown): void {
      if (typeof password === 'string' && password.length >= 6) secrets.add(password);
    }

    /** Creates a user (read-write unless the body says otherwise) and returns the 201 answer's body. */
    async function create(body: Record<string, unknown> = {}, path = users()): Promise<Json> {
      const hasLevel = 'accessLevel' in body || 'permissions' in body;
      const a = await call('POST', path, {
        body: { username: target.username(), ...(hasLevel ? {} : { accessLevel: 'read-write' }), ...body },
      });
      expectStatus(a, 201);
      remember(a.body.password);
      remember(env.upstream.passwordOf(a.body.username));
      return a.body;
    }

    /** A list walked page by page through nextCursor. */
    async function walk(query: string, path = users()): Promise<{ users: Json[]; pages: Answer[] }> {
      const all: Json[] = [];
      const pages: Answer[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 100; i++) {
        const sep = query ? '&' : '';
        const a = await call('GET', `${path}?${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
        expectStatus(a, 200);
        pages.push(a);
        all.push(...a.body.data);
        cursor = a.body.nextCursor;
        if (cursor === null) return { users: all, pages };
      }
      throw new Error(`${path}?${query}: more than 100 pages`);
    }

    /** A user's answer checked against CONTRACT §2 and §3. */
    function expectUserShape(u: Json, opts: { created?: boolean } = {}): void {
      const keys = Object.keys(u).filter((k) => !(opts.created && k === 'password')).sort();
      expect(keys).toEqual(USER_FIELDS);
      expect(u).not.toHaveProperty('raw');
      expect(typeof u.id).toBe('string');
      expect(u.id).not.toBe('');
      expect(u.backend).toBe(env.backend);
      expect(u.provider).toBe(provider);
      expect(['active', 'disabled']).toContain(u.status);
      expect(ACCESS_LEVELS).toContain(u.accessLevel);
      // The level and the set agree both ways, and the set is in canonical order, of names the backend has.
      expect(u.permissions).toEqual(names.filter((p) => u.permissions.includes(p)));
      if (u.accessLevel === 'custom') {
        expect(Object.values(LEVELS)).not.toContainEqual(u.permissions);
      } else {
        expect(u.permissions).toEqual(LEVELS[u.accessLevel]);
      }
      if (caps.directoryPermissions) {
        expect(u.directoryPermissions !== null && typeof u.directoryPermissions === 'object').toBe(true);
        for (const [dir, perms] of Object.entries(u.directoryPermissions as Record<string, string[]>)) {
          expect(dir).toMatch(/^\/[^]+$/);
          expect(perms).toEqual(names.filter((p) => perms.includes(p)));
        }
      } else {
        expect(u.directoryPermissions).toBeNull();
      }
      expect(typeof u.homeDirectory).toBe('string');
      expect(Number.isInteger(u.sshKeyCount)).toBe(true);
      expect(typeof u.isRoot).toBe('boolean');
      for (const f of ['expiresAt', 'createdAt', 'updatedAt', 'lastLoginAt', 'passwordChangedAt']) {
        if (u[f] !== null) expect(u[f], f).toMatch(ISO_MS);
      }
      if (u.uri !== null) {
        expect(u.uri).toMatch(new RegExp(`^sftp://${escapeRe(encodeURIComponent(u.username))}@[^/@]+$`));
        if (u.host !== null) expect(u.uri).toMatch(new RegExp(`@\\[?${escapeRe(u.host)}\\]?(:\\d+)?$`));
      }
      if (caps.limits) {
        expect(Object.keys(u.limits).sort()).toEqual(LIMITS_FIELDS);
      } else {
        expect(u.limits).toBeNull();
      }
      if (caps.usage) {
        expect(Object.keys(u.usage).sort()).toEqual(['bytes', 'files', 'updatedAt']);
      } else {
        expect(u.usage).toBeNull();
      }
      if (!caps.independentChroot) expect(u.chrootDirectory).toBe(u.homeDirectory);
      if (!caps.displayName) expect(u.displayName).toBeNull();
    }

    /** A case for backends that have `cap` (has = true) or lack it (has = false); the other kind skips it. */
    function when(cap: Capability, has: boolean) {
      return (name: string, fn: (ctx: TestContext) => Promise<void>) =>
        it(`${has ? 'with' : 'without'} ${cap}: ${name}`, async (ctx: TestContext) => {
          if (caps[cap] !== has) ctx.skip(`the backend ${has ? 'lacks' : 'has'} ${cap}`);
          await fn(ctx);
        });
    }

    // --- lifecycle --------------------------------------------------------------------------

    beforeAll(async () => {
      const probe = await target.setup();
      try {
        const res = await probe.gateway.call('GET', `/v1/backends/${encodeURIComponent(probe.backend)}`);
        const body = (await res.json()) as Json;
        if (res.status !== 200) throw new Error(`GET /v1/backends/${probe.backend} answered ${res.status}: ${JSON.stringify(body)}`);
        caps = body.capabilities;
        provider = body.provider;
        names = body.permissions;
        LEVELS.full = names;
      } finally {
        await probe.teardown();
      }
    });

    beforeEach(async () => {
      answers = [];
      env = await target.setup();
      base = `/v1/backends/${encodeURIComponent(env.backend)}`;
      gatewayLogs.push(env.gateway.logs);
    });

    afterEach(async () => {
      try {
        for (const a of answers) {
          // No 5xx anywhere (but the 501 of a capability the provider lacks): every case here is
          // one the gateway and the provider must handle.
          if (!(a.status === 501 && a.body?.code === 'not_supported_by_provider')) {
            expect(a.status, `no 5xx: ${said(a)}`).toBeLessThan(500);
          }
          const requestId = a.headers.get('x-request-id');
          expect(requestId, `X-Request-Id on ${a.method} ${a.path}`).toBeTruthy();
          if (a.status >= 400) {
            expect(a.headers.get('content-type') ?? '', said(a)).toMatch(/^application\/problem\+json/);
            for (const f of PROBLEM_FIELDS) expect(a.body, `${f} in ${said(a)}`).toHaveProperty(f);
            expect(a.body.status, said(a)).toBe(a.status);
            expect(a.body.requestId, said(a)).toBe(requestId);
            expect(a.text, `no stack trace: ${said(a)}`).not.toMatch(/\n\s+at .+:\d+:\d+/);
          }
          // Passwords leave the gateway only in the create and rotate answers.
          const mayShowPassword =
            (a.method === 'POST' && a.status === 201 && /\/users$/.test(a.path)) ||
            (a.method === 'POST' && a.status === 200 && /\/password-rotations$/.test(a.path));
          if (!mayShowPassword) {
            for (const s of secrets) expect(a.text.includes(s), `a password in ${said(a)}`).toBe(false);
          }
        }
      } finally {
        await env.teardown();
      }
    });

    // --- backends ---------------------------------------------------------------------------

    describe('backends', () => {
      it('GET /v1/backends lists the backend with its provider, 14 boolean capabilities and its permission names', async () => {
        const a = await call('GET', '/v1/backends');
        expectStatus(a, 200);
        const entry = a.body.data.find((b: Json) => b.name === env.backend);
        expect(entry, said(a)).toBeDefined();
        expect(entry.provider).toBe(provider);
        expect(entry.default).toBe(true);
        expect(Object.keys(entry.capabilities).sort()).toEqual([...CAPABILITY_NAMES].sort());
        for (const c of CAPABILITY_NAMES) expect(typeof entry.capabilities[c], c).toBe('boolean');
        expect(Object.keys(entry).sort()).toEqual(['apiVersion', 'capabilities', 'default', 'name', 'permissions', 'provider', 'serverVersion']);
        // A prefix of the canonical order: eight, eleven or sixteen names (CONTRACT §2).
        expect([8, 11, 16]).toContain(entry.permissions.length);
        expect(entry.permissions).toEqual(PERMISSION_ORDER.slice(0, entry.permissions.length));
      });

      it('GET /v1/backends/{backend} has a live health check that is ok, and the versions it found', async () => {
        const a = await call('GET', base);
        expectStatus(a, 200);
        expect(a.body.name).toBe(env.backend);
        expect(a.body.capabilities).toEqual(caps);
        expect(a.body.permissions).toEqual(names);
        expect(a.body.health.ok, said(a)).toBe(true);
        expect(typeof a.body.health.latencyMs).toBe('number');
        expect(typeof a.body.health.detail).toBe('string');
        for (const f of ['apiVersion', 'serverVersion']) expect(a.body[f] === null || typeof a.body[f] === 'string', f).toBe(true);
        if (provider === 'sftpgo') {
          expect(a.body.apiVersion).toMatch(/^v[12]$/);
          expect(a.body.serverVersion).toMatch(/^\d+\.\d+/);
          // Reached now: the list says the same.
          const entry = (await call('GET', '/v1/backends')).body.data.find((b: Json) => b.name === env.backend);
          expect([entry.apiVersion, entry.serverVersion]).toEqual([a.body.apiVersion, a.body.serverVersion]);
        }
      });

      it('an unknown backend is a 404', async () => {
        expectProblem(await call('GET', '/v1/backends/no-such-backend/users'), 404, 'not_found');
      });
    });

    // --- create -----------------------------------------------------------------------------

    describe('create', () => {
      it('201 with Location, the whole User, a generated password the upstream holds, status active', async () => {
        const username = target.username();
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username, accessLevel: 'read-write' } });
        expectStatus(a, 201);
        expect(writes().filter((r) => r.method === 'POST'), 'one create upstream').toHaveLength(1);
        const u = a.body;
        remember(u.password);
        expectUserShape(u, { created: true });
        expect(a.headers.get('location')).toBe(`${base}/users/${encodeURIComponent(u.id)}`);
        expect(a.headers.get('x-request-id')).toBeTruthy();
        expect(u.username).toBe(username);
        expect(u.status).toBe('active');
        expect(u.accessLevel).toBe('read-write');
        expect(u.permissions).toEqual(LEVELS['read-write']);
        expect(u.sshKeyCount).toBe(0);
        expect(u.isRoot).toBe(false);
        expect(typeof u.password).toBe('string');
        expect(u.password.length).toBeGreaterThanOrEqual(12);
        const held = env.upstream.passwordOf(username);
        if (held !== undefined) expect(held).toBe(u.password);
        if (u.uri !== null) expect(u.uri).not.toContain(u.password);
        if (caps.limits) expect(u.limits).toEqual(UNLIMITED);
        if (caps.usage) expect(u.usage).toEqual({ bytes: 0, files: 0, updatedAt: null });
        expect(env.upstream.usernames().filter((n) => n === username)).toHaveLength(1);
        // The Location is where the user lives.
        const got = await call('GET', a.headers.get('location')!);
        expectStatus(got, 200);
      });

      it('through the default-backend alias /v1/users', async () => {
        const username = target.username();
        const a = await call('POST', '/v1/users', { body: { username, accessLevel: 'read-only' } });
        expectStatus(a, 201);
        remember(a.body.password);
        expectUserShape(a.body, { created: true });
        expect(a.headers.get('location')).toBe(`${base}/users/${encodeURIComponent(a.body.id)}`);
        expect(env.upstream.usernames()).toContain(username);
      });

      it('each access level maps to its permission set (CONTRACT §3)', async () => {
        for (const level of ['read-only', 'write-only', 'read-write', 'full']) {
          const u = await create({ accessLevel: level });
          expect(u.accessLevel, level).toBe(level);
          expect(u.permissions, level).toEqual(LEVELS[level]);
        }
      });

      it('permissions alone, in any order, read back canonical with their level', async () => {
        const u = await create({ permissions: ['download', 'list'] });
        expect(u.accessLevel).toBe('read-only');
        expect(u.permissions).toEqual(['list', 'download']);
      });

      it('accessLevel and permissions that agree are accepted', async () => {
        const u = await create({ accessLevel: 'write-only', permissions: ['create_dirs', 'upload'] });
        expect(u.accessLevel).toBe('write-only');
        expect(u.permissions).toEqual(['upload', 'create_dirs']);
      });

      it('accessLevel and permissions that disagree → 400, nothing written upstream', async () => {
        const username = target.username();
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username, accessLevel: 'read-only', permissions: ['list', 'upload'] } });
        expectProblem(a, 400, 'invalid_request');
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });

      it('neither accessLevel nor permissions → 400, nothing written upstream', async () => {
        env.upstream.clearRequests();
        expectProblem(await call('POST', users(), { body: { username: target.username() } }), 400, 'invalid_request');
        expectNoUpstreamWrite();
      });

      it('a missing username → 400 naming it', async () => {
        env.upstream.clearRequests();
        expectInvalidField(await call('POST', users(), { body: { accessLevel: 'read-only' } }), 'username');
        expectNoUpstreamWrite();
      });

      it('an unknown field → 400 naming it in errors[].path', async () => {
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username: target.username(), accessLevel: 'read-only', favouriteColour: 'teal' } });
        expectInvalidField(a, 'favouriteColour');
        expectNoUpstreamWrite();
      });

      it('malformed JSON → 400', async () => {
        env.upstream.clearRequests();
        expectProblem(await call('POST', users(), { rawBody: '{"username": "x",' }), 400, 'invalid_request');
        expectNoUpstreamWrite();
      });

      it('an empty password → 400', async () => {
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username: target.username(), accessLevel: 'read-only', password: '' } });
        expectInvalidField(a, 'password');
        expectNoUpstreamWrite();
      });

      it('a duplicate username → 409 conflict, still exactly one such user upstream', async () => {
        const first = await create();
        const a = await call('POST', users(), { body: { username: first.username, accessLevel: 'full' } });
        expectProblem(a, 409, 'conflict');
        expect(env.upstream.usernames().filter((n) => n === first.username)).toHaveLength(1);
        const got = await call('GET', user(first.id));
        expect(got.body.accessLevel).toBe('read-write'); // the first one is untouched
      });

      it('status disabled at create is kept', async () => {
        const u = await create({ status: 'disabled' });
        expect(u.status).toBe('disabled');
      });

      it('homeDirectory given at create is kept', async () => {
        const username = target.username();
        const u = await create({ username, homeDirectory: `/srv/conformance/${username}` });
        expect(u.homeDirectory).toBe(`/srv/conformance/${username}`);
      });

      it('accessLevel none is stored exactly, or refused with 422 and the nearest levels — never widened', async () => {
        const username = target.username();
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username, accessLevel: 'none' } });
        if (a.status === 201) {
          remember(a.body.password);
          expect(a.body.accessLevel).toBe('none');
          expect(a.body.permissions).toEqual([]);
        } else {
          expectProblem(a, 422, 'not_supported_by_provider');
          expect(Array.isArray(a.body.details?.narrower), said(a)).toBe(true);
          expect(Array.isArray(a.body.details?.broader), said(a)).toBe(true);
          expectNoUpstreamWrite();
          expect(env.upstream.usernames()).not.toContain(username);
        }
      });

      it('full is every name the backend has; a set of every name reads back as full', async () => {
        const u = await create({ accessLevel: 'full' });
        expect(u.permissions).toEqual(names);
        const v = await create({ permissions: [...names].reverse() });
        expect(v.accessLevel).toBe('full');
        expect(v.permissions).toEqual(names);
      });

      it('a string that is no permission name → 400, in a create and a patch, nothing written', async () => {
        const u = await create();
        env.upstream.clearRequests();
        expectInvalidField(await call('POST', users(), { body: { username: target.username(), permissions: ['list', 'fly'] } }), 'permissions');
        expectInvalidField(await call('PATCH', user(u.id), { body: { permissions: ['Read'] } }), 'permissions');
        expectNoUpstreamWrite();
      });

      it('a permission name this backend does not have → 422 naming it, in a create and a patch, nothing written', async (ctx: TestContext) => {
        const missing = PERMISSION_ORDER.filter((p) => !names.includes(p));
        if (missing.length === 0) ctx.skip('the backend has every permission name');
        const u = await create();
        const username = target.username();
        env.upstream.clearRequests();
        for (const a of [
          await call('POST', users(), { body: { username, permissions: ['list', missing[0]] } }),
          await call('PATCH', user(u.id), { body: { permissions: ['list', missing.at(-1)] } }),
        ]) {
          expectProblem(a, 422, 'not_supported_by_provider');
          expect(a.body.errors?.map((e: Json) => e.path), said(a)).toContain('permissions');
          expect(a.text).toContain(a.method === 'POST' ? missing[0] : missing.at(-1));
        }
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });

      describe('password', () => {
        const has = when('passwordSet', true);
        const lacks = when('passwordSet', false);

        has('a caller-chosen password is stored upstream and not echoed', async () => {
          const username = target.username();
          const password = `Chosen-${username}-Pw1!`;
          remember(password);
          const a = await call('POST', users(), { body: { username, accessLevel: 'read-only', password } });
          expectStatus(a, 201);
          expect(a.body).not.toHaveProperty('password');
          expect(a.text).not.toContain(password);
          const held = env.upstream.passwordOf(username);
          if (held !== undefined) expect(held).toBe(password);
        });

        lacks('a password in a create → 422, nothing written upstream', async () => {
          const username = target.username();
          env.upstream.clearRequests();
          const a = await call('POST', users(), { body: { username, accessLevel: 'read-only', password: 'Chosen-Pw-123!' } });
          expectProblem(a, 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          expect(env.upstream.usernames()).not.toContain(username);
        });
      });
    });

    // --- get --------------------------------------------------------------------------------

    describe('get', () => {
      it('answers what create answered, minus the password', async () => {
        const created = await create({ accessLevel: 'read-only' });
        const a = await call('GET', user(created.id));
        expectStatus(a, 200);
        expectUserShape(a.body);
        expect(a.body).toEqual(withoutPassword(created));
      });

      it('through the default-backend alias /v1/users/{id}', async () => {
        const created = await create();
        const a = await call('GET', `/v1/users/${encodeURIComponent(created.id)}`);
        expectStatus(a, 200);
        expect(a.body).toEqual(withoutPassword(created));
      });

      it('an unknown id → 404 not_found problem+json', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        const a = await call('GET', user(gone.id));
        expectProblem(a, 404, 'not_found');
        expect(a.body.backend).toBe(env.backend);
        for (const id of ['no-such-user', '99999999', '0']) expectProblem(await call('GET', user(id)), 404, 'not_found');
      });

      it('?include=raw with an admin key gives raw, without any password inside', async () => {
        const created = await create();
        const a = await call('GET', `${user(created.id)}?include=raw`);
        expectStatus(a, 200);
        expect(a.body.raw !== null && typeof a.body.raw === 'object' && !Array.isArray(a.body.raw), said(a)).toBe(true);
        expect(Object.keys(a.body.raw).length).toBeGreaterThan(0);
        expect(keysDeep(a.body.raw).filter((k) => /^password$/i.test(k))).toEqual([]);
        expect(JSON.stringify(a.body.raw)).not.toContain(created.password);
        expect(withoutRaw(a.body)).toEqual(withoutPassword(created));
      });

      it('?include=raw with a writer key → 403 (get and list)', async () => {
        const created = await create();
        expectProblem(await call('GET', `${user(created.id)}?include=raw`, { key: KEYS.writer }), 403, 'forbidden');
        expectProblem(await call('GET', `${users()}?include=raw`, { key: KEYS.writer }), 403, 'forbidden');
      });

      it('a list with ?include=raw carries raw, without passwords; without it, no raw', async () => {
        const created = await create();
        const a = await call('GET', `${users()}?include=raw`);
        expectStatus(a, 200);
        const found = a.body.data.find((u: Json) => u.id === created.id);
        expect(typeof found?.raw, said(a)).toBe('object');
        expect(keysDeep(found.raw).filter((k) => /^password$/i.test(k))).toEqual([]);
        const plain = await call('GET', users());
        expect(plain.body.data.find((u: Json) => u.id === created.id)).not.toHaveProperty('raw');
      });
    });

    // --- list -------------------------------------------------------------------------------

    describe('list', () => {
      it('answers {data, nextCursor} with X-Cache, through both route forms', async () => {
        const created = await create();
        for (const path of [users(), '/v1/users']) {
          const a = await call('GET', path);
          expectStatus(a, 200);
          expect(Object.keys(a.body).sort()).toEqual(['data', 'nextCursor']);
          expect(Array.isArray(a.body.data)).toBe(true);
          expect(a.body.nextCursor).toBeNull();
          expect(['HIT', 'MISS', 'BYPASS']).toContain(a.headers.get('x-cache'));
          const found = a.body.data.find((u: Json) => u.id === created.id);
          expect(found, said(a)).toBeDefined();
          expectUserShape(found);
          expect(found).toEqual(withoutPassword(created));
        }
      });

      it('limit=2 walks every page once, in ascending username order; order=desc reverses it', async () => {
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await create());
        const names = made.map((u) => u.username);

        const asc = await walk('limit=2');
        for (const page of asc.pages) {
          expect(page.body.data.length).toBeLessThanOrEqual(2);
          expect(['HIT', 'MISS', 'BYPASS']).toContain(page.headers.get('x-cache'));
        }
        const ascNames: string[] = asc.users.map((u) => u.username);
        const ids: string[] = asc.users.map((u) => u.id);
        expect(new Set(ids).size, 'no user twice').toBe(ids.length);
        for (const n of names) expect(ascNames.filter((x) => x === n), n).toHaveLength(1);
        expect(ascNames).toEqual([...ascNames].sort());
        expect(ascNames.filter((n) => names.includes(n))).toEqual([...names].sort());
        expect(asc.pages.length).toBeGreaterThanOrEqual(3);

        const desc = await walk('limit=2&order=desc');
        expect(desc.users.map((u) => u.username)).toEqual([...ascNames].reverse());
      });

      it('status=disabled lists only disabled users (one disabled by PATCH)', async () => {
        const made = [await create(), await create(), await create()];
        const target1 = made[1];
        expectStatus(await call('PATCH', user(target1.id), { body: { status: 'disabled' } }), 200);

        const disabled = await walk('status=disabled');
        expect(disabled.users.every((u) => u.status === 'disabled')).toBe(true);
        expect(disabled.users.map((u) => u.id)).toEqual([target1.id]);

        const active = await walk('status=active&limit=1');
        expect(active.users.every((u) => u.status === 'active')).toBe(true);
        const activeIds = active.users.map((u) => u.id);
        expect(activeIds).toContain(made[0].id);
        expect(activeIds).toContain(made[2].id);
        expect(activeIds).not.toContain(target1.id);
      });

      it('username= is an exact match', async () => {
        const a = await create();
        const longer = await create({ username: `${a.username}x` });
        await create();
        for (const u of [a, longer]) {
          const r = await call('GET', `${users()}?username=${encodeURIComponent(u.username)}`);
          expectStatus(r, 200);
          expect(r.body.data.map((x: Json) => x.id), said(r)).toEqual([u.id]);
          expect(r.body.nextCursor).toBeNull();
        }
        const none = await call('GET', `/v1/users?username=${encodeURIComponent(`${a.username}-nobody`)}`);
        expectStatus(none, 200);
        expect(none.body).toEqual({ data: [], nextCursor: null });
      });

      it('a cursor the gateway cannot decode → 400', async () => {
        await create();
        env.upstream.clearRequests();
        for (const cursor of ['garbage', 'bm90LWEtY3Vyc29y', 'eyJ2IjoxLCJvIjotMSwicSI6IngifQ']) {
          expectInvalidField(await call('GET', `${users()}?cursor=${cursor}`), 'cursor');
        }
      });

      it("a cursor used with another query's filters → 400", async () => {
        for (let i = 0; i < 3; i++) await create();
        const first = await call('GET', `${users()}?limit=2`);
        expectStatus(first, 200);
        const cursor = first.body.nextCursor as string;
        expect(typeof cursor).toBe('string');
        expectInvalidField(await call('GET', `${users()}?limit=2&status=active&cursor=${encodeURIComponent(cursor)}`), 'cursor');
        expectInvalidField(await call('GET', `${users()}?limit=2&order=desc&cursor=${encodeURIComponent(cursor)}`), 'cursor');
        // The same query goes on.
        expectStatus(await call('GET', `${users()}?limit=2&cursor=${encodeURIComponent(cursor)}`), 200);
      });

      it('limit=0, limit=501 and bad query values → 400', async () => {
        expectInvalidField(await call('GET', `${users()}?limit=0`), 'limit');
        expectInvalidField(await call('GET', `${users()}?limit=501`), 'limit');
        expectInvalidField(await call('GET', `${users()}?limit=ten`), 'limit');
        expectInvalidField(await call('GET', `${users()}?order=sideways`), 'order');
        expectInvalidField(await call('GET', `${users()}?status=sleeping`), 'status');
        expectStatus(await call('GET', `${users()}?limit=500`), 200);
        expectStatus(await call('GET', `${users()}?limit=1`), 200);
      });

      it('reads its own writes through the cache (create, patch, delete), on both route forms', async () => {
        const first = await call('GET', users());
        expectStatus(first, 200);
        expect(['MISS', 'BYPASS']).toContain(first.headers.get('x-cache'));
        expectStatus(await call('GET', '/v1/users'), 200); // warm the alias too

        const u = await create();
        for (const path of [users(), '/v1/users']) {
          const a = await call('GET', path);
          expect(a.body.data.map((x: Json) => x.id), `created user in ${path}`).toContain(u.id);
        }
        expectStatus(await call('PATCH', user(u.id), { body: { status: 'disabled' } }), 200);
        for (const path of [users(), '/v1/users']) {
          const a = await call('GET', path);
          expect(a.body.data.find((x: Json) => x.id === u.id)?.status, `patched user in ${path}`).toBe('disabled');
        }
        expectStatus(await call('DELETE', user(u.id)), 204);
        for (const path of [users(), '/v1/users']) {
          const a = await call('GET', path);
          expect(a.body.data.map((x: Json) => x.id), `deleted user in ${path}`).not.toContain(u.id);
        }
      });

      it('Cache-Control: no-cache reads the upstream', async () => {
        await create();
        expectStatus(await call('GET', users()), 200);
        expectStatus(await call('GET', users()), 200);
        env.upstream.clearRequests();
        const a = await call('GET', users(), { headers: { 'cache-control': 'no-cache' } });
        expectStatus(a, 200);
        expect(a.headers.get('x-cache')).not.toBe('HIT');
        expect(env.upstream.requests().length).toBeGreaterThan(0);
      });
    });

    // --- patch ------------------------------------------------------------------------------

    describe('patch', () => {
      it('status → disabled and back; only the fields present change, upstream too', async () => {
        const created = await create({ accessLevel: 'read-only', sshKeys: [sshKeys.find((k) => k.type === 'ed25519')!.publicKey] });
        const held = env.upstream.passwordOf(created.username);
        const before = (await call('GET', user(created.id))).body;
        const off = await call('PATCH', user(created.id), { body: { status: 'disabled' } });
        expectStatus(off, 200);
        expectUserShape(off.body);
        expect(off.body.status).toBe('disabled');
        expect(omit(off.body, ['status', 'updatedAt'])).toEqual(omit(before, ['status', 'updatedAt']));
        expect((await call('GET', user(created.id))).body).toEqual(off.body);

        const on = await call('PATCH', user(created.id), { body: { status: 'active' } });
        expectStatus(on, 200);
        expect(on.body.status).toBe('active');
        expect(omit(on.body, ['updatedAt'])).toEqual(omit(before, ['updatedAt']));
        // What the patch did not name survived upstream: the password and the key.
        expect(env.upstream.passwordOf(created.username)).toBe(held);
        expect(on.body.sshKeyCount).toBe(1);
      });

      it('concurrent patches of one user all take effect', async () => {
        const created = await create({ accessLevel: 'full' });
        const held = env.upstream.passwordOf(created.username);
        const [a, b, c] = await Promise.all([
          call('PATCH', user(created.id), { body: { status: 'disabled' } }),
          call('PATCH', user(created.id), { body: { accessLevel: 'read-only' } }),
          call('PATCH', user(created.id), { body: { homeDirectory: `/srv/moved/${created.username}` } }),
        ]);
        for (const r of [a, b, c]) expectStatus(r, 200);
        const got = (await call('GET', user(created.id))).body;
        expect(got.status).toBe('disabled');
        expect(got.accessLevel).toBe('read-only');
        expect(got.homeDirectory).toBe(`/srv/moved/${created.username}`);
        expect(env.upstream.passwordOf(created.username)).toBe(held);
      });

      it('accessLevel changes the permission set, and nothing else', async () => {
        const created = await create({ accessLevel: 'full' });
        const before = (await call('GET', user(created.id))).body;
        const a = await call('PATCH', user(created.id), { body: { accessLevel: 'read-only' } });
        expectStatus(a, 200);
        expect(a.body.accessLevel).toBe('read-only');
        expect(a.body.permissions).toEqual(LEVELS['read-only']);
        const fields = ['accessLevel', 'permissions', 'updatedAt'];
        expect(omit(a.body, fields)).toEqual(omit(before, fields));
        const b = await call('PATCH', user(created.id), { body: { permissions: LEVELS['write-only'] } });
        expectStatus(b, 200);
        expect(b.body.accessLevel).toBe('write-only');
        expect((await call('GET', user(created.id))).body.accessLevel).toBe('write-only');
      });

      it('accessLevel and permissions that disagree → 400, nothing written upstream', async () => {
        const created = await create();
        env.upstream.clearRequests();
        const a = await call('PATCH', user(created.id), { body: { accessLevel: 'full', permissions: ['list'] } });
        expectProblem(a, 400, 'invalid_request');
        expectNoUpstreamWrite();
      });

      it('an unknown field → 400 naming it, nothing written upstream', async () => {
        const created = await create();
        env.upstream.clearRequests();
        expectInvalidField(await call('PATCH', user(created.id), { body: { status: 'disabled', shoeSize: 44 } }), 'shoeSize');
        expectNoUpstreamWrite();
      });

      it('an empty body changes nothing', async () => {
        const created = await create();
        const a = await call('PATCH', user(created.id), { body: {} });
        expectStatus(a, 200);
        expect(a.body).toEqual(withoutPassword(created));
      });

      it('repeating the current username is no rename (200)', async () => {
        const created = await create();
        const a = await call('PATCH', user(created.id), { body: { username: created.username } });
        expectStatus(a, 200);
        expect(a.body.username).toBe(created.username);
        expect(env.upstream.usernames()).toContain(created.username);
      });

      it('an unknown user → 404', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        expectProblem(await call('PATCH', user(gone.id), { body: { status: 'disabled' } }), 404, 'not_found');
      });

      it('password "" or null → 400, the password upstream unchanged', async () => {
        const created = await create();
        const held = env.upstream.passwordOf(created.username);
        env.upstream.clearRequests();
        expectInvalidField(await call('PATCH', user(created.id), { body: { password: '' } }), 'password');
        expectInvalidField(await call('PATCH', user(created.id), { body: { password: null } }), 'password');
        expectNoUpstreamWrite();
        expect(env.upstream.passwordOf(created.username)).toBe(held);
      });

      describe('rename', () => {
        has('rename', 'a different username renames the user', async () => {
          const created = await create();
          const next = target.username();
          const a = await call('PATCH', user(created.id), { body: { username: next } });
          expectStatus(a, 200);
          expect(a.body.username).toBe(next);
          expect((await call('GET', user(a.body.id))).body.username).toBe(next);
          expect(env.upstream.usernames()).toContain(next);
          expect(env.upstream.usernames()).not.toContain(created.username);
        });
        lacks('rename', 'a different username → 422, the upstream unchanged', async () => {
          const created = await create();
          const next = target.username();
          env.upstream.clearRequests();
          const a = await call('PATCH', user(created.id), { body: { username: next } });
          expectProblem(a, 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          expect(env.upstream.usernames()).toContain(created.username);
          expect(env.upstream.usernames()).not.toContain(next);
          expect((await call('GET', user(created.id))).body.username).toBe(created.username);
        });
      });

      describe('displayName', () => {
        has('displayName', 'is set by create and patch, and cleared by null', async () => {
          const created = await create({ displayName: 'Acme uploads' });
          expect(created.displayName).toBe('Acme uploads');
          const a = await call('PATCH', user(created.id), { body: { displayName: 'Acme archive' } });
          expectStatus(a, 200);
          expect(a.body.displayName).toBe('Acme archive');
          expect((await call('GET', user(created.id))).body.displayName).toBe('Acme archive');
          const b = await call('PATCH', user(created.id), { body: { displayName: null } });
          expectStatus(b, 200);
          expect(b.body.displayName).toBeNull();
        });
        lacks('displayName', 'in a create or a patch → 422, nothing written upstream', async () => {
          const created = await create();
          const username = target.username();
          env.upstream.clearRequests();
          expectProblem(
            await call('POST', users(), { body: { username, accessLevel: 'read-only', displayName: 'Acme uploads' } }),
            422, 'not_supported_by_provider',
          );
          expectProblem(await call('PATCH', user(created.id), { body: { displayName: 'Acme uploads' } }), 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          expect(env.upstream.usernames()).not.toContain(username);
        });
      });

      describe('password in a patch', () => {
        has('passwordSet', 'sets the upstream password', async () => {
          const created = await create();
          const password = `Patched-${created.username}-Pw9`;
          remember(password);
          const a = await call('PATCH', user(created.id), { body: { password } });
          expectStatus(a, 200);
          expect(a.body).not.toHaveProperty('password');
          expect(omit(a.body, ['updatedAt', 'passwordChangedAt', 'password']))
            .toEqual(omit(created, ['updatedAt', 'passwordChangedAt', 'password']));
          const held = env.upstream.passwordOf(created.username);
          if (held !== undefined) expect(held).toBe(password);
        });
        lacks('passwordSet', '→ 422, the upstream password unchanged', async () => {
          const created = await create();
          const held = env.upstream.passwordOf(created.username);
          env.upstream.clearRequests();
          expectProblem(await call('PATCH', user(created.id), { body: { password: 'Patched-Pw-123!' } }), 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          expect(env.upstream.passwordOf(created.username)).toBe(held);
        });
      });

      describe('expiresAt', () => {
        has('expiration', 'round-trips through create and patch, null clears it', async () => {
          const created = await create({ expiresAt: '2031-05-06T07:08:09.123Z' });
          expect(created.expiresAt).toBe('2031-05-06T07:08:09.123Z');
          const a = await call('PATCH', user(created.id), { body: { expiresAt: '2030-01-01T00:00:00.000Z' } });
          expectStatus(a, 200);
          expect(a.body.expiresAt).toBe('2030-01-01T00:00:00.000Z');
          expect((await call('GET', user(created.id))).body.expiresAt).toBe('2030-01-01T00:00:00.000Z');
          const b = await call('PATCH', user(created.id), { body: { expiresAt: null } });
          expectStatus(b, 200);
          expect(b.body.expiresAt).toBeNull();
          expect((await call('GET', user(created.id))).body.expiresAt).toBeNull();
          // Any ISO 8601 time with a zone; answers are UTC with milliseconds.
          const c = await call('PATCH', user(created.id), { body: { expiresAt: '2032-03-04T07:00:00+02:00' } });
          expectStatus(c, 200);
          expect(c.body.expiresAt).toBe('2032-03-04T05:00:00.000Z');
          expectInvalidField(await call('PATCH', user(created.id), { body: { expiresAt: 'next tuesday' } }), 'expiresAt');
        });
        lacks('expiration', 'in a create or a patch → 422, nothing written upstream', async () => {
          const created = await create();
          env.upstream.clearRequests();
          expectProblem(
            await call('POST', users(), { body: { username: target.username(), accessLevel: 'read-only', expiresAt: '2030-01-01T00:00:00.000Z' } }),
            422, 'not_supported_by_provider',
          );
          expectProblem(await call('PATCH', user(created.id), { body: { expiresAt: '2030-01-01T00:00:00.000Z' } }), 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
        });
      });

      describe('limits', () => {
        has('limits', 'round-trip through create and patch; omitted fields stay, null clears', async () => {
          const created = await create({ limits: { maxSessions: 2, quotaBytes: 10_485_760 } });
          expect(created.limits).toEqual({ ...UNLIMITED, maxSessions: 2, quotaBytes: 10_485_760 });
          const a = await call('PATCH', user(created.id), { body: { limits: { quotaFiles: 1000, uploadKBps: 512, maxSessions: null } } });
          expectStatus(a, 200);
          const want = { ...UNLIMITED, quotaBytes: 10_485_760, quotaFiles: 1000, uploadKBps: 512 };
          expect(a.body.limits).toEqual(want);
          expect((await call('GET', user(created.id))).body.limits).toEqual(want);
          const b = await call('PATCH', user(created.id), { body: { limits: null } });
          expectStatus(b, 200);
          expect(b.body.limits).toEqual(UNLIMITED);
        });
        it('a limit of 0 or an unknown limit field → 400', async () => {
          const created = await create();
          env.upstream.clearRequests();
          expectInvalidField(await call('PATCH', user(created.id), { body: { limits: { maxSessions: 0 } } }), 'limits');
          expectInvalidField(await call('PATCH', user(created.id), { body: { limits: { parking: 1 } } }), 'limits');
          expectNoUpstreamWrite();
        });
        lacks('limits', 'in a create or a patch → 422, nothing written upstream', async () => {
          const created = await create();
          env.upstream.clearRequests();
          expectProblem(
            await call('POST', users(), { body: { username: target.username(), accessLevel: 'read-only', limits: { maxSessions: 2 } } }),
            422, 'not_supported_by_provider',
          );
          expectProblem(await call('PATCH', user(created.id), { body: { limits: { maxSessions: 2 } } }), 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
        });
      });

      describe('chrootDirectory', () => {
        has('independentChroot', 'a chroot apart from the home directory round-trips', async () => {
          const username = target.username();
          const created = await create({ username, homeDirectory: `/home/${username}/files`, chrootDirectory: `/home/${username}` });
          expect(created.homeDirectory).toBe(`/home/${username}/files`);
          expect(created.chrootDirectory).toBe(`/home/${username}`);
        });
        lacks('independentChroot', 'a chroot apart from the home directory → 422; the same one is fine', async () => {
          const username = target.username();
          env.upstream.clearRequests();
          const a = await call('POST', users(), {
            body: { username, accessLevel: 'read-only', homeDirectory: `/srv/c/${username}`, chrootDirectory: '/srv/c' },
          });
          expectProblem(a, 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          const ok = await create({ username, homeDirectory: `/srv/c/${username}`, chrootDirectory: `/srv/c/${username}` });
          expect(ok.chrootDirectory).toBe(`/srv/c/${username}`);
          env.upstream.clearRequests();
          expectProblem(await call('PATCH', user(ok.id), { body: { chrootDirectory: '/srv' } }), 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          const moved = await call('PATCH', user(ok.id), { body: { homeDirectory: `/srv/d/${username}` } });
          expectStatus(moved, 200);
          expect(moved.body.homeDirectory).toBe(`/srv/d/${username}`);
          expect(moved.body.chrootDirectory).toBe(`/srv/d/${username}`);
        });
      });
    });

    // --- custom permissions ------------------------------------------------------------------

    describe('custom permissions', () => {
      has('customPermissions', "['list','upload'] is stored as accessLevel custom", async () => {
        const u = await create({ permissions: ['upload', 'list'] });
        expect(u.accessLevel).toBe('custom');
        expect(u.permissions).toEqual(['list', 'upload']);
        const got = await call('GET', user(u.id));
        expect(got.body.accessLevel).toBe('custom');
        expect(got.body.permissions).toEqual(['list', 'upload']);
        const a = await call('PATCH', user(u.id), { body: { permissions: ['download', 'list', 'delete'] } });
        expectStatus(a, 200);
        expect(a.body.accessLevel).toBe('custom');
        expect(a.body.permissions).toEqual(['list', 'download', 'delete']);
      });
      has('customPermissions', 'read-only plus any one more name the backend has is custom, never read-only', async () => {
        for (const extra of names.filter((p) => !LEVELS['read-only']!.includes(p))) {
          const u = await create({ permissions: ['list', 'download', extra] });
          expect([u.accessLevel, u.permissions], extra).toEqual(['custom', names.filter((p) => ['list', 'download', extra].includes(p))]);
          expect((await call('GET', user(u.id))).body.accessLevel, extra).toBe('custom');
        }
      });
      lacks('customPermissions', "['list','upload'] → 422 with details.narrower and details.broader", async () => {
        const username = target.username();
        env.upstream.clearRequests();
        const a = await call('POST', users(), { body: { username, permissions: ['list', 'upload'] } });
        expectProblem(a, 422, 'not_supported_by_provider');
        expect(Array.isArray(a.body.details?.narrower), said(a)).toBe(true);
        expect(Array.isArray(a.body.details?.broader), said(a)).toBe(true);
        for (const l of [...a.body.details.narrower, ...a.body.details.broader]) expect(ACCESS_LEVELS).toContain(l);
        // Never more than asked inside narrower, never less than asked inside broader.
        for (const l of a.body.details.narrower) expect(LEVELS[l]!.every((p) => ['list', 'upload'].includes(p))).toBe(true);
        for (const l of a.body.details.broader) expect(['list', 'upload'].every((p) => LEVELS[l]!.includes(p))).toBe(true);
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });
    });

    // --- directory permissions -------------------------------------------------------------

    describe('directory permissions', () => {
      has('directoryPermissions', 'round-trip through create and patch: paths cleaned, sets canonical, a set of every name is full', async () => {
        const u = await create({ accessLevel: 'read-only', directoryPermissions: { '/incoming/': ['upload', 'list'], '/all': [...names] } });
        expect(u.directoryPermissions).toEqual({ '/all': names, '/incoming': ['list', 'upload'] });
        expect(u.accessLevel).toBe('read-only');
        expect((await call('GET', user(u.id))).body.directoryPermissions).toEqual(u.directoryPermissions);
        // The root's level changes "/" alone.
        const a = await call('PATCH', user(u.id), { body: { accessLevel: 'write-only' } });
        expectStatus(a, 200);
        expect(a.body.directoryPermissions).toEqual(u.directoryPermissions);
        // directoryPermissions replaces every sub-directory, and leaves the root alone.
        const b = await call('PATCH', user(u.id), { body: { directoryPermissions: { '/out': ['download', 'list'] } } });
        expectStatus(b, 200);
        expect([b.body.accessLevel, b.body.directoryPermissions]).toEqual(['write-only', { '/out': ['list', 'download'] }]);
        expect((await call('GET', user(u.id))).body.directoryPermissions).toEqual({ '/out': ['list', 'download'] });
        // null (and {}) clear them.
        const c = await call('PATCH', user(u.id), { body: { directoryPermissions: null } });
        expectStatus(c, 200);
        expect(c.body.directoryPermissions).toEqual({});
        expect((await call('GET', user(u.id))).body.directoryPermissions).toEqual({});
      });
      has('directoryPermissions', 'the root as a key, a relative path, two keys for one directory → 400; a name the backend lacks → 422; nothing written', async () => {
        const u = await create();
        env.upstream.clearRequests();
        for (const dirs of [{ '/': ['list'] }, { 'in': ['list'] }, { '/in': ['list'], '/in/': ['upload'] }, { '/in': ['fly'] }]) {
          expectInvalidField(await call('PATCH', user(u.id), { body: { directoryPermissions: dirs } }), 'directoryPermissions');
        }
        const missing = PERMISSION_ORDER.filter((p) => !names.includes(p));
        if (missing.length > 0) {
          const a = await call('POST', users(), { body: { username: target.username(), accessLevel: 'full', directoryPermissions: { '/in': [missing[0]] } } });
          expectProblem(a, 422, 'not_supported_by_provider');
        }
        expectNoUpstreamWrite();
      });
      lacks('directoryPermissions', 'users show null; sub-directories in a create or a patch → 422, {} and null are accepted', async () => {
        const u = await create({ directoryPermissions: {} });
        expect(u.directoryPermissions).toBeNull();
        const username = target.username();
        env.upstream.clearRequests();
        expectProblem(
          await call('POST', users(), { body: { username, accessLevel: 'read-only', directoryPermissions: { '/in': ['list'] } } }),
          422, 'not_supported_by_provider',
        );
        expectProblem(await call('PATCH', user(u.id), { body: { directoryPermissions: { '/in': ['list'] } } }), 422, 'not_supported_by_provider');
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
        expectStatus(await call('PATCH', user(u.id), { body: { directoryPermissions: null } }), 200);
      });
    });

    // --- what the model does not carry ------------------------------------------------------

    describe('fields the model does not carry', () => {
      it('survive every write: patches, rotation, password set, key add and delete, rule and key sets', async (ctx: TestContext) => {
        const { enrich, unmodeled } = env.upstream;
        if (!enrich || !unmodeled) ctx.skip('the target cannot give a user fields beyond the model');
        const ed = sshKeys.find((k) => k.type === 'ed25519')!;
        const rsa = sshKeys.find((k) => k.type === 'rsa')!;
        const u = await create(caps.sshKeys ? { sshKeys: [ed.publicKey] } : {});
        enrich!(u.username);
        const before = unmodeled!(u.username);
        expect(before, 'enrich gave the user something to keep').toBeTruthy();
        const writes: Array<[string, string, string, Record<string, unknown>?]> = [
          ['a status patch', 'PATCH', user(u.id), { status: 'disabled' }],
          ['an empty patch', 'PATCH', user(u.id), {}],
          ['a home directory patch', 'PATCH', user(u.id), { homeDirectory: `/srv/kept/${u.username}` }],
        ];
        if (caps.limits) writes.push(['a limits patch', 'PATCH', user(u.id), { limits: { quotaFiles: 9 } }]);
        if (caps.expiration) writes.push(['an expiry patch', 'PATCH', user(u.id), { expiresAt: '2031-01-01T00:00:00.000Z' }]);
        if (caps.displayName) writes.push(['a display name patch', 'PATCH', user(u.id), { displayName: 'Kept' }]);
        if (caps.passwordSet) {
          writes.push(['a password patch', 'PATCH', user(u.id), { password: `Kept-${u.username}-1` }]);
          writes.push(['a password set', 'PUT', user(u.id, '/password'), { password: `Kept-${u.username}-2` }]);
        }
        if (caps.passwordRotation) writes.push(['a rotation', 'POST', user(u.id, '/password-rotations')]);
        if (caps.sshKeys) {
          writes.push(['a key add', 'POST', user(u.id, '/ssh-keys'), { publicKey: rsa.publicKey }]);
          writes.push(['a key set patch', 'PATCH', user(u.id), { sshKeys: [rsa.publicKey, ed.publicKey] }]);
        }
        if (caps.networkRules) {
          writes.push(['a rule set', 'PUT', user(u.id, '/network-rules'), { data: [{ cidr: '192.0.2.0/24' }] }]);
          writes.push(['a rule set patch', 'PATCH', user(u.id), { networkRules: [{ cidr: '198.51.100.7' }] }]);
        }
        for (const [what, method, path, body] of writes) {
          const a = await call(method, path, body === undefined ? {} : { body });
          expect(a.status, `${what}: ${said(a)}`).toBeLessThan(300);
          remember(a.body?.password);
          expect(unmodeled!(u.username), what).toEqual(before);
        }
        if (caps.sshKeys) {
          const keys = (await call('GET', user(u.id, '/ssh-keys'))).body.data;
          expectStatus(await call('DELETE', user(u.id, `/ssh-keys/${encodeURIComponent(keys[0].id)}`)), 204);
          expect(unmodeled!(u.username), 'a key delete').toEqual(before);
        }
      });
    });

    // --- delete -----------------------------------------------------------------------------

    describe('delete', () => {
      it('204; then get and a second delete are 404; gone upstream', async () => {
        const u = await create();
        const a = await call('DELETE', user(u.id));
        expectStatus(a, 204);
        expect(a.text).toBe('');
        expectProblem(await call('GET', user(u.id)), 404, 'not_found');
        expectProblem(await call('DELETE', user(u.id)), 404, 'not_found');
        expect(env.upstream.usernames()).not.toContain(u.username);
      });

      it('a reader key may not delete (403), the user stays', async () => {
        const u = await create();
        expectProblem(await call('DELETE', user(u.id), { key: KEYS.reader }), 403, 'forbidden');
        expect(env.upstream.usernames()).toContain(u.username);
      });
    });

    // --- password rotation ------------------------------------------------------------------

    describe('password rotation', () => {
      has('passwordRotation', '200 {password, rotatedAt}, no-store, a new password the upstream holds', async () => {
        const u = await create(caps.sshKeys ? { sshKeys: [sshKeys.find((k) => k.type === 'rsa')!.publicKey] } : {});
        const a = await call('POST', user(u.id, '/password-rotations'));
        expectStatus(a, 200);
        remember(a.body.password);
        expect(Object.keys(a.body).sort()).toEqual(['password', 'rotatedAt']);
        expect(a.headers.get('cache-control') ?? '').toMatch(/no-store/);
        expect(typeof a.body.password).toBe('string');
        expect(a.body.password.length).toBeGreaterThanOrEqual(12);
        expect(a.body.password).not.toBe(u.password);
        expect(a.body.rotatedAt).toMatch(ISO_MS);
        expect(Math.abs(Date.parse(a.body.rotatedAt) - Date.now())).toBeLessThan(60_000);
        const held = env.upstream.passwordOf(u.username);
        if (held !== undefined) expect(held).toBe(a.body.password);
        // The user is otherwise unchanged.
        const got = await call('GET', user(u.id));
        expect(omit(got.body, ['updatedAt', 'passwordChangedAt', 'password']))
          .toEqual(omit(u, ['updatedAt', 'passwordChangedAt', 'password']));
      });
      has('passwordRotation', 'an unknown user → 404', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        expectProblem(await call('POST', user(gone.id, '/password-rotations')), 404, 'not_found');
      });
      lacks('passwordRotation', '→ 501', async () => {
        const u = await create();
        env.upstream.clearRequests();
        expectProblem(await call('POST', user(u.id, '/password-rotations')), 501, 'not_supported_by_provider');
        expectNoUpstreamWrite();
      });
    });

    // --- password set -----------------------------------------------------------------------

    describe('password set', () => {
      has('passwordSet', 'PUT 204 and the upstream holds the new password', async () => {
        const u = await create();
        const password = `Set-${u.username}-Pw42`;
        remember(password);
        const a = await call('PUT', user(u.id, '/password'), { body: { password } });
        expectStatus(a, 204);
        expect(a.text).toBe('');
        const held = env.upstream.passwordOf(u.username);
        if (held !== undefined) expect(held).toBe(password);
      });
      has('passwordSet', 'an empty password → 400, the upstream password unchanged', async () => {
        const u = await create();
        const held = env.upstream.passwordOf(u.username);
        env.upstream.clearRequests();
        expectInvalidField(await call('PUT', user(u.id, '/password'), { body: { password: '' } }), 'password');
        expectProblem(await call('PUT', user(u.id, '/password'), { body: {} }), 400, 'invalid_request');
        expectNoUpstreamWrite();
        expect(env.upstream.passwordOf(u.username)).toBe(held);
      });
      has('passwordSet', 'an unknown user → 404', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        expectProblem(await call('PUT', user(gone.id, '/password'), { body: { password: 'Whatever-123!' } }), 404, 'not_found');
      });
      lacks('passwordSet', 'PUT → 501', async () => {
        const u = await create();
        env.upstream.clearRequests();
        expectProblem(await call('PUT', user(u.id, '/password'), { body: { password: 'Whatever-123!' } }), 501, 'not_supported_by_provider');
        expectNoUpstreamWrite();
      });
    });

    // --- SSH keys ---------------------------------------------------------------------------

    describe('SSH keys', () => {
      const accepted = (): Fixture[] => sshKeys.filter((k) => keyTypes.has(k.type));

      it('the target accepts ed25519, rsa and ecdsa keys at least', () => {
        for (const t of ['ed25519', 'rsa', 'ecdsa']) expect(keyTypes.has(t), t).toBe(true);
      });

      has('sshKeys', "each accepted fixture → 201 with ssh-keygen's fingerprint, type and comment; listed; counted", async () => {
        const u = await create();
        const added: Json[] = [];
        for (const fx of accepted()) {
          const a = await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fx.publicKey } });
          expectStatus(a, 201);
          expect(Object.keys(a.body).sort()).toEqual(SSH_KEY_FIELDS);
          expect(a.body.fingerprint, fx.name).toBe(fx.fingerprint);
          expect(a.body.type, fx.name).toBe(fx.type);
          expect(a.body.comment, fx.name).toBe(fx.comment);
          expect(a.body.publicKey, fx.name).toBe(fx.publicKey);
          expect(typeof a.body.id).toBe('string');
          expect(a.body.id).toMatch(/^[A-Za-z0-9._~:@-]{1,128}$/); // usable as {keyId} in a path
          if (a.body.createdAt !== null) expect(a.body.createdAt).toMatch(ISO_MS);
          added.push(a.body);
        }
        expect(new Set(added.map((k) => k.id)).size).toBe(added.length);

        const list = await call('GET', user(u.id, '/ssh-keys'));
        expectStatus(list, 200);
        expect(list.body.nextCursor).toBeNull();
        expect(list.body.data.map((k: Json) => k.fingerprint).sort()).toEqual(accepted().map((k) => k.fingerprint).sort());
        for (const k of added) expect(list.body.data).toContainEqual(k);
        expect((await call('GET', user(u.id))).body.sshKeyCount).toBe(added.length);
      });

      has('sshKeys', 'surrounding whitespace and a trailing newline are tolerated; the password stays', async () => {
        const u = await create();
        const held = env.upstream.passwordOf(u.username);
        const fx = sshKeys.find((k) => k.type === 'ed25519' && k.comment !== null)!;
        const a = await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: `  ${fx.publicKey}\n` } });
        expectStatus(a, 201);
        expect(a.body.publicKey).toBe(fx.publicKey);
        expect(a.body.fingerprint).toBe(fx.fingerprint);
        expect(env.upstream.passwordOf(u.username)).toBe(held);
      });

      has('sshKeys', 'the same key again → 409, nothing written upstream', async () => {
        const u = await create();
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        expectStatus(await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fx.publicKey } }), 201);
        env.upstream.clearRequests();
        expectProblem(await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fx.publicKey } }), 409, 'conflict');
        // The same key with another comment is the same key.
        const [algo, blob] = fx.publicKey.split(' ');
        expectProblem(await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: `${algo} ${blob} other@host` } }), 409, 'conflict');
        expectNoUpstreamWrite();
        expect((await call('GET', user(u.id, '/ssh-keys'))).body.data).toHaveLength(1);
      });

      has('sshKeys', 'an invalid key → 400 naming publicKey, nothing written upstream', async () => {
        const u = await create();
        env.upstream.clearRequests();
        const ed = sshKeys.find((k) => k.type === 'ed25519')!.publicKey.split(' ');
        for (const bad of [
          'not a key',
          'ssh-ed25519 AAAA-not-base64 x@y',
          `ssh-rsa ${ed[1]} mislabelled@host`, // an ed25519 blob under the rsa name
          `ssh-ed25519 ${ed[1]!.slice(0, 40)}`, // truncated
        ]) {
          expectInvalidField(await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: bad } }), 'publicKey');
        }
        expectNoUpstreamWrite();
        expect((await call('GET', user(u.id))).body.sshKeyCount).toBe(0);
      });

      has('sshKeys', 'delete by the returned id → 204, gone from the list; an unknown key id → 404', async () => {
        const u = await create();
        const [fa, fb] = [sshKeys.find((k) => k.type === 'rsa')!, sshKeys.find((k) => k.type === 'ecdsa')!];
        const a = await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fa.publicKey } });
        const b = await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fb.publicKey } });
        expectStatus(a, 201);
        expectStatus(b, 201);
        const del = await call('DELETE', user(u.id, `/ssh-keys/${encodeURIComponent(a.body.id)}`));
        expectStatus(del, 204);
        const list = await call('GET', user(u.id, '/ssh-keys'));
        expect(list.body.data.map((k: Json) => k.fingerprint)).toEqual([fb.fingerprint]);
        expect((await call('GET', user(u.id))).body.sshKeyCount).toBe(1);
        env.upstream.clearRequests();
        expectProblem(await call('DELETE', user(u.id, `/ssh-keys/${encodeURIComponent(a.body.id)}`)), 404, 'not_found');
        expectProblem(await call('DELETE', user(u.id, '/ssh-keys/AAAAnoSuchKeyAAAA')), 404, 'not_found');
        expectNoUpstreamWrite();
      });

      has('sshKeys', 'keys of an unknown user → 404', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        expectProblem(await call('GET', user(gone.id, '/ssh-keys')), 404, 'not_found');
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        expectProblem(await call('POST', user(gone.id, '/ssh-keys'), { body: { publicKey: fx.publicKey } }), 404, 'not_found');
      });

      has('sshKeys', 'a user created with sshKeys: [fixture] has that key', async () => {
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        const u = await create({ sshKeys: [fx.publicKey] });
        expect(u.sshKeyCount).toBe(1);
        const list = await call('GET', user(u.id, '/ssh-keys'));
        expectStatus(list, 200);
        expect(list.body.data).toHaveLength(1);
        expect(list.body.data[0]).toMatchObject({ fingerprint: fx.fingerprint, type: fx.type, comment: fx.comment, publicKey: fx.publicKey });
        expect((await call('GET', user(u.id))).body.sshKeyCount).toBe(1);
      });

      has('sshKeys', 'a create with an invalid key in sshKeys → 400 naming it, no user made', async () => {
        const username = target.username();
        env.upstream.clearRequests();
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        const a = await call('POST', users(), { body: { username, accessLevel: 'read-only', sshKeys: [fx.publicKey, 'ssh-ed25519 broken'] } });
        expectInvalidField(a, 'sshKeys');
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });

      has('sshKeys', 'sshKeys in a patch replace the whole set; an invalid one → 400, nothing written', async () => {
        const [fa, fb, fc] = [sshKeys.find((k) => k.type === 'rsa')!, sshKeys.find((k) => k.type === 'ecdsa')!, sshKeys.find((k) => k.type === 'ed25519')!];
        const u = await create({ sshKeys: [fa.publicKey, fb.publicKey] });
        const a = await call('PATCH', user(u.id), { body: { sshKeys: [fc.publicKey, fb.publicKey] } });
        expectStatus(a, 200);
        expect(a.body.sshKeyCount).toBe(2);
        const list = (await call('GET', user(u.id, '/ssh-keys'))).body.data;
        expect(list.map((k: Json) => k.fingerprint).sort()).toEqual([fb.fingerprint, fc.fingerprint].sort());
        env.upstream.clearRequests();
        expectInvalidField(await call('PATCH', user(u.id), { body: { sshKeys: [fa.publicKey, 'ssh-rsa nope'] } }), 'sshKeys');
        expectInvalidField(await call('PATCH', user(u.id), { body: { sshKeys: [fa.publicKey, fa.publicKey] } }), 'sshKeys');
        expectNoUpstreamWrite();
        // The password stays: an empty set is fine for a user with one.
        const b = await call('PATCH', user(u.id), { body: { sshKeys: [] } });
        expectStatus(b, 200);
        expect(b.body.sshKeyCount).toBe(0);
        expect((await call('GET', user(u.id, '/ssh-keys'))).body.data).toEqual([]);
      });

      has('sshKeys', 'the last key of a user without a password is kept: delete and an empty key set → 409', async (ctx) => {
        if (!env.upstream.removePassword) ctx.skip('the target cannot make a user without a password');
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        const u = await create({ sshKeys: [fx.publicKey] });
        env.upstream.removePassword!(u.username);
        const key = (await call('GET', user(u.id, '/ssh-keys'))).body.data[0];
        expectProblem(await call('DELETE', user(u.id, `/ssh-keys/${encodeURIComponent(key.id)}`)), 409, 'conflict');
        expectProblem(await call('PATCH', user(u.id), { body: { sshKeys: [] } }), 409, 'conflict');
        expect((await call('GET', user(u.id, '/ssh-keys'))).body.data).toHaveLength(1);
        expect((await call('GET', user(u.id))).body.sshKeyCount).toBe(1);
      });

      lacks('sshKeys', 'list, add and delete → 501', async () => {
        const u = await create();
        const fx = sshKeys.find((k) => k.type === 'ed25519')!;
        env.upstream.clearRequests();
        expectProblem(await call('GET', user(u.id, '/ssh-keys')), 501, 'not_supported_by_provider');
        expectProblem(await call('POST', user(u.id, '/ssh-keys'), { body: { publicKey: fx.publicKey } }), 501, 'not_supported_by_provider');
        expectProblem(await call('DELETE', user(u.id, '/ssh-keys/abc')), 501, 'not_supported_by_provider');
        expectNoUpstreamWrite();
      });
    });

    // --- network rules ----------------------------------------------------------------------

    describe('network rules', () => {
      const ruleSet = { data: [{ cidr: '203.0.113.7' }, { cidr: '2001:db8::1' }, { cidr: '198.51.100.0/24' }] };
      const expected = [
        { cidr: '203.0.113.7/32', protocol: 'any', enabled: true, description: null },
        { cidr: '2001:db8::1/128', protocol: 'any', enabled: true, description: null },
        { cidr: '198.51.100.0/24', protocol: 'any', enabled: true, description: null },
      ];
      const byCidr = (rules: Json[]) => [...rules].sort((a, b) => (a.cidr < b.cidr ? -1 : 1));

      has('networkRules', 'PUT replaces the set (bare IPv4 → /32, IPv6 → /128), GET returns it with stable ids', async () => {
        const u = await create();
        const a = await call('PUT', user(u.id, '/network-rules'), { body: ruleSet });
        expectStatus(a, 200);
        for (const r of a.body.data) expect(Object.keys(r).sort()).toEqual(NETWORK_RULE_FIELDS);
        expect(byCidr(a.body.data).map(({ id: _id, ...r }: Json) => r)).toEqual(byCidr(expected));
        expect(new Set(a.body.data.map((r: Json) => r.id)).size).toBe(3);
        const got = await call('GET', user(u.id, '/network-rules'));
        expectStatus(got, 200);
        expect(got.body.nextCursor).toBeNull();
        expect(byCidr(got.body.data)).toEqual(byCidr(a.body.data));
        // A smaller set replaces the whole one.
        const b = await call('PUT', user(u.id, '/network-rules'), { body: { data: [{ cidr: '192.0.2.0/24' }] } });
        expectStatus(b, 200);
        expect((await call('GET', user(u.id, '/network-rules'))).body.data.map((r: Json) => r.cidr)).toEqual(['192.0.2.0/24']);
        // [] removes every rule.
        expectStatus(await call('PUT', user(u.id, '/network-rules'), { body: { data: [] } }), 200);
        expect((await call('GET', user(u.id, '/network-rules'))).body.data).toEqual([]);
      });
      has('networkRules', 'a rule for one protocol, disabled, with a description: kept exactly, or refused with 422 and nothing written — never widened', async () => {
        const u = await create();
        const rich = { cidr: '198.51.100.0/24', protocol: 'sftp', enabled: false, description: 'office' };
        env.upstream.clearRequests();
        const a = await call('PUT', user(u.id, '/network-rules'), { body: { data: [rich] } });
        if (a.status === 200) {
          expect(a.body.data.map(({ id: _id, ...r }: Json) => r)).toEqual([rich]);
        } else {
          expectProblem(a, 422, 'not_supported_by_provider');
          expectNoUpstreamWrite();
          expect((await call('GET', user(u.id, '/network-rules'))).body.data).toEqual([]);
        }
      });
      has('networkRules', "'not-an-ip' → 400, nothing written upstream", async () => {
        const u = await create();
        env.upstream.clearRequests();
        const a = await call('PUT', user(u.id, '/network-rules'), { body: { data: [{ cidr: '203.0.113.7' }, { cidr: 'not-an-ip' }] } });
        expectInvalidField(a, 'data');
        expectInvalidField(await call('PATCH', user(u.id), { body: { networkRules: [{ cidr: '203.0.113.300' }] } }), 'networkRules');
        expectNoUpstreamWrite();
      });
      has('networkRules', 'networkRules in a create are in force; in a patch they replace the whole set', async () => {
        const u = await create({ networkRules: [{ cidr: '203.0.113.9' }, { cidr: '203.0.113.10' }] });
        const got = await call('GET', user(u.id, '/network-rules'));
        expectStatus(got, 200);
        expect(got.body.data.map((r: Json) => r.cidr).sort()).toEqual(['203.0.113.10/32', '203.0.113.9/32']);
        const a = await call('PATCH', user(u.id), { body: { networkRules: [{ cidr: '192.0.2.0/24' }] } });
        expectStatus(a, 200);
        expect((await call('GET', user(u.id, '/network-rules'))).body.data.map((r: Json) => r.cidr)).toEqual(['192.0.2.0/24']);
        expectStatus(await call('PATCH', user(u.id), { body: { networkRules: [] } }), 200);
        expect((await call('GET', user(u.id, '/network-rules'))).body.data).toEqual([]);
      });
      lacks('networkRules', 'GET and PUT → 501; rules in a create or a patch → 422', async () => {
        const u = await create();
        env.upstream.clearRequests();
        expectProblem(await call('GET', user(u.id, '/network-rules')), 501, 'not_supported_by_provider');
        expectProblem(await call('PUT', user(u.id, '/network-rules'), { body: ruleSet }), 501, 'not_supported_by_provider');
        const username = target.username();
        expectProblem(
          await call('POST', users(), { body: { username, accessLevel: 'read-only', networkRules: [{ cidr: '203.0.113.9' }] } }),
          422, 'not_supported_by_provider',
        );
        expectProblem(await call('PATCH', user(u.id), { body: { networkRules: [{ cidr: '203.0.113.9' }] } }), 422, 'not_supported_by_provider');
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });
    });

    // --- connections ------------------------------------------------------------------------

    describe('connections', () => {
      has('connections', 'list of Connection objects; close one → 204 and gone; unknown → 404', async () => {
        const list = await call('GET', `${base}/connections`);
        expectStatus(list, 200);
        expect(Array.isArray(list.body.data)).toBe(true);
        for (const c of list.body.data) {
          expect(Object.keys(c).sort()).toEqual(CONNECTION_FIELDS);
          expect(typeof c.id).toBe('string');
          expect(typeof c.username).toBe('string');
          expect(typeof c.protocol).toBe('string');
          for (const f of ['connectedAt', 'lastActivityAt']) if (c[f] !== null) expect(c[f]).toMatch(ISO_MS);
          expect(Array.isArray(c.transfers)).toBe(true);
          for (const t of c.transfers) {
            expect(Object.keys(t).sort()).toEqual(TRANSFER_FIELDS);
            expect(['upload', 'download']).toContain(t.operation);
            expect(Number.isInteger(t.bytes)).toBe(true);
          }
        }
        expect(env.upstream.someConnectionId, 'the target must provide someConnectionId()').toBeTypeOf('function');
        const id = env.upstream.someConnectionId!();
        expect(list.body.data.map((c: Json) => c.id)).toContain(id);

        const alias = await call('GET', '/v1/connections');
        expectStatus(alias, 200);
        expect(alias.body.data.map((c: Json) => c.id)).toContain(id);

        expectStatus(await call('DELETE', `${base}/connections/${encodeURIComponent(id)}`), 204);
        const after = await call('GET', `${base}/connections`);
        expect(after.body.data.map((c: Json) => c.id)).not.toContain(id);
        expect(after.body.data).toHaveLength(list.body.data.length - 1);
        expectProblem(await call('DELETE', `${base}/connections/${encodeURIComponent(id)}`), 404, 'not_found');
        expectProblem(await call('DELETE', `${base}/connections/ffffffffffffffffffffffffffffffff`), 404, 'not_found');
      });
      it('connections need the admin scope (403 for a writer key)', async () => {
        expectProblem(await call('GET', `${base}/connections`, { key: KEYS.writer }), 403, 'forbidden');
      });
      lacks('connections', 'list and close → 501', async () => {
        expectProblem(await call('GET', `${base}/connections`), 501, 'not_supported_by_provider');
        expectProblem(await call('DELETE', `${base}/connections/abc`), 501, 'not_supported_by_provider');
      });
    });

    // --- quota scans ------------------------------------------------------------------------

    describe('quota scans', () => {
      has('quotaScans', 'start → 202, again → 409, listed, then usage shows what the scan found', async () => {
        const u = await create();
        expect(env.upstream.setStored, 'the target must provide setStored()').toBeTypeOf('function');
        env.upstream.setStored!(u.username, 123_456, 7);
        const a = await call('POST', user(u.id, '/quota-scans'));
        expectStatus(a, 202);
        expectProblem(await call('POST', user(u.id, '/quota-scans')), 409, 'conflict');
        const list = await call('GET', `${base}/quota-scans`);
        expectStatus(list, 200);
        const scan = list.body.data.find((s: Json) => s.username === u.username);
        expect(scan, said(list)).toBeDefined();
        expect(Object.keys(scan).sort()).toEqual(['startedAt', 'username']);
        expect(scan.startedAt).toMatch(ISO_MS);

        let usage: Json = undefined;
        const started = Date.now();
        while (Date.now() - started < 2000) {
          usage = (await call('GET', user(u.id))).body.usage;
          if (usage?.bytes === 123_456) break;
          await sleep(25);
        }
        expect(usage.bytes).toBe(123_456);
        expect(usage.files).toBe(7);
        expect(usage.updatedAt).toMatch(ISO_MS);
        const done = await call('GET', `${base}/quota-scans`);
        expect(done.body.data.map((s: Json) => s.username)).not.toContain(u.username);
        // Finished: a new scan may start.
        expectStatus(await call('POST', user(u.id, '/quota-scans')), 202);
      });
      has('quotaScans', 'a scan of an unknown user → 404', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        expectProblem(await call('POST', user(gone.id, '/quota-scans')), 404, 'not_found');
      });
      lacks('quotaScans', 'start and list → 501', async () => {
        const u = await create();
        expectProblem(await call('POST', user(u.id, '/quota-scans')), 501, 'not_supported_by_provider');
        expectProblem(await call('GET', `${base}/quota-scans`), 501, 'not_supported_by_provider');
      });
    });

    // --- errors, auth, secrets --------------------------------------------------------------

    describe('errors', () => {
      it('every error is problem+json with requestId = X-Request-Id; a caller X-Request-Id comes back', async () => {
        const gone = await create();
        expectStatus(await call('DELETE', user(gone.id)), 204);
        const a = await call('GET', user(gone.id), { headers: { 'x-request-id': 'my-trace-123' } });
        expectProblem(a, 404, 'not_found');
        expect(a.headers.get('x-request-id')).toBe('my-trace-123');
        expect(a.body.requestId).toBe('my-trace-123');
        for (const f of PROBLEM_FIELDS) expect(a.body).toHaveProperty(f);
        expect(a.body.type).toMatch(/\S/);
        expect(a.body.title).toMatch(/\S/);
        expect(a.body.detail).toMatch(/\S/);
        const live = await create();
        const ok = await call('GET', user(live.id), { headers: { 'x-request-id': 'my-trace-456' } });
        expectStatus(ok, 200);
        expect(ok.headers.get('x-request-id')).toBe('my-trace-456');
      });

      it('no key → 401 with WWW-Authenticate: Bearer; a reader key cannot write (403), nothing written', async () => {
        const none = await call('GET', users(), { key: null });
        expectProblem(none, 401, 'unauthorized');
        expect(none.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
        expectProblem(await call('GET', users(), { key: 'no-such-key-0123456789' }), 401, 'unauthorized');
        env.upstream.clearRequests();
        const username = target.username();
        expectProblem(await call('POST', users(), { key: KEYS.reader, body: { username, accessLevel: 'full' } }), 403, 'forbidden');
        expectNoUpstreamWrite();
        expect(env.upstream.usernames()).not.toContain(username);
      });

      it('a body that is not JSON → 415', async () => {
        env.upstream.clearRequests();
        const a = await call('POST', users(), { rawBody: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expectProblem(a, 415, 'unsupported_media_type');
        expectNoUpstreamWrite();
      });
    });

    it('secrets: no password seen in this file appears in any gateway log line', () => {
      for (const held of gatewayLogs) {
        for (const line of held) {
          for (const s of secrets) expect(line.includes(s), `a password in the log line ${line.slice(0, 300)}`).toBe(false);
        }
      }
    });

    // --- small helpers needing `caps` --------------------------------------------------------

    function has(cap: Capability, name: string, fn: (ctx: TestContext) => Promise<void>): void {
      when(cap, true)(name, fn);
    }
    function lacks(cap: Capability, name: string, fn: (ctx: TestContext) => Promise<void>): void {
      when(cap, false)(name, fn);
    }
  });
}

/** The user without the listed fields, for "only these fields changed" comparisons. */
function omit(u: Json, fields: string[]): Json {
  const out: Record<string, unknown> = { ...u };
  for (const f of fields) delete out[f];
  return out;
}

function withoutRaw(u: Json): Json {
  const { raw: _raw, ...rest } = u as Record<string, unknown>;
  return rest;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
