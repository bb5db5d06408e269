/**
 * An in-memory SFTP To Go credentials API (`/organizations/{organizationId}/...`), as the public
 * API reference describes it, for tests and demo mode.
 *
 * Faithful to the document: `GET /users` is one unpaged array, `POST /users` is a 201, every read
 * returns the Password (and the `URI` repeats it), a PATCH changes only the keys it carries and
 * replaces the whole inbound rule set, a rotation answers `{"message":"Credentials reset."}`.
 *
 * Choices where the document is silent (gateway tests depend on them, so they are fixed here):
 * - Errors are `{"message": "<text>"}` with the HTTP status — the usual AWS API Gateway shape.
 * - Auth: `Authorization: Bearer <apiKey>`, else 401 `{"message":"Unauthorized"}`; another
 *   organization id in the path is 403 `{"message":"Forbidden"}`.
 * - 400 for a bad body (UserName not 10..100 of `[A-Za-z0-9_.-]`, unknown Permission/State, a bad
 *   inbound rule, any `Password`), 409 for a UserName taken or a key already on the credential,
 *   404 for an unknown credential, key or route, 400 for deleting the root credential.
 * - Create defaults: see `CREATE_DEFAULTS` in `./emulator-credential.ts` (UserName = the new Id).
 * - Unknown body keys are ignored (the request log still shows them).
 * Faults, the request log and the `/__emulator` control API come from `src/provider-kit/emulator-kit.ts`.
 *
 * @example
 * const emu = createSftpToGoEmulator();
 * const res = await emu.fetch(`/organizations/${emu.organizationId}/users`, {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
 *   body: JSON.stringify({ UserName: 'my-user-name', Permission: 'read-write' }),
 * });
 * emu.setFaults({ status: 503, times: 1 });
 * const { url, close } = await serveSftpToGoEmulator(emu); // url is the server root
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import {
  isJsonObject, parseSshPublicKey,
} from '../../../src/provider-kit/index.js';
import { createEmulatorKit, serveEmulatorApp } from '../../../src/provider-kit/emulator-kit.js';
import type { EmulatorFaults, FetchLike, RecordedRequest, ServedEmulator } from '../../../src/provider-kit/emulator-kit.js';
import {
  SftpToGoApiError, badRequest, checkUserName, newCredential, newCredentialId, newPassword,
  readCredentialChanges, rootCredential, toApiCredential, toApiSshKey,
} from './credential.js';
import type { CredentialChanges, CredentialView, SftpToGoStoredCredential, StoredSshKey } from './credential.js';

export type { EmulatorFaults, FaultMatch, FetchLike, RecordedRequest, ServedEmulator } from '../../../src/provider-kit/emulator-kit.js';
export type { SftpToGoStoredCredential } from './credential.js';
export { CREATE_DEFAULTS } from './credential.js';

export interface SftpToGoEmulatorOptions {
  /** The bearer token every request needs. @default 'demo-sftptogo-api-key' */
  apiKey?: string;
  /** The only organization id the paths may name. @default '72e9cf24-be8c-4f15-9aa2-813281fb98fe' */
  organizationId?: string;
  /** `Host` of every credential (and of its `URI`). @default 'warm-soda-25793.sftptogo.com' */
  host?: string;
  /** Add a field the gateway does not know to every credential (`MfaEnabled`) and key (`LastUsedAt`). @default false */
  extraField?: boolean;
}

export interface SftpToGoEmulator {
  /** Mount or serve it; the API lives under `/organizations/{organizationId}`, the control API under `/__emulator`. */
  app: Hono;
  /** In-process stand-in for the global `fetch` (relative URLs allowed). */
  fetch: FetchLike;
  /** Backdoor state, keyed by Id, the root credential included. Changes show in the API at once. */
  credentials: Map<string, SftpToGoStoredCredential>;
  /** Id (and UserName) of the root credential; stable across `reset()`. */
  rootId: string;
  apiKey: string;
  organizationId: string;
  /** Every `/organizations/...` request, oldest first. */
  requests: RecordedRequest[];
  clearRequests(): void;
  setFaults(faults: EmulatorFaults | null): void;
  /** Adds `n` credentials named `${prefix}00001`… (padded to 10 characters at least; taken names skipped). */
  seedCredentials(n: number, prefix?: string): void;
  /** Back to the initial state: the root credential only (new password), no faults, empty log. */
  reset(): void;
}

export const SFTPTOGO_EMULATOR_DEFAULTS = {
  apiKey: 'demo-sftptogo-api-key',
  organizationId: '72e9cf24-be8c-4f15-9aa2-813281fb98fe',
  host: 'warm-soda-25793.sftptogo.com',
} as const;

/** `/organizations/{any id}`: wrong ids are logged and faulted too, then refused with a 403. */
const API_PREFIX = /^\/organizations\/[^/]+/;
const BASE = '/organizations/:org';
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Creates an emulator holding only the root credential.
 *
 * @example
 * const emu = createSftpToGoEmulator({ extraField: true });
 * const list = await emu.fetch(`/organizations/${emu.organizationId}/users`, { headers: { authorization: `Bearer ${emu.apiKey}` } });
 */
export function createSftpToGoEmulator(opts: SftpToGoEmulatorOptions = {}): SftpToGoEmulator {
  const apiKey = opts.apiKey ?? SFTPTOGO_EMULATOR_DEFAULTS.apiKey;
  const organizationId = opts.organizationId ?? SFTPTOGO_EMULATOR_DEFAULTS.organizationId;
  const view: CredentialView = {
    host: opts.host ?? SFTPTOGO_EMULATOR_DEFAULTS.host,
    organizationId,
    extraField: opts.extraField ?? false,
  };
  const credentials = new Map<string, SftpToGoStoredCredential>();
  const rootId = newCredentialId();
  const kit = createEmulatorKit({ apiPrefix: API_PREFIX, errorBody: (_status, message) => ({ message }) });

  function findByUserName(name: string): SftpToGoStoredCredential | undefined {
    for (const cred of credentials.values()) if (cred.UserName === name) return cred;
    return undefined;
  }

  /** The credential named by `:id`, or a thrown 404. */
  function lookup(c: Context): SftpToGoStoredCredential {
    const found = credentials.get(c.req.param('id') ?? '');
    if (!found) throw new SftpToGoApiError(404, 'Credentials not found');
    return found;
  }

  function checkUnique(name: string, self?: SftpToGoStoredCredential): void {
    const owner = findByUserName(name);
    if (owner && owner !== self) throw new SftpToGoApiError(409, `UserName ${name} is already taken`);
  }

  function freshId(): string {
    let id = newCredentialId();
    while (credentials.has(id)) id = newCredentialId();
    return id;
  }

  const credentialJson = (cred: SftpToGoStoredCredential, status = 200) => json(toApiCredential(cred, view), status);
  const keyJson = (key: StoredSshKey, cred: SftpToGoStoredCredential, status = 200) => json(toApiSshKey(key, cred.Id, view), status);

  // --- credentials ----------------------------------------------------------------------------

  function listCredentials(): Response {
    return json([...credentials.values()].map((cred) => toApiCredential(cred, view)));
  }

  async function createCredential(c: Context): Promise<Response> {
    const changes = readCredentialChanges(await readJson(c), { allowRules: false });
    if (changes.UserName !== undefined) checkUnique(changes.UserName);
    const id = freshId();
    const cred = newCredential(id, changes, Date.now());
    credentials.set(id, cred);
    return credentialJson(cred, 201);
  }

  /** Only the keys present change; `Settings.Network.InboundRules` replaces the whole set. */
  async function updateCredential(c: Context): Promise<Response> {
    const cred = lookup(c);
    const changes = readCredentialChanges(await readJson(c), { allowRules: true });
    if (changes.UserName !== undefined) checkUnique(changes.UserName, cred);
    applyChanges(cred, changes);
    touch(cred);
    return credentialJson(cred);
  }

  function deleteCredential(c: Context): Response {
    const cred = lookup(c);
    if (cred.IsDefault) throw badRequest('Root credentials cannot be deleted');
    credentials.delete(cred.Id);
    return credentialJson(cred);
  }

  function rotatePassword(c: Context): Response {
    const cred = lookup(c);
    cred.Password = newPassword();
    cred.PasswordCreatedAt = new Date().toISOString();
    touch(cred);
    return json({ message: 'Credentials reset.' });
  }

  // --- ssh public keys ------------------------------------------------------------------------

  async function addSshKey(c: Context): Promise<Response> {
    const cred = lookup(c);
    const body = await readJson(c);
    const line = isJsonObject(body) ? body.SshPublicKeyBody : undefined;
    if (typeof line !== 'string') throw badRequest('SshPublicKeyBody must be a string');
    const parsed = await parseSshPublicKey(line, 'SshPublicKeyBody').catch((err: unknown) => {
      throw badRequest(err instanceof Error ? err.message : 'SshPublicKeyBody is not a valid SSH public key');
    });
    if (cred.SshKeys.some((k) => k.Fingerprint === parsed.fingerprint)) {
      throw new SftpToGoApiError(409, 'This SSH public key is already linked to these credentials');
    }
    const now = Date.now();
    const key: StoredSshKey = {
      Id: crypto.randomUUID(),
      SshPublicKeyBody: parsed.publicKey,
      Fingerprint: parsed.fingerprint,
      Type: parsed.type,
      Comment: parsed.comment ?? '',
      CreatedAt: now,
      UpdatedAt: now,
    };
    cred.SshKeys.push(key);
    touch(cred);
    return keyJson(key, cred, 201);
  }

  function removeSshKey(c: Context): Response {
    const cred = lookup(c);
    const index = cred.SshKeys.findIndex((k) => k.Id === c.req.param('keyId'));
    const [key] = index < 0 ? [] : cred.SshKeys.splice(index, 1);
    if (!key) throw new SftpToGoApiError(404, 'SSH public key not found');
    touch(cred);
    return keyJson(key, cred);
  }

  // --- app ------------------------------------------------------------------------------------

  const app = new Hono();
  app.use('*', kit.middleware); // before auth: faults stand for the network, and every request is logged
  app.route('/__emulator', kit.controlRoutes);
  app.use('*', authGuard(apiKey, organizationId));
  app
    .get(`${BASE}/users`, listCredentials)
    .post(`${BASE}/users`, createCredential)
    .get(`${BASE}/users/:id`, (c) => credentialJson(lookup(c)))
    .patch(`${BASE}/users/:id`, updateCredential)
    .delete(`${BASE}/users/:id`, deleteCredential)
    .post(`${BASE}/users/:id/credential-rotations`, rotatePassword)
    .get(`${BASE}/users/:id/ssh-public-keys`, (c) => {
      const cred = lookup(c);
      return json(cred.SshKeys.map((key) => toApiSshKey(key, cred.Id, view)));
    })
    .post(`${BASE}/users/:id/ssh-public-keys`, addSshKey)
    .delete(`${BASE}/users/:id/ssh-public-keys/:keyId`, removeSshKey);
  app.notFound(() => errorResponse(404, 'Not Found'));
  app.onError((err) => (err instanceof SftpToGoApiError ? errorResponse(err.status, err.message) : errorResponse(500, 'Internal server error')));

  // --- backdoor -------------------------------------------------------------------------------

  function seedCredentials(n: number, prefix = 'benchuser'): void {
    const taken = new Set([...credentials.values()].map((cred) => cred.UserName));
    const width = Math.max(5, 10 - prefix.length);
    const now = Date.now();
    for (let i = 1; i <= n; i += 1) {
      const UserName = `${prefix}${String(i).padStart(width, '0')}`;
      if (taken.has(UserName)) continue;
      checkUserName(UserName); // a bad prefix throws here rather than seeding names the API would refuse
      const cred = newCredential(freshId(), { UserName, Alias: `Seeded ${i}` }, now);
      credentials.set(cred.Id, cred);
    }
  }

  function reset(): void {
    credentials.clear();
    credentials.set(rootId, rootCredential(rootId, Date.now()));
    kit.clearRequests();
    kit.setFaults(null);
  }

  reset();
  return {
    app,
    fetch: kit.fetchFor(app),
    credentials,
    rootId,
    apiKey,
    organizationId,
    requests: kit.requests,
    clearRequests: kit.clearRequests,
    setFaults: kit.setFaults,
    seedCredentials,
    reset,
  };
}

/**
 * Serves the emulator on 127.0.0.1 (port 0: any free one). `url` is the server root: the
 * gateway's `baseUrl`, with the organization id configured apart.
 *
 * @example
 * const served = await serveSftpToGoEmulator(emu);
 * await fetch(`${served.url}/organizations/${emu.organizationId}/users`, { headers: { authorization: `Bearer ${emu.apiKey}` } });
 * await served.close();
 */
export async function serveSftpToGoEmulator(emu: SftpToGoEmulator, port = 0): Promise<ServedEmulator> {
  return serveEmulatorApp(emu.app, port);
}

// --- helpers ------------------------------------------------------------------------------------

/** 401 without the right bearer token, then 403 for another organization's path. `/__emulator` is open. */
function authGuard(apiKey: string, organizationId: string): MiddlewareHandler {
  return async function sftpToGoAuth(c, next) {
    if (c.req.path.startsWith('/__emulator/')) return next();
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (token !== apiKey) return errorResponse(401, 'Unauthorized');
    const org = /^\/organizations\/([^/]+)/.exec(c.req.path)?.[1];
    if (org !== undefined && safeDecode(org) !== organizationId) return errorResponse(403, 'Forbidden');
    return next();
  };
}

/** Applies a body's changes in place, so backdoor references stay live. */
function applyChanges(cred: SftpToGoStoredCredential, changes: CredentialChanges): void {
  const { InboundRules, ...fields } = changes;
  Object.assign(cred, fields);
  if (InboundRules) cred.InboundRules = InboundRules;
}

/** Sets UpdatedAt to now, strictly later than before so that a change always shows in it. */
function touch(cred: SftpToGoStoredCredential): void {
  cred.UpdatedAt = Math.max(Date.now(), cred.UpdatedAt + 1);
}

/** The JSON body; an empty body reads as undefined, a malformed one is a 400. */
async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

function errorResponse(status: number, message: string): Response {
  return json({ message }, status);
}
