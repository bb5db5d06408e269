/**
 * SFTP To Go ⇄ the gateway's model (CONTRACT §2, §3). Pure functions, both directions: no I/O,
 * no clock, no randomness — the adapter passes in what they need (parsed keys).
 * The write-side functions also refuse what SFTP To Go cannot represent (422) before any call.
 */
import {
  accessLevelOf, BASIC_VOCABULARY, invalidRequest, isoFromMs, namesOutside, nearestLevels, normalizeCidr,
  permissionsOf, requestedDirectories, requestedPermissions, SSH_KEY_TYPES, sshKeyTypeOf, UnsupportedFields,
  upstreamError, wellFormed, withoutUriPassword, type AccessLevel, type AdapterUser, type NetworkRule,
  type NetworkRuleInput, type ParsedSshKey, type Permission, type SshKey, type SshKeyType, type UserCreate,
  type UserPatch, type UserStatus,
} from '../../src/provider-kit/index.js';
import type {
  UpstreamCredential, UpstreamCredentialBody, UpstreamInboundRule, UpstreamInboundRuleBody, UpstreamSshKey,
} from './schema.js';

/** What a mapped user needs to know about its backend. */
export interface BackendContext {
  backend: string;
}

// ---------------------------------------------------------------------------------------------
// Permissions ⇄ access levels

/** SFTP To Go's `Permission` values: each is the access level of the same name (CONTRACT §3). */
export const UPSTREAM_PERMISSIONS = ['none', 'read-only', 'write-only', 'read-write', 'full'] as const;
export type UpstreamPermission = (typeof UPSTREAM_PERMISSIONS)[number];

const isUpstreamPermission = (value: string): value is UpstreamPermission =>
  (UPSTREAM_PERMISSIONS as readonly string[]).includes(value);

/**
 * `Permission` → access level and permission set. A value the gateway does not know reads as
 * `custom` with no permissions: never more access than is certain (`raw` keeps the value).
 * @example levelFromUpstream('read-only') // { accessLevel: 'read-only', permissions: ['list', 'download'] }
 */
export function levelFromUpstream(permission: string): { accessLevel: AccessLevel; permissions: Permission[] } {
  if (!isUpstreamPermission(permission)) return { accessLevel: 'custom', permissions: [] };
  return { accessLevel: permission, permissions: permissionsOf(permission, BASIC_VOCABULARY) };
}

/** A permission set → its `Permission`; undefined for a set SFTP To Go cannot store (custom). */
export function permissionToUpstream(perms: readonly Permission[]): UpstreamPermission | undefined {
  const level = accessLevelOf(perms, BASIC_VOCABULARY);
  return level === 'custom' ? undefined : level;
}

// ---------------------------------------------------------------------------------------------
// Status and times

/** Upstream epoch ms → ISO text; 0 ("never") and anything unrepresentable → null. */
export { isoFromMs };

/** `active` → active; `inactive`, and anything the gateway does not know, → disabled. */
export const statusFromUpstream = (state: string): UserStatus => (state === 'active' ? 'active' : 'disabled');
export const statusToUpstream = (status: UserStatus): 'active' | 'inactive' => (status === 'active' ? 'active' : 'inactive');

/**
 * An upstream time, ISO text (`PasswordCreatedAt`) or epoch ms → ISO with ms, UTC; unparseable → null.
 * @example isoFromTime('2020-10-26T07:19:26Z') // '2020-10-26T07:19:26.000Z'
 */
export function isoFromTime(value: string | number | null | undefined): string | null {
  if (typeof value === 'number') return isoFromMs(value);
  if (typeof value !== 'string' || value.trim() === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : isoFromMs(ms);
}

// ---------------------------------------------------------------------------------------------
// URIs and raw

/**
 * `sftp://USERNAME@HOST`, rebuilt from the username and host: never the upstream `URI`, which
 * carries the password. Null without a host.
 * @example sftpUri('my-user-name', 'warm-soda-25793.sftptogo.com') // 'sftp://my-user-name@warm-soda-25793.sftptogo.com'
 */
export function sftpUri(username: string, host: string | null | undefined): string | null {
  if (!host) return null;
  const hostPart = (host.match(/:/g) ?? []).length > 1 && !host.startsWith('[') ? `[${host}]` : host; // IPv6 literal
  return `sftp://${encodeURIComponent(wellFormed(username))}@${hostPart}`;
}

const SECRET_KEY = /^password$/i;
const REDACTED = '[redacted]';

/**
 * The credential as sent, every field documented or not, minus `Password` (at any depth), with
 * the password cut out of `URI` and of any other text that repeats it.
 */
export function rawOf(c: UpstreamCredential): Record<string, unknown> {
  const password = typeof c.Password === 'string' && c.Password.length >= 4 ? c.Password : undefined;
  const encoded = password === undefined ? undefined : encodeURIComponent(password);
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let text = value;
      if (password !== undefined) text = text.replaceAll(password, REDACTED);
      if (encoded !== undefined && encoded !== password) text = text.replaceAll(encoded, REDACTED);
      return withoutUriPassword(text);
    }
    if (Array.isArray(value)) return value.map(clean);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).filter(([k]) => !SECRET_KEY.test(k)).map(([k, v]) => [k, clean(v)]),
    );
  };
  return clean(c) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * An SFTP To Go credential → the normalized user. SFTP To Go has no expiry, limits, usage or
 * last-login time; its root credential (`IsDefault`) is `isRoot`.
 */
export function toUser(c: UpstreamCredential, ctx: BackendContext): AdapterUser {
  const { accessLevel, permissions } = levelFromUpstream(c.Permission);
  return {
    id: c.Id,
    backend: ctx.backend,
    provider: 'sftptogo',
    username: c.UserName,
    displayName: c.Alias || null,
    status: statusFromUpstream(c.State),
    accessLevel,
    permissions,
    directoryPermissions: null,
    homeDirectory: c.HomeDirectory,
    chrootDirectory: c.ChrootDirectory || null,
    expiresAt: null,
    sshKeyCount: c.SshPublicKeysCount ?? 0,
    host: c.Host || null,
    uri: sftpUri(c.UserName, c.Host),
    isRoot: c.IsDefault === true,
    limits: null,
    usage: null,
    createdAt: isoFromMs(c.CreatedAt),
    updatedAt: isoFromMs(c.UpdatedAt),
    lastLoginAt: null,
    passwordChangedAt: isoFromTime(c.PasswordCreatedAt),
    raw: () => rawOf(c),
  };
}

type RuleProtocol = NetworkRule['protocol'];
const PROTOCOL_FROM_UPSTREAM: Readonly<Record<string, RuleProtocol>> = { '*': 'any', SFTP: 'sftp', FTPS: 'ftps' };
const PROTOCOL_TO_UPSTREAM: Readonly<Record<RuleProtocol, UpstreamInboundRuleBody['Protocol']>> = {
  any: '*', sftp: 'SFTP', ftps: 'FTPS',
};

/** `*` / `SFTP` / `FTPS` (any case) → any / sftp / ftps; undefined for anything else. */
export function protocolFromUpstream(protocol: string): RuleProtocol | undefined {
  const key = protocol.toUpperCase();
  return Object.hasOwn(PROTOCOL_FROM_UPSTREAM, key) ? PROTOCOL_FROM_UPSTREAM[key] : undefined;
}

export const protocolToUpstream = (protocol: RuleProtocol): UpstreamInboundRuleBody['Protocol'] => PROTOCOL_TO_UPSTREAM[protocol];

/**
 * An inbound rule → NetworkRule. A bare IP reads as its /32 or /128; a `Source` that is not an IP
 * or a CIDR is kept as sent. A protocol the gateway cannot name is a 502: guessing `any` would
 * claim a rule admits more than it may.
 */
export function toNetworkRule(r: UpstreamInboundRule): NetworkRule {
  const protocol = protocolFromUpstream(r.Protocol);
  if (protocol === undefined) {
    throw upstreamError(`SFTP To Go answered an inbound rule (${r.Id}) with a protocol the gateway does not know`);
  }
  return {
    id: r.Id,
    cidr: normalizeCidr(r.Source) ?? r.Source,
    protocol,
    enabled: r.State === 'enabled',
    description: r.Description || null,
  };
}

/** The credential's inbound rules; none when the answer has no `Settings.Network`. */
export function rulesOf(c: UpstreamCredential): UpstreamInboundRule[] {
  return c.Settings?.Network?.InboundRules ?? [];
}

/** `rsa`, … as the contract names them, or an algorithm name (`ssh-rsa`); undefined otherwise. */
export function keyTypeFromUpstream(type: string | null | undefined): SshKeyType | undefined {
  if (!type) return undefined;
  return (SSH_KEY_TYPES as readonly string[]).includes(type) ? (type as SshKeyType) : sshKeyTypeOf(type);
}

/**
 * An upstream key and its parsed body (null when the body does not parse) → SshKey. Type and
 * fingerprint come from the key blob; the upstream's own `Type`/`Fingerprint` only stand in when
 * the body does not parse. Null when neither tells them (the adapter skips such a key, logged).
 */
export function toSshKey(k: UpstreamSshKey, parsed: ParsedSshKey | null): SshKey | null {
  const type = parsed?.type ?? keyTypeFromUpstream(k.Type);
  const fingerprint = parsed?.fingerprint ?? (k.Fingerprint || undefined);
  if (type === undefined || fingerprint === undefined) return null;
  return {
    id: k.Id,
    type,
    fingerprint,
    comment: k.Comment || parsed?.comment || null,
    publicKey: k.SshPublicKeyBody,
    createdAt: isoFromMs(k.CreatedAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing: checks of what SFTP To Go cannot represent

/** SFTP To Go's username rule (its create documentation): checked before any call. */
export const USERNAME_RULE = /^[A-Za-z0-9_.-]{10,100}$/;

/** Why SFTP To Go refuses `username` (USERNAME_RULE), or undefined. */
export const usernameRefusal = (username: string): string | undefined =>
  USERNAME_RULE.test(username) ? undefined : 'SFTP To Go usernames are 10 to 100 letters, digits, underscores, hyphens or periods';

function checkUserName(username: string, out: UnsupportedFields): void {
  const why = usernameRefusal(username);
  if (why) out.add('username', why);
}

/** What neither a create nor a patch may carry on SFTP To Go; null is a no-op (nothing to clear). */
function checkUnsupportedFields(input: UserCreate | UserPatch, out: UnsupportedFields): void {
  if (input.password !== undefined) {
    out.add('password', 'SFTP To Go generates every password: omit it (a create answers the generated one; rotate to change it)');
  }
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    out.add('expiresAt', 'SFTP To Go credentials do not expire: omit it or send null');
  }
  if (input.limits !== undefined && input.limits !== null) {
    out.add('limits', 'SFTP To Go has no per-credential limits: omit it or send null');
  }
  const dirs = requestedDirectories(input);
  if (dirs !== undefined && Object.keys(dirs).length > 0) {
    out.add('directoryPermissions', 'SFTP To Go has no per-directory permissions: omit it, or send {} or null');
  }
}

/** The `Permission` of a set, or a 422 (with the nearest levels) for a custom one. */
function checkPermissions(
  perms: Permission[] | undefined,
  input: { permissions?: unknown },
  out: UnsupportedFields,
): UpstreamPermission | undefined {
  if (perms === undefined) return undefined;
  const field = input.permissions !== undefined ? 'permissions' : 'accessLevel';
  const outside = namesOutside(perms, BASIC_VOCABULARY);
  if (outside.length > 0) {
    out.add(field, `SFTP To Go has no permission ${outside.map((p) => `"${p}"`).join(', ')} (it has: ${BASIC_VOCABULARY.names.join(', ')})`);
    return undefined;
  }
  const permission = permissionToUpstream(perms);
  if (permission === undefined) {
    out.add(field, 'SFTP To Go stores only the access levels none, read-only, write-only, read-write and full');
    out.details = nearestLevels(perms, UPSTREAM_PERMISSIONS, BASIC_VOCABULARY);
  }
  return permission;
}

// ---------------------------------------------------------------------------------------------
// Writing: bodies

/**
 * A create body → the credential for `POST /users` (keys and rules are added by later calls).
 * Throws 400 (no or contradictory permissions) or 422 (what SFTP To Go cannot represent).
 *
 * @example toUpstreamCreate({ username: 'acme_uploads', accessLevel: 'read-only', displayName: null })
 *   // { UserName: 'acme_uploads', Permission: 'read-only', State: 'active', Alias: '' }
 */
export function toUpstreamCreate(input: UserCreate): UpstreamCredentialBody {
  const perms = requestedPermissions(input, BASIC_VOCABULARY);
  if (perms === undefined) {
    throw invalidRequest('accessLevel or permissions is required', [
      { path: 'accessLevel', message: 'one of accessLevel or permissions is required' },
    ]);
  }
  const unsupported = new UnsupportedFields('SFTP To Go');
  checkUserName(input.username, unsupported);
  checkUnsupportedFields(input, unsupported);
  const permission = checkPermissions(perms, input, unsupported);
  unsupported.throwIfAny();

  return {
    UserName: input.username,
    Permission: permission!,
    State: statusToUpstream(input.status ?? 'active'),
    ...optionalFields(input),
  };
}

/**
 * A patch → the keys to PATCH, only those the patch names (an empty object: nothing to send).
 * `null` clears `displayName` and `chrootDirectory` (SFTP To Go's empty string); `networkRules`
 * replaces the whole rule set. Throws 400/422 as create does. Whether `username` is a rename at
 * all is for the caller to tell (it needs the stored name); `sshKeys` are the caller's too.
 */
export function toUpstreamPatch(patch: UserPatch): UpstreamCredentialBody {
  const perms = requestedPermissions(patch, BASIC_VOCABULARY);
  const unsupported = new UnsupportedFields('SFTP To Go');
  if (patch.username !== undefined) checkUserName(patch.username, unsupported);
  checkUnsupportedFields(patch, unsupported);
  const permission = checkPermissions(perms, patch, unsupported);
  unsupported.throwIfAny();

  return {
    ...(patch.username !== undefined ? { UserName: patch.username } : {}),
    ...(permission !== undefined ? { Permission: permission } : {}),
    ...(patch.status !== undefined ? { State: statusToUpstream(patch.status) } : {}),
    ...optionalFields(patch),
    ...(patch.networkRules !== undefined
      ? { Settings: { Network: { InboundRules: toUpstreamRules(patch.networkRules, (i) => `networkRules[${i}].cidr`) } } }
      : {}),
  };
}

function optionalFields(input: UserCreate | UserPatch): UpstreamCredentialBody {
  return {
    ...(input.displayName !== undefined ? { Alias: input.displayName ?? '' } : {}),
    ...(input.homeDirectory !== undefined ? { HomeDirectory: input.homeDirectory } : {}),
    ...(input.chrootDirectory !== undefined ? { ChrootDirectory: input.chrootDirectory ?? '' } : {}),
  };
}

/**
 * Rules as the caller sent them → inbound rules for `Settings.Network.InboundRules`, each CIDR
 * normalized (a bare IP → /32 or /128); 400 naming `pathOf(i)` for one that is not a CIDR.
 * An `id` that was sent is kept as `Id`; without one SFTP To Go gives the rule its own.
 */
export function toUpstreamRules(
  rules: readonly NetworkRuleInput[],
  pathOf: (index: number) => string,
): UpstreamInboundRuleBody[] {
  return rules.map((rule, i) => {
    const cidr = normalizeCidr(rule.cidr);
    if (cidr === undefined) {
      const path = pathOf(i);
      throw invalidRequest(`${path}: "${rule.cidr}" is not an IP address or a CIDR`, [{ path, message: 'not a CIDR' }]);
    }
    return {
      ...(rule.id !== undefined ? { Id: rule.id } : {}),
      Action: 'allow',
      Protocol: protocolToUpstream(rule.protocol ?? 'any'),
      State: rule.enabled === false ? 'disabled' : 'enabled',
      Source: cidr,
      Description: rule.description ?? '',
    };
  });
}
