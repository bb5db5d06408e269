/**
 * The v2 emulator's credentials: the admin's basic auth for `GET /api/v2/token`, the JWTs it hands
 * out (HS256, 20 minutes, as token.txt shows), and API keys (`X-SFTPGO-API-KEY: <id>.<secret>`),
 * with the answers the recorded 2.7.5 server gives when they do not fit.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** An API key as stored; `secret` is answered only once, at creation. */
export interface V2ApiKey {
  id: string;
  secret: string;
  name: string;
  /** 1: admin, 2: user. */
  scope: number;
  created_at: number;
  updated_at: number;
  last_use_at: number;
  expires_at: number;
  description: string;
  user: string;
  admin: string;
}

/** Who a request is, or the answer refusing it. */
export type AuthResult = { ok: true; via: 'jwt' | 'apikey' } | { ok: false; status: number; body: Record<string, string>; headers?: Record<string, string> };

export const TOKEN_LIFETIME_MS = 20 * 60 * 1000;
/** shortuuid's alphabet: SFTPGo's API key ids and secrets are 22 of these. */
const SHORTUUID = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

const NO_TOKEN: AuthResult = { ok: false, status: 401, body: { error: 'no token found', message: 'Unauthorized' } };

export function shortUuid(): string {
  return [...randomBytes(22)].map((b) => SHORTUUID[b % SHORTUUID.length]).join('');
}

export function decodeBasic(header: string | undefined): string | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  try {
    return Buffer.from(match[1], 'base64').toString('utf8');
  } catch {
    return null;
  }
}

export interface Authority {
  issue(username: string): { access_token: string; expires_at: string };
  /** Checks the bearer token or the API key of a request. */
  check(headers: { authorization?: string; apiKey?: string }, opts: { allowApiKey: boolean }): AuthResult;
}

/**
 * Tokens carry their own expiry and an HMAC over it with a per-emulator secret, so a reset
 * emulator refuses the old ones. `keys` and `adminAllowsKeys` are read at each check.
 */
export function createAuthority(now: () => number, keys: Map<string, V2ApiKey>, adminAllowsKeys: () => boolean): Authority {
  const secret = randomBytes(32);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const sign = (data: string) => createHmac('sha256', secret).update(data).digest('base64url');

  function issue(username: string) {
    const iat = Math.floor(now() / 1000);
    const exp = iat + TOKEN_LIFETIME_MS / 1000;
    const payload = { aud: ['API', '127.0.0.1'], exp, iat, jti: shortUuid().toLowerCase(), nbf: iat - 10, permissions: ['*'], sub: '1', username };
    const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    return { access_token: `${data}.${sign(data)}`, expires_at: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  function tokenValid(token: string): boolean {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || signature !== sign(`${header}.${payload}`)) return false;
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number };
    return now() < exp * 1000;
  }

  function checkApiKey(value: string): AuthResult {
    const [id, key] = value.split('.', 3);
    const stored = id === undefined || key === undefined ? undefined : keys.get(id);
    if (!stored || stored.scope !== 1) return { ok: false, status: 400, body: { error: 'the provided api key is not valid', message: '' } };
    if (stored.secret !== key || (stored.expires_at > 0 && stored.expires_at < now())) {
      return { ok: false, status: 401, body: { error: 'the provided api key cannot be authenticated', message: '' } };
    }
    if (!adminAllowsKeys()) {
      return { ok: false, status: 401, body: { error: 'the admin associated with the provided api key cannot be authenticated', message: '' } };
    }
    stored.last_use_at = now();
    return { ok: true, via: 'apikey' };
  }

  function check(headers: { authorization?: string; apiKey?: string }, opts: { allowApiKey: boolean }): AuthResult {
    if (headers.apiKey) {
      // The server authenticates the key first (a middleware), then the route refuses key auth
      // (apikey-manage-apikeys-forbidden.txt: a 403 without `error`).
      const result = checkApiKey(headers.apiKey);
      if (result.ok && !opts.allowApiKey) return { ok: false, status: 403, body: { message: 'API key authentication is not allowed' } };
      return result;
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    // users-401-bad-token.txt: a token that does not verify is answered as a missing one
    return bearer && tokenValid(bearer) ? { ok: true, via: 'jwt' } : NO_TOKEN;
  }

  return { issue, check };
}
