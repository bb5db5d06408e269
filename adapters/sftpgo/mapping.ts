/**
 * SFTPGo API v1 ⇄ the gateway's model (CONTRACT §2, §3), in both of the API's shapes: 0.9.x
 * (`permissions` one list) and 1.x (`permissions` a map of directory to list, network rules in
 * `filters.allowed_ip`). Pure functions, both directions: no I/O, no clock, no randomness — the
 * adapter passes in what they need (parsed keys, a password, the server's shape).
 * The write-side functions also refuse what SFTPGo cannot represent (422) before any call.
 */
import {
  accessLevelOf, BASIC_PERMISSIONS, BASIC_VOCABULARY, canonicalPermissions, cleanPath, invalidRequest, isoFromMs,
  namesOutside, nearestLevels, normalizeCidr, requestedDirectories, requestedPermissions, sshKeyIdOf,
  UnsupportedFields, unsupportedField, USERNAME_MAX, vocabularyOf, wellFormed, type AdapterUser, type Connection, type Limits, type LimitsInput,
  type NetworkRule, type NetworkRuleInput, type ParsedSshKey, type Permission, type QuotaScan, type SshKey,
  type Usage, type UserCreate, type UserPatch, type UserStatus, type Vocabulary,
} from '../../src/provider-kit/index.js';
import type {
  UpstreamConnection, UpstreamPermission, UpstreamPermissionMap, UpstreamQuotaScan, UpstreamUser, UpstreamUserBody,
} from './schema.js';

export { cleanPath };

/** What a mapped user needs to know about its backend. */
export interface BackendContext {
  backend: string;
  /** The SFTP host users connect to; null when the backend config names none. */
  sftpHost: string | null;
  sftpPort: number;
}

// ---------------------------------------------------------------------------------------------
// The two shapes of API v1

/** `list`: SFTPGo 0.9.x (the seed document); `map`: SFTPGo 1.x. */
export type V1Shape = 'list' | 'map';

/** SFTPGo 1.x adds chmod, chown and chtimes to the eight names (its `ValidPerms`); `*` grants all eleven. */
export const VOCABULARY_1X = vocabularyOf([...BASIC_PERMISSIONS, 'chmod', 'chown', 'chtimes']);

/** The names a server of this shape can grant. */
export const vocabularyOfShape = (shape: V1Shape): Vocabulary => (shape === 'map' ? VOCABULARY_1X : BASIC_VOCABULARY);

/** The shape a user answer is in. */
export const shapeOf = (u: Pick<UpstreamUser, 'permissions'>): V1Shape => (Array.isArray(u.permissions) ? 'list' : 'map');

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

/** One directory's list: `*` reads as every name the server has; the result is deduplicated and canonical. */
export function permissionsFromUpstream(perms: readonly UpstreamPermission[], vocab: Vocabulary): Permission[] {
  return perms.includes('*') ? [...vocab.names] : canonicalPermissions(perms as Permission[]);
}

/** Every name the server has is written as `*`; any other set in canonical order. */
export function permissionsToUpstream(perms: readonly Permission[], vocab: Vocabulary): UpstreamPermission[] {
  const canon = canonicalPermissions(perms);
  return accessLevelOf(canon, vocab) === 'full' ? ['*'] : canon;
}

/** The root directory's list, in either shape. */
function rootList(u: Pick<UpstreamUser, 'permissions'>): readonly UpstreamPermission[] {
  const { permissions } = u;
  return Array.isArray(permissions) ? permissions : ((permissions as UpstreamPermissionMap)['/'] ?? []);
}

/** 1.x: every directory but `/`, each set canonical, sorted by path; 0.9.x: null (it has none). */
export function directoryPermissionsFromUpstream(
  u: Pick<UpstreamUser, 'permissions'>,
  vocab: Vocabulary,
): Record<string, Permission[]> | null {
  const map = u.permissions;
  if (Array.isArray(map)) return null;
  const dirs: string[] = [];
  for (const dir in map) if (dir !== '/') dirs.push(dir);
  const out: Record<string, Permission[]> = {};
  // Most users have "/" alone: no sort, no copies (this runs for every listed user).
  for (const dir of dirs.length > 1 ? dirs.sort(byteOrder) : dirs) {
    out[dir] = permissionsFromUpstream((map as UpstreamPermissionMap)[dir] ?? [], vocab);
  }
  return out;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

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

/** Secret fields SFTPGo has (password) or nests in a user (`filesystem`); never copied into `raw`. */
const SECRET_FIELDS = new Set([
  'password', 'passphrase', 'key_passphrase', 'private_key', 'access_secret', 'account_key', 'sas_url', 'api_key',
  'credentials',
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
// Network rules ⇄ filters.allowed_ip (1.x)

/**
 * A rule's id is its CIDR with `/` as `_`: stable (the same CIDR is the same rule on every
 * read) and safe in a path. @example ruleIdOf('10.0.0.0/8') // '10.0.0.0_8'
 */
export const ruleIdOf = (cidr: string): string => cidr.replaceAll('/', '_');

/** One `allowed_ip` entry → a rule: any protocol, enabled, no description (SFTPGo keeps only the CIDR). */
export function toNetworkRule(cidr: string): NetworkRule {
  return { id: ruleIdOf(cidr), cidr, protocol: 'any', enabled: true, description: null };
}

/** The user's rules; none on a user without `filters.allowed_ip`. */
export function networkRulesFromUpstream(u: Pick<UpstreamUser, 'filters'>): NetworkRule[] {
  return (u.filters?.allowed_ip ?? []).map(toNetworkRule);
}

/**
 * Rules → `allowed_ip`. SFTPGo stores a CIDR and nothing else: a rule for one protocol, a
 * disabled rule or a description is a 422 (it would be lost or widen access); a bare IP becomes
 * its /32 or /128, anything else not a CIDR a 400. A CIDR given twice is kept once.
 */
export function networkRulesToUpstream(rules: readonly NetworkRuleInput[], field: string, out: UnsupportedFields): string[] {
  const cidrs: string[] = [];
  rules.forEach((rule, i) => {
    const cidr = normalizeCidr(rule.cidr);
    if (!cidr) throw invalidRequest(`"${rule.cidr}" is not an IP address or a CIDR`, [{ path: `${field}.${i}.cidr`, message: 'not a CIDR' }]);
    for (const part of RULE_PARTS_LOST) if (part.lost(rule)) out.add(`${field}.${i}.${part.field}`, part.message);
    if (!cidrs.includes(cidr)) cidrs.push(cidr);
  });
  return cidrs;
}

type RuleParts = Pick<NetworkRule, 'protocol' | 'enabled' | 'description'>;

/** What of a rule SFTPGo cannot keep (it stores the CIDR alone): a write refuses it, a migration drops it. */
const RULE_PARTS_LOST: ReadonlyArray<{ field: keyof RuleParts; lost(r: RuleParts): boolean; what(r: RuleParts): string; message: string }> = [
  {
    field: 'protocol', lost: (r) => r.protocol !== 'any', what: (r) => `its protocol (${r.protocol})`,
    message: 'SFTPGo network rules apply to every protocol: send "any"',
  },
  {
    field: 'enabled', lost: (r) => !r.enabled, what: () => 'its disabled state',
    message: 'SFTPGo has no disabled network rules: leave the rule out instead',
  },
  {
    field: 'description', lost: (r) => Boolean(r.description), what: () => 'its description',
    message: 'SFTPGo network rules have no description: omit it or send null',
  },
];

/** Why SFTPGo cannot hold `rule` as it is (see RULE_PARTS_LOST), or undefined. */
export function networkRuleRefusal(rule: RuleParts): string | undefined {
  const lost = RULE_PARTS_LOST.filter((part) => part.lost(rule)).map((part) => part.what(rule));
  return lost.length === 0 ? undefined : `SFTPGo keeps only the CIDR of a rule (enabled, every protocol, no description): it cannot hold ${lost.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * An SFTPGo user → the normalized user, in either shape. SFTPGo jails every user in `home_dir`,
 * has no display name, no root credential and (in API v1) no created/updated/password-changed
 * times. The level is read from the exact root set against the names its server has.
 */
export function toUser(u: UpstreamUser, ctx: BackendContext, vocab: Vocabulary = vocabularyOfShape(shapeOf(u))): AdapterUser {
  const root = rootList(u);
  const permissions = permissionsFromUpstream(root, vocab);
  return {
    id: String(u.id),
    backend: ctx.backend,
    provider: 'sftpgo',
    username: u.username,
    displayName: null,
    status: statusFromUpstream(u.status),
    accessLevel: accessLevelOf(permissions, vocab),
    permissions,
    directoryPermissions: directoryPermissionsFromUpstream(u, vocab),
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

/** The root set: not empty (SFTPGo needs one permission at `/`), every name one this server has. */
export function checkRootPermissions(
  perms: Permission[] | undefined,
  input: { permissions?: unknown },
  vocab: Vocabulary,
  out: UnsupportedFields,
): void {
  if (perms === undefined) return;
  const field = input.permissions !== undefined ? 'permissions' : 'accessLevel';
  checkNames(perms, field, vocab, out);
  if (perms.length > 0) return;
  out.add(field, 'SFTPGo needs at least one permission: the empty set ("none") cannot be stored');
  out.details = nearestLevels(perms, REPRESENTABLE, vocab);
}

function checkNames(perms: readonly Permission[], field: string, vocab: Vocabulary, out: UnsupportedFields): void {
  const outside = namesOutside(perms, vocab);
  if (outside.length > 0) {
    out.add(field, `this SFTPGo server has no permission ${outside.map((p) => `"${p}"`).join(', ')} (it has: ${vocab.names.join(', ')})`);
  }
}

/** Sub-directory permissions: only the 1.x map holds them, with names this server has. */
function checkDirectories(
  dirs: Record<string, Permission[]> | undefined,
  shape: V1Shape,
  vocab: Vocabulary,
  out: UnsupportedFields,
): void {
  if (dirs === undefined) return;
  if (shape === 'list') {
    if (Object.keys(dirs).length > 0) {
      out.add('directoryPermissions', 'this SFTPGo server (0.9.x) has no per-directory permissions: omit it or send {}');
    }
    return;
  }
  for (const [dir, perms] of Object.entries(dirs)) checkNames(perms, `directoryPermissions.${dir}`, vocab, out);
}

function checkNetworkRules(rules: readonly NetworkRuleInput[] | undefined, shape: V1Shape, out: UnsupportedFields): string[] | undefined {
  if (rules === undefined) return undefined;
  if (shape === 'list') {
    if (rules.length > 0) out.add('networkRules', 'this SFTPGo server (0.9.x) has no per-user network rules: omit it or send []');
    return undefined;
  }
  return networkRulesToUpstream(rules, 'networkRules', out);
}

/** SFTPGo always jails in home_dir: chrootDirectory may only repeat it. */
export function checkChroot(chroot: string | null | undefined, home: string, out: UnsupportedFields): void {
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
 * What no SFTPGo accepts as a username (CONTRACT §3: a `/`, leading or trailing spaces; the model
 * bounds the length), refused before any call. A server's own naming rules may refuse more.
 */
export function checkUsername(username: string): void {
  const why = usernameFault(username);
  if (why) throw unsupportedField(`SFTPGo usernames ${why}`, undefined, [{ path: 'username', message: why }]);
}

const usernameFault = (username: string): string | undefined =>
  username.includes('/') ? 'must not hold "/"' : username.trim() !== username ? 'must not begin or end with a space' : undefined;

/** Why no SFTPGo takes `username`: checkUsername's rule, and the length a request's schema bounds. */
export function usernameRefusal(username: string): string | undefined {
  if (username.length === 0 || username.length > USERNAME_MAX) return `SFTPGo usernames are 1 to ${USERNAME_MAX} characters`;
  const why = usernameFault(username);
  return why === undefined ? undefined : `SFTPGo usernames ${why}`;
}


/** `${base}/${username}`, refusing a username that would point outside the base. */
export function defaultHome(base: string, username: string): string {
  if (username.includes('/') || username === '.' || username === '..' || username.includes('\0')) {
    throw invalidRequest(
      `username "${username}" cannot name a directory under ${base}: send homeDirectory explicitly`,
      [{ path: 'homeDirectory', message: 'required for this username' }],
    );
  }
  return cleanPath(`${base}/${username}`);
}

/** The whole 1.x permission map: the root set at `/` and each sub-directory's. */
export function permissionMapOf(root: readonly Permission[], dirs: Record<string, Permission[]>, vocab: Vocabulary): UpstreamPermissionMap {
  const map: UpstreamPermissionMap = { '/': permissionsToUpstream(root, vocab) };
  for (const [dir, perms] of Object.entries(dirs)) map[dir] = permissionsToUpstream(perms, vocab);
  return map;
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
  /** The shape the server speaks. */
  shape: V1Shape;
}

/** What a create sends on every API and shape: `status` always (2.x stores a user created without it as disabled). */
export function createFields(input: UserCreate, home: string, opts: { password: string; publicKeys: string[] }) {
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
  };
}

/**
 * A create body → the whole SFTPGo user for `POST /api/v1/user`: every field the shape has,
 * uid/gid 0, `status`, `home_dir` and `permissions` always. Throws 400 (no or contradictory
 * permissions) or 422 (what this SFTPGo cannot represent).
 *
 * @example toUpstreamCreate({ username: 'acme', accessLevel: 'read-only' }, { publicKeys: [], password: 'p', homeDirectoryBase: '/srv', shape: 'map' })
 *   // { status: 1, username: 'acme', home_dir: '/srv/acme', permissions: { '/': ['list', 'download'] }, … }
 */
export function toUpstreamCreate(input: UserCreate, opts: CreateOptions): UpstreamUserBody {
  checkUsername(input.username);
  const vocab = vocabularyOfShape(opts.shape);
  const perms = requestedPermissions(input, vocab);
  if (perms === undefined) {
    throw invalidRequest('accessLevel or permissions is required', [
      { path: 'accessLevel', message: 'one of accessLevel or permissions is required' },
    ]);
  }
  const dirs = requestedDirectories(input);
  const home = input.homeDirectory !== undefined
    ? cleanPath(input.homeDirectory)
    : defaultHome(cleanPath(opts.homeDirectoryBase), input.username);

  const unsupported = new UnsupportedFields('SFTPGo');
  checkDisplayName(input.displayName, unsupported);
  const allowedIp = checkNetworkRules(input.networkRules, opts.shape, unsupported);
  checkChroot(input.chrootDirectory, home, unsupported);
  checkRootPermissions(perms, input, vocab, unsupported);
  checkDirectories(dirs, opts.shape, vocab, unsupported);
  unsupported.throwIfAny();

  const common = createFields(input, home, opts);
  if (opts.shape === 'list') {
    // The seed's whole User, as 0.9.x documents it.
    return {
      ...common,
      permissions: permissionsToUpstream(perms, vocab),
      used_quota_size: 0,
      used_quota_file: 0,
      last_quota_update: 0,
      last_login: 0,
    };
  }
  return {
    ...common,
    permissions: permissionMapOf(perms, dirs ?? {}, vocab),
    ...(allowedIp && allowedIp.length > 0 ? { filters: { allowed_ip: allowedIp } } : {}),
  };
}

/** The stored user as a PUT body: everything kept except `password` (an empty one would remove it). */
export function storedBody(stored: UpstreamUser): UpstreamUser {
  const { password: _dropped, ...rest } = stored;
  return rest;
}

/** What a patch may carry beyond the model's fields: the keys, already parsed by the adapter. */
export interface MergeOptions {
  /** Normalized OpenSSH lines replacing every stored key (the patch's `sshKeys`). */
  publicKeys?: string[];
}

/** A patch checked against a shape: what it asks for, in SFTPGo's terms. */
export interface CheckedPatch {
  root: Permission[] | undefined;
  dirs: Record<string, Permission[]> | undefined;
  allowedIp: string[] | undefined;
}

/**
 * Every check of a patch that needs no stored user: run before any call, so a patch this
 * SFTPGo cannot represent, or a bad value, makes no upstream call at all. Throws 400/422.
 */
export function checkUserPatch(patch: UserPatch, shape: V1Shape): CheckedPatch {
  // The route's schema already refuses it; an empty password would remove it on the server.
  if (patch.password === '') throw invalidRequest('password must not be empty', [{ path: 'password', message: 'must not be empty' }]);
  const vocab = vocabularyOfShape(shape);
  const root = requestedPermissions(patch, vocab);
  const dirs = requestedDirectories(patch);
  const unsupported = new UnsupportedFields('SFTPGo');
  checkDisplayName(patch.displayName, unsupported);
  if (patch.chrootDirectory === null || (patch.chrootDirectory !== undefined && patch.homeDirectory !== undefined)) {
    checkChroot(patch.chrootDirectory, cleanPath(patch.homeDirectory ?? ''), unsupported);
  }
  checkRootPermissions(root, patch, vocab, unsupported);
  checkDirectories(dirs, shape, vocab, unsupported);
  const allowedIp = checkNetworkRules(patch.networkRules, shape, unsupported);
  unsupported.throwIfAny();
  return { root, dirs, allowedIp };
}

/**
 * Merges a patch onto the stored user → the whole user for `PUT /api/v1/user/{id}`. Only the
 * fields present change: a root set replaces `/` only, `directoryPermissions` every other
 * directory, `networkRules` only `filters.allowed_ip`, `sshKeys` the keys; nothing else the
 * server sent (filters, filesystem, virtual folders, uid/gid, unknown fields) is touched, and a
 * patch that sets no permissions leaves the map exactly as it was. `password` is sent only when
 * the patch sets one. Throws 400/422 as `checkUserPatch` does, and 422 for a rename or a jail
 * apart from the stored home.
 */
export function mergeUserPatch(stored: UpstreamUser, patch: UserPatch, opts: MergeOptions = {}): UpstreamUser {
  const shape = shapeOf(stored);
  const { root, dirs, allowedIp } = checkUserPatch(patch, shape);
  const home = patch.homeDirectory !== undefined ? cleanPath(patch.homeDirectory) : cleanPath(stored.home_dir);

  const unsupported = new UnsupportedFields('SFTPGo');
  if (patch.username !== undefined && patch.username !== stored.username) {
    unsupported.add('username', `SFTPGo cannot rename a user (the username is "${stored.username}")`);
  }
  checkChroot(patch.chrootDirectory, home, unsupported);
  unsupported.throwIfAny();

  const permissions = root !== undefined || dirs !== undefined ? mergedPermissions(stored, root, dirs, vocabularyOfShape(shape)) : undefined;
  return applyPatch(storedBody(stored), stored, patch, { home, permissions, allowedIp, publicKeys: opts.publicKeys });
}

/** What a patch changes once checked: the home, the permissions, the allowed IPs, the keys. */
export interface PatchChanges<P> {
  home: string;
  permissions: P | undefined;
  allowedIp: string[] | undefined;
  publicKeys: string[] | undefined;
}

/** The patch's fields applied onto `merged`, a copy of the stored user (every API's user has them). */
export function applyPatch<T extends UpstreamUser>(merged: T, stored: UpstreamUser, patch: UserPatch, changes: PatchChanges<T['permissions']>): T {
  if (patch.homeDirectory !== undefined) merged.home_dir = changes.home;
  if (changes.permissions !== undefined) merged.permissions = changes.permissions;
  if (changes.allowedIp !== undefined) merged.filters = { ...stored.filters, allowed_ip: changes.allowedIp };
  if (changes.publicKeys !== undefined) merged.public_keys = changes.publicKeys;
  if (patch.status !== undefined) merged.status = statusToUpstream(patch.status);
  if (patch.expiresAt !== undefined) merged.expiration_date = msFromIso(patch.expiresAt);
  if (patch.limits !== undefined) Object.assign(merged, limitsToUpstream(patch.limits, stored));
  if (patch.password !== undefined) merged.password = patch.password;
  return merged;
}

/** The stored permissions with the root set, the sub-directories, or both replaced. */
function mergedPermissions(
  stored: UpstreamUser,
  root: Permission[] | undefined,
  dirs: Record<string, Permission[]> | undefined,
  vocab: Vocabulary,
): UpstreamUser['permissions'] {
  if (Array.isArray(stored.permissions)) return root !== undefined ? permissionsToUpstream(root, vocab) : stored.permissions;
  const current = stored.permissions;
  const rootList = root !== undefined ? permissionsToUpstream(root, vocab) : (current['/'] ?? []);
  if (dirs === undefined) return { ...current, '/': rootList };
  return { ...permissionMapOf([], dirs, vocab), '/': rootList };
}
