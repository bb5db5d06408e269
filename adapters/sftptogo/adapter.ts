/**
 * The SFTP To Go adapter: the gateway's provider-neutral calls carried to the SFTP To Go
 * credentials API (`/organizations/{organizationId}`, seeds/sftptogo-api.txt). What the API does
 * not do the gateway does around it: paging of its one unpaged list, keys and rules added after a
 * create (and the credential deleted again when they fail), the root credential protected, the
 * password that every read carries kept out of every answer but the create and the rotation.
 */
import {
  BASIC_VOCABULARY, checkBackendConfig, conflict, GatewayError, interpretFailure, notFound, pageOfAll,
  parseSshKeyList, parseSshPublicKey, scrub, unsupportedField, UpstreamClient, upstreamError, upstreamMessage,
  withoutUriPassword, type AdapterDeps, type AdapterUser, type CallContext, type FieldCapabilities,
  type CreatedUserResult, type FailureOptions as CallOptions, type HealthResult, type ListUsersQuery,
  type NetworkRule, type NetworkRuleInput, type ParsedSshKey, type PasswordRotation, type ProviderAdapter,
  type ProviderVoice, type SshKey, type UpstreamRequest, type UpstreamResponse, type UserCreate, type UserPage,
  type UserPatch,
} from '../../src/provider-kit/index.js';
import { SftpToGoBackendConfig } from './config.js';
import {
  isoFromTime, rulesOf, toNetworkRule, toSshKey, toUpstreamCreate, toUpstreamPatch, toUpstreamRules, toUser,
  type BackendContext,
} from './mapping.js';
import {
  UpstreamCredential, isUpstreamCredential, parseUpstreamCredentialList, UpstreamSshKey, UpstreamSshKeyList, parseUpstream,
  type UpstreamCredentialBody,
} from './schema.js';

/** The fields of the sftptogo column of CONTRACT §2 (its operations are the adapter's `operations`). */
export const SFTPTOGO_FIELDS: FieldCapabilities = Object.freeze({
  displayName: true,
  independentChroot: true,
  rename: true,
  expiration: false,
  limits: false,
  usage: false,
  customPermissions: false,
  directoryPermissions: false,
});

/**
 * Credential ids are 30 hex characters and key ids uuids: anything outside this cannot exist,
 * so no call is made for it (and nothing odd ever reaches an upstream path).
 */
const UPSTREAM_ID = /^[A-Za-z0-9-]{1,64}$/;

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


/** A credential id SFTP To Go could have minted, else 404 without a call. */
function credentialIdOf(id: string): string {
  if (!UPSTREAM_ID.test(id)) throw notFound(`user ${id} not found`);
  return id;
}

const isGatewayError = (err: unknown): err is GatewayError => err instanceof GatewayError;
const why = (err: unknown) => (err instanceof GatewayError ? err.detail : err instanceof Error ? err.message : String(err));

/**
 * Builds the adapter for one SFTP To Go backend. Config is checked and the client built here, once.
 *
 * @example
 * const adapter = createSftpToGoAdapter(
 *   { provider: 'sftptogo', baseUrl: 'https://api.sftptogo.com', organizationId: 'org-id', apiKey: 'key', timeoutMs: 10_000 },
 *   { backend: 'togo' },
 * );
 */
export function createSftpToGoAdapter(config: SftpToGoBackendConfig, deps: AdapterDeps): ProviderAdapter {
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
  const credentials = [cfg.apiKey];
  const backendCtx: BackendContext = { backend: deps.backend };

  /** One upstream call: a 2xx answer is returned, anything else thrown as the gateway's error. */
  async function send(req: UpstreamRequest, ctx: CallContext, opts: CallOptions = {}): Promise<UpstreamResponse> {
    const res = await client.request(req, ctx);
    if (res.status >= 200 && res.status < 300) return res;
    throw interpretFailure(VOICE, res, req, opts, credentials);
  }

  const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;
  const userNotFound = (id: string) => `user ${id} not found`;

  // ---- users ------------------------------------------------------------------------------

  async function readCredential(id: string, ctx: CallContext): Promise<UpstreamCredential> {
    const res = await send({ method: 'GET', path: userPath(id) }, ctx, { notFound: userNotFound(id) });
    return parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
  }

  async function listAllUsers(ctx: CallContext): Promise<AdapterUser[]> {
    const res = await send({ method: 'GET', path: '/users' }, ctx);
    return parseUpstreamCredentialList(res.body, res.status).map((c) => toUser(c, backendCtx));
  }

  async function listUsers(q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
    return pageOfAll(await listAllUsers(ctx), q);
  }

  async function getUser(id: string, ctx: CallContext): Promise<AdapterUser> {
    return toUser(await readCredential(credentialIdOf(id), ctx), backendCtx);
  }

  /**
   * Deletes a credential this create made and could not finish. A failure here is logged (with
   * the credential id, never its password) and swallowed: the caller gets the step's own error.
   */
  async function deleteHalfMade(id: string, step: unknown, ctx: CallContext): Promise<void> {
    try {
      await send({ method: 'DELETE', path: userPath(id) }, ctx, { notFound: userNotFound(id) });
      ctx.logger.warn({ backend: deps.backend, credentialId: id, reason: why(step) }, 'deleted a half-made SFTP To Go credential');
    } catch (cleanup) {
      if (isGatewayError(cleanup) && cleanup.status === 404) return; // already gone: nothing half-made remains
      ctx.logger.error(
        { backend: deps.backend, credentialId: id, reason: why(step), cleanupError: why(cleanup) },
        'could not delete a half-made SFTP To Go credential: delete it by hand',
      );
    }
  }

  /**
   * POST the credential (which takes neither keys nor rules), then each key, then the rules in one
   * PATCH. If a later step fails the credential is deleted again and the step's error answered.
   * The password SFTP To Go generated is returned once, as `generatedPassword`.
   */
  async function createUser(input: UserCreate, ctx: CallContext): Promise<CreatedUserResult> {
    const rules = input.networkRules === undefined
      ? undefined
      : toUpstreamRules(input.networkRules, (i) => `networkRules[${i}].cidr`);
    const keys = await parseSshKeyList(input.sshKeys ?? []);
    const body = toUpstreamCreate(input);

    const res = await send({ method: 'POST', path: '/users', body }, ctx, {
      special: (r) => (r.status === 409 ? conflict(`username "${input.username}" is already taken`) : undefined),
    });
    let created: UpstreamCredential;
    try {
      created = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
    } catch (err) {
      // Made, but unreadable: do not leave it behind when its id can be told.
      const id = (res.body as { Id?: unknown } | null | undefined)?.Id;
      if (typeof id === 'string' && UPSTREAM_ID.test(id)) await deleteHalfMade(id, err, ctx);
      throw err;
    }

    let final = created;
    if (keys.length > 0 || rules !== undefined) {
      try {
        for (const key of keys) await postKey(created.Id, key, ctx);
        if (rules !== undefined) await patchRules(created.Id, rules, ctx);
      } catch (step) {
        await deleteHalfMade(created.Id, step, ctx);
        throw step;
      }
      final = await rereadAfterCreate(created, keys.length, ctx);
    }
    const password = created.Password ?? final.Password ?? undefined;
    if (!password) ctx.logger.warn({ backend: deps.backend, credentialId: created.Id }, 'SFTP To Go answered a create without its password');
    const user = toUser(final, backendCtx);
    return password ? { user, generatedPassword: password } : { user };
  }

  /**
   * The whole credential after its keys and rules were added, so sshKeyCount is true. It exists
   * complete by now: if this read fails, the create answer stands in (with the keys counted)
   * rather than an error that would lose the one-time password.
   */
  async function rereadAfterCreate(created: UpstreamCredential, keyCount: number, ctx: CallContext): Promise<UpstreamCredential> {
    try {
      return await readCredential(created.Id, ctx);
    } catch (err) {
      ctx.logger.warn({ backend: deps.backend, credentialId: created.Id, reason: why(err) }, 'could not re-read a created SFTP To Go credential');
      return { ...created, SshPublicKeysCount: (created.SshPublicKeysCount ?? 0) + keyCount };
    }
  }

  /**
   * PATCH with only the fields the patch names (the rule set among them); then, when the patch
   * names `sshKeys`, the keys are made that set (new ones added first, then the others deleted).
   * A `username` equal to the stored one is no rename, and the root credential is never renamed
   * (read first to tell both, before any write); nothing left to send → a read, no PATCH.
   */
  async function updateUser(id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser> {
    const credentialId = credentialIdOf(id);
    const body: UpstreamCredentialBody = toUpstreamPatch(patch);
    const keys = patch.sshKeys === undefined ? undefined : await parseSshKeyList(patch.sshKeys);
    let latest: UpstreamCredential | undefined;
    if (body.UserName !== undefined) {
      latest = await readCredential(credentialId, ctx);
      if (latest.UserName === body.UserName) delete body.UserName;
      else if (latest.IsDefault === true) throw conflict('the root credential cannot be renamed');
    }
    if (Object.keys(body).length > 0) {
      const res = await send({ method: 'PATCH', path: userPath(credentialId), body }, ctx, {
        notFound: userNotFound(credentialId),
        special: (r) =>
          r.status === 409 && body.UserName !== undefined ? conflict(`username "${body.UserName}" is already taken`) : undefined,
      });
      latest = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
    }
    if (keys !== undefined) {
      await replaceKeys(credentialId, keys, ctx);
      latest = undefined; // its key count changed
    }
    return toUser(latest ?? (await readCredential(credentialId, ctx)), backendCtx);
  }

  /** The root credential is refused (409) before any DELETE; an upstream refusal of it too. */
  async function deleteUser(id: string, ctx: CallContext): Promise<void> {
    const credentialId = credentialIdOf(id);
    const stored = await readCredential(credentialId, ctx);
    const rootRefused = () => conflict('the root credential cannot be deleted');
    if (stored.IsDefault === true) throw rootRefused();
    await send({ method: 'DELETE', path: userPath(credentialId) }, ctx, {
      notFound: userNotFound(credentialId),
      special: (r, message) => ((r.status === 400 || r.status === 403 || r.status === 409) && /root|default/i.test(message) ? rootRefused() : undefined),
    });
  }

  // ---- passwords --------------------------------------------------------------------------

  /** `credential-rotations`, then the new password read back (SFTP To Go answers only a message). */
  async function rotatePassword(id: string, ctx: CallContext): Promise<PasswordRotation> {
    const credentialId = credentialIdOf(id);
    await send({ method: 'POST', path: `${userPath(credentialId)}/credential-rotations` }, ctx, { notFound: userNotFound(credentialId) });
    const after = await readCredential(credentialId, ctx);
    if (!after.Password) throw upstreamError('SFTP To Go rotated the password but did not give the new one back');
    return { password: after.Password, rotatedAt: isoFromTime(after.PasswordCreatedAt) ?? new Date().toISOString() };
  }

  // ---- SSH keys ---------------------------------------------------------------------------

  const keysPath = (id: string) => `${userPath(id)}/ssh-public-keys`;

  /** Each key with its body parsed, or null when it does not parse (logged; the upstream's Type/Fingerprint stand in). */
  async function mapKeys(keys: readonly UpstreamSshKey[], userId: string, ctx: CallContext): Promise<SshKey[]> {
    const mapped = await Promise.all(keys.map(async (k) => {
      const parsed = await parseSshPublicKey(k.SshPublicKeyBody).catch(() => null);
      const key = toSshKey(k, parsed);
      if (!parsed || !key) {
        ctx.logger.warn(
          { backend: deps.backend, credentialId: userId, keyId: k.Id, skipped: !key },
          key ? 'an SFTP To Go key body does not parse: using its own type and fingerprint' : 'skipping an SFTP To Go key the gateway cannot read',
        );
      }
      return key;
    }));
    return mapped.filter((k): k is SshKey => k !== null);
  }

  async function readKeys(credentialId: string, ctx: CallContext): Promise<SshKey[]> {
    const res = await send({ method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
    return mapKeys(parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status), credentialId, ctx);
  }

  async function postKey(credentialId: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
    const res = await send({ method: 'POST', path: keysPath(credentialId), body: { SshPublicKeyBody: key.publicKey } }, ctx, {
      notFound: userNotFound(credentialId),
      special: (r, message) => {
        if (r.status === 409) return conflict(`user ${credentialId} already has the key ${key.fingerprint}`);
        // The gateway parsed the key: one SFTP To Go refuses is one it cannot store.
        if (r.status === 400 || r.status === 422) {
          return unsupportedField(`SFTP To Go cannot store this ${key.type} key${message ? `: ${message}` : ''}`, undefined, [
            { path: 'publicKey', message: `refused by SFTP To Go${message ? `: ${message}` : ''}` },
          ]);
        }
        return undefined;
      },
    });
    const [added] = await mapKeys([parseUpstream(UpstreamSshKey, res.body, 'an SSH key', res.status)], credentialId, ctx);
    if (!added) throw upstreamError('SFTP To Go answered an added SSH key the gateway cannot read');
    return added;
  }

  /**
   * Makes the credential's keys exactly `keys`: adds the missing ones, then deletes every other
   * key, one the gateway cannot read included (it is not in the set asked for).
   */
  async function replaceKeys(credentialId: string, keys: readonly ParsedSshKey[], ctx: CallContext): Promise<void> {
    const res = await send({ method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
    const present = parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status);
    const readable = new Map((await mapKeys(present, credentialId, ctx)).map((k) => [k.id, k.fingerprint]));
    const wanted = new Set(keys.map((k) => k.fingerprint));
    const have = new Set(readable.values());
    for (const key of keys) if (!have.has(key.fingerprint)) await postKey(credentialId, key, ctx);
    for (const { Id } of present) {
      const fingerprint = readable.get(Id);
      if (fingerprint !== undefined && wanted.has(fingerprint)) continue;
      await send({ method: 'DELETE', path: `${keysPath(credentialId)}/${encodeURIComponent(Id)}` }, ctx, {
        notFound: `ssh key ${Id} not found for user ${credentialId}`,
      });
    }
  }

  async function listSshKeys(id: string, ctx: CallContext): Promise<SshKey[]> {
    return readKeys(credentialIdOf(id), ctx);
  }

  /** A key already present (same blob, any comment) is a 409 without a POST. */
  async function addSshKey(id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
    const credentialId = credentialIdOf(id);
    const present = await readKeys(credentialId, ctx);
    if (present.some((k) => k.fingerprint === key.fingerprint)) {
      throw conflict(`user ${credentialId} already has the key ${key.fingerprint}`);
    }
    return postKey(credentialId, key, ctx);
  }

  /** A key id that is not the user's is a 404 without a DELETE. */
  async function deleteSshKey(id: string, keyId: string, ctx: CallContext): Promise<void> {
    const credentialId = credentialIdOf(id);
    const keyNotFound = `ssh key ${keyId} not found for user ${credentialId}`;
    if (!UPSTREAM_ID.test(keyId)) throw notFound(keyNotFound);
    const res = await send({ method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
    const present = parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status);
    if (!present.some((k) => k.Id === keyId)) throw notFound(keyNotFound);
    await send({ method: 'DELETE', path: `${keysPath(credentialId)}/${encodeURIComponent(keyId)}` }, ctx, { notFound: keyNotFound });
  }

  // ---- network rules ----------------------------------------------------------------------

  async function listNetworkRules(id: string, ctx: CallContext): Promise<NetworkRule[]> {
    return rulesOf(await readCredential(credentialIdOf(id), ctx)).map(toNetworkRule);
  }

  /** One PATCH with the whole set; the rules in force are those the PATCH answer shows. */
  async function patchRules(
    credentialId: string,
    rules: ReturnType<typeof toUpstreamRules>,
    ctx: CallContext,
  ): Promise<NetworkRule[]> {
    const res = await send(
      { method: 'PATCH', path: userPath(credentialId), body: { Settings: { Network: { InboundRules: rules } } } },
      ctx,
      { notFound: userNotFound(credentialId) },
    );
    const answered = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
    // The seed's PATCH answers carry the rules; one without them is read again rather than guessed.
    const holder = answered.Settings?.Network?.InboundRules ? answered : await readCredential(credentialId, ctx);
    return rulesOf(holder).map(toNetworkRule);
  }

  async function replaceNetworkRules(id: string, rules: NetworkRuleInput[], ctx: CallContext): Promise<NetworkRule[]> {
    const credentialId = credentialIdOf(id);
    return patchRules(credentialId, toUpstreamRules(rules, (i) => `data.${i}.cidr`), ctx);
  }

  // ---- health -----------------------------------------------------------------------------

  /** `GET /users`, the only read the API has; never throws. */
  async function health(ctx: CallContext): Promise<HealthResult> {
    try {
      const res = await client.request({ method: 'GET', path: '/users' }, ctx);
      if (res.status === 200) {
        const list = res.body;
        return Array.isArray(list) && list.every(isUpstreamCredential)
          ? { ok: true, detail: `SFTP To Go: ${list.length} credential${list.length === 1 ? '' : 's'}` }
          : { ok: false, detail: 'SFTP To Go answered 200 with a body that is not a list of credentials' };
      }
      if (res.status === 401 || res.status === 403) {
        return {
          ok: false,
          detail: `SFTP To Go rejected the gateway's API key (${res.status}): check the backend's apiKey and organizationId`,
        };
      }
      const message = scrub(upstreamMessage(res.body), credentials);
      return { ok: false, detail: `SFTP To Go answered ${res.status}${message ? `: ${message}` : ''}` };
    } catch (err) {
      return { ok: false, detail: `unreachable: ${isGatewayError(err) ? err.detail : 'SFTP To Go could not be reached'}` };
    }
  }

  return {
    provider: 'sftptogo',
    fields: SFTPTOGO_FIELDS,
    // No caller-chosen passwords, connections or quota scans: SFTP To Go's API has none.
    operations: Object.freeze({
      passwordRotation: { rotatePassword },
      sshKeys: { listSshKeys, addSshKey, deleteSshKey },
      networkRules: { listNetworkRules, replaceNetworkRules },
    }),
    permissions: BASIC_VOCABULARY.names,
    listUsers,
    listAllUsers,
    getUser,
    createUser,
    updateUser,
    deleteUser,
    health,
    circuit: deps.breaker?.state.bind(deps.breaker),
  };
}
