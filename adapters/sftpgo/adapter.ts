/**
 * The SFTPGo 1.2.0 adapter: the gateway's provider-neutral calls carried to SFTPGo's REST API
 * (`/api/v1`, seeds/sftpgo-openapi-1.2.0.yaml), with the real server's quirks handled here:
 * offset paging without a status filter, a whole-object `PUT /user/{id}` (read-merge-write under
 * a per-user mutex), `POST /user` answering 200 without keys, `/version` as object or array.
 */
import type {
  AdapterDeps, CallContext, CreatedUserResult, HealthResult, ListUsersQuery, ProviderAdapter, UserPage,
} from '../../src/adapter.js';
import { SftpgoBackendConfig } from '../../src/config.js';
import {
  GatewayError, conflict, invalidRequest, notFound, rateLimited, upstreamError,
} from '../../src/errors.js';
import { KeyedMutex } from '../../src/keyed-mutex.js';
import type { Capabilities, SshKey, UserCreate, UserPatch } from '../../src/model.js';
import { generatePassword } from '../../src/secrets.js';
import { parseSshKeyList, parseSshPublicKey, sshKeyIdOf, type ParsedSshKey } from '../../src/ssh-key.js';
import {
  UpstreamClient, upstreamMessage, type UpstreamRequest, type UpstreamResponse,
} from '../../src/upstream.js';
import {
  checkBackendConfig, interpretFailure, scrub, type FailureOptions as CallOptions, type ProviderVoice,
} from '../../src/upstream-failure.js';
import {
  mergeUserPatch, storedBody, toConnection, toQuotaScan, toSshKey, toUpstreamCreate, toUser, type BackendContext,
} from './mapping.js';
import {
  ApiResponse, INT32_MAX, UpstreamConnectionList, UpstreamQuotaScanList, UpstreamUser, parseUpstreamUserList,
  VersionAnswer, parseUpstream, type UpstreamUserBody,
} from './schema.js';

/** The sftpgo column of CONTRACT §2. */
export const SFTPGO_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  displayName: false,
  networkRules: false,
  independentChroot: false,
  rename: false,
  passwordSet: true,
  expiration: true,
  limits: true,
  usage: true,
  customPermissions: true,
  connections: true,
  quotaScans: true,
  passwordRotation: true,
  sshKeys: true,
});

/** SFTPGo clamps `limit` above this. */
const PAGE_MAX = 500;
/** Upstream pages one status-filtered list request may read before it answers with what it has. */
const MAX_SCAN_PAGES = 20;
const USER_ID = /^[1-9][0-9]{0,9}$/;

/** What errors say about SFTPGo, and where to look when its answers mean the config is wrong. */
const VOICE: ProviderVoice = {
  label: 'SFTPGo',
  credentialsRejected: (status, call) =>
    `SFTPGo rejected the gateway's own credentials (${status} on ${call}): check the backend's username and password`,
  notWhereConfigured: (call) => `SFTPGo answered 404 to ${call}: is the backend's baseUrl the server root?`,
};

function basicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** SFTPGo ids are positive int32: anything else cannot exist, so no call is made for it. */
function userIdOf(id: string): number {
  const n = USER_ID.test(id) ? Number(id) : NaN;
  if (!(n <= INT32_MAX)) throw notFound(`user ${id} not found`);
  return n;
}

/**
 * Builds the adapter for one SFTPGo backend. Config is checked and the client built here, once.
 *
 * @example
 * const adapter = createSftpgoAdapter(
 *   { provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://127.0.0.1:8081', sftpPort: 2022,
 *     sftpHost: 'sftp.example.com', homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 5000 },
 *   { backend: 'onprem' },
 * );
 */
export function createSftpgoAdapter(config: SftpgoBackendConfig, deps: AdapterDeps): ProviderAdapter {
  const cfg = checkBackendConfig(SftpgoBackendConfig, config, deps.backend);
  const authorization = cfg.username !== undefined && cfg.password !== undefined ? basicAuth(cfg.username, cfg.password) : undefined;
  const client = new UpstreamClient({
    baseUrl: `${cfg.baseUrl.replace(/\/+$/, '')}/api/v1`,
    headers: authorization ? { authorization } : {},
    timeoutMs: cfg.timeoutMs,
    retries: cfg.retries,
    breaker: deps.breaker,
    observe: deps.observeUpstream,
    label: 'SFTPGo',
    fetch: deps.fetch,
    transport: deps.transport,
  });
  // Everything that would reveal the credentials if an upstream message echoed it: the parts, and
  // the header (and its base64) in case the server repeats what it was sent.
  const credentials = [cfg.username, cfg.password, authorization, authorization?.slice('Basic '.length)]
    .filter((s): s is string => s !== undefined);
  const backendCtx: BackendContext = { backend: deps.backend, sftpHost: cfg.sftpHost ?? null, sftpPort: cfg.sftpPort };
  const mutex = new KeyedMutex();

  /** One upstream call: a 2xx answer is returned, anything else thrown as the gateway's error. */
  async function send(req: UpstreamRequest, ctx: CallContext, opts: CallOptions = {}): Promise<UpstreamResponse> {
    const res = await client.request(req, ctx);
    if (res.status >= 200 && res.status < 300) return res;
    throw interpretFailure(VOICE, res, req, opts, credentials);
  }

  // ---- users ------------------------------------------------------------------------------

  async function readUser(id: number, ctx: CallContext): Promise<UpstreamUser> {
    const res = await send({ method: 'GET', path: `/user/${id}` }, ctx, { notFound: `user ${id} not found` });
    return parseUpstream(UpstreamUser, res.body, 'a user', res.status);
  }

  /** PUT of the whole user; the body's id equals the path's, as later SFTPGo versions require. */
  async function writeUser(id: number, body: UpstreamUserBody, ctx: CallContext, opts: CallOptions = {}): Promise<void> {
    // The answer is an ApiResponse, not the user: nothing in it is needed.
    await send({ method: 'PUT', path: `/user/${id}`, body: { ...body, id } }, ctx, {
      notFound: `user ${id} not found`,
      ...opts,
      secrets: [...(opts.secrets ?? []), ...(typeof body.password === 'string' ? [body.password] : [])],
    });
  }

  /**
   * Read-merge-write under the user's mutex, so two changes in flight through this gateway never
   * lose each other's fields. `change` returns the body to PUT, or null when nothing changes.
   */
  async function modifyUser<T>(
    id: string,
    ctx: CallContext,
    change: (stored: UpstreamUser) => Promise<{ body: UpstreamUser | null; result: T }>,
    opts: CallOptions = {},
  ): Promise<T> {
    const userId = userIdOf(id);
    return mutex.run(String(userId), async () => {
      const stored = await readUser(userId, ctx);
      const { body, result } = await change(stored);
      if (body) await writeUser(userId, body, ctx, opts);
      return result;
    });
  }

  async function fetchUserPage(q: ListUsersQuery, offset: number, limit: number, ctx: CallContext): Promise<UpstreamUser[]> {
    const query = { offset, limit, order: q.order === 'desc' ? 'DESC' : 'ASC', username: q.username };
    const res = await send({ method: 'GET', path: '/user', query }, ctx);
    return parseUpstreamUserList(res.body, res.status);
  }

  /** Asks one more than wanted to know whether a next page exists (a probe of 1 when that exceeds 500). */
  async function listPage(q: ListUsersQuery, limit: number, ctx: CallContext): Promise<UserPage> {
    const ask = Math.min(limit + 1, PAGE_MAX);
    const users = await fetchUserPage(q, q.offset, ask, ctx);
    let more = users.length > limit;
    if (!more && ask === limit && users.length === limit) {
      more = (await fetchUserPage(q, q.offset + limit, 1, ctx)).length > 0;
    }
    return { data: users.slice(0, limit).map((u) => toUser(u, backendCtx)), nextOffset: more ? q.offset + limit : null };
  }

  /**
   * SFTPGo 1.2.0 cannot filter by status: scan pages of 500 from the caller's position and keep
   * the matches. nextOffset is the upstream position just after the last user consumed, so the
   * next page resumes exactly there. After MAX_SCAN_PAGES the page is answered as it stands: it
   * may be short (fewer than `limit`, even empty) but never wrong, and its nextOffset goes on.
   */
  async function listByStatus(q: ListUsersQuery, limit: number, ctx: CallContext): Promise<UserPage> {
    const wanted = q.status === 'active' ? 1 : 0;
    const kept: UpstreamUser[] = [];
    const page = (nextOffset: number | null): UserPage => ({ data: kept.map((u) => toUser(u, backendCtx)), nextOffset });
    let position = q.offset;
    for (let scanned = 0; scanned < MAX_SCAN_PAGES; scanned++) {
      const batch = await fetchUserPage(q, position, PAGE_MAX, ctx);
      const lastBatch = batch.length < PAGE_MAX;
      for (const [i, user] of batch.entries()) {
        if (user.status !== wanted) continue;
        kept.push(user);
        if (kept.length === limit) {
          // Known to be the end only when this batch was the last and holds no further match.
          const moreHere = batch.slice(i + 1).some((u) => u.status === wanted);
          return page(lastBatch && !moreHere ? null : position + i + 1);
        }
      }
      if (lastBatch) return page(null);
      position += batch.length;
    }
    return page(position);
  }

  async function listUsers(q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
    const limit = Math.min(Math.max(1, Math.trunc(q.limit)), PAGE_MAX);
    return q.status === undefined ? listPage(q, limit, ctx) : listByStatus(q, limit, ctx);
  }

  async function getUser(id: string, ctx: CallContext) {
    return toUser(await readUser(userIdOf(id), ctx), backendCtx);
  }

  async function assertUsernameFree(username: string, ctx: CallContext): Promise<void> {
    const found = await fetchUserPage({ limit: 1, offset: 0, order: 'asc', username }, 0, 1, ctx);
    // Compared here too: a server that ignored the filter must not make every name look taken.
    if (found.some((u) => u.username === username)) throw conflict(`username "${username}" is already taken`);
  }

  async function createUser(input: UserCreate, ctx: CallContext): Promise<CreatedUserResult> {
    const publicKeys = (await parseSshKeyList(input.sshKeys ?? [])).map((k) => k.publicKey);
    const password = input.password ?? generatePassword();
    const body = toUpstreamCreate(input, { publicKeys, password, homeDirectoryBase: cfg.homeDirectoryBase });
    await assertUsernameFree(input.username, ctx);
    const res = await send({ method: 'POST', path: '/user', body }, ctx, {
      secrets: [password],
      // A create racing ours: the memory provider says 400, bolt and SQL providers 500.
      special: (r, message) =>
        (r.status === 400 || r.status >= 500) && /already exists|unique constraint|duplicate (entry|key)/i.test(message)
          ? conflict(`username "${input.username}" is already taken`)
          : undefined,
    });
    // 200 with the user, but without password and public_keys: add the keys we sent (no extra GET).
    const created = parseUpstream(UpstreamUser, res.body, 'a user', res.status);
    const user = toUser(publicKeys.length ? { ...created, public_keys: publicKeys } : created, backendCtx);
    return input.password === undefined ? { user, generatedPassword: password } : { user };
  }

  function updateUser(id: string, patch: UserPatch, ctx: CallContext) {
    const changes = Object.values(patch).some((v) => v !== undefined);
    return modifyUser(id, ctx, async (stored) => {
      const merged = changes ? mergeUserPatch(stored, patch) : null;
      return { body: merged, result: toUser(merged ?? stored, backendCtx) };
    });
  }

  async function deleteUser(id: string, ctx: CallContext): Promise<void> {
    const userId = userIdOf(id);
    await send({ method: 'DELETE', path: `/user/${userId}` }, ctx, { notFound: `user ${userId} not found` });
  }

  // ---- passwords --------------------------------------------------------------------------

  async function rotatePassword(id: string, ctx: CallContext) {
    const password = generatePassword();
    await modifyUser(id, ctx, async (stored) => ({ body: { ...storedBody(stored), password }, result: undefined }));
    return { password, rotatedAt: new Date().toISOString() };
  }

  async function setPassword(id: string, password: string, ctx: CallContext): Promise<void> {
    // An empty password would remove it on the server: the gateway never does that.
    if (password === '') throw invalidRequest('password must not be empty', [{ path: 'password', message: 'must not be empty' }]);
    await modifyUser(id, ctx, async (stored) => ({ body: { ...storedBody(stored), password }, result: undefined }));
  }

  // ---- SSH keys ---------------------------------------------------------------------------

  /** The stored lines, each with its parsed key or null when it does not parse (logged, kept as is). */
  async function storedKeys(stored: UpstreamUser, ctx: CallContext): Promise<{ line: string; key: ParsedSshKey | null }[]> {
    const lines = stored.public_keys ?? [];
    return Promise.all(lines.map(async (line, index) => {
      try {
        return { line, key: await parseSshPublicKey(line) };
      } catch (err) {
        ctx.logger.warn(
          { backend: deps.backend, userId: stored.id, index, reason: err instanceof Error ? err.message : String(err) },
          'skipping an SFTPGo public key the gateway cannot parse',
        );
        return { line, key: null };
      }
    }));
  }

  async function listSshKeys(id: string, ctx: CallContext): Promise<SshKey[]> {
    const stored = await readUser(userIdOf(id), ctx);
    return (await storedKeys(stored, ctx)).flatMap(({ key }) => (key ? [toSshKey(key)] : []));
  }

  function addSshKey(id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
    return modifyUser(id, ctx, async (stored) => {
      const present = await storedKeys(stored, ctx);
      if (present.some((k) => k.key?.fingerprint === key.fingerprint)) {
        throw conflict(`user "${stored.username}" already has the key ${key.fingerprint}`);
      }
      const public_keys = [...present.map((k) => k.line), key.publicKey];
      return { body: { ...storedBody(stored), public_keys }, result: toSshKey(key) };
    });
  }

  function deleteSshKey(id: string, keyId: string, ctx: CallContext): Promise<void> {
    let username = '';
    return modifyUser(id, ctx, async (stored) => {
      username = stored.username;
      const present = await storedKeys(stored, ctx);
      const kept = present.filter((k) => !k.key || sshKeyIdOf(k.key.fingerprint) !== keyId);
      if (kept.length === present.length) throw notFound(`ssh key ${keyId} not found for user ${id}`);
      return { body: { ...storedBody(stored), public_keys: kept.map((k) => k.line) }, result: undefined };
    }, {
      special: (res, message) =>
        res.status === 400 && /password or at least a public.?key/i.test(message)
          ? conflict(`user "${username}" has no password: removing its last SSH key would leave no way to log in; set a password first`)
          : undefined,
    });
  }

  // ---- connections and quota scans --------------------------------------------------------

  async function listConnections(ctx: CallContext) {
    const res = await send({ method: 'GET', path: '/connection' }, ctx);
    return parseUpstream(UpstreamConnectionList, res.body, 'a list of connections', res.status).map(toConnection);
  }

  async function closeConnection(connectionId: string, ctx: CallContext): Promise<void> {
    if (connectionId === '') throw notFound('connection not found');
    await send({ method: 'DELETE', path: `/connection/${encodeURIComponent(connectionId)}` }, ctx, {
      notFound: `connection ${connectionId} not found`,
    });
  }

  async function listQuotaScans(ctx: CallContext) {
    const res = await send({ method: 'GET', path: '/quota_scan' }, ctx);
    return parseUpstream(UpstreamQuotaScanList, res.body, 'a list of quota scans', res.status).map(toQuotaScan);
  }

  /** The seed's body is a whole User; SFTPGo finds the user by its username. */
  async function startQuotaScan(id: string, ctx: CallContext): Promise<void> {
    const userId = userIdOf(id);
    const stored = await readUser(userId, ctx);
    await send({ method: 'POST', path: '/quota_scan', body: storedBody(stored) }, ctx, {
      notFound: `user ${userId} not found`,
      special: (res) =>
        res.status === 409 ? conflict(`a quota scan is already running for ${stored.username}`) : undefined,
    });
  }

  // ---- health -----------------------------------------------------------------------------

  async function health(ctx: CallContext): Promise<HealthResult> {
    try {
      const [status, version] = await Promise.allSettled([
        client.request({ method: 'GET', path: '/providerstatus' }, ctx),
        client.request({ method: 'GET', path: '/version' }, ctx),
      ]);
      const name = version.status === 'fulfilled' ? versionName(version.value) : 'SFTPGo';
      if (status.status === 'rejected') {
        const why = status.reason instanceof GatewayError ? status.reason.detail : 'SFTPGo could not be reached';
        return { ok: false, detail: `unreachable: ${why}` };
      }
      const res = status.value;
      const message = scrub(upstreamMessage(res.body), credentials);
      if (res.status === 200) {
        const said = ApiResponse.safeParse(res.body).data?.message;
        return { ok: true, detail: `${name}; data provider: ${said || 'Alive'}` };
      }
      if (res.status === 401 || res.status === 403) {
        return { ok: false, detail: `${name}: SFTPGo rejected the gateway's own credentials (${res.status})` };
      }
      return { ok: false, detail: `${name}; data provider: ${message || `HTTP ${res.status}`}` };
    } catch (err) {
      return { ok: false, detail: err instanceof GatewayError ? err.detail : 'health check failed' };
    }
  }

  return {
    provider: 'sftpgo',
    capabilities: SFTPGO_CAPABILITIES,
    listUsers,
    getUser,
    createUser,
    updateUser,
    deleteUser,
    health,
    circuit: deps.breaker?.state.bind(deps.breaker),
    rotatePassword,
    setPassword,
    listSshKeys,
    addSshKey,
    deleteSshKey,
    listConnections,
    closeConnection,
    listQuotaScans,
    startQuotaScan,
  };
}

/** `SFTPGo 1.2.0` from a /version answer: an object (the server) or an array (the seed). */
function versionName(res: UpstreamResponse): string {
  if (res.status !== 200) return 'SFTPGo';
  const parsed = VersionAnswer.safeParse(res.body);
  if (!parsed.success) return 'SFTPGo';
  const info = Array.isArray(parsed.data) ? parsed.data[0] : parsed.data;
  return info ? `SFTPGo ${info.version}` : 'SFTPGo';
}
