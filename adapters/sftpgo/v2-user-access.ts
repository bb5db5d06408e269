/**
 * How a user gets in, on SFTPGo REST API v2: its password, SSH keys and network rules
 * (`filters.allowed_ip`). API v2 has no calls of their own for these: each change is a
 * read-merge-write of the whole user (./v2-users.ts `modifyUserV2`).
 */
import {
  generatePassword, invalidRequest,
  type CallContext, type NetworkRule, type NetworkRuleInput, type ParsedSshKey, type PasswordRotation, type SshKey,
} from '../../src/provider-kit/index.js';
import { toSshKey } from './mapping.js';
import { linesWithKey, linesWithoutKey, readStoredKeys, sshKeysOf } from './ssh-keys.js';
import type { SftpgoV2Backend } from './v2-backend.js';
import { checkNetworkRulesV2, mergeUserPatchV2, networkRulesFromUpstream } from './v2-mapping.js';
import type { UpstreamUserV2 } from './v2-schema.js';
import { modifyUserV2, noWayIn, readUserV2 } from './v2-users.js';

/** The stored user with `password` set: the only write that sends one. */
const withPassword = (stored: UpstreamUserV2, password: string) => mergeUserPatchV2(stored, { password });

export async function rotatePasswordV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<PasswordRotation> {
  const password = generatePassword();
  await modifyUserV2(b, id, ctx, (stored) => ({ body: withPassword(stored, password), result: undefined }));
  return { password, rotatedAt: new Date().toISOString() };
}

export async function setPasswordV2(b: SftpgoV2Backend, id: string, password: string, ctx: CallContext): Promise<void> {
  // An empty password would remove it on the server: the gateway never does that.
  if (password === '') throw invalidRequest('password must not be empty', [{ path: 'password', message: 'must not be empty' }]);
  await modifyUserV2(b, id, ctx, (stored) => ({ body: withPassword(stored, password), result: undefined }));
}

const storedKeys = (b: SftpgoV2Backend, stored: UpstreamUserV2, ctx: CallContext) =>
  readStoredKeys(stored.public_keys, ctx, { backend: b.context.backend, username: stored.username });

/** The stored user as a PUT body with other keys: every field kept, the password never sent. */
const withKeys = (stored: UpstreamUserV2, publicKeys: string[]) => mergeUserPatchV2(stored, {}, { publicKeys });

export async function listSshKeysV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<SshKey[]> {
  return sshKeysOf(await storedKeys(b, await readUserV2(b, id, ctx), ctx));
}

export function addSshKeyV2(b: SftpgoV2Backend, id: string, key: ParsedSshKey, ctx: CallContext): Promise<SshKey> {
  return modifyUserV2(b, id, ctx, async (stored) => ({
    body: withKeys(stored, linesWithKey(await storedKeys(b, stored, ctx), key, stored.username)),
    result: toSshKey(key),
  }));
}

/**
 * Removes one key. 2.x itself would accept a user left with neither a password nor a key (it
 * allows certificate and OIDC logins), but such a user cannot log in by any means the gateway
 * manages: as on 1.x, removing the last key of a user without a password is a 409, before any write.
 */
export function deleteSshKeyV2(b: SftpgoV2Backend, id: string, keyId: string, ctx: CallContext): Promise<void> {
  return modifyUserV2(b, id, ctx, async (stored) => {
    const public_keys = linesWithoutKey(await storedKeys(b, stored, ctx), keyId, id);
    if (public_keys.length === 0 && stored.has_password !== true) {
      throw noWayIn(stored.username, 'removing its last SSH key');
    }
    return { body: withKeys(stored, public_keys), result: undefined };
  });
}

export async function listNetworkRulesV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<NetworkRule[]> {
  return networkRulesFromUpstream(await readUserV2(b, id, ctx));
}

export function replaceNetworkRulesV2(
  b: SftpgoV2Backend, id: string, rules: NetworkRuleInput[], ctx: CallContext,
): Promise<NetworkRule[]> {
  // Checked before the user is read: a rule SFTPGo cannot hold is refused without a call.
  checkNetworkRulesV2(rules);
  return modifyUserV2(b, id, ctx, (stored) => {
    const body = mergeUserPatchV2(stored, { networkRules: rules });
    return { body, result: networkRulesFromUpstream(body) };
  });
}
