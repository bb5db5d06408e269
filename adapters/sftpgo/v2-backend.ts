/**
 * One SFTPGo REST API v2 backend's state (its checked config, client, credentials, per-user
 * mutex, and the server as found) and `sendV2`, the call every v2 operation is built on.
 */
import {
  checkBackendConfig, interpretFailure, KeyedMutex, notFound, UpstreamClient, upstreamError, upstreamMessage,
  withoutUriPassword,
  type AdapterDeps, type CallContext, type FailureOptions, type GatewayError, type ProviderVoice, type UpstreamRequest,
  type UpstreamResponse,
} from '../../src/provider-kit/index.js';
import { isRouterNotFound, whyApiMissing } from './api-version.js';
import { backendContext, basicAuth, sftpgoClient } from './client.js';
import { SftpgoBackendConfig } from './config.js';
import type { BackendContext } from './mapping.js';
import { VersionAnswer } from './schema.js';
import {
  apiKeyCredentials, noCredentials, sendAuthenticated, TOKEN_PATH, tokenCredentials, TokenNotIssued, type V2Credentials,
} from './v2-credentials.js';

export const API_V2 = '/api/v2';
/** 2.7.5 answers an API key it does not know with a 400, not a 401 (apikey-wrong.txt). */
const API_KEY_UNKNOWN = /provided api key is not valid/i;
/** 2.7.5 answers a key whose admin does not allow key auth with a 401 (apikey-use-before-allow.txt). */
const API_KEY_NOT_ALLOWED = /api key cannot be authenticated/i;

/** What the server was found to be: `GET /api/v2/version`. */
export interface V2ServerFacts {
  apiVersion: 'v2';
  serverVersion: string | null;
}

export interface V2CallOptions extends FailureOptions {
  /**
   * A call whose 404, from SFTPGo itself, carries an error text (users, lists): a bare router 404
   * means API v2 is not there, and the server is asked what it speaks. Not for closing a
   * connection, whose own 404 is bare (connections-close-404.txt).
   */
  apiCheck?: boolean;
}

export interface SftpgoV2Backend {
  readonly config: SftpgoBackendConfig;
  /** The server root, without credentials, for messages. */
  readonly baseUrl: string;
  readonly client: UpstreamClient;
  readonly credentials: V2Credentials;
  /** Serializes the read-merge-write of one user (keyed by username). */
  readonly mutex: KeyedMutex;
  /** Scrubbed from every upstream message the gateway repeats. */
  readonly secrets: readonly string[];
  readonly context: BackendContext;
  readonly voice: ProviderVoice;
  /** The server as found (null until then), and the finding in flight. */
  server: { facts: V2ServerFacts | null; finding: Promise<V2ServerFacts> | null };
}

/** Names the setting to fix when SFTPGo refuses the gateway's own credentials. */
function voiceFor(setting: string): ProviderVoice {
  return {
    label: 'SFTPGo',
    credentialsRejected: (status, call) => `SFTPGo rejected the gateway's own credentials (${status} on ${call}): check the backend's ${setting}`,
    notWhereConfigured: (call) => `SFTPGo answered 404 to ${call}: is the backend's baseUrl the server root of an SFTPGo 2.x?`,
  };
}

/** Config is checked and the client built here, once per backend. */
export function createSftpgoV2Backend(config: SftpgoBackendConfig, deps: AdapterDeps): SftpgoV2Backend {
  const cfg = checkBackendConfig(SftpgoBackendConfig, config, deps.backend);
  const root = cfg.baseUrl.replace(/\/+$/, '');
  const client = sftpgoClient(cfg, deps, root, {});
  let credentials: V2Credentials;
  let secrets: string[] = [];
  let voice = voiceFor('apiKey or username and password');
  if (cfg.apiKey !== undefined) {
    credentials = apiKeyCredentials(cfg.apiKey);
    secrets = [cfg.apiKey];
    voice = voiceFor('apiKey');
  } else if (cfg.username !== undefined && cfg.password !== undefined) {
    const auth = basicAuth(cfg.username, cfg.password);
    credentials = tokenCredentials(client, auth.authorization);
    secrets = auth.secrets;
    voice = voiceFor('username and password');
  } else {
    credentials = noCredentials(); // `auto` without credentials, on a server found to be 2.x
  }
  const context = backendContext(cfg, deps);
  return {
    config: cfg, baseUrl: withoutUriPassword(root), client, credentials, mutex: new KeyedMutex(), secrets, context, voice,
    server: { facts: null, finding: null },
  };
}

/** One v2 call (`req.path` below `/api/v2`): a 2xx answer is returned, anything else thrown as the gateway's error. */
export async function sendV2(
  b: SftpgoV2Backend, req: UpstreamRequest, ctx: CallContext, opts: V2CallOptions = {},
): Promise<UpstreamResponse> {
  const full = { ...req, path: `${API_V2}${req.path}` };
  let res: UpstreamResponse;
  try {
    res = await sendAuthenticated(b.client, b.credentials, full, ctx);
  } catch (err) {
    if (!(err instanceof TokenNotIssued)) throw err;
    if (err.res.status === 404) throw await notApiV2(b, ctx, TOKEN_PATH);
    throw interpretFailure(b.voice, err.res, { method: 'GET', path: TOKEN_PATH }, {}, b.secrets);
  }
  if (res.status >= 200 && res.status < 300) return res;
  if (res.status === 404 && opts.apiCheck && isRouterNotFound(res.body)) throw await notApiV2(b, ctx, full.path);
  const message = upstreamMessage(res.body);
  if (res.status === 400 && API_KEY_UNKNOWN.test(message)) {
    throw upstreamError(`SFTPGo does not know the gateway's API key (400 on ${full.method} ${full.path}): check the backend's apiKey`);
  }
  if (res.status === 401 && API_KEY_NOT_ALLOWED.test(message)) {
    throw upstreamError(
      `SFTPGo refused the gateway's API key (401 on ${full.method} ${full.path}): its admin must allow API key ` +
        'authentication (allow_api_key_auth in the admin\'s profile), or check the backend\'s apiKey',
    );
  }
  throw interpretFailure(b.voice, res, full, opts, b.secrets);
}

/** A router's 404 where API v2 should be: the server speaks v1, or nothing SFTPGo is there. */
async function notApiV2(b: SftpgoV2Backend, ctx: CallContext, path: string): Promise<GatewayError> {
  b.server.facts = null;
  return (await whyApiMissing(b.client, 'v2', b.baseUrl, ctx))
    ?? upstreamError(`SFTPGo answered 404 to ${path}: is the backend's baseUrl the server root of an SFTPGo 2.x?`);
}

/** The server's version, found with one call the first time; concurrent callers share it. */
export function ensureServerV2(b: SftpgoV2Backend, ctx: CallContext): Promise<V2ServerFacts> {
  if (b.server.facts) return Promise.resolve(b.server.facts);
  b.server.finding ??= (async () => {
    const res = await sendV2(b, { method: 'GET', path: '/version' }, ctx, { apiCheck: true });
    const parsed = VersionAnswer.safeParse(res.body);
    const info = parsed.success ? (Array.isArray(parsed.data) ? parsed.data[0] : parsed.data) : undefined;
    b.server.facts = { apiVersion: 'v2', serverVersion: info?.version || null };
    return b.server.facts;
  })().finally(() => {
    b.server.finding = null;
  });
  return b.server.finding;
}

/**
 * The path of one user: v2 addresses users by username, which may hold any character. `.` and
 * `..` cannot be sent as a path segment (every URL parser resolves them, encoded or not, to
 * another path), so no such user can be reached: 404 without a call.
 */
export function userPath(username: string): string {
  if (username === '.' || username === '..') throw notFound(`user ${username} not found`);
  return `/users/${encodeURIComponent(username)}`;
}
