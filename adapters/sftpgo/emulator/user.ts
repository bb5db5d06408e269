/**
 * The SFTPGo `User` as the emulator stores it, as Go structs of both API shapes (1.x and the seed's
 * 0.9.x), and the conversions between them: a stored user becomes a draft a request body is decoded
 * onto, a validated draft becomes a stored user, a stored user is written back as the server writes it.
 */
import { decodeGo, goMarshal, setOwn, zeroOf } from './gojson.js';
import type { GoField, GoObject, GoType } from './gojson.js';
import { toNode } from './gostd.js';
import type { JsonNode } from './gostd.js';

/** A user as the emulator keeps it; the backdoor (`emu.users`) hands these out and takes them. */
export interface SftpgoStoredUser {
  id: number;
  username: string;
  /** Stored as sent, so tests can see that a password was set; never returned by the API. */
  password?: string;
  status: 0 | 1;
  expiration_date: number;
  public_keys: string[] | null;
  home_dir: string;
  uid: number;
  gid: number;
  max_sessions: number;
  quota_size: number;
  quota_files: number;
  /** Absolute directory to permissions. A 0.x server shows and takes `permissions['/']` as its flat list. */
  permissions: Record<string, string[]>;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  upload_bandwidth: number;
  download_bandwidth: number;
  last_login: number;
  /** `UserFilters` as the server writes them (empty ones left out): `{}` when there are none. */
  filters: Record<string, unknown>;
  /** `Filesystem` as stored: S3/Azure secrets in their encrypted form (reads show them without the key). */
  filesystem: Record<string, unknown>;
  /** `VirtualFolder`s, or null when there are none. */
  virtual_folders: Array<Record<string, unknown>> | null;
  /** Fields a later server version adds: written after the known fields on every read; the API never sets them. */
  extra?: Record<string, unknown>;
}

// --- Go types -------------------------------------------------------------------------------------

const INT: GoType = { kind: 'int', name: 'int' };
const INT64: GoType = { kind: 'int', name: 'int64' };
const STRING: GoType = { kind: 'string', name: 'string' };
const BOOL: GoType = { kind: 'bool', name: 'bool' };
const STRINGS: GoType = { kind: 'slice', name: '[]string', elem: STRING };

const field = (json: string, type: GoType, omitempty = false): GoField => ({ json, type, omitempty });
const optional = (json: string, type: GoType): GoField => field(json, type, true);
const struct = (name: string, fields: GoField[]): GoType & { kind: 'struct' } => ({ kind: 'struct', name, fields });
const sliceOf = (elem: GoType): GoType => ({ kind: 'slice', name: `[]${elem.name}`, elem });

const EXTENSIONS_FILTER = struct('dataprovider.ExtensionsFilter', [
  field('path', STRING), optional('allowed_extensions', STRINGS), optional('denied_extensions', STRINGS),
]);
const PATTERNS_FILTER = struct('dataprovider.PatternsFilter', [
  field('path', STRING), optional('allowed_patterns', STRINGS), optional('denied_patterns', STRINGS),
]);
/** 1.2.2's dataprovider.UserFilters: every field `omitempty`, so no filters is `{}`. */
export const USER_FILTERS = struct('dataprovider.UserFilters', [
  optional('allowed_ip', STRINGS), optional('denied_ip', STRINGS), optional('denied_login_methods', STRINGS),
  optional('denied_protocols', STRINGS), optional('file_extensions', sliceOf(EXTENSIONS_FILTER)),
  optional('file_patterns', sliceOf(PATTERNS_FILTER)), optional('max_upload_file_size', INT64),
]);
const S3_CONFIG = struct('vfs.S3FsConfig', [
  optional('bucket', STRING), optional('key_prefix', STRING), optional('region', STRING), optional('access_key', STRING),
  optional('access_secret', STRING), optional('endpoint', STRING), optional('storage_class', STRING),
  optional('upload_part_size', INT64), optional('upload_concurrency', INT),
]);
const GCS_CONFIG = struct('vfs.GCSFsConfig', [
  optional('bucket', STRING), optional('key_prefix', STRING), optional('credentials', { kind: 'bytes', name: '[]uint8' }),
  optional('automatic_credentials', INT), optional('storage_class', STRING),
]);
const AZBLOB_CONFIG = struct('vfs.AzBlobFsConfig', [
  optional('container', STRING), optional('account_name', STRING), optional('account_key', STRING), optional('endpoint', STRING),
  optional('sas_url', STRING), optional('key_prefix', STRING), optional('upload_part_size', INT64),
  optional('upload_concurrency', INT), optional('use_emulator', BOOL), optional('access_tier', STRING),
]);
/** 1.2.2's dataprovider.Filesystem: the three configs are structs, so always written (as `{}` when empty). */
export const FILESYSTEM = struct('dataprovider.Filesystem', [
  field('provider', { kind: 'int', name: 'dataprovider.FilesystemProvider' }),
  field('s3config', S3_CONFIG), field('gcsconfig', GCS_CONFIG), field('azblobconfig', AZBLOB_CONFIG),
]);
/** vfs.VirtualFolder: the embedded BaseVirtualFolder's fields first. */
export const VIRTUAL_FOLDER = struct('vfs.VirtualFolder', [
  field('id', INT64), field('mapped_path', STRING), field('used_quota_size', INT64), field('used_quota_files', INT),
  field('last_quota_update', INT64), optional('users', STRINGS), field('virtual_path', STRING),
  field('quota_size', INT64), field('quota_files', INT),
]);
/** 1.2.2's dataprovider.User, in declaration order (the order the server writes). */
const USER_V1 = struct('dataprovider.User', [
  field('id', INT64), field('status', INT), field('username', STRING), field('expiration_date', INT64),
  optional('password', STRING), optional('public_keys', STRINGS), field('home_dir', STRING),
  optional('virtual_folders', sliceOf(VIRTUAL_FOLDER)), field('uid', INT), field('gid', INT), field('max_sessions', INT),
  field('quota_size', INT64), field('quota_files', INT),
  field('permissions', { kind: 'map', name: 'map[string][]string', elem: STRINGS }),
  field('used_quota_size', INT64), field('used_quota_files', INT), field('last_quota_update', INT64),
  field('upload_bandwidth', INT64), field('download_bandwidth', INT64), field('last_login', INT64),
  field('filters', USER_FILTERS), field('filesystem', FILESYSTEM),
]);
/** 0.9.4's dataprovider.User (the seed document's shape): one flat permission list, no filters. */
const USER_V0 = struct('dataprovider.User', [
  field('id', INT64), field('status', INT), field('username', STRING), field('expiration_date', INT64),
  optional('password', STRING), optional('public_keys', STRINGS), field('home_dir', STRING), field('uid', INT),
  field('gid', INT), field('max_sessions', INT), field('quota_size', INT64), field('quota_files', INT),
  field('permissions', STRINGS), field('used_quota_size', INT64), field('used_quota_files', INT),
  field('last_quota_update', INT64), field('upload_bandwidth', INT64), field('download_bandwidth', INT64),
  field('last_login', INT64),
]);

// --- drafts ---------------------------------------------------------------------------------------

/** The drafts below are the Go structs as the emulator holds them while decoding and validating. */
export interface ExtensionsFilterDraft {
  path: string;
  allowed_extensions: string[] | null;
  denied_extensions: string[] | null;
}

export interface PatternsFilterDraft {
  path: string;
  allowed_patterns: string[] | null;
  denied_patterns: string[] | null;
}

export interface FiltersDraft {
  allowed_ip: string[] | null;
  denied_ip: string[] | null;
  denied_login_methods: string[] | null;
  denied_protocols: string[] | null;
  file_extensions: ExtensionsFilterDraft[] | null;
  file_patterns: PatternsFilterDraft[] | null;
  max_upload_file_size: number;
}

export interface S3Draft {
  bucket: string;
  key_prefix: string;
  region: string;
  access_key: string;
  access_secret: string;
  endpoint: string;
  storage_class: string;
  upload_part_size: number;
  upload_concurrency: number;
}

export interface GcsDraft {
  bucket: string;
  key_prefix: string;
  /** Base64 JSON credentials; written to a file by the server, never stored in the user. */
  credentials: string | null;
  automatic_credentials: number;
  storage_class: string;
}

export interface AzBlobDraft {
  container: string;
  account_name: string;
  account_key: string;
  endpoint: string;
  sas_url: string;
  key_prefix: string;
  upload_part_size: number;
  upload_concurrency: number;
  use_emulator: boolean;
  access_tier: string;
}

export interface FilesystemDraft {
  provider: number;
  s3config: S3Draft;
  gcsconfig: GcsDraft;
  azblobconfig: AzBlobDraft;
}

export interface VirtualFolderDraft {
  id: number;
  mapped_path: string;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  users: string[] | null;
  virtual_path: string;
  quota_size: number;
  quota_files: number;
}

/** The fields both shapes share, as Go holds them while a body is decoded onto them. */
interface DraftBase {
  id: number;
  status: number;
  username: string;
  expiration_date: number;
  password: string;
  public_keys: string[] | null;
  home_dir: string;
  uid: number;
  gid: number;
  max_sessions: number;
  quota_size: number;
  quota_files: number;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  upload_bandwidth: number;
  download_bandwidth: number;
  last_login: number;
}

/** A 1.x `User` while a body is decoded onto it: anything typed right goes. */
export interface UserDraftV1 extends DraftBase {
  permissions: Record<string, string[] | null> | null;
  virtual_folders: VirtualFolderDraft[] | null;
  filters: FiltersDraft;
  filesystem: FilesystemDraft;
}

/** A 0.x `User` while a body is decoded onto it. */
export interface UserDraftV0 extends DraftBase {
  permissions: string[] | null;
}

/** A 1.x `User` of Go zero values, as `var user dataprovider.User` starts. */
export function blankDraftV1(): UserDraftV1 {
  return zeroOf(USER_V1) as UserDraftV1;
}

/** A 0.x `User` of Go zero values. */
export function blankDraftV0(): UserDraftV0 {
  return zeroOf(USER_V0) as UserDraftV0;
}

/** `render.DecodeJSON(body, &user)` for an already parsed body: Go's first type error, or null. */
export function decodeOntoV1(draft: UserDraftV1, body: JsonNode): string | null {
  return decodeGo(draft as unknown as GoObject, body, USER_V1);
}

/** As {@link decodeOntoV1}, for the 0.x struct. */
export function decodeOntoV0(draft: UserDraftV0, body: JsonNode): string | null {
  return decodeGo(draft as unknown as GoObject, body, USER_V0);
}

/** What the provider reads back for a stored user: a fresh copy, so a failed update leaves the stored one alone. */
export function draftOfV1(user: SftpgoStoredUser): UserDraftV1 {
  const draft = blankDraftV1();
  decodeOntoV1(draft, toNode({ ...goFieldsOf(user), permissions: permissionMap(user.permissions) }));
  return draft;
}

/** As {@link draftOfV1}, for the 0.x struct: the root's list is the flat list. */
export function draftOfV0(user: SftpgoStoredUser): UserDraftV0 {
  const draft = blankDraftV0();
  decodeOntoV0(draft, toNode({ ...goFieldsOf(user), permissions: permissionMap(user.permissions)['/'] ?? [] }));
  return draft;
}

/** The stored user's fields under their Go names; the password as Go holds it ("" for none). */
function goFieldsOf(user: SftpgoStoredUser): GoObject {
  const { extra: _extra, password, ...fields } = user;
  return { ...fields, password: password ?? '' };
}

/** Tolerates a flat list set through the backdoor by older code: it is the root's. */
function permissionMap(permissions: unknown): Record<string, string[]> {
  if (Array.isArray(permissions)) return { '/': permissions.filter((p): p is string => typeof p === 'string') };
  return typeof permissions === 'object' && permissions !== null ? (permissions as Record<string, string[]>) : {};
}

// --- stored users ---------------------------------------------------------------------------------

/**
 * The stored user for a validated 1.x draft. With `previous` (an update) the SQL UPDATE keeps the
 * username, the used quota and the last login: a body cannot change those; on create they start at 0.
 */
export function storedFromDraftV1(draft: UserDraftV1, id: number, previous?: SftpgoStoredUser): SftpgoStoredUser {
  const permissions: Record<string, string[]> = {};
  for (const [dir, list] of Object.entries(draft.permissions ?? {})) setOwn(permissions, dir, [...(list ?? [])]);
  const folders = (draft.virtual_folders ?? []).map((f) => goMarshal(VIRTUAL_FOLDER, f) as Record<string, unknown>);
  return withPassword(
    {
      ...commonStored(draft, id, previous),
      permissions,
      filters: goMarshal(USER_FILTERS, draft.filters) as Record<string, unknown>,
      filesystem: goMarshal(FILESYSTEM, draft.filesystem) as Record<string, unknown>,
      virtual_folders: folders.length > 0 ? folders : null,
    },
    draft.password,
    previous,
  );
}

/** The stored user for a validated 0.x draft: its list becomes the root's; what 0.x cannot see is kept. */
export function storedFromDraftV0(draft: UserDraftV0, id: number, previous?: SftpgoStoredUser): SftpgoStoredUser {
  return withPassword(
    {
      ...commonStored(draft, id, previous),
      permissions: { '/': [...(draft.permissions ?? [])] },
      filters: previous?.filters ?? {},
      filesystem: previous?.filesystem ?? localFilesystem(),
      virtual_folders: previous?.virtual_folders ?? null,
    },
    draft.password,
    previous,
  );
}

type CommonStored = Omit<SftpgoStoredUser, 'permissions' | 'filters' | 'filesystem' | 'virtual_folders' | 'password'>;

function commonStored(draft: DraftBase, id: number, previous: SftpgoStoredUser | undefined): CommonStored {
  return {
    id,
    username: previous?.username ?? draft.username,
    status: draft.status === 1 ? 1 : 0,
    expiration_date: draft.expiration_date,
    public_keys: draft.public_keys?.length ? [...draft.public_keys] : null,
    home_dir: draft.home_dir,
    uid: draft.uid,
    gid: draft.gid,
    max_sessions: draft.max_sessions,
    quota_size: draft.quota_size,
    quota_files: draft.quota_files,
    used_quota_size: previous?.used_quota_size ?? 0,
    used_quota_files: previous?.used_quota_files ?? 0,
    last_quota_update: previous?.last_quota_update ?? 0,
    upload_bandwidth: draft.upload_bandwidth,
    download_bandwidth: draft.download_bandwidth,
    last_login: previous?.last_login ?? 0,
  };
}

function withPassword(user: Omit<SftpgoStoredUser, 'password'>, password: string, previous?: SftpgoStoredUser): SftpgoStoredUser {
  const out: SftpgoStoredUser = { ...user, ...(previous?.extra ? { extra: previous.extra } : {}) };
  if (password !== '') out.password = password;
  return out;
}

/** A local-filesystem user's `filesystem`, as stored and as written. */
export function localFilesystem(): Record<string, unknown> {
  return { provider: 0, s3config: {}, gcsconfig: {}, azblobconfig: {} };
}

// --- the user as the server writes it -------------------------------------------------------------

/**
 * A stored user as 1.2.2 writes it (`HideUserSensitiveData`): Go field order, no password, empty
 * `public_keys`/`virtual_folders` left out, `filters` and `filesystem` always there, the S3 access
 * secret and Azure account key without their decryption key, GCS credentials never. Then `extra`.
 */
export function toApiUserV1(user: SftpgoStoredUser): Record<string, unknown> {
  // One copy with the fields a read shows differently (never the password); `extra` is no field of the struct.
  const view: GoObject = {
    ...user,
    password: '',
    permissions: permissionMap(user.permissions),
    filters: user.filters ?? {},
    filesystem: user.filesystem ?? localFilesystem(),
  };
  const out = goMarshal(USER_V1, view) as Record<string, unknown>;
  hideFilesystemSecrets(out.filesystem as Record<string, unknown>);
  return withExtra(out, user.extra);
}

/** The written copy's secrets: only the active provider's are touched, as HideUserSensitiveData does. */
function hideFilesystemSecrets(fs: Record<string, unknown>): void {
  const config = (key: string) => fs[key] as Record<string, unknown>;
  if (fs.provider === 1) hideKey(config('s3config'), 'access_secret');
  if (fs.provider === 2) delete config('gcsconfig').credentials;
  if (fs.provider === 3) hideKey(config('azblobconfig'), 'account_key');
}

function hideKey(config: Record<string, unknown>, key: string): void {
  const secret = config[key];
  if (typeof secret === 'string') config[key] = removeDecryptionKey(secret);
}

/** 1.2.2's utils.RemoveDecryptionKey: `$aes$<key>$<data>` becomes `$aes$<data>`; anything else stays. */
export function removeDecryptionKey(secret: string): string {
  const parts = secret.split('$');
  return parts.length === 4 ? `$${parts[1]}$${parts[3]}` : secret;
}

/** A stored user as the 0.x server writes it: the flat list, no password, `public_keys` only when asked. */
export function toApiUserV0(user: SftpgoStoredUser, opts: { withPublicKeys: boolean }): Record<string, unknown> {
  const view: GoObject = { ...user, password: '', permissions: permissionMap(user.permissions)['/'] ?? [] };
  const out: Record<string, unknown> = {};
  for (const { json } of USER_V0.fields) {
    if (json === 'password' || (json === 'public_keys' && !opts.withPublicKeys)) continue;
    out[json] = view[json];
  }
  return withExtra(out, user.extra);
}

function withExtra(out: Record<string, unknown>, extra: Record<string, unknown> | undefined): Record<string, unknown> {
  for (const [key, value] of Object.entries(extra ?? {})) if (!(key in out)) setOwn(out, key, value);
  return out;
}
