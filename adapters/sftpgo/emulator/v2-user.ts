/**
 * SFTPGo 2.7.5's user, as the v2 emulator stores and answers it: the Go struct (`dataprovider.User`
 * embedding `sdk.BaseUser`) in declaration order, so `goMarshal` lays fields out as the server does
 * (see shared/reference/sftpgo-2.7.5-recorded/users-get.txt), the body decoding (`render.DecodeJSON`
 * onto a fresh user, Go's error texts) and the validation messages the server answers.
 */
import { decodeGo, goMarshal, zeroOf } from './gojson.js';
import type { GoField, GoObject, GoType } from './gojson.js';
import { goQuote, isCidr, parseGoJson, pathClean } from './gostd.js';
import { isAuthorizedKey } from './validate.js';

/** A stored user: the Go struct's fields by JSON key, `password` included (never answered). */
export type V2StoredUser = GoObject;

const int64: GoType = { kind: 'int', name: 'int64' };
const int: GoType = { kind: 'int', name: 'int' };
const str: GoType = { kind: 'string', name: 'string' };
const bool: GoType = { kind: 'bool', name: 'bool' };
const strings: GoType = { kind: 'slice', name: '[]string', elem: str };
const f = (json: string, type: GoType, omitempty = true): GoField => ({ json, type, omitempty });
const struct = (name: string, fields: GoField[]): GoType => ({ kind: 'struct', name, fields });

/** kms.Secret: every field omitempty, so an unset secret is `{}`. */
const SECRET = struct('kms.Secret', [f('status', str), f('payload', str), f('key', str), f('additional_data', str), f('mode', int)]);

/** sdk.BaseUserFilters' fields; Go names the embedded struct in type errors (`filters.BaseUserFilters.x`). */
const BASE_FILTER_FIELDS: GoField[] = [
  f('allowed_ip', strings), f('denied_ip', strings), f('denied_login_methods', strings), f('denied_protocols', strings),
  f('file_patterns', { kind: 'slice', name: '[]sdk.PatternsFilter', elem: struct('sdk.PatternsFilter', [
    f('path', str, false), f('allowed_patterns', strings), f('denied_patterns', strings), f('deny_policy', int),
  ]) }),
  f('max_upload_file_size', int64), f('tls_username', str),
  f('hooks', struct('sdk.HooksFilter', [
    f('external_auth_disabled', bool, false), f('pre_login_disabled', bool, false), f('check_password_disabled', bool, false),
  ]), false),
  f('disable_fs_checks', bool), f('web_client', strings), f('allow_api_key_auth', bool), f('user_type', str),
  f('bandwidth_limits', { kind: 'slice', name: '[]sdk.BandwidthLimit', elem: struct('sdk.BandwidthLimit', [
    f('sources', strings, false), f('upload_bandwidth', int64), f('download_bandwidth', int64),
  ]) }),
  f('external_auth_cache_time', int64), f('start_directory', str), f('two_factor_protocols', strings), f('ftp_security', int),
  f('is_anonymous', bool), f('default_shares_expiration', int), f('max_shares_expiration', int), f('password_expiration', int),
  f('password_strength', int),
  f('access_time', { kind: 'slice', name: '[]sdk.TimePeriod', elem: struct('sdk.TimePeriod', [
    f('day_of_week', int, false), f('from', str, false), f('to', str, false),
  ]) }),
];

const FILTERS = struct('dataprovider.UserFilters', [
  ...BASE_FILTER_FIELDS,
  f('require_password_change', bool),
  f('totp_config', struct('dataprovider.UserTOTPConfig', [
    f('enabled', bool), f('config_name', str), f('secret', SECRET, false), f('protocols', strings),
  ]), false),
  f('recovery_codes', { kind: 'slice', name: '[]dataprovider.RecoveryCode', elem: struct('dataprovider.RecoveryCode', [
    f('secret', SECRET, false), f('used', bool),
  ]) }),
  f('tls_certs', strings), f('additional_emails', strings),
]);

/**
 * vfs.Filesystem. Only the local provider is emulated: the other providers' configs decode to `{}`
 * (a local user's are always `{}` on 2.7.5, as every recording shows).
 */
const FILESYSTEM = struct('vfs.Filesystem', [
  f('provider', int, false),
  f('osconfig', struct('sdk.OSFsConfig', [f('read_buffer_size', int), f('write_buffer_size', int)]), false),
  ...['s3config', 'gcsconfig', 'azblobconfig', 'cryptconfig', 'sftpconfig', 'httpconfig'].map((key) => f(key, struct(`vfs.${key}`, []), false)),
]);

/**
 * sdk.BaseUser's fields, in order. Groups, roles and virtual folders are stored as sent, with no
 * check that they exist (the emulator has none of them); `oidc_custom_fields` (map[string]any on
 * the server) holds strings only here.
 */
const BASE_USER_FIELDS: GoField[] = [
  f('id', int64, false), f('status', int, false), f('username', str, false), f('email', str), f('expiration_date', int64),
  f('password', str), f('public_keys', strings), f('has_password', bool), f('home_dir', str, false), f('uid', int, false),
  f('gid', int, false), f('max_sessions', int, false), f('quota_size', int64, false), f('quota_files', int, false),
  f('permissions', { kind: 'map', name: 'map[string][]string', elem: strings }, false),
  f('used_quota_size', int64), f('used_quota_files', int), f('last_quota_update', int64), f('upload_bandwidth', int64),
  f('download_bandwidth', int64), f('upload_data_transfer', int64, false), f('download_data_transfer', int64, false),
  f('total_data_transfer', int64, false), f('used_upload_data_transfer', int64), f('used_download_data_transfer', int64),
  f('last_login', int64), f('created_at', int64, false), f('updated_at', int64, false), f('first_download', int64),
  f('first_upload', int64), f('last_password_change', int64), f('description', str), f('additional_info', str),
  f('groups', { kind: 'slice', name: '[]sdk.GroupMapping', elem: struct('sdk.GroupMapping', [f('name', str, false), f('type', int, false)]) }),
  f('oidc_custom_fields', { kind: 'map', name: 'map[string]interface {}', elem: str }),
  f('role', str),
];

const VIRTUAL_FOLDER = struct('vfs.VirtualFolder', [
  f('id', int64), f('name', str, false), f('mapped_path', str), f('description', str), f('virtual_path', str, false),
  f('quota_size', int64, false), f('quota_files', int, false),
]);

export const USER_V2 = struct('dataprovider.User', [
  ...BASE_USER_FIELDS, f('filters', FILTERS, false),
  f('virtual_folders', { kind: 'slice', name: '[]vfs.VirtualFolder', elem: VIRTUAL_FOLDER }), f('filesystem', FILESYSTEM, false),
]);

/** What the server manages itself: a body's values for these are ignored. */
const SERVER_MANAGED = [
  'id', 'has_password', 'used_quota_size', 'used_quota_files', 'last_quota_update', 'used_upload_data_transfer',
  'used_download_data_transfer', 'last_login', 'created_at', 'updated_at', 'first_download', 'first_upload', 'last_password_change',
] as const;

export const VALID_PERMISSIONS_V2 = [
  '*', 'list', 'download', 'upload', 'overwrite', 'delete', 'delete_files', 'delete_dirs', 'rename', 'rename_files',
  'rename_dirs', 'create_dirs', 'create_symlinks', 'chmod', 'chown', 'chtimes', 'copy',
];

export function blankUser(): V2StoredUser {
  return zeroOf(USER_V2) as V2StoredUser;
}

/**
 * `render.DecodeJSON(r.Body, &user)` onto `target` (a fresh user: PUT replaces the whole user),
 * with Go's syntax and type error texts. Go 1.2x names embedded structs in a field path, hence
 * `User.BaseUser.permissions` (users-create-array-permissions-400.txt).
 */
export function decodeUserBody(text: string, target: V2StoredUser): string | null {
  const parsed = parseGoJson(text);
  if ('error' in parsed) return parsed.error;
  const error = decodeGo(target, parsed.node, USER_V2);
  return error === null ? null : error.replace(/Go struct field (\w+)\.([\w.]+) of type/, (_m, owner: string, path: string) => {
    const keys = path.split('.');
    const out: string[] = [];
    keys.forEach((key, i) => {
      if (i === 0 && BASE_USER_FIELDS.some((b) => b.json === key)) out.push('BaseUser');
      if (i === 1 && keys[0] === 'filters' && BASE_FILTER_FIELDS.some((b) => b.json === key)) out.push('BaseUserFilters');
      out.push(key);
    });
    return `Go struct field ${owner}.${out.join('.')} of type`;
  });
}

/** Copies the server-managed fields of `from` onto `to` (a PUT keeps them; a body cannot set them). */
export function keepServerFields(to: V2StoredUser, from: V2StoredUser | null): void {
  for (const key of SERVER_MANAGED) to[key] = from ? from[key] : 0;
  const filters = to.filters as GoObject;
  const old = (from?.filters ?? zeroOf(FILTERS)) as GoObject;
  // updateUser keeps the stored TOTP config and recovery codes whatever the body says
  filters.totp_config = old.totp_config;
  filters.recovery_codes = old.recovery_codes;
}

/**
 * The checks of the server's ValidateUser that the emulator knows, in its order, as the server words
 * them. Fills in the default home directory and normalizes permissions as the server stores them.
 */
export function validateUser(user: V2StoredUser, usersBaseDir: string, namingRules = 0): string | null {
  const username = user.username as string;
  if (username === '') return 'username is mandatory';
  if ((namingRules & 1) === 0 && !/^[a-zA-Z0-9\-_.~]+$/.test(username)) {
    return `username ${goQuote(username)} is not valid, the following characters are allowed: a-zA-Z0-9-_.~`;
  }
  if (user.home_dir === '') user.home_dir = `${usersBaseDir}/${username}`;
  if (!(user.home_dir as string).startsWith('/')) return `home_dir must be an absolute path, actual value: ${user.home_dir as string}`;
  const email = user.email as string;
  if (email !== '' && !/^[^\s@]+@[^\s@]+$/.test(email)) return `email ${goQuote(email)} is not valid`;
  const permissionError = normalizePermissions(user);
  if (permissionError) return permissionError;
  const keys = (user.public_keys as string[] | null) ?? [];
  const bad = keys.findIndex((k) => !isAuthorizedKey(k));
  if (bad >= 0) return `could not parse key nr. ${bad + 1}: ssh: no key found`;
  const allowed = ((user.filters as GoObject).allowed_ip as string[] | null) ?? [];
  const badIp = allowed.find((ip) => !isCidr(ip));
  if (badIp !== undefined) return `could not parse allowed IP/Mask ${goQuote(badIp)}: invalid CIDR address: ${badIp}`;
  return null;
}

function normalizePermissions(user: V2StoredUser): string | null {
  const permissions = (user.permissions as Record<string, string[] | null> | null) ?? {};
  if (Object.keys(permissions).length === 0) return 'please grant some permissions to this user';
  const out: Record<string, string[]> = {};
  for (const dir of Object.keys(permissions).sort()) {
    const perms = permissions[dir] ?? [];
    if (perms.length === 0 && dir === '/') return `no permissions granted for the directory: ${goQuote(dir)}`;
    const invalid = perms.find((p) => !VALID_PERMISSIONS_V2.includes(p));
    if (invalid !== undefined) return `invalid permission: ${goQuote(invalid)}`;
    let cleaned = pathClean(dir);
    if (cleaned !== '/') cleaned = cleaned.replace(/\/$/, '');
    if (!cleaned.startsWith('/')) return `cannot set permissions for non absolute path: ${goQuote(dir)}`;
    if (dir !== cleaned && cleaned === '/') return `cannot set permissions for invalid subdirectory: ${goQuote(dir)} is an alias for "/"`;
    out[cleaned] = perms.includes('*') ? ['*'] : [...new Set(perms)];
  }
  if (!out['/']) return 'permissions for the root dir "/" must be set';
  user.permissions = out;
  return null;
}

/** The user as the API answers it: no password, `has_password` instead, Go's field order. */
export function toApiUser(user: V2StoredUser): unknown {
  return goMarshal(USER_V2, { ...user, password: '', has_password: user.password !== '' });
}
