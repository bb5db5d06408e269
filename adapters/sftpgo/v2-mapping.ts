/**
 * SFTPGo 2.x (REST API v2) ⇄ the gateway's model (CONTRACT §2, §3). Pure functions, both
 * directions, reusing the 1.x map helpers where the shapes agree. What 2.x adds: all sixteen
 * permission names, `description` (displayName), created/updated/password-changed times, and a
 * PUT that replaces the whole user, so a merge must carry every field the server sent.
 */
import {
  cleanPath, invalidRequest, isoFromMs, PERMISSIONS, requestedDirectories,
  requestedPermissions, UnsupportedFields, vocabularyOf, type AdapterUser, type NetworkRuleInput, type Permission,
  type UserCreate, type UserPatch, type Vocabulary,
} from '../../src/provider-kit/index.js';
import {
  applyPatch, checkChroot, checkUsername, checkRootPermissions, createFields, defaultHome, toUser, permissionMapOf,
  networkRulesFromUpstream, networkRulesToUpstream, permissionsToUpstream, type BackendContext,
} from './mapping.js';
import type { UpstreamPermissionMap } from './schema.js';
import type { UpstreamUserV2, UpstreamUserV2Body } from './v2-schema.js';

/** The model's User has no rules: they are read apart (the networkRules operation), as in 1.x. */
export { networkRulesFromUpstream };

/** SFTPGo 2.x grants all sixteen names; `*` reads as all of them. */
export const VOCABULARY_2X: Vocabulary = vocabularyOf(PERMISSIONS);

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * A 2.x user → the normalized user. The id is the username (v2 addresses users by it); the
 * level is read from the exact root set, with no folding of `delete_files`+`delete_dirs`.
 * `has_password` has no field in the model: it stays in `raw`.
 */
export function toUserV2(u: UpstreamUserV2, ctx: BackendContext): AdapterUser {
  // The 1.x map shape read with 2.x's sixteen names, and what only 2.x answers.
  return {
    ...toUser(u, ctx, VOCABULARY_2X),
    id: u.username,
    displayName: u.description || null,
    createdAt: isoFromMs(u.created_at),
    updatedAt: isoFromMs(u.updated_at),
    passwordChangedAt: isoFromMs(u.last_password_change),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing: checks of what SFTPGo 2.x cannot represent

const rulesToUpstream = (rules: readonly NetworkRuleInput[] | undefined, out: UnsupportedFields) =>
  rules === undefined ? undefined : networkRulesToUpstream(rules, 'networkRules', out);

/** Throws 422 when SFTPGo cannot hold one of the rules: checked before any call. */
export function checkNetworkRulesV2(rules: readonly NetworkRuleInput[]): void {
  const unsupported = new UnsupportedFields('SFTPGo');
  rulesToUpstream(rules, unsupported);
  unsupported.throwIfAny();
}

// ---------------------------------------------------------------------------------------------
// Writing: bodies

export interface CreateOptionsV2 {
  /** Normalized OpenSSH lines, already parsed and checked by the adapter. */
  publicKeys: string[];
  /** The caller's password or a generated one (CONTRACT: an omitted password is generated). */
  password: string;
  /** The backend's `homeDirectoryBase`. */
  homeDirectoryBase: string;
}

/**
 * A create body → the user for `POST /api/v2/users`. `status` is always sent: 2.7.5 stores a
 * user created without it as disabled (users-create-minimal.txt). Throws 400 (no or
 * contradictory permissions) or 422 (what SFTPGo cannot represent) before any call.
 */
export function toUpstreamCreateV2(input: UserCreate, opts: CreateOptionsV2): UpstreamUserV2Body {
  checkUsername(input.username);
  const perms = requestedPermissions(input, VOCABULARY_2X);
  if (perms === undefined) {
    throw invalidRequest('accessLevel or permissions is required', [
      { path: 'accessLevel', message: 'one of accessLevel or permissions is required' },
    ]);
  }
  const dirs = requestedDirectories(input) ?? {};
  const home = input.homeDirectory !== undefined
    ? cleanPath(input.homeDirectory)
    : defaultHome(cleanPath(opts.homeDirectoryBase), input.username);

  const unsupported = new UnsupportedFields('SFTPGo');
  const allowedIp = rulesToUpstream(input.networkRules, unsupported);
  checkChroot(input.chrootDirectory, home, unsupported);
  checkRootPermissions(perms, input, VOCABULARY_2X, unsupported);
  unsupported.throwIfAny();

  return {
    ...createFields(input, home, opts),
    ...(input.displayName ? { description: input.displayName } : {}),
    permissions: permissionMapOf(perms, dirs, VOCABULARY_2X),
    ...(allowedIp && allowedIp.length > 0 ? { filters: { allowed_ip: allowedIp } } : {}),
  };
}

/** What a patch may carry beyond the model's fields: the keys, already parsed by the adapter. */
export interface MergeOptionsV2 {
  /** Normalized OpenSSH lines replacing every stored key (the patch's `sshKeys`). */
  publicKeys?: string[];
}

/**
 * A patch merged onto the stored user → the WHOLE user for `PUT /api/v2/users/{username}`:
 * 2.7.5 resets every field a PUT leaves out (put-semantics-4-diff.txt), so every field the
 * server sent is kept and only the patched ones change. A root set replaces `/` only;
 * `directoryPermissions`, `networkRules` and `sshKeys` replace their whole set; `password` is
 * sent only when the patch sets one (an empty one would remove it upstream). Throws 400/422.
 */
export function mergeUserPatchV2(stored: UpstreamUserV2, patch: UserPatch, opts: MergeOptionsV2 = {}): UpstreamUserV2 {
  if (patch.password === '') throw invalidRequest('password must not be empty', [{ path: 'password', message: 'must not be empty' }]);
  const root = requestedPermissions(patch, VOCABULARY_2X);
  const dirs = requestedDirectories(patch);
  const home = patch.homeDirectory !== undefined ? cleanPath(patch.homeDirectory) : cleanPath(stored.home_dir);

  const unsupported = new UnsupportedFields('SFTPGo');
  if (patch.username !== undefined && patch.username !== stored.username) {
    unsupported.add('username', `SFTPGo cannot rename a user (the username is "${stored.username}")`);
  }
  const allowedIp = rulesToUpstream(patch.networkRules, unsupported);
  checkChroot(patch.chrootDirectory, home, unsupported);
  checkRootPermissions(root, patch, VOCABULARY_2X, unsupported);
  unsupported.throwIfAny();

  // Copy everything the server sent; only the stored password (never sent by GET) is dropped.
  const { password: _stored, ...merged } = stored;
  const permissions = root !== undefined || dirs !== undefined ? mergedPermissions(stored.permissions, root, dirs) : undefined;
  const out = applyPatch<UpstreamUserV2>({ ...merged }, stored, patch, { home, permissions, allowedIp, publicKeys: opts.publicKeys });
  if (patch.displayName !== undefined) {
    // Absent is how the server itself writes an empty description.
    if (patch.displayName) out.description = patch.displayName;
    else delete out.description;
  }
  return out;
}

/** The stored map with the root set, the sub-directories, or both replaced; unmodeled entries kept otherwise. */
function mergedPermissions(
  current: UpstreamPermissionMap,
  root: Permission[] | undefined,
  dirs: Record<string, Permission[]> | undefined,
): UpstreamPermissionMap {
  const rootList = root !== undefined ? permissionsToUpstream(root, VOCABULARY_2X) : (current['/'] ?? []);
  if (dirs === undefined) return { ...current, '/': rootList };
  return { ...permissionMapOf([], dirs, VOCABULARY_2X), '/': rootList };
}
