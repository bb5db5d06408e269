/**
 * How the gateway proves itself to SFTPGo's REST API v2: an API key (`X-SFTPGO-API-KEY`), or an
 * admin's username and password traded at `GET /api/v2/token` (basic auth) for a bearer token
 * that lives 20 minutes on 2.7.5. The token is renewed before it expires, and once after a 401
 * (the server restarted, or its signing key changed); concurrent calls share one renewal.
 */
import {
  upstreamError, type CallContext, type UpstreamClient, type UpstreamRequest, type UpstreamResponse,
} from '../../src/provider-kit/index.js';

export const TOKEN_PATH = '/api/v2/token';
/** A token this close to its `expires_at` is renewed before use: no call should race its expiry. */
export const RENEW_BEFORE_MS = 60_000;

/** The headers that authenticate a v2 call, and what to do when the server refuses them. */
export interface V2Credentials {
  /** The headers for the next call. */
  headers(ctx: CallContext): Promise<Record<string, string>>;
  /** The server answered 401 to a call made with `used`: forget them if still current. True when a retry may help. */
  refused(used: Record<string, string>): boolean;
}

/** An API key: the same header on every call; a refusal is final (a retry would send the same key). */
export function apiKeyCredentials(apiKey: string): V2Credentials {
  const headers = { 'x-sftpgo-api-key': apiKey };
  return { headers: async () => headers, refused: () => false };
}

/**
 * No credentials configured (an `auto` backend without them, on a server found to speak API v2):
 * every call is a 502 naming the settings, since 2.x answers nothing without them.
 */
export function noCredentials(): V2Credentials {
  return {
    headers: async () => {
      throw upstreamError('SFTPGo 2.x (REST API v2) answers only authenticated calls: give the backend an apiKey, or username and password');
    },
    refused: () => false,
  };
}

/**
 * `/api/v2/token` answered neither a token nor a refusal of the password: a 404 (no SFTPGo 2.x
 * there), a 429, a 5xx… The backend reads the answer as it reads any other (`sendV2`).
 */
export class TokenNotIssued extends Error {
  constructor(readonly res: UpstreamResponse) {
    super(`${res.status} on ${TOKEN_PATH}`);
    this.name = 'TokenNotIssued';
  }
}

interface Token {
  authorization: string;
  /** When to renew it: `expires_at` less RENEW_BEFORE_MS. */
  renewAt: number;
}

/**
 * A bearer token from `GET /api/v2/token`, kept and shared by every call of the backend.
 * `now` is injectable so tests can move time.
 */
export function tokenCredentials(
  client: UpstreamClient, basicAuthorization: string, now: () => number = Date.now,
): V2Credentials & { readonly renewals: number } {
  let current: Token | undefined;
  let renewing: Promise<Token> | undefined;
  let renewals = 0;

  async function renew(ctx: CallContext): Promise<Token> {
    renewals += 1;
    const res = await client.request({ method: 'GET', path: TOKEN_PATH, headers: { authorization: basicAuthorization } }, ctx);
    return tokenOf(res, now());
  }

  return {
    get renewals() {
      return renewals;
    },
    async headers(ctx) {
      if (!current || now() >= current.renewAt) {
        // One renewal at a time: every call that finds the token stale waits for the same one.
        renewing ??= renew(ctx).finally(() => (renewing = undefined));
        current = await renewing;
      }
      return { authorization: current.authorization };
    },
    refused(used) {
      if (current && used.authorization === current.authorization) current = undefined;
      return true;
    },
  };
}

/** The token in a 200 answer of `GET /api/v2/token`, or the 502 that says which setting to fix. */
function tokenOf(res: UpstreamResponse, at: number): Token {
  if (res.status === 401 || res.status === 403) {
    throw upstreamError(`SFTPGo refused the gateway's username and password at ${TOKEN_PATH} (${res.status}): check the backend's username and password`);
  }
  if (res.status !== 200) throw new TokenNotIssued(res);
  const body = res.body as { access_token?: unknown; expires_at?: unknown } | undefined;
  const expiresAt = typeof body?.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
  if (typeof body?.access_token !== 'string' || body.access_token === '' || Number.isNaN(expiresAt)) {
    throw upstreamError(`SFTPGo answered 200 to ${TOKEN_PATH} without a token and its expiry`);
  }
  // A server clock ahead of ours must not make a token look fresher than it is: at most 20 minutes from now.
  const renewAt = Math.min(expiresAt, at + 20 * 60_000) - RENEW_BEFORE_MS;
  return { authorization: `Bearer ${body.access_token}`, renewAt: Math.max(renewAt, at) };
}

/**
 * Sends a v2 call with the backend's credentials; after a 401, once more with fresh ones (a
 * token the server no longer knows). Any other answer is the caller's to read.
 */
export async function sendAuthenticated(
  client: UpstreamClient, credentials: V2Credentials, req: UpstreamRequest, ctx: CallContext,
): Promise<UpstreamResponse> {
  const used = await credentials.headers(ctx);
  const res = await client.request({ ...req, headers: { ...req.headers, ...used } }, ctx);
  if (res.status !== 401 || !credentials.refused(used)) return res;
  return client.request({ ...req, headers: { ...req.headers, ...(await credentials.headers(ctx)) } }, ctx);
}
