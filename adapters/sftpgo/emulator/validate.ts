/**
 * SFTPGo's `dataprovider.validateUser`, for 1.2.2 (with the helpers it calls: validatePermissions,
 * validateFilesystemConfig, validateUserVirtualFolders, validatePublicKeys, validateFilters) and for
 * the 0.9.x shape. Like Go, a validator normalizes the user it checks (cleaned paths, `*` alone,
 * lower-cased patterns, encrypted secrets). Each returns the error text or null.
 */
import { goQuote, isCidr, isGlob, pathClean, pathJoin } from './gostd.js';
import type { AzBlobDraft, FiltersDraft, GcsDraft, S3Draft, UserDraftV0, UserDraftV1 } from './user.js';

/** 1.2.2's dataprovider.ValidPerms. */
export const VALID_PERMISSIONS_V1 = [
  '*', 'list', 'download', 'upload', 'overwrite', 'rename', 'delete', 'create_dirs', 'create_symlinks', 'chmod', 'chown', 'chtimes',
];
/** 0.9.x's valid permissions (the seed document's enum). */
export const VALID_PERMISSIONS_V0 = [
  '*', 'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks',
];
const VALID_LOGIN_METHODS = ['publickey', 'password', 'keyboard-interactive', 'publickey+password', 'publickey+keyboard-interactive'];
const VALID_PROTOCOLS = ['SSH', 'FTP', 'DAV'];
const VALID_ACCESS_TIERS = ['', 'Archive', 'Hot', 'Cool'];

/** What validation needs from the server around it. */
export interface ValidationEnv {
  /** `users_base_dir`: the home of a user created without one is `<usersBaseDir>/<username>`. */
  usersBaseDir: string;
  /** Where the server writes a user's GCS credentials file. */
  gcsCredentialsPath(username: string): string;
  hasGcsCredentials(username: string): boolean;
  saveGcsCredentials(username: string): void;
}

/** 1.2.2's validateUser, in its order; the text as the API answers it. */
export function validateUserV1(user: UserDraftV1, env: ValidationEnv): string | null {
  if (user.home_dir === '' && env.usersBaseDir !== '') user.home_dir = pathJoin(env.usersBaseDir, user.username);
  const problem =
    validateBaseParams(user) ??
    validatePermissions(user) ??
    validateFilesystemConfig(user, env) ??
    validateVirtualFolders(user) ??
    (user.status < 0 || user.status > 1 ? `invalid user status: ${user.status}` : null) ??
    validatePublicKeys(user.public_keys, 0) ??
    validateFilters(user.filters) ??
    saveGcsCredentials(user, env);
  return problem && `Validation error: ${problem}`;
}

function validateBaseParams(user: UserDraftV1): string | null {
  if (user.username === '') return 'username is mandatory';
  if (user.home_dir === '') return 'home_dir is mandatory';
  if (user.password === '' && !user.public_keys?.length) return 'please set a password or at least a public_key';
  if (!user.home_dir.startsWith('/')) return `home_dir must be an absolute path, actual value: ${user.home_dir}`;
  return null;
}

/**
 * validatePermissions: `/` is required and must not be empty; another directory may have an empty
 * list; directories are cleaned (`/a/b/` is `/a/b`) and must be absolute and not an alias of `/`
 * (`/.`, `//`); a list holding `*` becomes `["*"]`.
 */
function validatePermissions(user: UserDraftV1): string | null {
  const permissions = user.permissions ?? {};
  if (Object.keys(permissions).length === 0) return 'please grant some permissions to this user';
  if (!Object.hasOwn(permissions, '/')) return 'permissions for the root dir "/" must be set';
  const cleaned: Record<string, string[] | null> = {};
  for (const [dir, perms] of Object.entries(permissions)) {
    const list = perms ?? [];
    if (list.length === 0 && dir === '/') return `no permissions granted for the directory: ${goQuote(dir)}`;
    if (list.length > VALID_PERMISSIONS_V1.length) return 'invalid permissions';
    const bad = list.find((p) => !VALID_PERMISSIONS_V1.includes(p));
    if (bad !== undefined) return `invalid permission: ${goQuote(bad)}`;
    const cleanedDir = pathClean(dir);
    if (!cleanedDir.startsWith('/')) return `cannot set permissions for non absolute path: ${goQuote(dir)}`;
    if (dir !== cleanedDir && cleanedDir === '/') return `cannot set permissions for invalid subdirectory: ${goQuote(dir)} is an alias for "/"`;
    Object.defineProperty(cleaned, cleanedDir, { value: list.includes('*') ? ['*'] : perms, enumerable: true, writable: true, configurable: true });
  }
  user.permissions = cleaned;
  return null;
}

/** validateFilesystemConfig: the chosen provider's config is checked, the others are emptied. */
function validateFilesystemConfig(user: UserDraftV1, env: ValidationEnv): string | null {
  const fs = user.filesystem;
  const empty = { s3: emptyS3(), gcs: emptyGcs(), az: emptyAz() };
  if (fs.provider === 1) {
    const problem = checkS3(fs.s3config);
    if (problem) return `could not validate s3config: ${problem}`;
    fs.s3config.access_secret = encryptSecret(fs.s3config.access_secret);
    Object.assign(fs, { gcsconfig: empty.gcs, azblobconfig: empty.az });
  } else if (fs.provider === 2) {
    const problem = checkGcs(fs.gcsconfig, user.username, env);
    if (problem) return `could not validate GCS config: ${problem}`;
    Object.assign(fs, { s3config: empty.s3, azblobconfig: empty.az });
  } else if (fs.provider === 3) {
    const problem = checkAzBlob(fs.azblobconfig);
    if (problem) return `could not validate Azure Blob config: ${problem}`;
    fs.azblobconfig.account_key = encryptSecret(fs.azblobconfig.account_key);
    Object.assign(fs, { s3config: empty.s3, gcsconfig: empty.gcs });
  } else {
    Object.assign(fs, { provider: 0, s3config: empty.s3, gcsconfig: empty.gcs, azblobconfig: empty.az });
  }
  return null;
}

/** vfs.ValidateS3FsConfig. */
function checkS3(c: S3Draft): string | null {
  if (c.bucket === '') return 'bucket cannot be empty';
  if (c.region === '') return 'region cannot be empty';
  if (c.access_key === '' && c.access_secret !== '') return 'access_key cannot be empty with access_secret not empty';
  if (c.access_secret === '' && c.access_key !== '') return 'access_secret cannot be empty with access_key not empty';
  const prefix = checkKeyPrefix(c);
  if (prefix) return prefix;
  if (c.upload_part_size !== 0 && (c.upload_part_size < 5 || c.upload_part_size > 5000)) {
    return 'upload_part_size cannot be != 0, lower than 5 (MB) or greater than 5000 (MB)';
  }
  if (c.upload_concurrency < 0 || c.upload_concurrency > 64) return `invalid upload concurrency: ${c.upload_concurrency}`;
  return null;
}

/** vfs.ValidateGCSFsConfig: without credentials (and without automatic ones) the saved file must exist. */
function checkGcs(c: GcsDraft, username: string, env: ValidationEnv): string | null {
  if (c.bucket === '') return 'bucket cannot be empty';
  const prefix = checkKeyPrefix(c);
  if (prefix) return prefix;
  if (!c.credentials && c.automatic_credentials === 0 && !env.hasGcsCredentials(username)) {
    return `invalid credentials stat ${env.gcsCredentialsPath(username)}: no such file or directory`;
  }
  return null;
}

/** vfs.ValidateAzBlobFsConfig: a SAS URL alone is enough. */
function checkAzBlob(c: AzBlobDraft): string | null {
  if (c.sas_url !== '') return null;
  if (c.container === '') return 'container cannot be empty';
  if (c.account_name === '' || c.account_key === '') return 'credentials cannot be empty';
  const prefix = checkKeyPrefix(c);
  if (prefix) return prefix;
  if (c.upload_part_size < 0 || c.upload_part_size > 100) return `invalid upload part size: ${c.upload_part_size}`;
  if (c.upload_concurrency < 0 || c.upload_concurrency > 64) return `invalid upload concurrency: ${c.upload_concurrency}`;
  if (!VALID_ACCESS_TIERS.includes(c.access_tier)) {
    return `invalid access tier ${goQuote(c.access_tier)}, valid values: "''${VALID_ACCESS_TIERS.join(', ')}"`;
  }
  return null;
}

/** A key prefix must not start with `/`; it is cleaned and ends with `/`. */
function checkKeyPrefix(c: { key_prefix: string }): string | null {
  if (c.key_prefix === '') return null;
  if (c.key_prefix.startsWith('/')) return 'key_prefix cannot start with /';
  const cleaned = pathClean(c.key_prefix);
  c.key_prefix = cleaned.endsWith('/') ? cleaned : `${cleaned}/`;
  return null;
}

/**
 * Shaped like utils.EncryptData's `$aes$<key>$<data>` (not real encryption: a test double). A value
 * already in that shape is kept, as the server keeps an already encrypted secret.
 */
function encryptSecret(secret: string): string {
  if (secret === '' || (secret.startsWith('$aes$') && secret.split('$').length === 4)) return secret;
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const key = crypto.getRandomValues(new Uint8Array(32));
  const data = new TextEncoder().encode(secret).map((b, i) => b ^ (key[i % key.length] ?? 0));
  return `$aes$${hex(key)}$${hex(data)}`;
}

/** validateUserVirtualFolders: local filesystem only; absolute, cleaned, not overlapping paths. */
function validateVirtualFolders(user: UserDraftV1): string | null {
  const folders = user.virtual_folders ?? [];
  if (folders.length === 0 || user.filesystem.provider !== 0) {
    user.virtual_folders = [];
    return null;
  }
  const home = pathClean(user.home_dir);
  const seen: Array<{ mapped: string; virtual: string }> = [];
  for (const folder of folders) {
    const virtual = pathClean(folder.virtual_path);
    if (!virtual.startsWith('/') || virtual === '/') return `invalid virtual folder ${goQuote(folder.virtual_path)}`;
    const quota = checkFolderQuota(folder.quota_size, folder.quota_files, folder.mapped_path);
    if (quota) return quota;
    const mapped = pathClean(folder.mapped_path);
    if (!mapped.startsWith('/')) return `invalid mapped folder ${goQuote(folder.mapped_path)}`;
    if (overlaps(mapped, home)) {
      return `invalid mapped folder ${goQuote(folder.mapped_path)} cannot be inside or contain the user home dir ${goQuote(home)}`;
    }
    for (const other of seen) {
      if (overlaps(other.mapped, mapped)) return `invalid mapped folder ${goQuote(folder.mapped_path)} overlaps with mapped folder ${goQuote(other.mapped)}`;
      if (overlaps(other.virtual, virtual)) return `invalid virtual folder ${goQuote(folder.virtual_path)} overlaps with virtual folder ${goQuote(other.virtual)}`;
    }
    seen.push({ mapped, virtual });
    Object.assign(folder, { id: 0, mapped_path: mapped, used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, users: null, virtual_path: virtual });
  }
  return null;
}

/** validateFolderQuotaLimits, with its message quirks (the files message prints the size). */
function checkFolderQuota(size: number, files: number, mappedPath: string): string | null {
  if (size < -1) return `invalid quota_size: ${size} folder path ${goQuote(mappedPath)}`;
  if (files < -1) return `invalid quota_file: ${size} folder path ${goQuote(mappedPath)}`;
  if ((size === -1 && files !== -1) || (files === -1 && size !== -1)) {
    return `virtual folder quota_size and quota_files must be both -1 or >= 0, quota_size: ${files} quota_files: ${size}`;
  }
  return null;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** validatePublicKeys: 1.2.2 and 0.9.x count keys from 0. */
function validatePublicKeys(keys: string[] | null, base: number): string | null {
  const bad = (keys ?? []).findIndex((k) => !isAuthorizedKey(k));
  return bad < 0 ? null : `could not parse key nr. ${bad + base}: ssh: no key found`;
}

/** validateFilters: IP masks as net.ParseCIDR takes them, known login methods and protocols, file filters. */
function validateFilters(f: FiltersDraft): string | null {
  const badDenied = (f.denied_ip ?? []).find((mask) => !isCidr(mask));
  if (badDenied !== undefined) return `could not parse denied IP/Mask ${goQuote(badDenied)} : invalid CIDR address: ${badDenied}`;
  const badAllowed = (f.allowed_ip ?? []).find((mask) => !isCidr(mask));
  if (badAllowed !== undefined) return `could not parse allowed IP/Mask ${goQuote(badAllowed)} : invalid CIDR address: ${badAllowed}`;
  const methods = f.denied_login_methods ?? [];
  if (methods.length >= VALID_LOGIN_METHODS.length) return 'invalid denied_login_methods';
  const badMethod = methods.find((m) => !VALID_LOGIN_METHODS.includes(m));
  if (badMethod !== undefined) return `invalid login method: ${goQuote(badMethod)}`;
  const protocols = f.denied_protocols ?? [];
  if (protocols.length >= VALID_PROTOCOLS.length) return 'invalid denied_protocols';
  const badProtocol = protocols.find((p) => !VALID_PROTOCOLS.includes(p));
  if (badProtocol !== undefined) return `invalid protocol: ${goQuote(badProtocol)}`;
  return validateExtensionFilters(f) ?? validatePatternFilters(f);
}

/** validateFiltersFileExtensions: one filter per cleaned absolute path, something in it, lower-cased. */
function validateExtensionFilters(f: FiltersDraft): string | null {
  const paths: string[] = [];
  for (const filter of f.file_extensions ?? []) {
    const cleaned = pathClean(filter.path);
    if (!cleaned.startsWith('/')) return `invalid path ${goQuote(filter.path)} for file extensions filter`;
    if (paths.includes(cleaned)) return `duplicate file extensions filter for path ${goQuote(filter.path)}`;
    if (!filter.allowed_extensions?.length && !filter.denied_extensions?.length) return `empty file extensions filter for path ${goQuote(filter.path)}`;
    paths.push(cleaned);
    filter.path = cleaned;
    filter.allowed_extensions = (filter.allowed_extensions ?? []).map((e) => e.toLowerCase());
    filter.denied_extensions = (filter.denied_extensions ?? []).map((e) => e.toLowerCase());
  }
  return null;
}

/** validateFiltersPatternExtensions: as extensions, and every pattern must be a valid `path.Match` pattern. */
function validatePatternFilters(f: FiltersDraft): string | null {
  const paths: string[] = [];
  for (const filter of f.file_patterns ?? []) {
    const cleaned = pathClean(filter.path);
    if (!cleaned.startsWith('/')) return `invalid path ${goQuote(filter.path)} for file patterns filter`;
    if (paths.includes(cleaned)) return `duplicate file patterns filter for path ${goQuote(filter.path)}`;
    if (!filter.allowed_patterns?.length && !filter.denied_patterns?.length) return `empty file patterns filter for path ${goQuote(filter.path)}`;
    const bad = [...(filter.allowed_patterns ?? []), ...(filter.denied_patterns ?? [])].find((p) => !isGlob(p));
    if (bad !== undefined) return `invalid file pattern filter ${goQuote(bad)}`;
    paths.push(cleaned);
    filter.path = cleaned;
    filter.allowed_patterns = (filter.allowed_patterns ?? []).map((p) => p.toLowerCase());
    filter.denied_patterns = (filter.denied_patterns ?? []).map((p) => p.toLowerCase());
  }
  return null;
}

/** saveGCSCredentials: the credentials go to a file, not into the stored user. */
function saveGcsCredentials(user: UserDraftV1, env: ValidationEnv): null {
  if (user.filesystem.provider === 2 && user.filesystem.gcsconfig.credentials) {
    env.saveGcsCredentials(user.username);
    user.filesystem.gcsconfig.credentials = null;
  }
  return null;
}

const emptyS3 = (): S3Draft => ({
  bucket: '', key_prefix: '', region: '', access_key: '', access_secret: '', endpoint: '', storage_class: '', upload_part_size: 0, upload_concurrency: 0,
});
const emptyGcs = (): GcsDraft => ({ bucket: '', key_prefix: '', credentials: null, automatic_credentials: 0, storage_class: '' });
const emptyAz = (): AzBlobDraft => ({
  container: '', account_name: '', account_key: '', endpoint: '', sas_url: '', key_prefix: '', upload_part_size: 0,
  upload_concurrency: 0, use_emulator: false, access_tier: '',
});

// --- 0.9.x ----------------------------------------------------------------------------------------

/** 0.9.x's validateUser, as the emulator has always answered it. */
export function validateUserV0(user: UserDraftV0): string | null {
  const problem = firstProblemV0(user);
  return problem && `Validation error: ${problem}`;
}

function firstProblemV0(user: UserDraftV0): string | null {
  if (user.username === '') return 'username is mandatory';
  if (user.password === '' && !user.public_keys?.length) return 'please set a password or at least a public_key';
  if (!user.permissions?.length) return 'please grant some permissions to this user';
  if (!user.home_dir.startsWith('/')) return `home_dir must be an absolute path, actual value: ${user.home_dir}`;
  const badPermission = user.permissions.find((p) => !VALID_PERMISSIONS_V0.includes(p));
  if (badPermission !== undefined) return `invalid permission: ${JSON.stringify(badPermission)}`;
  if (user.status !== 0 && user.status !== 1) return `invalid user status: ${user.status}`;
  return validatePublicKeys(user.public_keys, 0);
}

// --- keys ------------------------------------------------------------------------------------------

const KEY_ALGORITHMS = new Set([
  'ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa-cert-v01@openssh.com', 'ssh-dss-cert-v01@openssh.com', 'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
]);

/**
 * Roughly `ssh.ParseAuthorizedKey`: `[options] <algorithm> <base64> [comment]`, where the blob's
 * first SSH string names the same algorithm.
 */
export function isAuthorizedKey(line: string): boolean {
  const fields = line.trim().split(/\s+/);
  return fields.some((f, i) => KEY_ALGORITHMS.has(f) && blobNames(fields[i + 1], f));
}

function blobNames(base64: string | undefined, algorithm: string): boolean {
  if (!base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return false;
  const blob = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  if (blob.length < 4) return false;
  const length = new DataView(blob.buffer).getUint32(0);
  if (4 + length > blob.length) return false;
  return new TextDecoder().decode(blob.subarray(4, 4 + length)) === algorithm;
}
