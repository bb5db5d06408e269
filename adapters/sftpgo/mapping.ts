/**
 * SFTPGo 1.2.0 ⇄ the gateway's model (CONTRACT §2, §3). Pure functions, both directions: no I/O,
 * no clock, no randomness — the adapter passes in what they need (parsed keys, a password).
 * The write-side functions also refuse what SFTPGo cannot represent (422) before any call.
 */
import type {
  AdapterUser, Connection, Limits, LimitsInput, Permission, QuotaScan, SshKey, Usage, UserCreate, UserPatch,
  UserStatus,
} from '../../src/model.js';
import { PERMISSIONS } from '../../src/model.js';
import type { ParsedSshKey } from '../../src/ssh-key.js';
import { sshKeyIdOf } from '../../src/ssh-key.js';
import { accessLevelOf, canonicalPermissions, nearestLevels, requestedPermissions } from '../../src/permissions.js';
import { isoFromMs } from '../../src/iso-time.js';
import { wellFormed } from '../../src/unicode.js';
import { invalidRequest } from '../../src/errors.js';
import { UnsupportedFields } from '../../src/upstream-failure.js';
import type {
  UpstreamConnection, UpstreamPermission, UpstreamQuotaScan, UpstreamUser, UpstreamUserBody,
} from './schema.js';

/** What a mapped user needs to know about its backend. */
export interface BackendContext {
  backend: string;
  /** The SFTP host users connect to; null when the backend config names none. */
  sftpHost: string | null;
  sftpPort: number;
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** Upstream epoch ms → ISO text; 0 ("never") and anything unrepresentable → null. */
export { isoFromMs };

/** SFTPGo `status` 1/0 → `active`/`disabled`. */
export const statusFromUpstream = (status: 0 | 1): UserStatus => (status === 1 ? 'active' : 'disabled');
/** `active`/`disabled` → SFTPGo `status` 1/0. */
export const statusToUpstream = (status: UserStatus): 0 | 1 => (status === 'active' ? 1 : 0);

/**
 * ISO string → epoch ms; null → 0 (SFTPGo: "never"). A time at or before 1970 becomes 1 ms:
 * SFTPGo reads 0 and negatives as "no expiration", the opposite of what such a date asks for.
 */
export function msFromIso(iso: string | null | undefined): number {
  if (iso === null || iso === undefined) return 0;
  return Math.max(1, Date.parse(iso));
}

/** SFTPGo's `*` reads as all eight; the result is deduplicated and in canonical order. */
export function permissionsFromUpstream(perms: readonly UpstreamPermission[]): Permission[] {
  return perms.includes('*') ? [...PERMISSIONS] : canonicalPermissions(perms as Permission[]);
}

/** All eight are written as SFTPGo's `*`; any other set in canonical order. */
export function permissionsToUpstream(perms: readonly Permission[]): UpstreamPermission[] {
  const canon = canonicalPermissions(perms);
  return canon.length === PERMISSIONS.length ? ['*'] : canon;
}

/** Each limit and its SFTPGo field; 0 upstream ⇄ null (unlimited) here. */
export const LIMIT_FIELDS = {
  maxSessions: 'max_sessions',
  quotaBytes: 'quota_size',
  quotaFiles: 'quota_files',
  uploadKBps: 'upload_bandwidth',
  downloadKBps: 'download_bandwidth',
} as const satisfies Record<keyof Limits, keyof UpstreamUser>;
type LimitField = (typeof LIMIT_FIELDS)[keyof Limits];
const LIMIT_KEYS = Object.keys(LIMIT_FIELDS) as (keyof Limits)[];

/** Upstream limits → Limits: 0 (or a meaningless negative) is unlimited. */
export function limitsFromUpstream(u: Partial<Record<LimitField, number>>): Limits {
  // Spelled out rather than built from LIMIT_FIELDS: this runs per listed user, and the generic
  // form cost ~1.5 µs each. The mapping tests hold it to LIMIT_FIELDS in both directions.
  return {
    maxSessions: limitFromUpstream(u.max_sessions),
    quotaBytes: limitFromUpstream(u.quota_size),
    quotaFiles: limitFromUpstream(u.quota_files),
    uploadKBps: limitFromUpstream(u.upload_bandwidth),
    downloadKBps: limitFromUpstream(u.download_bandwidth),
  };
}

const limitFromUpstream = (n: number | undefined): number | null => (n !== undefined && n > 0 ? n : null);

/**
 * LimitsInput → SFTPGo fields. `null` clears all to unlimited; in an object only the given fields
 * change (a null one clears that field) and the others keep `current` (all 0 on create).
 */
export function limitsToUpstream(
  input: LimitsInput | null | undefined,
  current: Partial<Record<LimitField, number>> = {},
): Record<LimitField, number> {
  const out = {} as Record<LimitField, number>;
  for (const k of LIMIT_KEYS) {
    const field = LIMIT_FIELDS[k];
    const given = input === null ? null : input?.[k];
    out[field] = given === undefined ? (current[field] ?? 0) : (given ?? 0);
  }
  return out;
}

/** Stored bytes and files; the server spells the count `used_quota_files`, the document `used_quota_file`. */
export function usageFromUpstream(u: UpstreamUser): Usage {
  return {
    bytes: u.used_quota_size ?? 0,
    files: u.used_quota_files ?? u.used_quota_file ?? 0,
    updatedAt: isoFromMs(u.last_quota_update),
  };
}

/**
 * `sftp://USERNAME@HOST[:PORT]`, the port only when it is not 22; null without a host.
 * @example sftpUri('acme uploads', 'sftp.example.com', 2022) // 'sftp://acme%20uploads@sftp.example.com:2022'
 */
export function sftpUri(username: string, host: string | null, port: number): string | null {
  if (!host) return null;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host; // IPv6 literal
  return `sftp://${encodeURIComponent(wellFormed(username))}@${hostPart}${port === 22 ? '' : `:${port}`}`;
}

/** Secret fields SFTPGo has (password) or later versions nest in a user; never copied into `raw`. */
const SECRET_FIELDS = new Set([
  'password', 'passphrase', 'key_passphrase', 'private_key', 'access_secret', 'account_key', 'sas_url', 'api_key',
]);

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => !SECRET_FIELDS.has(k)).map(([k, v]) => [k, withoutSecrets(v)]),
  );
}

/** The upstream object as sent, every field documented or not, minus `password` (and nested secrets). */
export function rawOf(u: UpstreamUser): Record<string, unknown> {
  return withoutSecrets(u) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * An SFTPGo user → the normalized user. SFTPGo jails every user in `home_dir`, has no display
 * name, no root credential and (in 1.2.0) no created/updated/password-changed times.
 */
export function toUser(u: UpstreamUser, ctx: BackendContext): AdapterUser {
  const permissions = permissionsFromUpstream(u.permissions);
  return {
    id: String(u.id),
    backend: ctx.backend,
    provider: 'sftpgo',
    username: u.username,
    displayName: null,
    status: statusFromUpstream(u.status),
    accessLevel: accessLevelOf(permissions),
    permissions,
    homeDirectory: u.home_dir,
    chrootDirectory: u.home_dir,
    expiresAt: isoFromMs(u.expiration_date),
    sshKeyCount: u.public_keys?.length ?? 0,
    host: ctx.sftpHost,
    uri: sftpUri(u.username, ctx.sftpHost, ctx.sftpPort),
    isRoot: false,
    limits: limitsFromUpstream(u),
    usage: usageFromUpstream(u),
    createdAt: null,
    updatedAt: null,
    lastLoginAt: isoFromMs(u.last_login),
    passwordChangedAt: null,
    raw: () => rawOf(u),
  };
}

/** A parsed key → SshKey; SFTPGo keys have no id or time of their own. */
export function toSshKey(key: ParsedSshKey): SshKey {
  return {
    id: sshKeyIdOf(key.fingerprint),
    type: key.type,
    fingerprint: key.fingerprint,
    comment: key.comment,
    publicKey: key.publicKey,
    createdAt: null,
  };
}

/** A ConnectionStatus → Connection; Go's empty strings read as null. */
export function toConnection(c: UpstreamConnection): Connection {
  return {
    id: c.connection_id,
    username: c.username,
    protocol: c.protocol,
    clientVersion: c.client_version || null,
    remoteAddress: c.remote_address || null,
    connectedAt: isoFromMs(c.connection_time),
    lastActivityAt: isoFromMs(c.last_activity),
    transfers: (c.active_transfers ?? []).map((t) => ({
      operation: t.operation_type,
      path: t.path,
      startedAt: isoFromMs(t.start_time),
      bytes: t.size ?? 0,
      lastActivityAt: isoFromMs(t.last_activity),
    })),
  };
}

export function toQuotaScan(q: UpstreamQuotaScan): QuotaScan {
  return { username: q.username, startedAt: isoFromMs(q.start_time) };
}

// ---------------------------------------------------------------------------------------------
// Writing: checks of what SFTPGo cannot represent

/** The levels SFTPGo can store: every non-empty set (`none` is the one it cannot). */
const REPRESENTABLE = ['read-only', 'write-only', 'read-write', 'full'] as const;

function checkPermissions(perms: Permission[] | undefined, input: { permissions?: unknown }, out: UnsupportedFields): void {
  if (perms === undefined || perms.length > 0) return;
  out.add(
    input.permissions !== undefined ? 'permissions' : 'accessLevel',
    'SFTPGo needs at least one permission: the empty set ("none") cannot be stored',
  );
  out.details = nearestLevels(perms, REPRESENTABLE);
}

/** SFTPGo always jails in home_dir: chrootDirectory may only repeat it. */
function checkChroot(chroot: string | null | undefined, home: string, out: UnsupportedFields): void {
  if (chroot === undefined) return;
  if (chroot === null) {
    out.add('chrootDirectory', 'SFTPGo always jails a user in homeDirectory: it cannot be null');
  } else if (cleanPath(chroot) !== home) {
    out.add('chrootDirectory', `SFTPGo always jails a user in homeDirectory ("${home}"): it must equal it or be omitted`);
  }
}

function checkDisplayName(displayName: string | null | undefined, out: UnsupportedFields): void {
  if (displayName !== undefined && displayName !== null) {
    out.add('displayName', 'SFTPGo users have no display name: omit it or send null');
  }
}

/**
 * Normalizes an absolute path as SFTPGo's `filepath.Clean` does: no `.`, `..`, doubled or
 * trailing slashes. So `/srv/x/` and `/srv/x` are the same home (and the same jail).
 */
export function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** `${base}/${username}`, refusing a username that would point outside the base. */
function defaultHome(base: string, username: string): string {
  if (username.includes('/') || username === '.' || username === '..' || username.includes('\0')) {
    throw invalidRequest(
      `username "${username}" cannot name a directory under ${base}: send homeDirectory explicitly`,
      [{ path: 'homeDirectory', message: 'required for this username' }],
    );
  }
  return cleanPath(`${base}/${username}`);
}

// ---------------------------------------------------------------------------------------------
// Writing: bodies

export interface CreateOptions {
  /** Normalized OpenSSH lines, already parsed and checked by the adapter. */
  publicKeys: string[];
  /** The caller's password or a generated one: SFTPGo needs a password or a key. */
  password: string;
  /** The backend's `homeDirectoryBase`. */
  homeDirectoryBase: string;
}

/**
 * A create body → the whole SFTPGo user for `POST /user` (every documented field, uid/gid 0).
 * Throws 400 (no or contradictory permissions) or 422 (what SFTPGo cannot represent).
 *
 * @example toUpstreamCreate({ username: 'acme', accessLevel: 'read-only' }, { publicKeys: [], password: 'p', homeDirectoryBase: '/srv' })
 *   // { status: 1, username: 'acme', home_dir: '/srv/acme', permissions: ['list', 'download'], … }
 */
export function toUpstreamCreate(input: UserCreate, opts: CreateOptions): UpstreamUserBody {
  const perms = requestedPermissions(input);
  if (perms === undefined) {
    throw invalidRequest('accessLevel or permissions is required', [
      { path: 'accessLevel', message: 'one of accessLevel or permissions is required' },
    ]);
  }
  const home = input.homeDirectory !== undefined
    ? cleanPath(input.homeDirectory)
    : defaultHome(cleanPath(opts.homeDirectoryBase), input.username);

  const unsupported = new UnsupportedFields('SFTPGo');
  checkDisplayName(input.displayName, unsupported);
  if (input.networkRules?.length) unsupported.add('networkRules', 'SFTPGo 1.2.0 has no per-user network rules: omit it or send []');
  checkChroot(input.chrootDirectory, home, unsupported);
  checkPermissions(perms, input, unsupported);
  unsupported.throwIfAny();

  return {
    status: statusToUpstream(input.status ?? 'active'),
    username: input.username,
    expiration_date: msFromIso(input.expiresAt),
    password: opts.password,
    public_keys: opts.publicKeys,
    home_dir: home,
    uid: 0,
    gid: 0,
    ...limitsToUpstream(input.limits),
    permissions: permissionsToUpstream(perms),
    used_quota_size: 0,
    used_quota_file: 0,
    last_quota_update: 0,
    last_login: 0,
  };
}

/** The stored user as a PUT body: everything kept except `password` (an empty one would remove it). */
export function storedBody(stored: UpstreamUser): UpstreamUser {
  const { password: _dropped, ...rest } = stored;
  return rest;
}

/**
 * Merges a patch onto the stored user → the whole user for `PUT /user/{id}`. Only the fields
 * present change; `password` is sent only when the patch sets one. Throws 400/422 as create does,
 * and 422 for a rename (SFTPGo never renames; repeating the current username is no rename).
 */
export function mergeUserPatch(stored: UpstreamUser, patch: UserPatch): UpstreamUser {
  // The route's schema already refuses it; an empty password would remove it on the server.
  if (patch.password === '') throw invalidRequest('password must not be empty', [{ path: 'password', message: 'must not be empty' }]);
  const perms = requestedPermissions(patch);
  const home = patch.homeDirectory !== undefined ? cleanPath(patch.homeDirectory) : cleanPath(stored.home_dir);

  const unsupported = new UnsupportedFields('SFTPGo');
  if (patch.username !== undefined && patch.username !== stored.username) {
    unsupported.add('username', `SFTPGo cannot rename a user (the username is "${stored.username}")`);
  }
  checkDisplayName(patch.displayName, unsupported);
  checkChroot(patch.chrootDirectory, home, unsupported);
  checkPermissions(perms, patch, unsupported);
  unsupported.throwIfAny();

  const merged = storedBody(stored);
  if (patch.homeDirectory !== undefined) merged.home_dir = home;
  if (perms !== undefined) merged.permissions = permissionsToUpstream(perms);
  if (patch.status !== undefined) merged.status = statusToUpstream(patch.status);
  if (patch.expiresAt !== undefined) merged.expiration_date = msFromIso(patch.expiresAt);
  if (patch.limits !== undefined) Object.assign(merged, limitsToUpstream(patch.limits, stored));
  if (patch.password !== undefined) merged.password = patch.password;
  return merged;
}
