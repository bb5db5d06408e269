/**
 * A credential's SSH keys (`/users/{id}/ssh-public-keys`) and network rules (a PATCH of its
 * `Settings.Network.InboundRules`). `postKey`, `replaceKeys` and `patchRules` also serve a
 * create and an update (users.ts).
 */
import {
  conflict, notFound, parseSshPublicKey, unsupportedField, upstreamError, type CallContext, type NetworkRule,
  type NetworkRuleInput, type ParsedSshKey, type SshKey,
} from '../../src/provider-kit/index.js';
import {
  credentialIdOf, readCredential, send, UPSTREAM_ID, userNotFound, userPath, type SftpToGoBackend,
} from './backend.js';
import { rulesOf, toNetworkRule, toSshKey, toUpstreamRules } from './mapping.js';
import { UpstreamCredential, UpstreamSshKey, UpstreamSshKeyList, parseUpstream } from './schema.js';

// ---- SSH keys ---------------------------------------------------------------------------

const keysPath = (id: string) => `${userPath(id)}/ssh-public-keys`;

/** Each key with its body parsed, or null when it does not parse (logged; the upstream's Type/Fingerprint stand in). */
async function mapKeys(b: SftpToGoBackend, keys: readonly UpstreamSshKey[], userId: string, ctx: CallContext): Promise<SshKey[]> {
  const mapped = await Promise.all(keys.map(async (k) => {
    const parsed = await parseSshPublicKey(k.SshPublicKeyBody).catch(() => null);
    const key = toSshKey(k, parsed);
    if (!parsed || !key) {
      ctx.logger.warn(
        { backend: b.name, credentialId: userId, keyId: k.Id, skipped: !key },
        key ? 'an SFTP To Go key body does not parse: using its own type and fingerprint' : 'skipping an SFTP To Go key the gateway cannot read',
      );
    }
    return key;
  }));
  return mapped.filter((k): k is SshKey => k !== null);
}

async function readKeys(b: SftpToGoBackend, credentialId: string, ctx: CallContext): Promise<SshKey[]> {
  const res = await send(b, { method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
  return mapKeys(b, parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status), credentialId, ctx);
}

export async function postKey(b: SftpToGoBackend, credentialId: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
  const res = await send(b, { method: 'POST', path: keysPath(credentialId), body: { SshPublicKeyBody: key.publicKey } }, ctx, {
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
  const [added] = await mapKeys(b, [parseUpstream(UpstreamSshKey, res.body, 'an SSH key', res.status)], credentialId, ctx);
  if (!added) throw upstreamError('SFTP To Go answered an added SSH key the gateway cannot read');
  return added;
}

/**
 * Makes the credential's keys exactly `keys`: adds the missing ones, then deletes every other
 * key, one the gateway cannot read included (it is not in the set asked for).
 */
export async function replaceKeys(b: SftpToGoBackend, credentialId: string, keys: readonly ParsedSshKey[], ctx: CallContext): Promise<void> {
  const res = await send(b, { method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
  const present = parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status);
  const readable = new Map((await mapKeys(b, present, credentialId, ctx)).map((k) => [k.id, k.fingerprint]));
  const wanted = new Set(keys.map((k) => k.fingerprint));
  const have = new Set(readable.values());
  for (const key of keys) if (!have.has(key.fingerprint)) await postKey(b, credentialId, key, ctx);
  for (const { Id } of present) {
    const fingerprint = readable.get(Id);
    if (fingerprint !== undefined && wanted.has(fingerprint)) continue;
    await send(b, { method: 'DELETE', path: `${keysPath(credentialId)}/${encodeURIComponent(Id)}` }, ctx, {
      notFound: `ssh key ${Id} not found for user ${credentialId}`,
    });
  }
}

export async function listSshKeys(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<SshKey[]> {
  return readKeys(b, credentialIdOf(id), ctx);
}

/** A key already present (same blob, any comment) is a 409 without a POST. */
export async function addSshKey(b: SftpToGoBackend, id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
  const credentialId = credentialIdOf(id);
  const present = await readKeys(b, credentialId, ctx);
  if (present.some((k) => k.fingerprint === key.fingerprint)) {
    throw conflict(`user ${credentialId} already has the key ${key.fingerprint}`);
  }
  return postKey(b, credentialId, key, ctx);
}

/** A key id that is not the user's is a 404 without a DELETE. */
export async function deleteSshKey(b: SftpToGoBackend, id: string, keyId: string, ctx: CallContext): Promise<void> {
  const credentialId = credentialIdOf(id);
  const keyNotFound = `ssh key ${keyId} not found for user ${credentialId}`;
  if (!UPSTREAM_ID.test(keyId)) throw notFound(keyNotFound);
  const res = await send(b, { method: 'GET', path: keysPath(credentialId) }, ctx, { notFound: userNotFound(credentialId) });
  const present = parseUpstream(UpstreamSshKeyList, res.body, 'a list of SSH keys', res.status);
  if (!present.some((k) => k.Id === keyId)) throw notFound(keyNotFound);
  await send(b, { method: 'DELETE', path: `${keysPath(credentialId)}/${encodeURIComponent(keyId)}` }, ctx, { notFound: keyNotFound });
}

// ---- network rules ----------------------------------------------------------------------

export async function listNetworkRules(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<NetworkRule[]> {
  return rulesOf(await readCredential(b, credentialIdOf(id), ctx)).map(toNetworkRule);
}

/** One PATCH with the whole set; the rules in force are those the PATCH answer shows. */
export async function patchRules(
  b: SftpToGoBackend,
  credentialId: string,
  rules: ReturnType<typeof toUpstreamRules>,
  ctx: CallContext,
): Promise<NetworkRule[]> {
  const res = await send(
    b,
    { method: 'PATCH', path: userPath(credentialId), body: { Settings: { Network: { InboundRules: rules } } } },
    ctx,
    { notFound: userNotFound(credentialId) },
  );
  const answered = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
  // The seed's PATCH answers carry the rules; one without them is read again rather than guessed.
  const holder = answered.Settings?.Network?.InboundRules ? answered : await readCredential(b, credentialId, ctx);
  return rulesOf(holder).map(toNetworkRule);
}

export async function replaceNetworkRules(b: SftpToGoBackend, id: string, rules: NetworkRuleInput[], ctx: CallContext): Promise<NetworkRule[]> {
  const credentialId = credentialIdOf(id);
  return patchRules(b, credentialId, toUpstreamRules(rules, (i) => `data.${i}.cidr`), ctx);
}
