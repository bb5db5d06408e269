/**
 * The SFTPGo 1.2.0 `User` as the emulator stores it, and the three things the real server does to
 * it: Go's `json.Unmarshal` onto a struct, `validateUser`, and the JSON it writes back.
 */

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
  permissions: string[];
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  upload_bandwidth: number;
  download_bandwidth: number;
  last_login: number;
}

/** A user while a request body is decoded onto it: Go lets a body set anything to anything typed right. */
export interface UserDraft {
  id: number;
  username: string;
  password: string;
  status: number;
  expiration_date: number;
  public_keys: string[] | null;
  home_dir: string;
  uid: number;
  gid: number;
  max_sessions: number;
  quota_size: number;
  quota_files: number;
  permissions: string[] | null;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  upload_bandwidth: number;
  download_bandwidth: number;
  last_login: number;
}

type FieldKind = 'int' | 'int64' | 'string' | '[]string';

/** The Go struct's JSON fields in declaration order (the order the server writes them). */
const FIELDS: ReadonlyArray<readonly [keyof UserDraft, FieldKind]> = [
  ['id', 'int64'], ['status', 'int'], ['username', 'string'], ['expiration_date', 'int64'],
  ['password', 'string'], ['public_keys', '[]string'], ['home_dir', 'string'], ['uid', 'int'],
  ['gid', 'int'], ['max_sessions', 'int'], ['quota_size', 'int64'], ['quota_files', 'int'],
  ['permissions', '[]string'], ['used_quota_size', 'int64'], ['used_quota_files', 'int'],
  ['last_quota_update', 'int64'], ['upload_bandwidth', 'int64'], ['download_bandwidth', 'int64'],
  ['last_login', 'int64'],
];
// Go matches JSON keys to fields case-insensitively; every field name here is lower case.
const FIELD_BY_KEY = new Map(FIELDS.map(([name, kind]) => [name, kind] as const));

export const VALID_PERMISSIONS = [
  '*', 'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks',
];

const KEY_ALGORITHMS = new Set([
  'ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa-cert-v01@openssh.com', 'ssh-dss-cert-v01@openssh.com', 'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
]);

export function blankDraft(): UserDraft {
  return {
    id: 0, username: '', password: '', status: 0, expiration_date: 0, public_keys: null, home_dir: '',
    uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0, permissions: null,
    used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, upload_bandwidth: 0,
    download_bandwidth: 0, last_login: 0,
  };
}

export function draftOf(user: SftpgoStoredUser): UserDraft {
  return { ...user, password: user.password ?? '', public_keys: user.public_keys && [...user.public_keys], permissions: [...user.permissions] };
}

/**
 * Go's `json.Unmarshal(body, &draft)`: present fields replace, absent ones stay, unknown ones are
 * ignored, `null` clears a slice and leaves anything else alone. Returns Go's error text or null.
 * On error the draft may be half-written, as in Go: decode onto a copy.
 */
export function decodeOnto(draft: UserDraft, body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return `json: cannot unmarshal ${jsonKind(body)} into Go value of type dataprovider.User`;
  }
  const target = draft as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(body)) {
    const name = key.toLowerCase();
    const kind = FIELD_BY_KEY.get(name as keyof UserDraft);
    if (!kind) continue;
    if (value === null) {
      if (kind === '[]string') target[name] = null;
      continue;
    }
    const error = typeError(name, kind, value);
    if (error) return error;
    target[name] = Array.isArray(value) ? [...(value as string[])] : value;
  }
  return null;
}

function typeError(name: string, kind: FieldKind, value: unknown): string | null {
  const where = `Go struct field User.${name} of type`;
  if (kind === 'string') return typeof value === 'string' ? null : `json: cannot unmarshal ${jsonKind(value)} into ${where} string`;
  if (kind === '[]string') {
    if (!Array.isArray(value)) return `json: cannot unmarshal ${jsonKind(value)} into ${where} []string`;
    const bad = value.find((v) => typeof v !== 'string');
    return bad === undefined ? null : `json: cannot unmarshal ${jsonKind(bad)} into ${where} string`;
  }
  if (typeof value !== 'number') return `json: cannot unmarshal ${jsonKind(value)} into ${where} ${kind}`;
  return Number.isSafeInteger(value) ? null : `json: cannot unmarshal number ${value} into ${where} ${kind}`;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** SFTPGo's `validateUser`, in its order. Returns the error text or null. */
export function validateUser(user: UserDraft): string | null {
  const problem = firstProblem(user);
  return problem && `Validation error: ${problem}`;
}

function firstProblem(user: UserDraft): string | null {
  if (user.username === '') return 'username is mandatory';
  if (user.password === '' && !user.public_keys?.length) return 'please set a password or at least a public_key';
  if (!user.permissions?.length) return 'please grant some permissions to this user';
  if (!user.home_dir.startsWith('/')) return `home_dir must be an absolute path, actual value: ${user.home_dir}`;
  const badPermission = user.permissions.find((p) => !VALID_PERMISSIONS.includes(p));
  if (badPermission !== undefined) return `invalid permission: ${JSON.stringify(badPermission)}`;
  if (user.status !== 0 && user.status !== 1) return `invalid user status: ${user.status}`;
  const badKey = (user.public_keys ?? []).findIndex((k) => !isAuthorizedKey(k));
  // 1.2.0 counts keys from 0 (later versions from 1).
  if (badKey >= 0) return `could not parse key nr. ${badKey}: ssh: no key found`;
  return null;
}

/**
 * Roughly `ssh.ParseAuthorizedKey`: `[options] <algorithm> <base64> [comment]`, where the blob's
 * first SSH string names the same algorithm.
 */
export function isAuthorizedKey(line: string): boolean {
  const fields = line.trim().split(/\s+/);
  return fields.some((field, i) => KEY_ALGORITHMS.has(field) && blobNames(fields[i + 1], field));
}

function blobNames(base64: string | undefined, algorithm: string): boolean {
  if (!base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return false;
  const blob = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  if (blob.length < 4) return false;
  const length = new DataView(blob.buffer).getUint32(0);
  if (4 + length > blob.length) return false;
  return new TextDecoder().decode(blob.subarray(4, 4 + length)) === algorithm;
}

/** The user as the server writes it: Go field order, `used_quota_files` (not the document's `used_quota_file`), never a password. */
export function toApiUser(user: SftpgoStoredUser, opts: { withPublicKeys: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name] of FIELDS) {
    if (name === 'password' || (name === 'public_keys' && !opts.withPublicKeys)) continue;
    out[name] = user[name];
  }
  return out;
}

/**
 * The stored user for a validated draft. With `previous` (an update) the server's UPDATE statement
 * keeps the username, the used quota and the last login: a body cannot change those.
 */
export function storedFromDraft(draft: UserDraft, id: number, previous?: SftpgoStoredUser): SftpgoStoredUser {
  const user: SftpgoStoredUser = {
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
    permissions: [...(draft.permissions ?? [])],
    used_quota_size: previous?.used_quota_size ?? 0,
    used_quota_files: previous?.used_quota_files ?? 0,
    last_quota_update: previous?.last_quota_update ?? 0,
    upload_bandwidth: draft.upload_bandwidth,
    download_bandwidth: draft.download_bandwidth,
    last_login: previous?.last_login ?? 0,
  };
  if (draft.password !== '') user.password = draft.password;
  return user;
}
