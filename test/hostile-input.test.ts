/**
 * Hostile input, property-based (fast-check): random bodies, queries, headers, path ids, cursors,
 * unicode and huge values at EVERY route, in both route forms (`/v1/...` on the default backend and
 * `/v1/backends/{backend}/...`), against both providers: an `onprem` SFTPGo backend and a `togo`
 * SFTP To Go backend, each fed by its emulator's in-process fetch (whose request log shows what
 * reached the upstream).
 *
 * What every answer must satisfy (CONTRACT §1, §4, §6):
 * - never a 5xx, but the deliberate `501 not_supported_by_provider` of a route whose capability the
 *   backend lacks; never an unhandled error, never a stack trace;
 * - every non-2xx answer is `application/problem+json` with `status`, `code` and `requestId`
 *   (= the `X-Request-Id` header, which every answer carries);
 * - the checks run in the contract's order (401, 403, 404 backend, 501, then the request), and a
 *   request refused by them reaches no upstream;
 * - a 400/413/415/422 leaves no POST/PUT/PATCH/DELETE upstream; where validation precedes every
 *   read (a malformed body, an unknown field, a bad query or cursor, a path id with forbidden
 *   characters) no upstream call at all.
 *
 * Every run starts from the same emulator state (a few seeded users with SSH keys), so a failure
 * reproduces from its seed alone (the Idempotency-Key property aside: kept answers outlive a run):
 * fast-check prints `seed` and `path`; rerun with
 * `FC_SEED=<seed> npx vitest run test/hostile-input.test.ts` (add `FC_PATH=<path> -t '<property>'` to
 * replay just the counterexample). `FC_RUNS=<factor>` scales every property's number of runs
 * (e.g. `FC_RUNS=10` for a soak: about ten times as long).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoStoredUser } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { newCredential } from '../adapters/sftptogo/emulator/credential.js';
import { encodeCursor } from '../src/http/cursor.js';
import { ACCESS_LEVELS, PERMISSIONS, type Capability } from '../src/domain/model.js';
import { sshKeyIdOf } from '../src/domain/ssh-key.js';
import { sshKeys } from './fixtures/ssh-keys.js';
import { API_KEYS, KEYS, createTestGateway, type TestGateway } from './helpers/gateway.js';

// --- run control ----------------------------------------------------------------------------------

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20_260_426;
const SCALE = Number(process.env.FC_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** `FC_PATH` (with `-t` naming the property) replays the one counterexample fast-check printed. */
const options = (numRuns: number) => ({ seed: SEED, numRuns: runs(numRuns), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) });
const PROPERTY_TIMEOUT = 120_000;

const MAX_BODY_BYTES = 1024 * 1024;
const STACK_TRACE = /\bat .*\.(ts|js):\d+/;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ID_CHARS = /^[A-Za-z0-9._~:@-]+$/;

// --- the world: two emulators, two gateways (one per default backend) -----------------------------

const emuGo = createSftpgoEmulator({ scanDurationMs: 20 });
const emuTogo = createSftpToGoEmulator();

const BACKENDS = {
  onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com', sftpPort: 2022 },
  togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: emuTogo.organizationId, apiKey: emuTogo.apiKey },
};
type BackendName = keyof typeof BACKENDS;
const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];
const isBackendName = (name: string): name is BackendName => Object.hasOwn(BACKENDS, name);

const fetchFor = (name: string) =>
  (name === 'onprem' ? emuGo.fetch : name === 'togo' ? emuTogo.fetch : undefined) as typeof fetch | undefined;
// No list cache: every run must depend on its own input only, not on what an earlier run cached.
const gateways: Record<BackendName, TestGateway> = {
  // Refused keys are part of the input here: the throttle (test/throttle.test.ts) would make them 429s.
  onprem: createTestGateway({ backends: BACKENDS, defaultBackend: 'onprem', fetchFor, cache: 'none', authSettings: { failedAuthPerMinute: 0 } }),
  togo: createTestGateway({ backends: BACKENDS, defaultBackend: 'togo', fetchFor, cache: 'none', authSettings: { failedAuthPerMinute: 0 } }),
};

type KeyName = keyof typeof KEYS;
const KEY_NAMES = Object.keys(KEYS) as KeyName[];
const KEY_VALUES: string[] = Object.values(KEYS);
/** What each test key may do, from the same list createTestGateway configures. */
const PRINCIPALS = Object.fromEntries(
  KEY_NAMES.map((name) => {
    const cfg = API_KEYS.find((k) => k.key === KEYS[name])!;
    return [name, { scopes: cfg.scopes, backends: cfg.backends }];
  }),
) as Record<KeyName, { scopes: string[]; backends?: string[] }>;

/** Filled in beforeAll from `GET /v1/backends` (the gateway's own word, not this file's). */
let capabilities: Record<BackendName, Record<Capability, boolean>>;

/** The fixtures the seeded users hold, and the key id the gateway gives each on SFTPGo. */
const ED25519 = sshKeys.find((k) => k.name === 'ed25519')!;
const RSA = sshKeys.find((k) => k.name === 'rsa-2048')!;
const SFTPGO_KEY_ID = new Map(sshKeys.map((k) => [k.publicKey, sshKeyIdOf(k.fingerprint)]));

/**
 * Back to the same state before every run: two SFTPGo users and two SFTP To Go credentials (and
 * the root), each with an SSH key; one of each with a password. Built through the backdoors, so
 * no request of the gateway is spent on it.
 */
function resetWorld(): void {
  emuGo.reset();
  emuTogo.reset();
  const now = Date.now();
  const sftpgoUser = (id: number, username: string, key: string, password?: string): SftpgoStoredUser => ({
    id, username, ...(password ? { password } : {}), status: 1, expiration_date: 0, public_keys: [key],
    home_dir: `/srv/sftpgo/data/${username}`, uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0,
    permissions: { '/': ['*'] }, used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, upload_bandwidth: 0,
    download_bandwidth: 0, last_login: 0, filters: {}, filesystem: { provider: 0, s3config: {}, gcsconfig: {}, azblobconfig: {} },
    virtual_folders: null,
  });
  emuGo.users.set(1, sftpgoUser(1, 'seeded_user_1', ED25519.publicKey, 'seeded-password-1'));
  emuGo.users.set(2, sftpgoUser(2, 'seeded_user_2', RSA.publicKey));
  for (const [i, fixture] of [ED25519, RSA].entries()) {
    const id = `5eed${String(i + 1).padStart(26, '0')}`;
    const cred = newCredential(id, { UserName: `seeded.user.${i + 1}`, Alias: `Seeded ${i + 1}`, Permission: 'read-write' }, now);
    cred.SshKeys.push({
      Id: `0000000${i + 1}-0000-4000-8000-000000000000`, SshPublicKeyBody: fixture.publicKey, Fingerprint: fixture.fingerprint,
      Type: fixture.type, Comment: fixture.comment ?? '', CreatedAt: now, UpdatedAt: now,
    });
    emuTogo.credentials.set(id, cred);
  }
  emuGo.clearRequests();
  emuTogo.clearRequests();
}

// --- routes ---------------------------------------------------------------------------------------

type Scope = 'read' | 'write' | 'admin';
type BodyKind = 'create' | 'patch' | 'password' | 'sshKey' | 'rules';
type QueryKind = 'list' | 'include';
type ParamName = 'id' | 'keyId' | 'connectionId';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface BackendRoute {
  method: Method;
  /** Relative to `/v1` or `/v1/backends/{backend}`. */
  path: string;
  scope: Scope;
  capability?: Capability;
  body?: BodyKind;
  query?: QueryKind;
}

/** Every backend route of CONTRACT §1, as the contract states its scope and capability. */
const BACKEND_ROUTES: readonly BackendRoute[] = [
  { method: 'GET', path: '/users', scope: 'read', query: 'list' },
  { method: 'POST', path: '/users', scope: 'write', body: 'create' },
  { method: 'GET', path: '/users/{id}', scope: 'read', query: 'include' },
  { method: 'PATCH', path: '/users/{id}', scope: 'write', body: 'patch' },
  { method: 'DELETE', path: '/users/{id}', scope: 'write' },
  { method: 'POST', path: '/users/{id}/password-rotations', scope: 'write', capability: 'passwordRotation' },
  { method: 'PUT', path: '/users/{id}/password', scope: 'write', capability: 'passwordSet', body: 'password' },
  { method: 'GET', path: '/users/{id}/ssh-keys', scope: 'read', capability: 'sshKeys' },
  { method: 'POST', path: '/users/{id}/ssh-keys', scope: 'write', capability: 'sshKeys', body: 'sshKey' },
  { method: 'DELETE', path: '/users/{id}/ssh-keys/{keyId}', scope: 'write', capability: 'sshKeys' },
  { method: 'GET', path: '/users/{id}/network-rules', scope: 'read', capability: 'networkRules' },
  { method: 'PUT', path: '/users/{id}/network-rules', scope: 'write', capability: 'networkRules', body: 'rules' },
  { method: 'GET', path: '/connections', scope: 'admin', capability: 'connections' },
  { method: 'DELETE', path: '/connections/{connectionId}', scope: 'admin', capability: 'connections' },
  { method: 'GET', path: '/quota-scans', scope: 'admin', capability: 'quotaScans' },
  { method: 'POST', path: '/users/{id}/quota-scans', scope: 'admin', capability: 'quotaScans' },
];
const BODY_ROUTES = BACKEND_ROUTES.filter((r) => r.body !== undefined);
const PARAM_ROUTES = BACKEND_ROUTES.filter((r) => r.path.includes('{'));
const QUERY_ROUTES = BACKEND_ROUTES.filter((r) => r.query !== undefined);
const paramsOf = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as ParamName);
const SYSTEM_PATHS = ['/healthz', '/readyz', '/openapi.json', '/docs', '/metrics'] as const;

// --- what a generated request is (plain data, so fast-check prints a counterexample readably) -----

/** A path parameter: an id that exists in the run's seeded state, text (sent URL-encoded), or raw path text. */
type Param = { kind: 'existing'; n: number } | { kind: 'text'; text: string } | { kind: 'raw'; text: string };

/**
 * One `key=value` of a query string. `verdict` is what the route's query schema must make of it:
 * ok (valid), bad (a 400), unknown (undecided: raw percent-encoding and the like).
 */
interface QueryItem {
  key: string;
  /** null: the key alone, without '='. A cursor minted for this very query (offset given). */
  value: string | null | { forgeOffset: number };
  raw?: boolean;
  verdict: 'ok' | 'bad' | 'unknown';
}

type Auth = { name: KeyName; header: string } | { name: null; header: string | null };

/** `schema`: refused by the route's body schema (400); `semantic`: refused before any upstream call (400 or 422). */
type BodyVerdict = 'maybe' | 'schema' | 'semantic';
type Body =
  | { kind: 'none'; contentType: string | null; jsonType: boolean }
  | { kind: 'json'; value: unknown; contentType: string; verdict: BodyVerdict }
  /** Text under a JSON media type that must be a 400: malformed JSON, or JSON too deep for any schema. */
  | { kind: 'malformed'; text: string; contentType: string }
  | { kind: 'foreign'; text: string; contentType: string }
  | { kind: 'huge'; bytes: number; fill: string; contentType: string };

type Target =
  | { kind: 'route'; route: BackendRoute; gateway: BackendName; scoped: boolean; backend: string; params: Partial<Record<ParamName, Param>> }
  | { kind: 'backends'; gateway: BackendName }
  | { kind: 'backend-info'; gateway: BackendName; backend: string }
  | { kind: 'system'; gateway: BackendName; path: string }
  /** A GET of a path taken from an answer (a Location, a list), with no expectation but the invariants. */
  | { kind: 'follow'; gateway: BackendName; path: string }
  /** `wrongMethod`: a known path asked with a method it does not have (a 405, not a 404). */
  | { kind: 'no-route'; gateway: BackendName; method: string; path: string; wrongMethod?: true };

interface Req {
  target: Target;
  query: QueryItem[];
  auth: Auth;
  headers: [string, string][];
  body: Body;
}

// --- building and sending -------------------------------------------------------------------------

const enc = encodeURIComponent;
const isDotSegment = (segment: string) => /^(\.|%2e){1,2}$/i.test(segment);
const tryDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};
const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const urlSafe = (s: string) => {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};

/** What the gateway's router sees as the value of a parameter. */
function paramValue(p: Param): string | undefined {
  return p.kind === 'text' ? p.text : p.kind === 'raw' ? tryDecode(p.text) : undefined;
}
function paramSegment(p: Param, resolved: string): string {
  return p.kind === 'text' ? enc(p.text) : p.kind === 'raw' ? p.text : enc(resolved);
}
const reroutes = (p: Param) => (p.kind === 'text' ? isDotSegment(p.text) : p.kind === 'raw' ? isDotSegment(p.text) : false);
/**
 * A user's `{id}` may be an SFTPGo 2.x username: 1..255 code points of anything but "/", control characters
 * and edge spaces. Key and connection ids: 1..128 of ID_CHARS.
 */
const USER_ID_FORBIDDEN = /[/\u0000-\u001f\u007f]/;
const hostileParam = (name: ParamName, p: Param) => {
  const v = paramValue(p);
  if (v === undefined) return false;
  if (name === 'id') return !(v.length >= 1 && [...v].length <= 255 && !USER_ID_FORBIDDEN.test(v) && v.trim() === v);
  return !(v.length >= 1 && v.length <= 128 && ID_CHARS.test(v));
};

/** An id of the seeded state for `existing` parameters (the n-th, wrapping), chosen per backend. */
function existingIds(backend: string, name: ParamName, userId: string | undefined): string[] {
  if (backend === 'onprem') {
    if (name === 'id') return [...emuGo.users.keys()].map(String);
    if (name === 'connectionId') return emuGo.connections.map((c) => String(c.connection_id));
    const users = [...emuGo.users.values()];
    const owner = users.find((u) => String(u.id) === userId) ?? users[0];
    return (owner?.public_keys ?? []).map((line) => SFTPGO_KEY_ID.get(line) ?? 'unknown-key');
  }
  if (backend === 'togo') {
    if (name === 'id') return [...emuTogo.credentials.keys()];
    if (name === 'connectionId') return ['no-connections-here'];
    const creds = [...emuTogo.credentials.values()];
    const owner = creds.find((c) => c.Id === userId) ?? creds.find((c) => c.SshKeys.length > 0);
    return owner?.SshKeys.map((k) => k.Id) ?? [];
  }
  return ['1'];
}

function resolveParams(t: Extract<Target, { kind: 'route' }>): Partial<Record<ParamName, string>> {
  const out: Partial<Record<ParamName, string>> = {};
  for (const name of paramsOf(t.route.path)) {
    const p = t.params[name];
    if (!p) continue;
    if (p.kind !== 'existing') {
      out[name] = paramValue(p);
      continue;
    }
    const ids = existingIds(t.backend, name, out.id);
    out[name] = ids.length ? ids[p.n % ids.length]! : 'nothing-seeded';
  }
  return out;
}

function firstValue(items: QueryItem[], key: string): string | undefined {
  const found = items.find((i) => !i.raw && i.key === key && typeof i.value === 'string');
  return found ? (found.value as string) : undefined;
}

function queryString(req: Req, backend: string): string {
  const parts = req.query.map((item) => {
    if (item.raw) return item.value === null ? item.key : `${item.key}=${String(item.value)}`;
    if (item.value === null) return enc(item.key);
    let value = item.value;
    if (typeof value !== 'string') {
      // The list cache key the gateway binds cursors to: backend, order, status, username.
      const key = [backend, firstValue(req.query, 'order') ?? 'asc', firstValue(req.query, 'status') ?? '', firstValue(req.query, 'username') ?? ''];
      value = encodeCursor(value.forgeOffset, key.join('\u0000'));
    }
    return `${enc(item.key)}=${enc(value)}`;
  });
  return parts.length ? `?${parts.join('&')}` : '';
}

function methodOf(t: Target): string {
  return t.kind === 'route' ? t.route.method : t.kind === 'no-route' ? t.method : 'GET';
}

function urlOf(req: Req): string {
  const t = req.target;
  switch (t.kind) {
    case 'route': {
      const resolved = resolveParams(t);
      const prefix = t.scoped ? `/v1/backends/${enc(t.backend)}` : '/v1';
      const path = t.route.path.replace(/\{(\w+)\}/g, (_m, name: ParamName) => paramSegment(t.params[name]!, resolved[name] ?? ''));
      return prefix + path + queryString(req, t.backend);
    }
    case 'backends':
      return `/v1/backends${queryString(req, '')}`;
    case 'backend-info':
      return `/v1/backends/${enc(t.backend)}${queryString(req, '')}`;
    case 'system':
    case 'follow':
    case 'no-route':
      return t.path + queryString(req, '');
  }
}

function bodyOf(req: Req): { text: string | undefined; contentType: string | null } {
  const b = req.body;
  switch (b.kind) {
    case 'none':
      return { text: undefined, contentType: b.contentType };
    case 'json':
      return { text: JSON.stringify(b.value), contentType: b.contentType };
    case 'malformed':
    case 'foreign':
      return { text: b.text, contentType: b.contentType };
    case 'huge': {
      const head = '{"username":"huge_body_user","accessLevel":"full","displayName":"';
      const fill = b.fill.repeat(Math.ceil(b.bytes / Buffer.byteLength(b.fill)));
      return { text: `${head}${fill}"}`, contentType: b.contentType };
    }
  }
}

// --- what the answer must be ------------------------------------------------------------------------

interface Expectation {
  /** The status the contract makes certain for this request, when it is certain. */
  status?: number | readonly number[];
  /** The status of the access checks (401/403/404/501), when one refuses the request. */
  gate?: number;
  /** The request must not reach any upstream. */
  noUpstream: boolean;
  /** Whether a 2xx answer may carry `raw`. */
  mayShowRaw: boolean;
}

/** The access checks in the contract's order; `backend` null for `GET /v1/backends`, which names none. */
function gateOf(req: Req, url: URL, scope: Scope, backend: string | null, capability: Capability | undefined, checkInclude: boolean): number | undefined {
  if (req.auth.name === null) return 401;
  const principal = PRINCIPALS[req.auth.name];
  if (!principal.scopes.includes(scope)) return 403;
  if (checkInclude && url.searchParams.get('include') === 'raw' && !principal.scopes.includes('admin')) return 403;
  if (backend === null) return undefined;
  if (principal.backends && !principal.backends.includes(backend)) return 403;
  if (!isBackendName(backend)) return 404;
  if (capability && !capabilities[backend][capability]) return 501;
  return undefined;
}

function queryVerdict(items: QueryItem[]): 'ok' | 'bad' | 'unknown' {
  const keys = items.filter((i) => !i.raw).map((i) => i.key);
  if (items.some((i) => i.verdict === 'bad') || new Set(keys).size !== keys.length) return 'bad';
  return items.some((i) => i.verdict === 'unknown') ? 'unknown' : 'ok';
}

function expectationOf(req: Req, url: URL): Expectation {
  const t = req.target;
  const isAdmin = req.auth.name !== null && PRINCIPALS[req.auth.name].scopes.includes('admin');
  const base = { mayShowRaw: isAdmin };
  switch (t.kind) {
    case 'system':
      return { ...base, noUpstream: true };
    case 'follow':
      return { ...base, noUpstream: false };
    case 'no-route':
      return { ...base, status: t.wrongMethod ? 405 : 404, noUpstream: true };
    case 'backends': {
      const gate = gateOf(req, url, 'read', null, undefined, false);
      return { ...base, status: gate ?? 200, gate, noUpstream: true };
    }
    case 'backend-info': {
      const gate = gateOf(req, url, 'read', t.backend, undefined, false);
      return { ...base, status: gate ?? 200, gate, noUpstream: gate !== undefined };
    }
    case 'route': {
      const { route } = t;
      const names = paramsOf(route.path);
      const params = names.map((n) => t.params[n]!);
      if (params.some(reroutes)) return { ...base, noUpstream: false }; // a dot segment: another route, or none
      const gate = gateOf(req, url, route.scope, t.backend, route.capability, true);
      if (gate !== undefined) return { ...base, status: gate, gate, noUpstream: true };
      const body = req.body;
      if (route.body && body.kind === 'huge') return { ...base, status: 413, noUpstream: true };
      const query = route.query ? queryVerdict(req.query) : 'ok';
      if (names.some((n) => hostileParam(n, t.params[n]!)) || query === 'bad') return { ...base, status: 400, noUpstream: true };
      if (query === 'unknown') return { ...base, noUpstream: false };
      if (!route.body) return { ...base, noUpstream: false };
      switch (body.kind) {
        case 'foreign':
          return { ...base, status: 415, noUpstream: true };
        case 'malformed':
          return { ...base, status: 400, noUpstream: true };
        case 'none':
          if (body.contentType !== null) return { ...base, status: body.jsonType ? 400 : 415, noUpstream: true };
          // No body and no media type: the schema sees {}: only a patch may be empty.
          return route.body === 'patch' ? { ...base, noUpstream: false } : { ...base, status: 400, noUpstream: true };
        case 'json':
          if (body.verdict === 'schema') return { ...base, status: 400, noUpstream: true };
          if (body.verdict === 'semantic') return { ...base, status: [400, 422], noUpstream: true };
          return { ...base, noUpstream: false };
        default:
          return { ...base, noUpstream: false };
      }
    }
  }
}

/** Statuses seen over the whole file, to show the generators reach every kind of answer. */
const seenStatuses = new Map<number, number>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

interface Outcome {
  status: number;
  body: unknown;
  location: string | null;
}

/** Sends one generated request from the seeded state and checks every promise above. */
async function check(req: Req, opts: { fresh?: boolean; statusOnlyAtGate?: boolean } = {}): Promise<Outcome> {
  if (opts.fresh !== false) resetWorld();
  const gw = gateways[req.target.gateway];
  const path = urlOf(req);
  const url = new URL(path, 'http://gateway.test');
  const method = methodOf(req.target);
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  if (req.auth.header !== null) headers.set('authorization', req.auth.header);
  const body = method === 'GET' || method === 'HEAD' ? { text: undefined, contentType: null } : bodyOf(req);
  if (body.contentType !== null) headers.set('content-type', body.contentType);

  emuGo.clearRequests();
  emuTogo.clearRequests();
  const logMark = gw.logs.length;
  const res = await gw.app.request(path, { method, headers, body: body.text });
  const text = await res.text();
  const upstream = [...emuGo.requests, ...emuTogo.requests].map((r) => `${r.method} ${r.path}`);
  const writes = upstream.filter((call) => !call.startsWith('GET '));
  const newLogs = gw.logs.splice(logMark);
  seenStatuses.set(res.status, (seenStatuses.get(res.status) ?? 0) + 1);

  const exp = expectationOf(req, url);
  const sentBody = body.text === undefined ? '' : ` body(${body.text.length}): ${body.text.slice(0, 300)}`;
  const said = `${method} ${path.slice(0, 400)} [${[...headers].map(([k, v]) => `${k}: ${v.slice(0, 80)}`).join(' | ')}]${sentBody}\n` +
    `→ ${res.status} ${text.slice(0, 600)}\nupstream: ${upstream.join(', ') || '(none)'}`;

  // Never a 5xx, but the 501 of a capability this backend lacks.
  if (res.status >= 500) {
    expect(res.status === 501 && exp.gate === 501, `a 5xx other than a capability's 501: ${said}`).toBe(true);
  }
  if (exp.status !== undefined && (!opts.statusOnlyAtGate || exp.gate !== undefined)) {
    const allowed = typeof exp.status === 'number' ? [exp.status] : exp.status;
    expect(allowed, `status: ${said}`).toContain(res.status);
  }

  // Every answer has a request id: the caller's when it is safe to echo, a fresh one otherwise.
  const requestId = res.headers.get('x-request-id');
  expect(requestId, `X-Request-Id: ${said}`).toMatch(SAFE_REQUEST_ID);
  const sentId = headers.get('x-request-id');
  if (sentId !== null && SAFE_REQUEST_ID.test(sentId)) expect(requestId, said).toBe(sentId);
  if (sentId !== null && !SAFE_REQUEST_ID.test(sentId)) expect(requestId, said).not.toBe(sentId);

  expect(text, `a stack trace: ${said}`).not.toMatch(STACK_TRACE);
  let parsed: unknown;
  if (res.status >= 300) {
    expect(res.headers.get('content-type'), `problem+json: ${said}`).toBe('application/problem+json');
    parsed = JSON.parse(text);
    const problem = parsed as Record<string, unknown>;
    expect(problem.status, said).toBe(res.status);
    expect(problem.code, said).toEqual(expect.any(String));
    expect(problem.requestId, said).toBe(requestId);
    for (const field of ['type', 'title', 'detail']) expect(problem[field], `${field}: ${said}`).toEqual(expect.any(String));
    if (res.status === 401) expect(res.headers.get('www-authenticate') ?? '', said).toMatch(/^Bearer/);
  } else if (text !== '' && /json/.test(res.headers.get('content-type') ?? '')) {
    parsed = JSON.parse(text);
  }

  // `raw` is for admin keys only.
  if (res.status < 300 && !exp.mayShowRaw && parsed && typeof parsed === 'object') {
    const p = parsed as { raw?: unknown; data?: unknown };
    const items = Array.isArray(p.data) ? (p.data as unknown[]) : [p];
    expect(items.some((i) => i !== null && typeof i === 'object' && 'raw' in i), `raw for a non-admin key: ${said}`).toBe(false);
  }

  // A refused request changes nothing upstream; one refused before any read reaches no upstream.
  if ([400, 413, 415, 422].includes(res.status)) expect(writes, `an upstream write for a refused request: ${said}`).toEqual([]);
  if (exp.noUpstream) expect(upstream, `an upstream call for a request refused before any: ${said}`).toEqual([]);

  expect(newLogs.filter((line) => line.includes('"unhandled error"')), `an unhandled error was logged: ${said}`).toEqual([]);
  return { status: res.status, body: parsed, location: res.headers.get('location') };
}

// --- arbitraries: strings ---------------------------------------------------------------------------

const WEIRD = [
  '', ' ', '\u0000', '\u0007', '\uD800', '\uDFFF', 'a\uD83D', '😀', 'é', 'e\u0301', '\u202Eevil', '\u200B', '\uFEFF',
  '\n', '\r\n', '\t', '"', "'", '\\', '/', '..', '../../etc/passwd', '%00', '%2F', '<script>alert(1)</script>',
  '${PATH}', '{{7*7}}', 'null', 'undefined', 'NaN', '__proto__', 'constructor', '☃', 'ʇsǝʇ', '𝕦𝕟𝕚𝕔𝕠𝕕𝕖', 'Ω≈ç√',
  'DROP TABLE users;--', ' leading', 'trailing ', 'x'.repeat(255), 'x'.repeat(256),
] as const;

/** Repeats of one character: long strings without generating them char by char. */
const huge = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom('x', 'é', '😀', '\u0000', '/', 'ab', '\uD800')).map(([n, ch]) => ch.repeat(n));
const anyString = fc.oneof(
  { arbitrary: fc.constantFrom(...WEIRD), weight: 3 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 1 },
  { arbitrary: fc.array(fc.constantFrom(...WEIRD), { maxLength: 6 }).map((a) => a.join('')), weight: 1 },
  { arbitrary: huge(200, 5_000), weight: 1 },
);
/** Strings that survive encodeURIComponent (no lone surrogates): for URLs. */
const urlString = anyString.filter(urlSafe);
/** Characters a header value may hold (latin-1, no CR/LF/NUL). */
const headerChar = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c));
const headerValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 60 }),
  fc.tuple(fc.integer({ min: 200, max: 9_000 }), headerChar).map(([n, ch]) => ch.repeat(n)),
);
const noRealKey = (s: string) => !KEY_VALUES.some((k) => s.includes(k));
/** Any JSON value, nested, with unicode. */
const anyJson = fc.jsonValue({ maxDepth: 4 });

// --- arbitraries: auth, headers -------------------------------------------------------------------

const validAuth: fc.Arbitrary<Auth> = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant<KeyName>('ops'), weight: 6 }, { arbitrary: fc.constantFrom(...KEY_NAMES), weight: 2 }),
    fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer   '),
    fc.constantFrom('', ' ', '  '),
  )
  .map(([name, scheme, tail]) => ({ name, header: `${scheme}${KEYS[name]}${tail}` }));
const opsAuth: fc.Arbitrary<Auth> = fc.constant({ name: 'ops', header: `Bearer ${KEYS.ops}` });

/** An Authorization header that must be refused with a 401 (none at all included). */
const junkAuth: fc.Arbitrary<Auth> = fc
  .oneof(
    fc.constant(null),
    fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic', 'null', 'undefined', 'Bearer null', 'Bearer undefined', 'Bearer *'),
    headerValue.filter(noRealKey),
    fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,80}$/).filter(noRealKey).map((t) => `Bearer ${t}`),
    fc.constantFrom(...KEY_VALUES).chain((k) =>
      fc.constantFrom(
        `Basic ${k}`, `Bearer ${k}x`, `Bearer x${k}`, k, `Bearer ${k} ${k}`, `Bearer\t${k}`, `Bearer ${k.toUpperCase()}`,
        `Token ${k}`, `Bearer ${k.slice(0, -1)}`, `Bearer "${k}"`, `Bearer ${b64url(k)}`, `Bearer ${k},Bearer ${k}`, `Bearer=${k}`,
      ),
    ),
  )
  .map((header) => ({ name: null, header }));

const anyAuth = fc.oneof({ arbitrary: validAuth, weight: 8 }, { arbitrary: junkAuth, weight: 2 });

const requestIdHeader = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
  headerValue,
  fc.constantFrom('a'.repeat(129), 'has space', 'semi;colon', 'trace/1', '<x>', 'Ã©', ''),
);
const extraHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('x-request-id'), requestIdHeader),
    fc.tuple(fc.constant('cache-control'), fc.oneof(fc.constantFrom('no-cache', 'NO-CACHE', 'no-store', 'max-age=0, no-cache', 'private'), headerValue)),
    fc.tuple(fc.constant('accept'), fc.oneof(fc.constantFrom('application/json', '*/*', 'text/html', 'application/problem+json'), headerValue)),
    fc.tuple(fc.constantFrom('x-forwarded-for', 'x-forwarded-host', 'cookie', 'if-none-match', 'origin', 'x-http-method-override', 'accept-encoding', 'range', 'prefer'), headerValue),
    fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue),
  ),
  { maxLength: 4 },
);

// --- arbitraries: path parameters -----------------------------------------------------------------

const existingParam: fc.Arbitrary<Param> = fc.nat({ max: 10 }).map((n) => ({ kind: 'existing', n }));
const plausibleParam: fc.Arbitrary<Param> = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9._~:@-]{1,40}$/),
    fc.nat().map(String),
    fc.constantFrom('0', '-1', '+1', '007', '2147483647', '2147483648', '9007199254740993', 'ffffffffffffffffffffffffffffff', 'a'.repeat(128), 'root', '~', '@', ':'),
  )
  .filter((s) => !isDotSegment(s))
  .map((text) => ({ kind: 'text', text }));
/** Ids no provider would mint: a forbidden character, or too long. Sent URL-encoded, or raw. */
const hostileParam_: fc.Arbitrary<Param> = fc.oneof(
  urlString.filter((s) => s.length > 0 && !ID_CHARS.test(s) && !isDotSegment(s)).map((text): Param => ({ kind: 'text', text })),
  fc.tuple(fc.integer({ min: 129, max: 4_000 }), fc.constantFrom('1', 'a', '-')).map(([n, ch]): Param => ({ kind: 'text', text: ch.repeat(n) })),
  fc.constantFrom('a b', 'a/b', 'a?b', 'a#b', 'a%b', 'a+b', 'ü', '😀', '\u0000', 'a\nb', '<x>', "'", '"', '*', '$', '%2F', '1;2', '1,2', '1=1', '1\\2')
    .map((text): Param => ({ kind: 'text', text })),
  fc.constantFrom(
    '%2F', '%2f', 'a%2Fb', '%00', '%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '..%2F..%2Fetc%2Fpasswd', '%252F', '%25', 'a%20b',
    '%F0%9F%98%80', '%0D%0A', '%5C', '%3F', '%23', '%2e%2e%2f', '1%3B2', '%FF',
  ).map((text): Param => ({ kind: 'raw', text })),
);
const dotParam: fc.Arbitrary<Param> = fc.oneof(
  fc.constantFrom('.', '..').map((text): Param => ({ kind: 'text', text })),
  fc.constantFrom('%2e', '%2E%2e', '.%2e', '%2e.').map((text): Param => ({ kind: 'raw', text })),
);
const anyParam = fc.oneof(
  { arbitrary: existingParam, weight: 5 },
  { arbitrary: plausibleParam, weight: 3 },
  { arbitrary: hostileParam_, weight: 3 },
  { arbitrary: dotParam, weight: 1 },
);
const okParam = fc.oneof({ arbitrary: existingParam, weight: 3 }, { arbitrary: plausibleParam, weight: 1 });

function paramsFor(route: BackendRoute, each: fc.Arbitrary<Param>): fc.Arbitrary<Partial<Record<ParamName, Param>>> {
  const names = paramsOf(route.path);
  return fc.tuple(...names.map(() => each)).map((values) => Object.fromEntries(names.map((n, i) => [n, values[i]!])));
}

/** Like paramsFor, with at least one hostile parameter. */
function hostileParamsFor(route: BackendRoute): fc.Arbitrary<Partial<Record<ParamName, Param>>> {
  const names = paramsOf(route.path);
  return fc
    .tuple(fc.nat({ max: names.length - 1 }), fc.tuple(...names.map(() => fc.oneof(okParam, hostileParam_))), hostileParam_)
    .map(([at, values, bad]) => Object.fromEntries(names.map((n, i) => [n, i === at ? bad : values[i]!])));
}

// --- arbitraries: query strings -------------------------------------------------------------------

const LIST_KEYS = ['limit', 'cursor', 'username', 'status', 'order', 'include'];
const unknownKey = fc
  .oneof(
    fc.constantFrom(
      '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'LIMIT', 'Limit', 'limit[]', 'limit ', ' cursor', 'offset',
      'page', 'q', 'filter', 'sort', 'fields', 'include[]', 'Include', 'expand', 'api_key', 'key', 'backend', 'id',
    ),
    urlString.filter((s) => s.length > 0 && s.length < 200),
  )
  .filter((k) => !LIST_KEYS.includes(k));
const item = (key: string, value: fc.Arbitrary<string | null | { forgeOffset: number }>, verdict: QueryItem['verdict']) =>
  value.map((v): QueryItem => ({ key, value: v, verdict }));

const limitBad = fc.oneof(
  fc.integer({ max: 0 }).map(String),
  fc.integer({ min: 501 }).map(String),
  fc.constantFrom('', 'ten', 'NaN', 'Infinity', '-Infinity', '1.5', '0x', 'null', '1_000', '١٠', '1e3', '5e-1', '-0', '9'.repeat(400), 'true', '[]', '{}'),
  fc.stringMatching(/^[a-zA-Z]{1,10}$/),
);
const notOneOf = (values: readonly string[]) => urlString.filter((s) => !values.includes(s));
const base64urlJunk = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  anyJson.map((v) => b64url(JSON.stringify(v))),
  fc
    .record({
      v: fc.constantFrom<unknown>(1, 2, '1', 0, null),
      o: fc.oneof(fc.integer(), fc.constantFrom<unknown>(-1, 1.5, 2 ** 53, '5', null, 1e308)),
      q: fc.string({ maxLength: 12 }),
    }, { requiredKeys: [] })
    .map((body) => b64url(JSON.stringify(body))),
);
const cursorBad = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
  base64urlJunk,
  fc.stringMatching(/^[A-Za-z0-9_-]{513,700}$/),
  fc.constantFrom('', '=', '%', 'eyJ2IjoxfQ', 'eyJ2IjoxLCJvIjotMSwicSI6IngifQ', 'null', '0', 'a'.repeat(513), '....', 'e30'),
);

/** Valid items of a `GET /users` query. */
const listOk = fc.oneof(
  item('limit', fc.oneof(fc.integer({ min: 1, max: 500 }).map(String), fc.constantFrom('1', '500')), 'ok'),
  item('order', fc.constantFrom('asc', 'desc'), 'ok'),
  item('status', fc.constantFrom('active', 'disabled'), 'ok'),
  item('username', fc.oneof(urlString.filter((s) => s.length >= 1 && s.length <= 255), fc.constantFrom('seeded_user_1', 'seeded.user.1')), 'ok'),
  item('include', fc.constant('raw'), 'ok'),
  item('cursor', fc.oneof(fc.nat({ max: 5 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 31)).map((forgeOffset) => ({ forgeOffset })), 'ok'),
);
/** Items a `GET /users` query must refuse (400). */
const listBad = fc.oneof(
  item('limit', limitBad, 'bad'),
  item('order', notOneOf(['asc', 'desc']), 'bad'),
  item('status', notOneOf(['active', 'disabled']), 'bad'),
  item('include', notOneOf(['raw']), 'bad'),
  item('username', fc.oneof(fc.constant(''), huge(256, 3_000).filter(urlSafe)), 'bad'),
  item('cursor', cursorBad, 'bad'),
  fc.constantFrom(...LIST_KEYS).map((key): QueryItem => ({ key, value: null, verdict: 'bad' })),
  fc.tuple(unknownKey, fc.oneof(urlString, fc.constant(null))).map(([key, value]): QueryItem => ({ key, value, verdict: 'bad' })),
);
/** Query text whose reading is not this file's to decide: raw percent-encoding, empty keys, stray separators. */
const rawItem = fc
  .constantFrom('', '&', '=', '==', '=x', '%', '%zz=1', 'limit=%zz', 'order=%61sc', '%6Cimit=5', 'include=%72aw', 'a=%', '+=+', 'limit=+5', 'status=active%00', '?', ';', 'limit=1;order=desc')
  .map((text): QueryItem => ({ key: text, value: null, raw: true, verdict: 'unknown' }));
const includeOk = item('include', fc.constant('raw'), 'ok');
const includeBad = fc.oneof(
  item('include', notOneOf(['raw']), 'bad'),
  fc.tuple(unknownKey, fc.oneof(urlString, fc.constant(null))).map(([key, value]): QueryItem => ({ key, value, verdict: 'bad' })),
);
const okQueryFor = (kind: QueryKind | undefined): fc.Arbitrary<QueryItem[]> =>
  kind === 'list' ? fc.uniqueArray(listOk, { selector: (i) => i.key, maxLength: 4 })
    : kind === 'include' ? fc.array(includeOk, { maxLength: 1 }) : fc.constant<QueryItem[]>([]);
/** At least one bad item, the rest anything. */
const badQueryFor = (kind: QueryKind) =>
  fc
    .tuple(fc.array(kind === 'list' ? listOk : includeOk, { maxLength: 3 }), fc.array(kind === 'list' ? listBad : includeBad, { minLength: 1, maxLength: 3 }))
    .chain(([ok, bad]) => fc.shuffledSubarray([...ok, ...bad], { minLength: ok.length + bad.length }));
/** Repeats a known key (each value valid on its own): arrays are not values. */
const repeatedQuery = fc
  .tuple(listOk, fc.nat({ max: 2 }))
  .filter(([i]) => typeof i.value === 'string')
  .map(([i, extra]) => Array.from({ length: extra + 2 }, () => ({ ...i })));
/** Anything: for routes without a query schema, whatever the query is ignored (but include=raw). */
const anyQuery = fc.array(fc.oneof(listOk, listBad, rawItem, includeOk), { maxLength: 5 });

// --- arbitraries: bodies --------------------------------------------------------------------------

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json', 'application/vnd.api+json', 'application/json;charset=UTF-8'];
const jsonType = fc.constantFrom(...JSON_TYPES);
const foreignType = fc.oneof(
  fc.constantFrom(
    'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/xml',
    'text/json', 'application/json5', 'application/jsonx', 'application/json;', 'application/octet-stream', 'image/png', '*/*', 'json',
    'application/json, text/plain', 'text/html; charset=utf-8',
  ),
  fc.tuple(fc.stringMatching(/^[a-z]{1,10}$/), fc.stringMatching(/^[a-z0-9.+-]{1,12}$/)).map(([a, b]) => `${a}/${b}`).filter((t) => !/json/i.test(t)),
  headerValue.filter((v) => v.trim() !== '' && !/json/i.test(v)),
);

const nonObject = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), anyString,
  fc.array(anyJson, { maxLength: 4 }),
);
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }), fc.object({ maxDepth: 1 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const notStringNorNull = notString.filter((v) => v !== null);
const notArray = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), anyString, fc.object({ maxDepth: 1 }));
const longer = (than: number) => fc.tuple(fc.integer({ min: than + 1, max: than + 3_000 }), fc.constantFrom('a', 'é', '/')).map(([n, ch]) => ch.repeat(n));
const strNot = (values: readonly string[]) => anyString.filter((s) => !values.includes(s));

/** A limit value the schema refuses: out of 1..max, not an integer, not a number. */
const badLimitValue = fc.oneof(
  fc.constantFrom<unknown>(0, -1, 1.5, 2_147_483_648, 2 ** 53, 1e300, -0.0001, '5', true, [], {}),
  fc.integer({ max: 0 }),
);
const LIMIT_KEYS = ['maxSessions', 'quotaBytes', 'quotaFiles', 'uploadKBps', 'downloadKBps'] as const;
const badLimits = fc.oneof(
  fc.integer(), anyString, fc.boolean(), fc.array(anyJson, { maxLength: 3 }),
  fc.tuple(fc.constantFrom(...LIMIT_KEYS), badLimitValue).map(([k, v]) => ({ [k]: v })),
  fc.tuple(strNot(LIMIT_KEYS), anyJson).map(([k, v]) => ({ maxSessions: 5, [k]: v })),
);

const validCidr = fc.oneof(
  fc.ipV4(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`),
  fc.ipV6(),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
);
const notCidr = fc.oneof(
  fc.constantFrom('256.0.0.1', '1.2.3', '1.2.3.4/33', '::1/129', 'example.com', '1.2.3.4/', '/24', '01.2.3.4', '1.2.3.4/024', ':::', '1.2.3.4 /24', 'fe80::1%eth0', '*', '0/0', 'localhost'),
  fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^[0-9a-fA-F:.\/\s]+$/.test(s)),
);
const validRule = fc.record(
  {
    id: fc.oneof(fc.constantFrom('r1', 'r2'), fc.stringMatching(/^[A-Za-z0-9-]{1,36}$/)),
    cidr: validCidr,
    protocol: fc.constantFrom('any', 'sftp', 'ftps'),
    enabled: fc.boolean(),
    description: fc.oneof(fc.constant(null), anyString.filter((s) => s.length <= 1024)),
  },
  { requiredKeys: ['cidr'] },
);
const badRule = fc.oneof(
  nonObject.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
  fc.record({ cidr: fc.oneof(notStringNorNull, fc.constant(''), longer(64), fc.constant(null)) }),
  fc.tuple(validRule, strNot(['id', 'cidr', 'protocol', 'enabled', 'description']), anyJson).map(([r, k, v]) => ({ ...r, [k]: v })),
  validRule.chain((r) =>
    fc.oneof(
      strNot(['any', 'sftp', 'ftps']).map((protocol) => ({ ...r, protocol })),
      fc.oneof(fc.constantFrom<unknown>('true', 1, 0, null, 'yes')).map((enabled) => ({ ...r, enabled })),
      fc.oneof(notStringNorNull, longer(1024)).map((description) => ({ ...r, description })),
      fc.oneof(fc.constant(''), longer(128), notStringNorNull).map((id) => ({ ...r, id })),
    ),
  ),
);

/** A username: valid for SFTP To Go, valid only for SFTPGo, or hostile (still a string of 1..255). */
const username = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.-]{10,40}$/),
  anyString.filter((s) => s.length >= 1 && s.length <= 255),
  fc.constantFrom('seeded_user_1', 'seeded.user.1', 'a', 'a'.repeat(255), 'x/y', '..', '.', 'nul\u0000byte', 'bad\uD800surrogate', '😀'.repeat(100)),
);
const directory = fc.oneof(
  fc.constant('/'),
  anyString.filter((s) => s.length <= 4000).map((s) => `/${s}`),
  fc.constantFrom('/srv/x/', '/srv//x', '/srv/./x', '/srv/../../etc', '/..', '/ü/😀'),
);
const isoTime = fc
  .date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace('.000Z', 'Z'), d.toISOString().replace('Z', '+00:00')));
const validLimits = fc.record(
  {
    maxSessions: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_147_483_647 })),
    quotaBytes: fc.oneof(fc.constant(null), fc.constantFrom(1, Number.MAX_SAFE_INTEGER), fc.integer({ min: 1 })),
    quotaFiles: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_147_483_647 })),
    uploadKBps: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_147_483_647 })),
    downloadKBps: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_147_483_647 })),
  },
  { requiredKeys: [] },
);
const password = fc.oneof(anyString.filter((s) => s.length >= 1 && s.length <= 1024), fc.constantFrom('p', 'x'.repeat(1024), 'pässwörd😀', '"\\\u0000'));
const publicKeyLine = fc.oneof(
  fc.constantFrom(...sshKeys.map((k) => k.publicKey)),
  fc.tuple(fc.constantFrom(...sshKeys.map((k) => k.publicKey.split(' ').slice(0, 2).join(' '))), anyString.filter((s) => !/[\r\n]/.test(s))).map(([key, comment]) => `${key} ${comment}`),
);
/** Text that is no OpenSSH public key. */
const notAKey = fc.oneof(
  anyString.filter((s) => s.length >= 1 && s.length <= 16_384),
  fc.constantFrom('ssh-ed25519 AAAAnotakey', 'ssh-rsa', `ssh-rsa ${ED25519.publicKey.split(' ')[1]}`, `${ED25519.publicKey.slice(0, 40)}`, 'ssh-ed25519 !!!!'),
);

const userFields = {
  displayName: fc.oneof(fc.constant(null), anyString.filter((s) => s.length <= 255)),
  accessLevel: fc.constantFrom(...ACCESS_LEVELS),
  permissions: fc.subarray([...PERMISSIONS]).chain((p) => fc.shuffledSubarray(p, { minLength: p.length })),
  homeDirectory: directory,
  chrootDirectory: fc.oneof(fc.constant(null), directory),
  status: fc.constantFrom('active', 'disabled'),
  expiresAt: fc.oneof(fc.constant(null), isoTime),
  limits: fc.oneof(fc.constant(null), validLimits),
};
/** Bodies the schema accepts (they may still be refused later, for good reasons). */
const validishBody: Record<BodyKind, fc.Arbitrary<unknown>> = {
  create: fc.record(
    {
      username, ...userFields, password,
      sshKeys: fc.uniqueArray(fc.constantFrom(...sshKeys.map((k) => k.publicKey)), { maxLength: 3 }),
      networkRules: fc.array(validRule, { maxLength: 4 }),
    },
    { requiredKeys: ['username'] },
  ),
  patch: fc.record({ username, ...userFields, password }, { requiredKeys: [] }),
  password: fc.record({ password }),
  sshKey: fc.record({ publicKey: publicKeyLine }),
  rules: fc.record({ data: fc.array(validRule, { maxLength: 5 }) }),
};

/** For each field of the user bodies, values its schema refuses. */
const badUserField: Record<string, fc.Arbitrary<unknown>> = {
  username: fc.oneof(notString, fc.constant(''), longer(255)),
  displayName: fc.oneof(notStringNorNull, longer(255)),
  accessLevel: fc.oneof(notString, strNot(ACCESS_LEVELS), fc.constantFrom('Full', 'READ-ONLY', 'read_only', 'admin', 'all')),
  permissions: fc.oneof(
    notArray,
    fc.array(fc.oneof(strNot(PERMISSIONS), fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 4 }).chain((junk) =>
      fc.subarray([...PERMISSIONS]).map((good) => [...good, ...junk])),
    fc.array(fc.constantFrom(...PERMISSIONS), { minLength: 9, maxLength: 20 }),
    fc.constant(['*']),
  ),
  homeDirectory: fc.oneof(notString, fc.constant(''), strNot([]).filter((s) => !s.startsWith('/')), longer(4096).map((s) => `/${s}`)),
  chrootDirectory: fc.oneof(notStringNorNull, fc.constant(''), strNot([]).filter((s) => !s.startsWith('/')), longer(4096).map((s) => `/${s}`)),
  status: fc.oneof(notString, strNot(['active', 'disabled']), fc.constantFrom<unknown>(1, 0, 'Active', 'inactive', 'enabled')),
  expiresAt: fc.oneof(
    notStringNorNull,
    fc.constantFrom('tomorrow', '2021-13-01T00:00:00Z', '2021-02-30T00:00:00Z', '2021-01-01', '2021-01-01T00:00:00', '2021-01-01 00:00:00Z', '+275760-09-13T00:00:00.000Z', '1e3', '', 'now', '2021-01-01T25:00:00Z', '2021-01-01T00:00:00+99:00'),
    isoTime.map((t) => t.slice(0, 10)),
  ),
  limits: badLimits,
  password: fc.oneof(notString, fc.constant(''), longer(1024)),
  sshKeys: fc.oneof(
    notArray,
    fc.array(fc.oneof(notStringNorNull, fc.constant(''), longer(16_384)), { minLength: 1, maxLength: 3 }),
    fc.constant(Array.from({ length: 101 }, () => ED25519.publicKey)),
  ),
  networkRules: fc.oneof(notArray, fc.array(badRule, { minLength: 1, maxLength: 3 }), fc.constant(Array.from({ length: 101 }, () => ({ cidr: '10.0.0.1' })))),
};
const CREATE_FIELDS = ['username', ...Object.keys(userFields), 'password', 'sshKeys', 'networkRules'];
const PATCH_FIELDS = ['username', ...Object.keys(userFields), 'password'];
const FIELDS_OF: Record<BodyKind, string[]> = { create: CREATE_FIELDS, patch: PATCH_FIELDS, password: ['password'], sshKey: ['publicKey'], rules: ['data'] };

/** A body of the right shape with one to three fields made wrong. */
function wrongFields(kind: BodyKind): fc.Arbitrary<unknown> {
  const bad: Record<string, fc.Arbitrary<unknown>> =
    kind === 'sshKey' ? { publicKey: fc.oneof(notString, fc.constant(''), longer(16_384)) }
      : kind === 'rules' ? { data: fc.oneof(notArray, fc.array(badRule, { minLength: 1, maxLength: 3 }), fc.constant(Array.from({ length: 101 }, () => ({ cidr: '10.0.0.1' })))) }
        : Object.fromEntries(FIELDS_OF[kind].map((f) => [f, badUserField[f]!]));
  const names = Object.keys(bad);
  return fc.tuple(validishBody[kind], fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: Math.min(3, names.length) })).chain(([base, fields]) =>
    fc.tuple(...fields.map((f) => bad[f]!)).map((values) => ({ ...(base as object), ...Object.fromEntries(fields.map((f, i) => [f, values[i]])) })));
}

/** Bodies every route must refuse before any upstream call (the verdict says how). */
function invalidBody(kind: BodyKind): fc.Arbitrary<{ value: unknown; verdict: BodyVerdict }> {
  const schema = (a: fc.Arbitrary<unknown>) => a.map((value) => ({ value, verdict: 'schema' as const }));
  const semantic = (a: fc.Arbitrary<unknown>) => a.map((value) => ({ value, verdict: 'semantic' as const }));
  const unknownField = fc
    .tuple(validishBody[kind], fc.uniqueArray(strNot(FIELDS_OF[kind]), { minLength: 1, maxLength: 3 }), fc.array(anyJson, { minLength: 3, maxLength: 3 }))
    .map(([base, keys, values]) => ({ ...(base as object), ...Object.fromEntries(keys.map((k, i) => [k, values[i]])) }));
  const cases: fc.Arbitrary<{ value: unknown; verdict: BodyVerdict }>[] = [
    schema(nonObject),
    schema(unknownField),
    schema(wrongFields(kind)),
  ];
  if (kind === 'create') {
    const withBase = <T,>(a: fc.Arbitrary<T>, field: string) =>
      fc.tuple(validishBody.create, a).map(([b, v]) => ({ ...(b as object), [field]: v }));
    cases.push(
      schema(fc.record({ accessLevel: userFields.accessLevel, displayName: userFields.displayName }, { requiredKeys: [] })), // no username
      semantic(fc.tuple(validishBody.create, notAKey).map(([b, k]) => ({ ...(b as object), sshKeys: [k] }))),
      semantic(fc.tuple(validishBody.create, fc.constantFrom(...sshKeys.map((k) => k.publicKey))).map(([b, k]) => ({ ...(b as object), sshKeys: [k, k] }))),
      semantic(withBase(fc.array(validRule, { maxLength: 2 }).chain((rules) => notCidr.map((cidr) => [...rules, { cidr }])), 'networkRules')),
      semantic(fc.tuple(username, fc.constantFrom(...(['read-only', 'write-only', 'full'] as const))).map(([u, level]) => ({ username: u, accessLevel: level, permissions: ['list', 'upload'] }))),
      semantic(username.map((u) => ({ username: u }))), // neither accessLevel nor permissions
      semantic(username.map((u) => ({ username: u, accessLevel: 'custom' }))),
    );
  }
  if (kind === 'sshKey') cases.push(semantic(notAKey.map((publicKey) => ({ publicKey }))));
  if (kind === 'rules') cases.push(semantic(fc.array(validRule, { maxLength: 3 }).chain((rules) => notCidr.map((cidr) => ({ data: [...rules, { cidr }] })))));
  if (kind === 'patch') cases.push(schema(fc.constantFrom<unknown>({ password: '' }, { password: null }, { username: null }, { accessLevel: null }, { status: null })));
  if (kind === 'password') cases.push(schema(fc.constantFrom<unknown>({}, { password: '' }, { password: null }, { password: 'x', extra: 1 })));
  return fc.oneof(...cases);
}

/** Text a JSON parser refuses (a BOM is not counted: runtimes differ on it). */
const malformedJson = fc
  .oneof(
    fc.constantFrom('', ' ', '{', '}', '{"username": ', '{"username":"x",}', "{'username':'x'}", '[1,2', 'undefined', 'NaN', '{"a":1}{"b":2}', '{"a":01}', '{"a":"\u0000"}', '\u0000', '{"a":1e}', 'nul', 'tru', '{"a" 1}', '{a:1}'),
    fc.tuple(anyJson.map((v) => JSON.stringify(v)), fc.nat(), fc.constantFrom('', '{', '"', ',', '}', ']', '\\', 'x')).map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk),
    fc.tuple(fc.nat({ max: 200_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => open.repeat(depth + 1)), // deep, never closed
  )
  .filter((text) => {
    try {
      JSON.parse(text.replace(/^\uFEFF/, ''));
      return false;
    } catch {
      return !text.startsWith('\uFEFF');
    }
  });

/** Well-formed JSON nested up to 100 000 deep, where no schema wants it (written as text: no recursion here). */
const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('colour', 'username', 'limits', 'data', 'publicKey', 'password', ''))
  .map(([depth, field]) => {
    const nested = field === 'limits' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (field === '') return nested;
    const rest = field === 'username' ? '"accessLevel":"full"' : '"username":"deep_json_user","accessLevel":"full"';
    return `{${rest},${JSON.stringify(field)}:${nested}}`;
  });

function bodyFor(kind: BodyKind | undefined, mode: 'any' | 'valid' | 'invalid'): fc.Arbitrary<Body> {
  if (kind === undefined) {
    // The route takes no body: whatever is sent is ignored.
    return fc.oneof(
      fc.constant<Body>({ kind: 'none', contentType: null, jsonType: false }),
      fc.tuple(anyJson, jsonType).map(([value, contentType]): Body => ({ kind: 'json', value, contentType, verdict: 'maybe' })),
      fc.tuple(malformedJson, foreignType).map(([text, contentType]): Body => ({ kind: 'foreign', text, contentType })),
    );
  }
  const valid = fc.tuple(validishBody[kind], jsonType).map(([value, contentType]): Body => ({ kind: 'json', value, contentType, verdict: 'maybe' }));
  const invalid = fc.oneof(
    { arbitrary: fc.tuple(invalidBody(kind), jsonType).map(([b, contentType]): Body => ({ kind: 'json', ...b, contentType })), weight: 8 },
    { arbitrary: fc.tuple(fc.oneof(malformedJson, deepJson), jsonType).map(([text, contentType]): Body => ({ kind: 'malformed', text, contentType })), weight: 2 },
    { arbitrary: fc.tuple(fc.oneof(malformedJson, validishBody[kind].map((v) => JSON.stringify(v))), foreignType).map(([text, contentType]): Body => ({ kind: 'foreign', text, contentType })), weight: 2 },
    {
      // No body: with a media type it is refused (400 or 415); without one the schema sees {}, which only a patch accepts.
      arbitrary: fc.oneof(kind === 'patch' ? fc.oneof(jsonType, foreignType) : fc.oneof(fc.constant<string | null>(null), jsonType, foreignType))
        .map((contentType): Body => ({ kind: 'none', contentType, jsonType: contentType !== null && JSON_TYPES.includes(contentType) })),
      weight: 1,
    },
  );
  if (mode === 'valid') return valid;
  if (mode === 'invalid') return invalid;
  return fc.oneof({ arbitrary: valid, weight: 1 }, { arbitrary: invalid, weight: 1 });
}

// --- arbitraries: whole requests ------------------------------------------------------------------

const gatewayName = fc.constantFrom(...BACKEND_NAMES);
/** A backend name in a path: a configured one, or anything else (URL-encoded, never a dot segment). */
const backendName = fc.oneof(
  { arbitrary: fc.constantFrom(...BACKEND_NAMES), weight: 8 },
  { arbitrary: urlString.filter((s) => s.length > 0 && !isDotSegment(s) && !isBackendName(s)), weight: 1 },
  { arbitrary: fc.constantFrom('ONPREM', 'onprem ', 'togo%00', 'default', 'constructor', '__proto__', 'toString'), weight: 1 },
);

function routeTarget(routes: readonly BackendRoute[], params: (r: BackendRoute) => fc.Arbitrary<Partial<Record<ParamName, Param>>>): fc.Arbitrary<Target> {
  return fc.constantFrom(...routes).chain((route) =>
    fc.record({
      kind: fc.constant('route' as const),
      route: fc.constant(route),
      gateway: gatewayName,
      scoped: fc.boolean(),
      backend: backendName,
      params: params(route),
    }).map((t): Target => (t.scoped ? t : { ...t, backend: t.gateway })));
}

const WRONG_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'FOO'];
const noRouteTarget: fc.Arbitrary<Target> = fc.oneof(
  // A real path with a method it does not have.
  fc.tuple(fc.constantFrom(...BACKEND_ROUTES), gatewayName, fc.constantFrom(...WRONG_METHODS)).filter(([r, , m]) =>
    !BACKEND_ROUTES.some((o) => o.path === r.path && o.method === m)).map(([r, gateway, method]): Target => ({
    kind: 'no-route', gateway, method, path: `/v1${r.path.replace(/\{\w+\}/g, '1')}`, wrongMethod: true,
  })),
  fc.tuple(gatewayName, fc.constantFrom('GET', 'POST', 'DELETE'), fc.oneof(
    fc.constantFrom('/v2/users', '/v1', '/v1/', '/v1/users/', '/v1/users/1/unknown', '/v1/backends/onprem/users/1/ssh-keys/k/extra', '/', '/v1/backends/onprem/', '/V1/users', '/v1//users'),
    urlString.map((s) => `/v1/zz-${enc(s)}`),
  )).map(([gateway, method, path]): Target => ({ kind: 'no-route', gateway, method, path })),
);

const anyTarget: fc.Arbitrary<Target> = fc.oneof(
  { arbitrary: routeTarget(BACKEND_ROUTES, (r) => paramsFor(r, anyParam)), weight: 16 },
  { arbitrary: gatewayName.map((gateway): Target => ({ kind: 'backends', gateway })), weight: 1 },
  { arbitrary: fc.tuple(gatewayName, backendName).map(([gateway, backend]): Target => ({ kind: 'backend-info', gateway, backend })), weight: 1 },
  { arbitrary: fc.tuple(gatewayName, fc.constantFrom(...SYSTEM_PATHS)).map(([gateway, path]): Target => ({ kind: 'system', gateway, path })), weight: 1 },
  { arbitrary: noRouteTarget, weight: 1 },
);

const anyRequest: fc.Arbitrary<Req> = anyTarget.chain((target) => {
  const route = target.kind === 'route' ? target.route : undefined;
  return fc.record({
    target: fc.constant(target),
    query: route?.query
      ? fc.oneof(okQueryFor(route.query), badQueryFor(route.query), anyQuery, route.query === 'list' ? repeatedQuery : fc.constant<QueryItem[]>([]))
      : anyQuery,
    auth: anyAuth,
    headers: extraHeaders,
    body: bodyFor(route?.body, 'any'),
  });
});

/** A request like `anyRequest` but where only `vary` differs from a well-formed ops call. */
function wellFormed(target: fc.Arbitrary<Target>, parts: Partial<{ [K in keyof Req]: (t: Target) => fc.Arbitrary<Req[K]> }> = {}): fc.Arbitrary<Req> {
  return target.chain((t) => {
    const route = t.kind === 'route' ? t.route : undefined;
    return fc.record({
      target: fc.constant(t),
      query: parts.query?.(t) ?? okQueryFor(route?.query),
      auth: parts.auth?.(t) ?? opsAuth,
      headers: parts.headers?.(t) ?? fc.constant<[string, string][]>([]),
      body: parts.body?.(t) ?? bodyFor(route?.body, 'valid'),
    });
  });
}

// --- the properties -------------------------------------------------------------------------------

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // The live check of each backend, on each gateway: what SFTPGo can do depends on its version,
  // which the check finds (so no generated request spends a call on finding it).
  const found: Array<[string, Record<Capability, boolean>]> = [];
  for (const gateway of Object.values(gateways)) {
    for (const name of BACKEND_NAMES) {
      const res = await gateway.json('GET', `/v1/backends/${name}`);
      expect([res.status, res.body.health?.ok]).toEqual([200, true]);
      found.push([name, res.body.capabilities]);
    }
  }
  capabilities = Object.fromEntries(found) as typeof capabilities;
  expect(Object.keys(capabilities).sort()).toEqual([...BACKEND_NAMES].sort());
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('hostile input (fast-check)', () => {
  it('any request to any route, in either form, on either provider: no 5xx but a capability 501, problem+json errors, checks in order, no write for a refused request', async () => {
    await fc.assert(fc.asyncProperty(anyRequest, async (req) => {
      await check(req);
    }), options(300));
  }, PROPERTY_TIMEOUT);

  it('bodies the schema or the gateway must refuse: 400 (or 422), before any upstream call', async () => {
    const target = routeTarget(BODY_ROUTES, (r) => paramsFor(r, okParam));
    await fc.assert(fc.asyncProperty(wellFormed(target, { body: (t) => bodyFor((t as { route: BackendRoute }).route.body, 'invalid') }), async (req) => {
      const exp = expectationOf(req, new URL(urlOf(req), 'http://gateway.test'));
      expect(exp.status, 'the generator made a request whose refusal is certain').toBeDefined();
      await check(req);
    }), options(250));
  }, PROPERTY_TIMEOUT);

  it('bad queries, repeated keys and bad cursors: 400 before any upstream call', async () => {
    const target = routeTarget(QUERY_ROUTES, (r) => paramsFor(r, okParam));
    const query = (t: Target) => {
      const kind = (t as { route: BackendRoute }).route.query!;
      return kind === 'list' ? fc.oneof(badQueryFor('list'), repeatedQuery) : badQueryFor('include');
    };
    await fc.assert(fc.asyncProperty(wellFormed(target, { query, auth: () => validAuth }), async (req) => {
      await check(req);
    }), options(200));
  }, PROPERTY_TIMEOUT);

  it('valid queries with extreme limits and forged cursors never fail', async () => {
    const target = routeTarget(QUERY_ROUTES, (r) => paramsFor(r, okParam));
    await fc.assert(fc.asyncProperty(wellFormed(target, { headers: () => extraHeaders }), async (req) => {
      const out = await check(req);
      if ((req.target as { route: BackendRoute }).route.query === 'list' && isBackendName((req.target as { backend: string }).backend)) {
        expect(out.status, JSON.stringify(out.body)).toBe(200);
      }
    }), options(100));
  }, PROPERTY_TIMEOUT);

  it('path ids with forbidden characters, encoded or raw, or too long: 400 before any upstream call', async () => {
    const target = routeTarget(PARAM_ROUTES, hostileParamsFor);
    await fc.assert(fc.asyncProperty(wellFormed(target), async (req) => {
      await check(req);
    }), options(200));
  }, PROPERTY_TIMEOUT);

  it('a body over 1 MiB is a 413 before any upstream call (and one just under is read)', async () => {
    const target = routeTarget(BODY_ROUTES, (r) => paramsFor(r, okParam));
    const body = () =>
      fc.record({
        kind: fc.constant('huge' as const),
        bytes: fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES + 256 * 1024 }),
        fill: fc.constantFrom('x', 'é', '😀', '\\u0000'),
        contentType: fc.oneof(jsonType, foreignType),
      });
    await fc.assert(fc.asyncProperty(wellFormed(target, { body }), async (req) => {
      await check(req);
    }), options(25));
    // Just under the limit: read and judged on its content (an overlong displayName: 400, not 413).
    const under = `{"username":"under_limit_user","accessLevel":"full","displayName":"${'x'.repeat(MAX_BODY_BYTES - 80)}"}`;
    expect(Buffer.byteLength(under)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    resetWorld();
    const res = await gateways.onprem.call('POST', '/v1/users', { rawBody: under });
    expect(res.status).toBe(400);
    expect(emuGo.requests).toEqual([]);
  }, PROPERTY_TIMEOUT);

  it('a body that is not JSON is a 415, malformed JSON a 400, before any upstream call', async () => {
    const target = routeTarget(BODY_ROUTES, (r) => paramsFor(r, okParam));
    const body = (t: Target) => {
      const kind = (t as { route: BackendRoute }).route.body!;
      return fc.oneof(
        fc.tuple(fc.oneof(malformedJson, validishBody[kind].map((v) => JSON.stringify(v)), anyString), foreignType).map(([text, contentType]): Body => ({ kind: 'foreign', text, contentType })),
        fc.tuple(fc.oneof(malformedJson, deepJson), jsonType).map(([text, contentType]): Body => ({ kind: 'malformed', text, contentType })),
      );
    };
    await fc.assert(fc.asyncProperty(wellFormed(target, { body }), async (req) => {
      await check(req);
    }), options(200));
  }, PROPERTY_TIMEOUT);

  it('a junk Authorization (or none) is a 401 with WWW-Authenticate on every route, before anything else', async () => {
    const target = fc.oneof(
      routeTarget(BACKEND_ROUTES, (r) => paramsFor(r, anyParam)),
      gatewayName.map((gateway): Target => ({ kind: 'backends', gateway })),
      fc.tuple(gatewayName, backendName).map(([gateway, backend]): Target => ({ kind: 'backend-info', gateway, backend })),
    );
    await fc.assert(fc.asyncProperty(wellFormed(target, {
      auth: () => junkAuth,
      query: () => anyQuery,
      headers: () => extraHeaders,
      body: (t) => bodyFor(t.kind === 'route' ? t.route.body : undefined, 'any'),
    }), async (req) => {
      const exp = expectationOf(req, new URL(urlOf(req), 'http://gateway.test'));
      if (exp.status !== undefined) expect(exp.status).toBe(401); // (a dot segment may lead elsewhere)
      await check(req);
    }), options(150));
  }, PROPERTY_TIMEOUT);

  it('X-Request-Id: echoed when safe, replaced otherwise; Cache-Control and other headers never break an answer', async () => {
    await fc.assert(fc.asyncProperty(wellFormed(anyTarget, { headers: () => fc.tuple(fc.tuple(fc.constant('x-request-id'), requestIdHeader), extraHeaders).map(([id, rest]) => [id, ...rest]) }), async (req) => {
      await check(req);
    }), options(100));
  }, PROPERTY_TIMEOUT);

  it('Idempotency-Key with hostile values on every route: never a 5xx, never a write for a refused request', async () => {
    // The header is checked after the access checks and the path, before the body; a kept answer may
    // be replayed (or a reused key refused) in a later run, so only the access checks' status is certain.
    const idempotencyKey = fc.oneof(headerValue, fc.stringMatching(/^[\x20-\x7E]{1,255}$/), fc.constantFrom('k1', 'k2', 'x'.repeat(256), ' '));
    await fc.assert(fc.asyncProperty(
      anyRequest.chain((req) => fc.tuple(fc.constant(req), idempotencyKey)).map(([req, key]): Req => ({ ...req, headers: [...req.headers, ['idempotency-key', key]] })),
      async (req) => {
        await check(req, { statusOnlyAtGate: true });
      },
    ), options(150));
  }, PROPERTY_TIMEOUT);

  it('well-formed writes with hostile values never fail, and what they make can be read and listed', async () => {
    const target = routeTarget(BACKEND_ROUTES.filter((r) => r.method !== 'GET'), (r) => paramsFor(r, okParam));
    await fc.assert(fc.asyncProperty(wellFormed(target), async (req) => {
      const out = await check(req);
      if (out.status >= 300 || req.target.kind !== 'route' || !isBackendName(req.target.backend)) return;
      // Whatever the write made or changed must read back: the user, and every list of the backend.
      const backend = req.target.backend;
      const follow = (path: string): Req => ({
        target: { kind: 'follow', gateway: req.target.gateway, path }, query: [], auth: { name: 'ops', header: `Bearer ${KEYS.ops}` }, headers: [], body: { kind: 'none', contentType: null, jsonType: false },
      });
      const reads = [`/v1/backends/${backend}/users`, `/v1/backends/${backend}/users?order=desc&limit=1`, `/v1/backends/${backend}/users?include=raw`];
      // (Only a user has a GET of its own: an added SSH key's Location is for its DELETE.)
      if (out.location && (req.target as { route: BackendRoute }).route.path === '/users') reads.push(out.location, `${out.location}?include=raw`);
      for (const path of reads) {
        const read = await check(follow(path), { fresh: false });
        expect(read.status, `after ${urlOf(req)}: GET ${path} → ${JSON.stringify(read.body).slice(0, 400)}`).toBe(200);
      }
    }), options(200));
  }, PROPERTY_TIMEOUT);

  // Counterexamples the properties found, kept as plain cases so that each shows on its own.
  describe('found by the properties', () => {
    const ops: Auth = { name: 'ops', header: `Bearer ${KEYS.ops}` };
    /** A request the gateway must refuse before any upstream call (400, or 422). */
    const refused = (backend: BackendName, route: BackendRoute, params: Partial<Record<ParamName, Param>>, value: unknown): Req => ({
      target: { kind: 'route', route, gateway: backend, scoped: true, backend, params },
      query: [], auth: ops, headers: [], body: { kind: 'json', value, contentType: 'application/json', verdict: 'semantic' },
    });
    const route = (method: Method, path: string) => BACKEND_ROUTES.find((r) => r.method === method && r.path === path)!;
    const list = (backend: BackendName): Req => ({
      target: { kind: 'follow', gateway: backend, path: `/v1/backends/${backend}/users` }, query: [], auth: ops, headers: [],
      body: { kind: 'none', contentType: null, jsonType: false },
    });

    it('a username that is not well-formed UTF-16 (a lone surrogate, valid JSON) is refused, and never poisons the user list', async () => {
      resetWorld();
      await check(refused('onprem', route('POST', '/users'), {}, { username: 'bad\uD800name', accessLevel: 'full' }), { fresh: false });
      expect((await check(list('onprem'), { fresh: false })).status).toBe(200);
    });

    it('network rules with the same id twice are a 400 before any upstream write (replace, and create)', async () => {
      const rules = [{ id: 'r1', cidr: '192.0.2.1' }, { id: 'r1', cidr: '198.51.100.0/24' }];
      await check(refused('togo', route('PUT', '/users/{id}/network-rules'), { id: { kind: 'existing', n: 1 } }, { data: rules }));
      await check(refused('togo', route('POST', '/users'), {}, { username: 'dup.rule.ids', accessLevel: 'read-only', networkRules: rules }));
    });

    it("':::' and the like are no CIDR: a 400 before any upstream write", async () => {
      for (const cidr of [':::', '1:::2', ':::1/64']) {
        const req = refused('togo', route('PUT', '/users/{id}/network-rules'), { id: { kind: 'existing', n: 1 } }, { data: [{ cidr }] });
        expect((await check(req)).status).toBe(400);
      }
    });
  });

  it('no unhandled rejection, and the generators reached every kind of answer', () => {
    expect(unhandled).toEqual([]);
    const seen = [...seenStatuses.keys()].sort();
    for (const status of [200, 201, 204, 400, 401, 403, 404, 413, 415, 422, 501]) {
      expect(seen, `statuses seen: ${JSON.stringify(Object.fromEntries(seenStatuses))}`).toContain(status);
    }
  });
});
