/**
 * One SFTP To Go backend's state — its checked config, client, secrets and voice — and what every
 * operation on it shares: the call wrapper, the credential read, the id checks and the paths.
 * The operations (users.ts, keys-and-rules.ts, health.ts) take this state as their first argument.
 */
import {
  checkBackendConfig, GatewayError, interpretFailure, notFound, UpstreamClient, type AdapterDeps, type CallContext,
  type FailureOptions as CallOptions, type ProviderVoice, type UpstreamRequest, type UpstreamResponse,
} from '../../src/provider-kit/index.js';
import { SftpToGoBackendConfig } from './config.js';
import type { BackendContext } from './mapping.js';
import { UpstreamCredential, parseUpstream } from './schema.js';

/** Everything the operations on one SFTP To Go backend need, built once by `createSftpToGoBackend`. */
export interface SftpToGoBackend {
  /** The backend's name in the gateway's config, on every log line. */
  readonly name: string;
  /** The config as checked, defaults filled in. */
  readonly config: SftpToGoBackendConfig;
  readonly client: UpstreamClient;
  /** Secrets scrubbed from any upstream message an error repeats. */
  readonly credentials: readonly string[];
  readonly voice: ProviderVoice;
  /** What a mapped user needs to know about its backend. */
  readonly mapping: BackendContext;
}

/**
 * Credential ids are 30 hex characters and key ids uuids: anything outside this cannot exist,
 * so no call is made for it (and nothing odd ever reaches an upstream path).
 */
export const UPSTREAM_ID = /^[A-Za-z0-9-]{1,64}$/;

/** What errors say about SFTP To Go, and where to look when its answers mean the config is wrong. */
const VOICE: ProviderVoice = {
  label: 'SFTP To Go',
  credentialsRejected: (status, call) =>
    status === 401
      ? `SFTP To Go rejected the gateway's own API key (401 on ${call}): check the backend's apiKey`
      : `SFTP To Go refused the gateway's own API key for this organization (403 on ${call}): check the backend's organizationId and apiKey`,
  notWhereConfigured: (call) =>
    `SFTP To Go answered 404 to ${call}: check the backend's baseUrl (the API root) and organizationId`,
};

/** Config is checked and the client built here, once per backend. */
export function createSftpToGoBackend(config: SftpToGoBackendConfig, deps: AdapterDeps): SftpToGoBackend {
  const cfg = checkBackendConfig(SftpToGoBackendConfig, config, deps.backend);
  const client = new UpstreamClient({
    baseUrl: `${cfg.baseUrl.replace(/\/+$/, '')}/organizations/${encodeURIComponent(cfg.organizationId)}`,
    // Lower-case names: the client adds its own `content-type` on calls with a body, and two
    // spellings of one header would be sent joined ("application/json, application/json").
    headers: { authorization: `Bearer ${cfg.apiKey}`, 'content-type': 'application/json' },
    timeoutMs: cfg.timeoutMs,
    retries: cfg.retries,
    breaker: deps.breaker,
    observe: deps.observeUpstream,
    label: 'SFTP To Go',
    fetch: deps.fetch,
    transport: deps.transport,
  });
  return {
    name: deps.backend,
    config: cfg,
    client,
    credentials: [cfg.apiKey],
    voice: VOICE,
    mapping: { backend: deps.backend },
  };
}

/** One upstream call: a 2xx answer is returned, anything else thrown as the gateway's error. */
export async function send(
  b: SftpToGoBackend,
  req: UpstreamRequest,
  ctx: CallContext,
  opts: CallOptions = {},
): Promise<UpstreamResponse> {
  const res = await b.client.request(req, ctx);
  if (res.status >= 200 && res.status < 300) return res;
  throw interpretFailure(b.voice, res, req, opts, b.credentials);
}

/** A credential id SFTP To Go could have minted, else 404 without a call. */
export function credentialIdOf(id: string): string {
  if (!UPSTREAM_ID.test(id)) throw notFound(`user ${id} not found`);
  return id;
}

export const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;
export const userNotFound = (id: string) => `user ${id} not found`;

export const isGatewayError = (err: unknown): err is GatewayError => err instanceof GatewayError;
/** Why a step failed, for a log line. */
export const why = (err: unknown) => (err instanceof GatewayError ? err.detail : err instanceof Error ? err.message : String(err));

/** The credential as SFTP To Go stores it, its password included (toUser leaves the password out). */
export async function readCredential(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<UpstreamCredential> {
  const res = await send(b, { method: 'GET', path: userPath(id) }, ctx, { notFound: userNotFound(id) });
  return parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
}
