/**
 * API key authentication (CONTRACT §6). Keys are compared as SHA-256 digests in constant time,
 * against every configured key, so neither the match nor its position leaks through timing.
 */
import type { ApiKeyConfig, Scope } from '../config.js';
import { GatewayError } from '../domain/errors.js';

/** Who a request is: its API key's name and grants. */
export interface Principal {
  /** The API key's name from the config ("demo" in demo mode); never the key itself. */
  name: string;
  scopes: ReadonlySet<Scope>;
  /** Backends the key may reach; undefined = all. */
  backends?: ReadonlySet<string>;
}

interface PreparedKey {
  digest: Uint8Array;
  principal: Principal;
}

const encoder = new TextEncoder();
/**
 * SHA-256 of a string. WebCrypto's, by default (every runtime has it); an entry may pass a
 * synchronous one (Node's `createHash`): `crypto.subtle.digest` costs a thread-pool round trip,
 * about 60 µs of CPU per request on Node 20 — a tenth of a cached list read.
 */
export type Sha256 = (text: string) => Uint8Array | Promise<Uint8Array>;
const webCryptoSha256: Sha256 = async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));

/** 0 when equal; computed over every byte whatever the first difference. */
function diff(a: Uint8Array, b: Uint8Array): number {
  let d = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ (b[i] ?? 0);
  return d;
}

const DEMO_PRINCIPAL: Principal = { name: 'demo', scopes: new Set<Scope>(['read', 'write', 'admin']) };

export type Authenticator = (authorization: string | undefined) => Promise<Principal>;

/** Builds the authenticator once; `null` keys = demo mode, where every caller is allowed everything. */
export function createAuthenticator(apiKeys: ApiKeyConfig[] | null, sha256: Sha256 = webCryptoSha256): Authenticator {
  if (apiKeys === null) return async () => DEMO_PRINCIPAL;
  const prepared: Promise<PreparedKey[]> = Promise.all(
    apiKeys.map(async (k) => ({
      digest: await sha256(k.key),
      principal: {
        name: k.name,
        scopes: new Set(k.scopes),
        ...(k.backends ? { backends: new Set(k.backends) } : {}),
      },
    })),
  );
  return async function authenticate(authorization) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw new GatewayError(401, 'unauthorized', authorization ? 'Authorization must be "Bearer <API key>"' : 'An API key is required: send "Authorization: Bearer <API key>"');
    }
    const presented = await sha256(match[1]!);
    let found: Principal | undefined;
    for (const key of await prepared) {
      if (diff(presented, key.digest) === 0) found = key.principal;
    }
    if (!found) throw new GatewayError(401, 'unauthorized', 'The API key is not valid');
    return found;
  };
}

/** Whether the key may reach the backend named `name` (a key without a `backends` list reaches all). */
export const mayReach = (principal: Principal, name: string): boolean => !principal.backends || principal.backends.has(name);

/** A 403 when the key may not reach the backend named `name`. */
export function requireBackend(principal: Principal, name: string): void {
  if (!mayReach(principal, name)) {
    throw new GatewayError(403, 'forbidden', `The API key "${principal.name}" may not reach backend "${name}"`);
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new GatewayError(403, 'forbidden', `The API key "${principal.name}" lacks the "${scope}" scope`);
  }
}
