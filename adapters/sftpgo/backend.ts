/**
 * One SFTPGo backend's state (its checked config, client, server probe, per-user mutex and
 * credentials) and the calls every operation is built on: `send`, the read-merge-write of a user
 * under its mutex, and the check of a request against the server's shape.
 */
import {
  checkBackendConfig, conflict, interpretFailure, KeyedMutex, notFound, UpstreamClient, upstreamMessage,
  withoutUriPassword,
  type AdapterDeps, type CallContext, type FailureOptions, type ListUsersQuery, type ProviderVoice, type UpstreamRequest,
  type UpstreamResponse,
} from '../../src/provider-kit/index.js';
import { isRouterNotFound } from './api-version.js';
import { backendContext, basicAuth, sftpgoClient } from './client.js';
import { SftpgoBackendConfig } from './config.js';
import type { BackendContext, V1Shape } from './mapping.js';
import { INT32_MAX, UpstreamUser, parseUpstream, parseUpstreamUserList, type UpstreamUserBody } from './schema.js';
import { ServerProbe } from './server.js';

export const API = '/api/v1';
const USER_ID = /^[1-9][0-9]{0,9}$/;

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

export interface CallOptions extends FailureOptions {
  /**
   * A call whose 404, from SFTPGo itself, carries an error text (users, lists): a bare router 404
   * means API v1 is not there at all, and the server is found again to say what it speaks.
   */
  apiCheck?: boolean;
}

/** What one SFTPGo backend's operations share; built once per backend by `createSftpgoBackend`. */
export interface SftpgoBackend {
  readonly config: SftpgoBackendConfig;
  readonly client: UpstreamClient;
  /** Which SFTPGo answers (version and API shape), found on first use. */
  readonly probe: ServerProbe;
  /** Serializes the read-merge-write of one user (keyed by its id). */
  readonly mutex: KeyedMutex;
  /** Scrubbed from every upstream message the gateway repeats. */
  readonly credentials: readonly string[];
  /** What a user's mapping needs to know of the backend (its name, the SFTP host and port). */
  readonly context: BackendContext;
}

/** Config is checked and the client built here, once per backend. */
export function createSftpgoBackend(config: SftpgoBackendConfig, deps: AdapterDeps): SftpgoBackend {
  const cfg = checkBackendConfig(SftpgoBackendConfig, config, deps.backend);
  const auth = cfg.username !== undefined && cfg.password !== undefined ? basicAuth(cfg.username, cfg.password) : undefined;
  const root = cfg.baseUrl.replace(/\/+$/, '');
  const client = sftpgoClient(cfg, deps, root, auth ? { authorization: auth.authorization } : {});
  // Everything that would reveal the credentials if an upstream message echoed it.
  const credentials = auth?.secrets ?? [];
  const context = backendContext(cfg, deps);
  const mutex = new KeyedMutex();
  const probe = new ServerProbe(client, (res, path) => interpretFailure(VOICE, res, { method: 'GET', path }, {}, credentials), withoutUriPassword(root));
  return { config: cfg, client, probe, mutex, credentials, context };
}

/** SFTPGo ids are positive int32: anything else cannot exist, so no call is made for it. */
export function userIdOf(id: string): number {
  const n = USER_ID.test(id) ? Number(id) : NaN;
  if (!(n <= INT32_MAX)) throw notFound(`user ${id} not found`);
  return n;
}

/** One upstream call: a 2xx answer is returned, anything else thrown as the gateway's error. */
export async function send(b: SftpgoBackend, req: UpstreamRequest, ctx: CallContext, opts: CallOptions = {}): Promise<UpstreamResponse> {
  const res = await b.client.request({ ...req, path: `${API}${req.path}` }, ctx);
  if (res.status >= 200 && res.status < 300) return res;
  if (res.status === 404 && opts.apiCheck && isRouterNotFound(res.body)) await assertApiV1(b, ctx);
  if (res.status === 400 && OTHER_SHAPE.test(upstreamMessage(res.body))) b.probe.forget();
  throw interpretFailure(VOICE, res, { ...req, path: `${API}${req.path}` }, opts, b.credentials);
}

/** A 404 from the router, not from SFTPGo's user lookup: find out whether API v1 is there at all. */
async function assertApiV1(b: SftpgoBackend, ctx: CallContext): Promise<void> {
  b.probe.forget();
  await b.probe.ensure(ctx); // throws, saying which API the server speaks, when it is not v1
}

/**
 * `check` (a mapping that refuses what this SFTPGo cannot represent) run against the server's
 * shape. While the server is not yet known, a request refused under either shape is refused
 * without a call: only one the shapes disagree on asks the server first.
 */
export async function withShape<T>(b: SftpgoBackend, ctx: CallContext, check: (shape: V1Shape) => T): Promise<T> {
  const known = b.probe.known();
  if (known) return check(known.shape);
  const refusals = (['map', 'list'] as const).map((candidate) => refusalOf(() => check(candidate)));
  if (refusals.every((r) => r !== undefined)) throw refusals[b.probe.shape() === 'map' ? 0 : 1];
  return check((await b.probe.ensure(ctx)).shape);
}

export async function readUser(b: SftpgoBackend, id: number, ctx: CallContext): Promise<UpstreamUser> {
  const res = await send(b, { method: 'GET', path: `/user/${id}` }, ctx, { notFound: `user ${id} not found`, apiCheck: true });
  const user = parseUpstream(UpstreamUser, res.body, 'a user', res.status);
  b.probe.observe(user);
  return user;
}

/** PUT of the whole user; the body's id equals the path's, as later SFTPGo versions require. */
async function writeUser(b: SftpgoBackend, id: number, body: UpstreamUserBody, ctx: CallContext, opts: CallOptions = {}): Promise<void> {
  // The answer is an ApiResponse, not the user: nothing in it is needed.
  await send(b, { method: 'PUT', path: `/user/${id}`, body: { ...body, id } }, ctx, {
    notFound: `user ${id} not found`,
    apiCheck: true,
    ...opts,
    secrets: [...(opts.secrets ?? []), ...(typeof body.password === 'string' ? [body.password] : [])],
  });
}

/**
 * Read-merge-write under the user's mutex, so two changes in flight through this gateway never
 * lose each other's fields. `change` returns the body to PUT, or null when nothing changes.
 */
export async function modifyUser<T>(
  b: SftpgoBackend,
  id: string,
  ctx: CallContext,
  change: (stored: UpstreamUser) => Promise<{ body: UpstreamUser | null; result: T }>,
  opts: CallOptions = {},
): Promise<T> {
  const userId = userIdOf(id);
  return b.mutex.run(String(userId), async () => {
    const stored = await readUser(b, userId, ctx);
    const { body, result } = await change(stored);
    if (body) await writeUser(b, userId, body, ctx, opts);
    return result;
  });
}

/** SFTPGo's refusal to leave a user with no way to log in is a 409: nothing was written. */
export const keepsAWayIn = (username: () => string, change: string): CallOptions => ({
  special: (res, message) =>
    res.status === 400 && NO_WAY_TO_LOG_IN.test(message)
      ? conflict(`user "${username()}" has no password: ${change} would leave no way to log in; set a password first`)
      : undefined,
});

/** One page of `GET /user`, as the server orders and filters it by username. */
export async function fetchUserPage(
  b: SftpgoBackend, q: ListUsersQuery, offset: number, limit: number, ctx: CallContext,
): Promise<UpstreamUser[]> {
  const query = { offset, limit, order: q.order === 'desc' ? 'DESC' : 'ASC', username: q.username };
  const res = await send(b, { method: 'GET', path: '/user', query }, ctx, { apiCheck: true });
  const users = parseUpstreamUserList(res.body, res.status);
  if (users[0]) b.probe.observe(users[0]);
  return users;
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
