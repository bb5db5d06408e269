/**
 * How a user gets in: its password, its SSH keys and (1.x: filters.allowed_ip) its network rules.
 * API v1 has no calls of their own for these: each change is a read-merge-write of the whole user.
 */
import {
  conflict, generatePassword, notFound, parseSshPublicKey, sshKeyIdOf,
  type CallContext, type NetworkRule, type NetworkRuleInput, type ParsedSshKey, type PasswordRotation, type SshKey,
} from '../../src/provider-kit/index.js';
import { keepsAWayIn, modifyUser, readUser, userIdOf, withShape, type SftpgoBackend } from './backend.js';
import { checkUserPatch, mergeUserPatch, networkRulesFromUpstream, storedBody, toSshKey } from './mapping.js';
import type { UpstreamUser } from './schema.js';

// ---- passwords --------------------------------------------------------------------------

export async function rotatePassword(b: SftpgoBackend, id: string, ctx: CallContext): Promise<PasswordRotation> {
  const password = generatePassword();
  await modifyUser(b, id, ctx, async (stored) => ({ body: { ...storedBody(stored), password }, result: undefined }));
  return { password, rotatedAt: new Date().toISOString() };
}

export async function setPassword(b: SftpgoBackend, id: string, password: string, ctx: CallContext): Promise<void> {
  // An empty password would remove it on the server: the gateway never does that.
  checkUserPatch({ password }, b.probe.shape());
  await modifyUser(b, id, ctx, async (stored) => ({ body: { ...storedBody(stored), password }, result: undefined }));
}

// ---- SSH keys ---------------------------------------------------------------------------

/** The stored lines, each with its parsed key or null when it does not parse (logged, kept as is). */
async function storedKeys(
  b: SftpgoBackend, stored: UpstreamUser, ctx: CallContext,
): Promise<{ line: string; key: ParsedSshKey | null }[]> {
  const lines = stored.public_keys ?? [];
  return Promise.all(lines.map(async (line, index) => {
    try {
      return { line, key: await parseSshPublicKey(line) };
    } catch (err) {
      ctx.logger.warn(
        { backend: b.context.backend, userId: stored.id, index, reason: err instanceof Error ? err.message : String(err) },
        'skipping an SFTPGo public key the gateway cannot parse',
      );
      return { line, key: null };
    }
  }));
}

export async function listSshKeys(b: SftpgoBackend, id: string, ctx: CallContext): Promise<SshKey[]> {
  const stored = await readUser(b, userIdOf(id), ctx);
  return (await storedKeys(b, stored, ctx)).flatMap(({ key }) => (key ? [toSshKey(key)] : []));
}

export function addSshKey(b: SftpgoBackend, id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
  return modifyUser(b, id, ctx, async (stored) => {
    const present = await storedKeys(b, stored, ctx);
    if (present.some((k) => k.key?.fingerprint === key.fingerprint)) {
      throw conflict(`user "${stored.username}" already has the key ${key.fingerprint}`);
    }
    const public_keys = [...present.map((k) => k.line), key.publicKey];
    return { body: { ...storedBody(stored), public_keys }, result: toSshKey(key) };
  });
}

/**
 * Removes one key. API v1 never says whether a user has a password, so the last key of a user
 * without one is refused by the server's own check (nothing is written) and answered 409.
 */
export function deleteSshKey(b: SftpgoBackend, id: string, keyId: string, ctx: CallContext): Promise<void> {
  let username = '';
  return modifyUser(b, id, ctx, async (stored) => {
    username = stored.username;
    const present = await storedKeys(b, stored, ctx);
    const kept = present.filter((k) => !k.key || sshKeyIdOf(k.key.fingerprint) !== keyId);
    if (kept.length === present.length) throw notFound(`ssh key ${keyId} not found for user ${id}`);
    return { body: { ...storedBody(stored), public_keys: kept.map((k) => k.line) }, result: undefined };
  }, keepsAWayIn(() => username, 'removing its last SSH key'));
}

// ---- network rules (1.x: filters.allowed_ip) --------------------------------------------

export async function listNetworkRules(b: SftpgoBackend, id: string, ctx: CallContext): Promise<NetworkRule[]> {
  return networkRulesFromUpstream(await readUser(b, userIdOf(id), ctx));
}

export async function replaceNetworkRules(
  b: SftpgoBackend, id: string, rules: NetworkRuleInput[], ctx: CallContext,
): Promise<NetworkRule[]> {
  const patch = { networkRules: rules };
  await withShape(b, ctx, (serverShape) => checkUserPatch(patch, serverShape));
  return modifyUser(b, id, ctx, async (stored) => {
    const body = mergeUserPatch(stored, patch);
    return { body, result: networkRulesFromUpstream(body) };
  });
}
