/**
 * SFTP To Go credentials as the gateway's users: list, read, create (with its keys and rules),
 * update, delete, and the password rotation. The root credential is protected here.
 */
import {
  conflict, mapYielding, pageOfAll, parseSshKeyList, upstreamError, type AdapterUser, type CallContext, type CreatedUserResult,
  type ListUsersQuery, type PasswordRotation, type UserCreate, type UserPage, type UserPatch,
} from '../../src/provider-kit/index.js';
import {
  credentialIdOf, isGatewayError, readCredential, send, UPSTREAM_ID, userNotFound, userPath, why, type SftpToGoBackend,
} from './backend.js';
import { patchRules, postKey, replaceKeys } from './keys-and-rules.js';
import { isoFromTime, toUpstreamCreate, toUpstreamPatch, toUpstreamRules, toUser } from './mapping.js';
import { UpstreamCredential, parseUpstreamCredentialList, parseUpstream, type UpstreamCredentialBody } from './schema.js';

// ---- users ------------------------------------------------------------------------------

/** The whole list, mapped a few thousand users at a time so that other requests are answered meanwhile. */
export async function listAllUsers(b: SftpToGoBackend, ctx: CallContext): Promise<AdapterUser[]> {
  const res = await send(b, { method: 'GET', path: '/users' }, ctx);
  return mapYielding(parseUpstreamCredentialList(res.body, res.status), (c) => toUser(c, b.mapping));
}

/** SFTP To Go's list is unpaged: the gateway pages the whole list itself. */
export async function listUsers(b: SftpToGoBackend, q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
  return pageOfAll(await listAllUsers(b, ctx), q);
}

export async function getUser(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<AdapterUser> {
  return toUser(await readCredential(b, credentialIdOf(id), ctx), b.mapping);
}

/**
 * Deletes a credential this create made and could not finish. A failure here is logged (with
 * the credential id, never its password) and swallowed: the caller gets the step's own error.
 */
async function deleteHalfMade(b: SftpToGoBackend, id: string, step: unknown, ctx: CallContext): Promise<void> {
  try {
    await send(b, { method: 'DELETE', path: userPath(id) }, ctx, { notFound: userNotFound(id) });
    ctx.logger.warn({ backend: b.name, credentialId: id, reason: why(step) }, 'deleted a half-made SFTP To Go credential');
  } catch (cleanup) {
    if (isGatewayError(cleanup) && cleanup.status === 404) return; // already gone: nothing half-made remains
    ctx.logger.error(
      { backend: b.name, credentialId: id, reason: why(step), cleanupError: why(cleanup) },
      'could not delete a half-made SFTP To Go credential: delete it by hand',
    );
  }
}

/**
 * POST the credential (which takes neither keys nor rules), then each key, then the rules in one
 * PATCH. If a later step fails the credential is deleted again and the step's error answered.
 * The password SFTP To Go generated is returned once, as `generatedPassword`.
 */
export async function createUser(b: SftpToGoBackend, input: UserCreate, ctx: CallContext): Promise<CreatedUserResult> {
  const rules = input.networkRules === undefined
    ? undefined
    : toUpstreamRules(input.networkRules, (i) => `networkRules[${i}].cidr`);
  const keys = await parseSshKeyList(input.sshKeys ?? []);
  const body = toUpstreamCreate(input);

  const res = await send(b, { method: 'POST', path: '/users', body }, ctx, {
    special: (r) => (r.status === 409 ? conflict(`username "${input.username}" is already taken`) : undefined),
  });
  let created: UpstreamCredential;
  try {
    created = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
  } catch (err) {
    // Made, but unreadable: do not leave it behind when its id can be told.
    const id = (res.body as { Id?: unknown } | null | undefined)?.Id;
    if (typeof id === 'string' && UPSTREAM_ID.test(id)) await deleteHalfMade(b, id, err, ctx);
    throw err;
  }

  let final = created;
  if (keys.length > 0 || rules !== undefined) {
    try {
      for (const key of keys) await postKey(b, created.Id, key, ctx);
      if (rules !== undefined) await patchRules(b, created.Id, rules, ctx);
    } catch (step) {
      await deleteHalfMade(b, created.Id, step, ctx);
      throw step;
    }
    final = await rereadAfterCreate(b, created, keys.length, ctx);
  }
  const password = created.Password ?? final.Password ?? undefined;
  if (!password) ctx.logger.warn({ backend: b.name, credentialId: created.Id }, 'SFTP To Go answered a create without its password');
  const user = toUser(final, b.mapping);
  return password ? { user, generatedPassword: password } : { user };
}

/**
 * The whole credential after its keys and rules were added, so sshKeyCount is true. It exists
 * complete by now: if this read fails, the create answer stands in (with the keys counted)
 * rather than an error that would lose the one-time password.
 */
async function rereadAfterCreate(
  b: SftpToGoBackend,
  created: UpstreamCredential,
  keyCount: number,
  ctx: CallContext,
): Promise<UpstreamCredential> {
  try {
    return await readCredential(b, created.Id, ctx);
  } catch (err) {
    ctx.logger.warn({ backend: b.name, credentialId: created.Id, reason: why(err) }, 'could not re-read a created SFTP To Go credential');
    return { ...created, SshPublicKeysCount: (created.SshPublicKeysCount ?? 0) + keyCount };
  }
}

/**
 * PATCH with only the fields the patch names (the rule set among them); then, when the patch
 * names `sshKeys`, the keys are made that set (new ones added first, then the others deleted).
 * A `username` equal to the stored one is no rename, and the root credential is never renamed
 * (read first to tell both, before any write); nothing left to send → a read, no PATCH.
 */
export async function updateUser(b: SftpToGoBackend, id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser> {
  const credentialId = credentialIdOf(id);
  const body: UpstreamCredentialBody = toUpstreamPatch(patch);
  const keys = patch.sshKeys === undefined ? undefined : await parseSshKeyList(patch.sshKeys);
  let latest: UpstreamCredential | undefined;
  if (body.UserName !== undefined) {
    latest = await readCredential(b, credentialId, ctx);
    if (latest.UserName === body.UserName) delete body.UserName;
    else if (latest.IsDefault === true) throw conflict('the root credential cannot be renamed');
  }
  if (Object.keys(body).length > 0) {
    const res = await send(b, { method: 'PATCH', path: userPath(credentialId), body }, ctx, {
      notFound: userNotFound(credentialId),
      special: (r) =>
        r.status === 409 && body.UserName !== undefined ? conflict(`username "${body.UserName}" is already taken`) : undefined,
    });
    latest = parseUpstream(UpstreamCredential, res.body, 'a credential', res.status);
  }
  if (keys !== undefined) {
    await replaceKeys(b, credentialId, keys, ctx);
    latest = undefined; // its key count changed
  }
  return toUser(latest ?? (await readCredential(b, credentialId, ctx)), b.mapping);
}

/** The root credential is refused (409) before any DELETE; an upstream refusal of it too. */
export async function deleteUser(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<void> {
  const credentialId = credentialIdOf(id);
  const stored = await readCredential(b, credentialId, ctx);
  const rootRefused = () => conflict('the root credential cannot be deleted');
  if (stored.IsDefault === true) throw rootRefused();
  await send(b, { method: 'DELETE', path: userPath(credentialId) }, ctx, {
    notFound: userNotFound(credentialId),
    special: (r, message) => ((r.status === 400 || r.status === 403 || r.status === 409) && /root|default/i.test(message) ? rootRefused() : undefined),
  });
}

// ---- passwords --------------------------------------------------------------------------

/** `credential-rotations`, then the new password read back (SFTP To Go answers only a message). */
export async function rotatePassword(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<PasswordRotation> {
  const credentialId = credentialIdOf(id);
  await send(b, { method: 'POST', path: `${userPath(credentialId)}/credential-rotations` }, ctx, { notFound: userNotFound(credentialId) });
  const after = await readCredential(b, credentialId, ctx);
  if (!after.Password) throw upstreamError('SFTP To Go rotated the password but did not give the new one back');
  return { password: after.Password, rotatedAt: isoFromTime(after.PasswordCreatedAt) ?? new Date().toISOString() };
}

/**
 * The credential's live password (null when it has none), for a migration to carry it elsewhere.
 * The caller must keep it out of every log line, answer and plan.
 */
export async function revealPassword(b: SftpToGoBackend, id: string, ctx: CallContext): Promise<string | null> {
  const stored = await readCredential(b, credentialIdOf(id), ctx);
  return stored.Password || null;
}
