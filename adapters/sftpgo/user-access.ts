/**
 * How a user gets in: its password, its SSH keys and (1.x: filters.allowed_ip) its network rules.
 * API v1 has no calls of their own for these: each change is a read-merge-write of the whole user.
 */
import {
  generatePassword,
  type CallContext, type NetworkRule, type NetworkRuleInput, type ParsedSshKey, type PasswordRotation, type SshKey,
} from '../../src/provider-kit/index.js';
import { keepsAWayIn, modifyUser, readUser, userIdOf, withShape, type SftpgoBackend } from './backend.js';
import { checkUserPatch, mergeUserPatch, networkRulesFromUpstream, storedBody, toSshKey } from './mapping.js';
import type { UpstreamUser } from './schema.js';
import { linesWithKey, linesWithoutKey, readStoredKeys, sshKeysOf } from './ssh-keys.js';

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

const storedKeys = (b: SftpgoBackend, stored: UpstreamUser, ctx: CallContext) =>
  readStoredKeys(stored.public_keys, ctx, { backend: b.context.backend, userId: stored.id });

export async function listSshKeys(b: SftpgoBackend, id: string, ctx: CallContext): Promise<SshKey[]> {
  return sshKeysOf(await storedKeys(b, await readUser(b, userIdOf(id), ctx), ctx));
}

export function addSshKey(b: SftpgoBackend, id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
  return modifyUser(b, id, ctx, async (stored) => {
    const public_keys = linesWithKey(await storedKeys(b, stored, ctx), key, stored.username);
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
    const public_keys = linesWithoutKey(await storedKeys(b, stored, ctx), keyId, id);
    return { body: { ...storedBody(stored), public_keys }, result: undefined };
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
