/**
 * An in-memory SFTPGo 2.7.5 REST API (`/api/v2`), answering as the recorded real server does
 * (shared/reference/sftpgo-2.7.5-recorded): JWTs from `GET /api/v2/token` (20 minutes), API keys
 * for an admin with `allow_api_key_auth`, users keyed by username whose PUT replaces the whole
 * user, lists sorted by username with offset/limit/order, connections, quota scans, and every
 * answer as `render.JSON` writes it (compact, `application/json`, a trailing newline).
 * Faults, the request log and the `/__emulator` control API come from the shared emulator kit.
 *
 * @example
 * const emu = createSftpgoV2Emulator();
 * const { access_token } = await (await emu.fetch('/api/v2/token', { headers: { authorization: basic } })).json();
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { createEmulatorKit, serveEmulatorApp } from '../../../src/provider-kit/emulator-kit.js';
import type { EmulatorFaults, FetchLike, RecordedRequest, ServedEmulator } from '../../../src/provider-kit/emulator-kit.js';
import { decodeGo, goJsonText } from './gojson.js';
import type { GoObject } from './gojson.js';
import { goQuote, parseGoInt, parseGoJson } from './gostd.js';
import { createAuthority, decodeBasic, shortUuid } from './v2-auth.js';
import type { AuthResult, V2ApiKey } from './v2-auth.js';
import { fakeConnections } from './emulator.js';
import { STATUS_V2, STATUS_V2_PROVIDER_DOWN } from './v2-status.js';
import { blankUser, decodeUserBody, keepServerFields, toApiUser, USER_V2, validateUser } from './v2-user.js';
import type { V2StoredUser } from './v2-user.js';

export type { EmulatorFaults, FetchLike, RecordedRequest } from '../../../src/provider-kit/emulator-kit.js';
export type { V2ApiKey } from './v2-auth.js';
export type { V2StoredUser } from './v2-user.js';

export interface SftpgoV2EmulatorOptions {
  /** The admin that may get tokens. @default { username: 'admin', password: 'AdminPass-2024' } */
  admin?: { username: string; password: string };
  /** The clock (ms since the epoch): tokens, timestamps, scans. @default Date.now */
  now?: () => number;
  /** A user without `home_dir` gets `<usersBaseDir>/<username>`. @default '/srv/sftpgo/data' */
  usersBaseDir?: string;
  /** How long a quota scan runs (a real timer). @default 300 */
  scanDurationMs?: number;
  /**
   * The data provider's `naming_rules` (a bit set): 1 allows any character in a username (else
   * a-zA-Z0-9-_.~ only), 2 lowercases it, 4 trims spaces, on every write and lookup. The recorded
   * server's setting is not in the recordings; SFTPGo's sample config ships 1. @default 0
   */
  namingRules?: number;
  /** Start with three live connections (the recorded server had none). @default false */
  connections?: boolean;
}

export interface SftpgoV2Emulator {
  app: Hono;
  fetch: FetchLike;
  version: '2.7.5';
  /** Backdoor: stored users by username (see {@link V2StoredUser}); changes show at once. */
  users: Map<string, V2StoredUser>;
  /** Backdoor: API keys by id. */
  apiKeys: Map<string, V2ApiKey>;
  /** Backdoor: `ConnectionStatus` objects, as `GET /api/v2/connections` answers them. */
  connections: Array<Record<string, unknown>>;
  requests: RecordedRequest[];
  clearRequests(): void;
  setFaults(faults: EmulatorFaults | null): void;
  /** `GET /api/v2/status` reports the data provider down (the user calls still answer). */
  setProviderDown(down: boolean): void;
  /** Stores a user given in the API's shape (plus `password`), timestamps and id kept as given. */
  addUser(fields: Record<string, unknown>): V2StoredUser;
  /** Adds an API key for the admin; missing fields get defaults. Returns `<id>.<secret>`. */
  addApiKey(fields?: Partial<V2ApiKey>): string;
  setAllowApiKeyAuth(allow: boolean): void;
  /** What the next quota scan of `username` finds on disk. */
  setStored(username: string, bytes: number, files: number): void;
  /** Ends the running quota scans now. */
  finishScans(): void;
  /** Adds `n` valid users named `${prefix}00001`… (existing names are skipped). */
  seedUsers(n: number, prefix?: string): void;
  /** Back to the initial state: no users, keys, connections, scans, faults or log; ids from 1. */
  reset(): void;
}

const API_PREFIX = '/api/v2';
const FEATURES = ['+metrics', '+azblob', '+gcs', '+s3', '+bolt', '+mysql', '+pgsql', '+sqlite', '-unixcrypt', '+portable'];
const NOT_FOUND = { error: 'Not Found', message: '' };
const KEY_MESSAGE = 'API key created. This is the only time the API key is visible, please save it.';

interface Scan {
  username: string;
  start_time: number;
  timer: ReturnType<typeof setTimeout>;
}

type Handler = (c: Context, params: string[]) => Response | Promise<Response>;
interface Route {
  method: string;
  path: RegExp;
  handler: Handler;
  /** `basic`: the token endpoint; `jwt`: a token only (key management, profile); `any`: a token or an API key. */
  auth: 'basic' | 'jwt' | 'any';
}

export function createSftpgoV2Emulator(opts: SftpgoV2EmulatorOptions = {}): SftpgoV2Emulator {
  const admin = opts.admin ?? { username: 'admin', password: 'AdminPass-2024' };
  const now = opts.now ?? Date.now;
  const { usersBaseDir = '/srv/sftpgo/data', scanDurationMs = 300, namingRules = 0 } = opts;
  let providerDown = false;
  /** The provider's convertName: what a username becomes on every write and lookup. */
  const convertName = (name: string): string => {
    if (namingRules <= 1) return name;
    let out = name;
    if (namingRules & 2) out = out.toLowerCase();
    if (namingRules & 4) out = out.trim();
    return out;
  };
  const seedConnections = () => {
    if (!opts.connections) return;
    const at = now();
    connections.push(...fakeConnections(at, false).map((conn) => ({ ...conn, current_time: at })));
  };
  const users = new Map<string, V2StoredUser>();
  const apiKeys = new Map<string, V2ApiKey>();
  const connections: Array<Record<string, unknown>> = [];
  const scans: Scan[] = [];
  const stored = new Map<string, { bytes: number; files: number }>();
  const profile: GoObject = { email: '', description: '', allow_api_key_auth: false };
  let highestId = 0; // SQLite AUTOINCREMENT never hands an id out twice

  const kit = createEmulatorKit({ apiPrefix: API_PREFIX, errorBody: (_status, error) => ({ error, message: '' }) });
  const authority = createAuthority(now, apiKeys, () => profile.allow_api_key_auth === true);

  /** `render.JSON`: compact, HTML-escaped, a trailing newline, `application/json` (no charset). */
  function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(goJsonText(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }

  function listWindow<T>(c: Context, items: T[], key: (item: T) => string): Response | T[] {
    const query = new URL(c.req.url).searchParams;
    let limit = 100;
    let offset = 0;
    if (query.has('limit')) {
      const n = parseGoInt(query.get('limit') ?? '');
      if (n === null) return json(400, { error: 'invalid limit', message: '' });
      limit = Math.min(n, 500);
    }
    if (query.has('offset')) {
      const n = parseGoInt(query.get('offset') ?? '');
      if (n === null) return json(400, { error: 'invalid offset', message: '' });
      offset = n;
    }
    const order = query.get('order') ?? 'ASC';
    if (order !== 'ASC' && order !== 'DESC') return json(400, { error: 'invalid order', message: '' });
    const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (order === 'DESC') sorted.reverse();
    // SQLite: a negative OFFSET counts as 0, a negative LIMIT as no limit
    const start = Math.max(0, offset);
    return limit < 0 ? sorted.slice(start) : sorted.slice(start, start + limit);
  }

  // --- users --------------------------------------------------------------------------------

  function insert(user: V2StoredUser): void {
    highestId = Math.max(highestId, user.id as number);
    users.set(user.username as string, user);
  }

  async function createUser(c: Context): Promise<Response> {
    const user = blankUser();
    const error = decodeUserBody(await c.req.text(), user);
    if (error) return json(400, { error, message: '' });
    keepServerFields(user, null);
    user.username = convertName(user.username as string);
    const invalid = validateUser(user, usersBaseDir, namingRules);
    if (invalid) return json(400, { error: `Validation error: ${invalid}`, message: '' });
    if (users.has(user.username as string)) {
      return json(409, { error: 'duplicated key not allowed: UNIQUE constraint failed: users.username', message: '' });
    }
    const at = now();
    Object.assign(user, { id: highestId + 1, created_at: at, updated_at: at, last_password_change: user.password !== '' ? at : 0 });
    insert(user);
    return json(201, toApiUser(user), { location: `/api/v2/users/${encodeURIComponent(user.username as string)}` });
  }

  /** PUT: the body decoded onto a fresh user (whole-user replace); an omitted password is kept. */
  async function updateUser(c: Context, username: string): Promise<Response> {
    const old = users.get(username);
    if (!old) return json(404, NOT_FOUND);
    const user = blankUser();
    user.password = old.password;
    const error = decodeUserBody(await c.req.text(), user);
    if (error) return json(400, { error, message: '' });
    keepServerFields(user, old);
    user.username = username; // users-put-username-mismatch.txt: the path wins, silently
    const invalid = validateUser(user, usersBaseDir, namingRules);
    if (invalid) return json(400, { error: `Validation error: ${invalid}`, message: '' });
    if (user.password !== '' && user.password !== old.password) user.last_password_change = now();
    user.updated_at = now();
    users.set(username, user);
    return json(200, { message: 'User updated' });
  }

  // --- quota scans --------------------------------------------------------------------------

  function endScan(scan: Scan): void {
    clearTimeout(scan.timer);
    scans.splice(scans.indexOf(scan), 1);
    const user = users.get(scan.username);
    if (!user) return;
    const found = stored.get(scan.username) ?? { bytes: 0, files: 0 };
    Object.assign(user, { used_quota_size: found.bytes, used_quota_files: found.files, last_quota_update: now() });
  }

  function startScan(username: string): Response {
    if (!users.has(username)) return json(404, NOT_FOUND);
    if (scans.some((s) => s.username === username)) {
      return json(409, { message: `Another scan is already in progress for user ${goQuote(username)}` });
    }
    const scan: Scan = { username, start_time: now(), timer: setTimeout(() => endScan(scan), scanDurationMs) };
    (scan.timer as { unref?: () => void }).unref?.();
    scans.push(scan);
    return json(202, { message: 'Scan started' });
  }

  // --- API keys and the admin profile -----------------------------------------------------------

  function apiKeyView(k: V2ApiKey): Record<string, unknown> {
    const view: Record<string, unknown> = { id: k.id, name: k.name, scope: k.scope, created_at: k.created_at, updated_at: k.updated_at };
    for (const key of ['last_use_at', 'expires_at', 'description', 'user', 'admin'] as const) if (k[key]) view[key] = k[key];
    return view;
  }

  async function createApiKey(c: Context): Promise<Response> {
    const parsed = parseGoJson(await c.req.text());
    if ('error' in parsed) return json(400, { error: parsed.error, message: '' });
    const body: GoObject = { name: '', scope: 0, expires_at: 0, description: '', user: '', admin: '' };
    const error = decodeGo(body, parsed.node, {
      kind: 'struct', name: 'dataprovider.APIKey', fields: [
        { json: 'name', type: { kind: 'string', name: 'string' } }, { json: 'scope', type: { kind: 'int', name: 'dataprovider.APIKeyScope' } },
        { json: 'expires_at', type: { kind: 'int', name: 'int64' } }, { json: 'description', type: { kind: 'string', name: 'string' } },
        { json: 'user', type: { kind: 'string', name: 'string' } }, { json: 'admin', type: { kind: 'string', name: 'string' } },
      ],
    });
    if (error) return json(400, { error, message: '' });
    if (body.name === '') return json(400, { error: 'Validation error: name is mandatory', message: '' });
    if (body.scope !== 1 && body.scope !== 2) return json(400, { error: `Validation error: invalid scope: ${String(body.scope)}`, message: '' });
    const key = addApiKey(body as Partial<V2ApiKey>);
    const id = key.slice(0, key.indexOf('.'));
    return json(201, { key, message: KEY_MESSAGE }, { location: `/api/v2/apikeys/${id}`, 'x-object-id': id });
  }

  function addApiKey(fields: Partial<V2ApiKey> = {}): string {
    const at = now();
    const key: V2ApiKey = {
      id: shortUuid(), secret: shortUuid(), name: 'key', scope: 1, created_at: at, updated_at: at, last_use_at: 0, expires_at: 0,
      description: '', user: '', admin: admin.username, ...fields,
    };
    apiKeys.set(key.id, key);
    return `${key.id}.${key.secret}`;
  }

  async function updateProfile(c: Context): Promise<Response> {
    const parsed = parseGoJson(await c.req.text());
    if ('error' in parsed) return json(400, { error: parsed.error, message: '' });
    const next: GoObject = { email: '', description: '', allow_api_key_auth: false };
    const error = decodeGo(next, parsed.node, {
      kind: 'struct', name: 'httpd.adminProfile', fields: [
        { json: 'email', type: { kind: 'string', name: 'string' } }, { json: 'description', type: { kind: 'string', name: 'string' } },
        { json: 'allow_api_key_auth', type: { kind: 'bool', name: 'bool' } },
      ],
    });
    if (error) return json(400, { error, message: '' });
    Object.assign(profile, next);
    return json(200, { message: 'Profile updated' });
  }

  // --- routing ------------------------------------------------------------------------------

  const user = '/api/v2/users/([^/]+)';
  const routes: Route[] = [
    { method: 'GET', path: /^\/api\/v2\/token$/, auth: 'basic', handler: () => json(200, authority.issue(admin.username)) },
    { method: 'GET', path: /^\/api\/v2\/version$/, auth: 'any', handler: () => json(200, { version: '2.7.5', build_date: '', commit_hash: '', features: FEATURES }) },
    { method: 'GET', path: /^\/api\/v2\/status$/, auth: 'any', handler: () => json(200, providerDown ? STATUS_V2_PROVIDER_DOWN : STATUS_V2) },
    { method: 'GET', path: /^\/api\/v2\/users$/, auth: 'any', handler: (c) => {
      const page = listWindow(c, [...users.values()], (u) => u.username as string);
      return page instanceof Response ? page : json(200, page.map(toApiUser));
    } },
    { method: 'POST', path: /^\/api\/v2\/users$/, auth: 'any', handler: (c) => createUser(c) },
    { method: 'GET', path: new RegExp(`^${user}$`), auth: 'any', handler: (_c, [name = '']) => {
      const found = users.get(name);
      return found ? json(200, toApiUser(found)) : json(404, NOT_FOUND);
    } },
    { method: 'PUT', path: new RegExp(`^${user}$`), auth: 'any', handler: (c, [name = '']) => updateUser(c, name) },
    { method: 'DELETE', path: new RegExp(`^${user}$`), auth: 'any', handler: (_c, [name = '']) => {
      if (!users.delete(name)) return json(404, NOT_FOUND);
      return json(200, { message: 'User deleted' });
    } },
    { method: 'GET', path: /^\/api\/v2\/connections$/, auth: 'any', handler: () => json(200, connections) },
    { method: 'DELETE', path: /^\/api\/v2\/connections\/([^/]+)$/, auth: 'any', handler: (_c, [id]) => {
      const index = connections.findIndex((conn) => conn.connection_id === id);
      if (index < 0) return json(404, { message: 'Not Found' }); // connections-close-404.txt: no `error`
      connections.splice(index, 1);
      return json(200, { message: 'Connection closed' });
    } },
    { method: 'GET', path: /^\/api\/v2\/quotas\/users\/scans$/, auth: 'any', handler: () => json(200, scans.map((s) => ({ username: s.username, start_time: s.start_time }))) },
    { method: 'POST', path: /^\/api\/v2\/quotas\/users\/([^/]+)\/scan$/, auth: 'any', handler: (_c, [name = '']) => startScan(name) },
    { method: 'GET', path: /^\/api\/v2\/admin\/profile$/, auth: 'jwt', handler: () => json(200, Object.fromEntries(Object.entries(profile).filter(([k, v]) => v !== '' || k === 'allow_api_key_auth'))) },
    { method: 'PUT', path: /^\/api\/v2\/admin\/profile$/, auth: 'jwt', handler: (c) => updateProfile(c) },
    { method: 'GET', path: /^\/api\/v2\/apikeys$/, auth: 'jwt', handler: (c) => {
      const page = listWindow(c, [...apiKeys.values()], (k) => k.id);
      return page instanceof Response ? page : json(200, page.map(apiKeyView));
    } },
    { method: 'POST', path: /^\/api\/v2\/apikeys$/, auth: 'jwt', handler: (c) => createApiKey(c) },
    { method: 'GET', path: /^\/api\/v2\/apikeys\/([^/]+)$/, auth: 'jwt', handler: (_c, [id = '']) => {
      const found = apiKeys.get(id);
      return found ? json(200, apiKeyView(found)) : json(404, NOT_FOUND);
    } },
    { method: 'DELETE', path: /^\/api\/v2\/apikeys\/([^/]+)$/, auth: 'jwt', handler: (_c, [id = '']) => {
      if (!apiKeys.delete(id)) return json(404, NOT_FOUND);
      return json(200, { message: 'API key deleted' });
    } },
  ];

  function authenticate(c: Context, route: Route): AuthResult {
    if (route.auth === 'basic') {
      if (decodeBasic(c.req.header('authorization')) === `${admin.username}:${admin.password}`) return { ok: true, via: 'jwt' };
      // token-wrong-password.txt: the only answer with a challenge
      return { ok: false, status: 401, body: { error: 'invalid credentials', message: 'Unauthorized' }, headers: { 'www-authenticate': 'Basic realm="SFTPGo"' } };
    }
    return authority.check(
      { authorization: c.req.header('authorization'), apiKey: c.req.header('x-sftpgo-api-key') },
      { allowApiKey: route.auth === 'any' },
    );
  }

  const app = new Hono();
  app.use('*', kit.middleware);
  app.route('/__emulator', kit.controlRoutes);
  app.get('/healthz', () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8' } }));
  app.all('*', async (c) => {
    const path = c.req.path;
    const matching = routes.filter((r) => r.path.test(path));
    // v1-*-on-v2.txt: unknown paths are a 404 before any authentication
    if (matching.length === 0) return json(404, { message: 'Not Found' });
    const route = matching.find((r) => r.method === c.req.method);
    if (!route) return json(405, { message: 'Method Not Allowed' });
    const auth = authenticate(c, route);
    if (!auth.ok) return json(auth.status, auth.body, auth.headers);
    const params = (route.path.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    // A user's name in a path is looked up as the provider stores it.
    if (path.startsWith('/api/v2/users/') || path.startsWith('/api/v2/quotas/users/')) params[0] = convertName(params[0] ?? '');
    return route.handler(c, params);
  });

  function seedUsers(n: number, prefix = 'user'): void {
    for (let i = 1; i <= n; i += 1) {
      const username = `${prefix}${String(i).padStart(5, '0')}`;
      if (!users.has(username)) addUser({ username, password: 'secret', status: 1, permissions: { '/': ['*'] } });
    }
  }

  function addUser(fields: Record<string, unknown>): V2StoredUser {
    const user = blankUser();
    const error = decodeGo(user, parseNode(fields), USER_V2);
    if (error) throw new Error(`addUser: ${error}`);
    const at = now();
    if (!fields.id) user.id = highestId + 1;
    if (!fields.created_at) user.created_at = at;
    if (!fields.updated_at) user.updated_at = at;
    if (!fields.last_password_change && user.password !== '') user.last_password_change = at;
    if (user.home_dir === '') user.home_dir = `${usersBaseDir}/${user.username as string}`;
    insert(user);
    return user;
  }

  function reset(): void {
    users.clear();
    apiKeys.clear();
    connections.length = 0;
    for (const scan of [...scans]) clearTimeout(scan.timer);
    scans.length = 0;
    stored.clear();
    Object.assign(profile, { email: '', description: '', allow_api_key_auth: false });
    highestId = 0;
    providerDown = false;
    seedConnections();
    kit.clearRequests();
    kit.setFaults(null);
  }

  seedConnections();
  return {
    app, fetch: kit.fetchFor(app), version: '2.7.5', users, apiKeys, connections, requests: kit.requests,
    clearRequests: kit.clearRequests, setFaults: kit.setFaults, addUser,
    setProviderDown: (down) => {
      providerDown = down;
    }, addApiKey, seedUsers, reset,
    setAllowApiKeyAuth: (allow) => {
      profile.allow_api_key_auth = allow;
    },
    setStored: (username, bytes, files) => {
      stored.set(username, { bytes, files });
    },
    finishScans: () => {
      for (const scan of [...scans]) endScan(scan);
    },
  };
}

function parseNode(value: unknown) {
  const parsed = parseGoJson(JSON.stringify(value));
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.node;
}

/** Serves the emulator on 127.0.0.1 (port 0: any free one); `url` is the server root. */
export async function serveSftpgoV2Emulator(emu: SftpgoV2Emulator, port = 0): Promise<ServedEmulator> {
  return serveEmulatorApp(emu.app, port);
}
