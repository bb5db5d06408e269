/**
 * One SFTPGo REST API v2 backend's state (its settings, client, credentials, per-user mutex) and
 * `sendV2`, the call every v2 operation is built on. Not wired into the adapter yet: the config
 * still refuses `apiVersion: "v2"`.
 */
import {
  interpretFailure, KeyedMutex, UpstreamClient, upstreamError, upstreamMessage,
  type AdapterDeps, type CallContext, type FailureOptions, type ProviderVoice, type UpstreamRequest, type UpstreamResponse,
} from '../../src/provider-kit/index.js';
import type { BackendContext } from './mapping.js';
import { apiKeyCredentials, sendAuthenticated, tokenCredentials, type V2Credentials } from './v2-credentials.js';

export const API_V2 = '/api/v2';
/** 2.7.5 answers an API key it does not know with a 400, not a 401 (emulator/v2-auth.ts). */
const API_KEY_UNKNOWN = /provided api key is not valid/i;

/** What a v2 backend needs of its config; the defaults are the v1 config's. */
export interface SftpgoV2Options {
  /** The server root; `/api/v2` is added per call. */
  baseUrl: string;
  /** An admin's username and password, traded for a token; or `apiKey`. */
  username?: string;
  password?: string;
  apiKey?: string;
  sftpHost?: string;
  sftpPort?: number;
  homeDirectoryBase?: string;
  timeoutMs?: number;
  retries?: number;
}

export interface SftpgoV2Backend {
  readonly config: {
    readonly baseUrl: string;
    readonly homeDirectoryBase: string;
    readonly sftpHost: string | null;
    readonly sftpPort: number;
    readonly timeoutMs: number;
    readonly retries: number;
  };
  readonly client: UpstreamClient;
  readonly credentials: V2Credentials;
  /** Serializes the read-merge-write of one user (keyed by username). */
  readonly mutex: KeyedMutex;
  /** Scrubbed from every upstream message the gateway repeats. */
  readonly secrets: readonly string[];
  readonly context: BackendContext;
  readonly voice: ProviderVoice;
}

function basicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Names the setting to fix when SFTPGo refuses the gateway's own credentials. */
function voiceFor(setting: string): ProviderVoice {
  return {
    label: 'SFTPGo',
    credentialsRejected: (status, call) => `SFTPGo rejected the gateway's own credentials (${status} on ${call}): check the backend's ${setting}`,
    notWhereConfigured: (call) => `SFTPGo answered 404 to ${call}: is the backend's baseUrl the server root of an SFTPGo 2.x?`,
  };
}

export function createSftpgoV2Backend(opts: SftpgoV2Options, deps: AdapterDeps): SftpgoV2Backend {
  const hasLogin = opts.username !== undefined && opts.password !== undefined;
  // Exactly one way in: a key and a login together would leave which one failed unclear.
  if (hasLogin === (opts.apiKey !== undefined)) {
    throw new Error(`backend ${deps.backend}: SFTPGo API v2 needs either apiKey or username and password`);
  }
  const config = {
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    homeDirectoryBase: opts.homeDirectoryBase ?? '/srv/sftpgo/data',
    sftpHost: opts.sftpHost ?? null,
    sftpPort: opts.sftpPort ?? 22,
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: opts.retries ?? 2,
  };
  const client = new UpstreamClient({
    baseUrl: config.baseUrl,
    headers: {},
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    breaker: deps.breaker,
    observe: deps.observeUpstream,
    label: 'SFTPGo',
    fetch: deps.fetch,
    transport: deps.transport,
  });
  let credentials: V2Credentials;
  let secrets: string[];
  let voice: ProviderVoice;
  if (opts.apiKey !== undefined) {
    credentials = apiKeyCredentials(opts.apiKey);
    secrets = [opts.apiKey];
    voice = voiceFor('apiKey');
  } else {
    const authorization = basicAuth(opts.username!, opts.password!);
    credentials = tokenCredentials(client, authorization);
    // The parts and the header (and its base64), in case the server echoes what it was sent.
    secrets = [opts.username!, opts.password!, authorization, authorization.slice('Basic '.length)];
    voice = voiceFor('username and password');
  }
  const context: BackendContext = { backend: deps.backend, sftpHost: config.sftpHost, sftpPort: config.sftpPort };
  return { config, client, credentials, mutex: new KeyedMutex(), secrets, context, voice };
}

/** One v2 call (`req.path` below `/api/v2`): a 2xx answer is returned, anything else thrown as the gateway's error. */
export async function sendV2(
  b: SftpgoV2Backend, req: UpstreamRequest, ctx: CallContext, failureOptions: FailureOptions = {},
): Promise<UpstreamResponse> {
  const full = { ...req, path: `${API_V2}${req.path}` };
  const res = await sendAuthenticated(b.client, b.credentials, full, ctx);
  if (res.status >= 200 && res.status < 300) return res;
  if (res.status === 400 && API_KEY_UNKNOWN.test(upstreamMessage(res.body))) {
    throw upstreamError(`SFTPGo does not know the gateway's API key (400 on ${full.method} ${full.path}): check the backend's apiKey`);
  }
  throw interpretFailure(b.voice, res, full, failureOptions, b.secrets);
}

/** The path of one user: v2 addresses users by username, which may hold any character. */
export const userPath = (username: string): string => `/users/${encodeURIComponent(username)}`;
