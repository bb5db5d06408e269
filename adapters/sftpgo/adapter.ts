/**
 * The SFTPGo API v1 adapter: the gateway's provider-neutral calls carried to SFTPGo's REST API
 * (`/api/v1`) as real servers serve it: 0.9.x in the seed's shape (seeds/sftpgo-openapi-1.2.0.yaml)
 * and 1.x in the map shape (reference/sftpgo-v1.2.2-openapi.yaml and its recordings), told apart
 * by the server (./server.ts). The real server's quirks are handled here: offset paging without a
 * status filter, a `PUT /user/{id}` that must carry the whole user (read-merge-write under a
 * per-user mutex, every field the server sent kept), duplicates answered as 500, `/version` as
 * object or array.
 */
import {
  checkBackendConfig, conflict, GatewayError, generatePassword, interpretFailure, isJsonObject, isOperationCapability, KeyedMutex, notFound,
  parseSshKeyList, parseSshPublicKey, scrub, sshKeyIdOf, UpstreamClient, upstreamMessage, withoutUriPassword,
  type AdapterDeps, type CallContext, type FieldCapabilities, type Operations, type CreatedUserResult, type FailureOptions,
  type HealthResult, type ListUsersQuery, type NetworkRule, type NetworkRuleInput, type ParsedSshKey,
  type Permission, type ProviderAdapter, type ProviderVoice, type ServerInfo, type SshKey, type UpstreamRequest,
  type UpstreamResponse, type UserCreate, type UserPage, type UserPatch,
} from '../../src/provider-kit/index.js';
import { SftpgoBackendConfig } from './config.js';
import {
  checkUserPatch, mergeUserPatch, networkRulesFromUpstream, storedBody, toConnection, toQuotaScan, toSshKey,
  toUpstreamCreate, toUser, vocabularyOfShape, type BackendContext, type V1Shape,
} from './mapping.js';
import {
  ApiResponse, INT32_MAX, UpstreamConnectionList, UpstreamQuotaScanList, UpstreamUser, parseUpstream, parseUpstreamUserList,
  type UpstreamUserBody,
} from './schema.js';
import { ServerProbe } from './server.js';

/**
 * The fields of the sftpgo columns of CONTRACT §2 in each shape of API v1: 0.9.x (the seed's
 * shape) has no directory permissions. Its operations are `operations` below (network rules on 1.x only).
 */
const FIELDS_1X: FieldCapabilities = Object.freeze({
  displayName: false,
  independentChroot: false,
  rename: false,
  expiration: true,
  limits: true,
  usage: true,
  customPermissions: true,
  directoryPermissions: true,
});
export const SFTPGO_FIELDS: Readonly<Record<V1Shape, FieldCapabilities>> = Object.freeze({
  list: Object.freeze({ ...FIELDS_1X, directoryPermissions: false }),
  map: FIELDS_1X,
});

/** SFTPGo clamps `limit` above this. */
const PAGE_MAX = 500;
/** Upstream pages one status-filtered list request may read before it answers with what it has. */
const MAX_SCAN_PAGES = 20;
const USER_ID = /^[1-9][0-9]{0,9}$/;
const API = '/api/v1';

/** What errors say about SFTPGo, and where to look when its answers mean the config is wrong. */
const VOICE: ProviderVoice = {
  label: 'SFTPGo',
  credentialsRejected: (status, call) =>
    `SFTPGo rejected the gateway's own credentials (${status} on ${call}): check the backend's username and password`,
  notWhereConfigured: (call) => `SFTPGo answered 404 to ${call}: is the backend's baseUrl the server root?`,
};

/** SFTPGo's refusal to leave a user with neither a password nor a key (its validateUser). */
const NO_WAY_TO_LOG_IN = /password or at least a public.?key/i;
/** A body of the other API shape (the server is not the one the gateway took it for). */
const OTHER_SHAPE = /cannot unmarshal .* User(\.BaseUser)?\.permissions/i;

interface CallOptions extends FailureOptions {
  /** A call on one user: a 404 without SFTPGo's own error text may mean API v1 is not there at all. */
  onUser?: boolean;
}

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
 *   { provider: 'sftpgo', apiVersion: 'auto', baseUrl: 'http://127.0.0.1:8081', sftpPort: 2022,
 *     sftpHost: 'sftp.example.com', homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 5000 },
 *   { backend: 'onprem' },
 * );
 */
export function createSftpgoAdapter(config: SftpgoBackendConfig, deps: AdapterDeps): ProviderAdapter {
  const cfg = checkBackendConfig(SftpgoBackendConfig, config, deps.backend);
  const authorization = cfg.username !== undefined && cfg.password !== undefined ? basicAuth(cfg.username, cfg.password) : undefined;
  const root = cfg.baseUrl.replace(/\/+$/, '');
  const client = new UpstreamClient({
    baseUrl: root,
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
  const probe = new ServerProbe(client, (res, path) => interpretFailure(VOICE, res, { method: 'GET', path }, {}, credentials), withoutUriPassword(root));

  /** One upstream call: a 2xx answer is returned, anything else thrown as the gateway's error. */
  async function send(req: UpstreamRequest, ctx: CallContext, opts: CallOptions = {}): Promise<UpstreamResponse> {
    const res = await client.request({ ...req, path: `${API}${req.path}` }, ctx);
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404 && opts.onUser && !hasErrorText(res.body)) await assertApiV1(ctx);
    if (res.status === 400 && OTHER_SHAPE.test(upstreamMessage(res.body))) probe.forget();
    throw interpretFailure(VOICE, res, { ...req, path: `${API}${req.path}` }, opts, credentials);
  }

  /** A 404 from the router, not from SFTPGo's user lookup: find out whether API v1 is there at all. */
  async function assertApiV1(ctx: CallContext): Promise<void> {
    probe.forget();
    await probe.ensure(ctx); // throws, saying which API the server speaks, when it is not v1
  }

  const shape = () => probe.shape();

  /**
   * `check` (a mapping that refuses what this SFTPGo cannot represent) run against the server's
   * shape. While the server is not yet known, a request refused under either shape is refused
   * without a call: only one the shapes disagree on asks the server first.
   */
  async function withShape<T>(ctx: CallContext, check: (shape: V1Shape) => T): Promise<T> {
    const known = probe.known();
    if (known) return check(known.shape);
    const refusals = (['map', 'list'] as const).map((candidate) => refusalOf(() => check(candidate)));
    if (refusals.every((r) => r !== undefined)) throw refusals[shape() === 'map' ? 0 : 1];
    return check((await probe.ensure(ctx)).shape);
  }

  // ---- users ------------------------------------------------------------------------------

  async function readUser(id: number, ctx: CallContext): Promise<UpstreamUser> {
    const res = await send({ method: 'GET', path: `/user/${id}` }, ctx, { notFound: `user ${id} not found`, onUser: true });
    const user = parseUpstream(UpstreamUser, res.body, 'a user', res.status);
    probe.observe(user);
    return user;
  }

  /** PUT of the whole user; the body's id equals the path's, as later SFTPGo versions require. */
  async function writeUser(id: number, body: UpstreamUserBody, ctx: CallContext, opts: CallOptions = {}): Promise<void> {
    // The answer is an ApiResponse, not the user: nothing in it is needed.
    await send({ method: 'PUT', path: `/user/${id}`, body: { ...body, id } }, ctx, {
      notFound: `user ${id} not found`,
      onUser: true,
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

  /** SFTPGo's refusal to leave a user with no way to log in is a 409: nothing was written. */
  const keepsAWayIn = (username: () => string, change: string): CallOptions => ({
    special: (res, message) =>
      res.status === 400 && NO_WAY_TO_LOG_IN.test(message)
        ? conflict(`user "${username()}" has no password: ${change} would leave no way to log in; set a password first`)
        : undefined,
  });

  async function fetchUserPage(q: ListUsersQuery, offset: number, limit: number, ctx: CallContext): Promise<UpstreamUser[]> {
    const query = { offset, limit, order: q.order === 'desc' ? 'DESC' : 'ASC', username: q.username };
    const res = await send({ method: 'GET', path: '/user', query }, ctx);
    const users = parseUpstreamUserList(res.body, res.status);
    if (users[0]) probe.observe(users[0]);
    return users;
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
   * SFTPGo API v1 cannot filter by status: scan pages of 500 from the caller's position and keep
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
    const body = await withShape(ctx, (serverShape) =>
      toUpstreamCreate(input, { publicKeys, password, homeDirectoryBase: cfg.homeDirectoryBase, shape: serverShape }));
    await assertUsernameFree(input.username, ctx);
    const res = await send({ method: 'POST', path: '/user', body }, ctx, {
      secrets: [password],
      // A create racing ours: every data provider answers it as an internal error (the memory
      // provider of 0.9.x as a 400).
      special: (r, message) =>
        (r.status === 400 || r.status >= 500) && /already exists|unique constraint|duplicate (entry|key)/i.test(message)
          ? conflict(`username "${input.username}" is already taken`)
          : undefined,
    });
    // 200 with the user; 0.9.x leaves out the keys: add the ones we sent (no extra GET).
    const created = parseUpstream(UpstreamUser, res.body, 'a user', res.status);
    probe.observe(created);
    const user = toUser(publicKeys.length && !created.public_keys ? { ...created, public_keys: publicKeys } : created, backendCtx);
    return input.password === undefined ? { user, generatedPassword: password } : { user };
  }

  async function updateUser(id: string, patch: UserPatch, ctx: CallContext) {
    userIdOf(id);
    const keys = patch.sshKeys === undefined ? undefined : (await parseSshKeyList(patch.sshKeys)).map((k) => k.publicKey);
    await withShape(ctx, (serverShape) => checkUserPatch(patch, serverShape)); // refusals that need no stored user: before any read
    const changes = Object.values(patch).some((v) => v !== undefined);
    let username = '';
    return modifyUser(id, ctx, async (stored) => {
      username = stored.username;
      const merged = changes ? mergeUserPatch(stored, patch, { publicKeys: keys }) : null;
      return { body: merged, result: toUser(merged ?? stored, backendCtx) };
    }, keepsAWayIn(() => username, 'removing its SSH keys'));
  }

  async function deleteUser(id: string, ctx: CallContext): Promise<void> {
    const userId = userIdOf(id);
    await send({ method: 'DELETE', path: `/user/${userId}` }, ctx, { notFound: `user ${userId} not found`, onUser: true });
  }

  // ---- passwords --------------------------------------------------------------------------

  async function rotatePassword(id: string, ctx: CallContext) {
    const password = generatePassword();
    await modifyUser(id, ctx, async (stored) => ({ body: { ...storedBody(stored), password }, result: undefined }));
    return { password, rotatedAt: new Date().toISOString() };
  }

  async function setPassword(id: string, password: string, ctx: CallContext): Promise<void> {
    // An empty password would remove it on the server: the gateway never does that.
    checkUserPatch({ password }, shape());
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

  /**
   * Removes one key. API v1 never says whether a user has a password, so the last key of a user
   * without one is refused by the server's own check (nothing is written) and answered 409.
   */
  function deleteSshKey(id: string, keyId: string, ctx: CallContext): Promise<void> {
    let username = '';
    return modifyUser(id, ctx, async (stored) => {
      username = stored.username;
      const present = await storedKeys(stored, ctx);
      const kept = present.filter((k) => !k.key || sshKeyIdOf(k.key.fingerprint) !== keyId);
      if (kept.length === present.length) throw notFound(`ssh key ${keyId} not found for user ${id}`);
      return { body: { ...storedBody(stored), public_keys: kept.map((k) => k.line) }, result: undefined };
    }, keepsAWayIn(() => username, 'removing its last SSH key'));
  }

  // ---- network rules (1.x: filters.allowed_ip) --------------------------------------------

  async function listNetworkRules(id: string, ctx: CallContext): Promise<NetworkRule[]> {
    return networkRulesFromUpstream(await readUser(userIdOf(id), ctx));
  }

  async function replaceNetworkRules(id: string, rules: NetworkRuleInput[], ctx: CallContext): Promise<NetworkRule[]> {
    const patch = { networkRules: rules };
    await withShape(ctx, (serverShape) => checkUserPatch(patch, serverShape));
    return modifyUser(id, ctx, async (stored) => {
      const body = mergeUserPatch(stored, patch);
      return { body, result: networkRulesFromUpstream(body) };
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

  /** The body is a whole User; SFTPGo finds the user by its username. */
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

  /**
   * Finds the server again (its version and shape), asks its data provider, and reads one user:
   * a server whose users the gateway cannot read is not healthy. Never throws.
   */
  async function health(ctx: CallContext): Promise<HealthResult> {
    try {
      probe.forget();
      const facts = await probe.ensure(ctx);
      const name = `SFTPGo ${facts.serverVersion ?? '(version unknown)'}, API v1 (${facts.shape === 'map' ? '1.x' : '0.9.x'} shape)`;
      const status = await client.request({ method: 'GET', path: `${API}/providerstatus` }, ctx);
      if (status.status !== 200) {
        const message = scrub(upstreamMessage(status.body), credentials);
        return { ok: false, detail: `${name}; data provider: ${message || `HTTP ${status.status}`}` };
      }
      const said = ApiResponse.safeParse(status.body).data?.message || 'Alive';
      await fetchUserPage({ limit: 1, offset: 0, order: 'asc' }, 0, 1, ctx);
      return { ok: true, detail: `${name}; data provider: ${said}; users readable` };
    } catch (err) {
      return { ok: false, detail: err instanceof GatewayError ? err.detail : 'health check failed' };
    }
  }

  function server(): ServerInfo {
    const facts = probe.known();
    return { apiVersion: facts?.apiVersion ?? null, serverVersion: facts?.serverVersion ?? null };
  }

  const operations09x: Operations = Object.freeze({
    passwordRotation: { rotatePassword },
    passwordSet: { setPassword },
    sshKeys: { listSshKeys, addSshKey, deleteSshKey },
    connections: { listConnections, closeConnection },
    quotaScans: { listQuotaScans, startQuotaScan },
  });
  const operationsByShape: Record<V1Shape, Operations> = {
    list: operations09x,
    map: Object.freeze({ ...operations09x, networkRules: { listNetworkRules, replaceNetworkRules } }),
  };

  return {
    provider: 'sftpgo',
    get fields() {
      return SFTPGO_FIELDS[shape()];
    },
    get operations() {
      return operationsByShape[shape()];
    },
    get permissions(): readonly Permission[] {
      return vocabularyOfShape(shape()).names;
    },
    server,
    async resolve(ctx, capability) {
      // Only what differs between the shapes needs the server found first.
      const differs = isOperationCapability(capability)
        ? (operationsByShape.list[capability] === undefined) !== (operationsByShape.map[capability] === undefined)
        : SFTPGO_FIELDS.list[capability] !== SFTPGO_FIELDS.map[capability];
      if (differs) await probe.ensure(ctx);
    },
    listUsers,
    getUser,
    createUser,
    updateUser,
    deleteUser,
    health,
    circuit: deps.breaker?.state.bind(deps.breaker),
  };

}

/** What `run` throws, or undefined when it does not. */
function refusalOf(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (err) {
    return err ?? new Error('refused');
  }
}

/** SFTPGo's own "not found" carries an `error` text; the router's 404 does not. */
function hasErrorText(body: unknown): boolean {
  return isJsonObject(body) && typeof body.error === 'string' && body.error !== '';
}
