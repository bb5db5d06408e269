/**
 * The rules of a plan, as pure functions: which fields of a source user cannot be carried to a
 * target (`droppedFields`), and where a target's same-named user differs from what would be
 * carried (`differences`). No I/O: the planner reads both sides and passes in what it found.
 */
import type { FieldCapabilities, ProviderAdapter, ProviderNaming } from '../provider-kit/adapter.js';
import { FIXED_LEVELS, type Limits, type NetworkRule, type Provider, type SshKey, type User } from '../domain/model.js';
import {
  accessLevelOf, canonicalPermissions, namesOutside, nearestLevels, type Vocabulary,
} from '../domain/permissions.js';
import type { DroppedField, FieldDifference } from './plan-types.js';

/** One backend as the rules see it, once its server is found. */
export interface SideProfile {
  /** How messages name it: `SFTP To Go`, `SFTPGo 1.2.2`. */
  label: string;
  provider: Provider;
  fields: FieldCapabilities;
  vocab: Vocabulary;
  sshKeys: boolean;
  networkRules: boolean;
  /** How it names and keeps users: its adapter's `naming`. */
  rules: ProviderNaming;
  /** What its adapter refuses before any call: usernames it cannot have, rules it cannot hold. */
  refusals: Pick<ProviderAdapter, 'usernameRefusal' | 'networkRuleRefusal'>;
}

/** The user fields the rules read. */
export type PlannedUserFields = Pick<
  User,
  'accessLevel' | 'permissions' | 'directoryPermissions' | 'status' | 'homeDirectory' | 'chrootDirectory' |
  'expiresAt' | 'limits' | 'displayName'
>;

/** A user and what was read beyond the list; null where its backend has no keys or rules. */
export interface UserFacts {
  user: PlannedUserFields;
  sshKeys: SshKey[] | null;
  networkRules: NetworkRule[] | null;
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');
const hasLimits = (l: Limits | null) => l !== null && Object.values(l).some((v) => v !== null);

/** The root permissions: a level is carried as that level, a custom set as its names. */
function permissionDrops(u: PlannedUserFields, to: SideProfile): DroppedField[] {
  const roots = to.rules.rootLevels;
  if (u.accessLevel !== 'custom') {
    if (roots.includes(u.accessLevel)) return [];
    return [{
      field: 'accessLevel',
      why: `${to.label} cannot store the level "${u.accessLevel}" at a user's root`,
      ...nearestLevels(u.permissions, roots, to.vocab),
    }];
  }
  const outside = namesOutside(u.permissions, to.vocab);
  if (outside.length > 0) {
    return [{ field: 'permissions', why: `${to.label} has no permission ${quoted(outside)}`, ...nearestLevels(u.permissions, roots, to.vocab) }];
  }
  // The same names may be a level there (SFTPGo 1.x's eight old names are SFTP To Go's `full`).
  const there = accessLevelOf(u.permissions, to.vocab);
  if (there !== 'custom' ? roots.includes(there) : to.fields.customPermissions) return [];
  return [{
    field: 'permissions',
    why: `${to.label} stores only the access levels ${roots.join(', ')}`,
    ...nearestLevels(u.permissions, roots, to.vocab),
  }];
}

function directoryDrops(dirs: Record<string, User['permissions']> | null, to: SideProfile): DroppedField[] {
  const entries = Object.entries(dirs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return [];
  if (!to.fields.directoryPermissions) {
    return [{ field: 'directoryPermissions', why: `${to.label} has no per-directory permissions: the root's permissions would apply everywhere` }];
  }
  return entries.flatMap(([directory, perms]) => {
    const outside = namesOutside(perms, to.vocab);
    if (outside.length === 0) return [];
    return [{
      field: 'directoryPermissions' as const, directory,
      why: `${to.label} has no permission ${quoted(outside)} (for ${directory})`,
      ...nearestLevels(perms, FIXED_LEVELS, to.vocab),
    }];
  });
}

/** A prefix length of 0: every address (SFTP To Go's default rule is `0.0.0.0/0`). */
const isAnywhere = (cidr: string) => cidr.endsWith('/0');

/**
 * Network rules are allow-lists: losing some enabled rules narrows where a user may connect from,
 * losing every enabled one lets it connect from anywhere (`widens`). Disabled rules allow nothing.
 */
function ruleDrops(rules: NetworkRule[] | null, to: SideProfile): DroppedField[] {
  if (rules === null || rules.length === 0) return [];
  const enabled = rules.filter((r) => r.enabled);
  if (!to.networkRules) {
    return [{
      field: 'networkRules', why: `${to.label} has no network rules: the user could connect from any address`,
      ...(enabled.length > 0 ? { widens: true as const } : {}),
    }];
  }
  const refused = [...rules]
    .sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0))
    .flatMap((rule) => {
      const why = to.refusals.networkRuleRefusal(rule);
      return why === undefined ? [] : [{ rule, why }];
    });
  // A rule for every address allowed anything already: losing it widens nothing.
  const widens = enabled.length > 0 && !enabled.some((r) => isAnywhere(r.cidr)) && enabled.every((r) => refused.some((d) => d.rule === r));
  return refused.map(({ rule, why }) => ({
    field: 'networkRules' as const, cidr: rule.cidr,
    why: widens && rule.enabled ? `${why}; with no enabled rule left the user could connect from any address` : why,
    ...(widens && rule.enabled ? { widens: true as const } : {}),
  }));
}

/**
 * Every field of `source` that `to` cannot hold as it is, in PLAN_FIELDS order. A field the
 * source user does not have set (null, empty) is never dropped.
 *
 * @example droppedFields({ user: { accessLevel: 'custom', permissions: ['list', 'upload'], … }, … }, sftpToGoProfile)
 *   // [{ field: 'permissions', why: '…', narrower: ['none'], broader: ['read-write'] }]
 */
export function droppedFields(source: UserFacts, to: SideProfile): DroppedField[] {
  const u = source.user;
  const out: DroppedField[] = [...permissionDrops(u, to), ...directoryDrops(u.directoryPermissions, to)];
  if (u.chrootDirectory !== null && u.chrootDirectory !== u.homeDirectory && !to.fields.independentChroot) {
    out.push({
      field: 'chrootDirectory',
      why: `${to.label} jails every user in its home directory: the jail ${u.chrootDirectory} apart from the home cannot be kept`,
    });
  }
  if (u.expiresAt !== null && !to.fields.expiration) out.push({ field: 'expiresAt', why: `${to.label} users do not expire`, widens: true });
  if (hasLimits(u.limits) && !to.fields.limits) out.push({ field: 'limits', why: `${to.label} has no per-user limits` });
  if (u.displayName && !to.fields.displayName) out.push({ field: 'displayName', why: `${to.label} has no display name` });
  if (source.sshKeys !== null && source.sshKeys.length > 0 && !to.sshKeys) {
    out.push({ field: 'sshKeys', why: `${to.label} has no SSH keys` });
  }
  out.push(...ruleDrops(source.networkRules, to));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison of a source user with the target's same-named one

const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort();
const fingerprints = (keys: SshKey[]) => sortedUnique(keys.map((k) => k.fingerprint));
/**
 * Where a rule set lets the user connect from: the enabled rules' CIDRs, or "any address" for no
 * enabled rule or one for every address (a target may add its own allow-all rule to a new user).
 */
const allowedFrom = (rules: NetworkRule[]) => {
  const enabled = rules.filter((r) => r.enabled).map((r) => r.cidr);
  return enabled.length === 0 || enabled.some(isAnywhere) ? ['any address'] : sortedUnique(enabled);
};
const NO_LIMITS: Limits = { maxSessions: null, quotaBytes: null, quotaFiles: null, uploadKBps: null, downloadKBps: null };
const limitsOf = (l: Limits | null): Limits => ({ ...NO_LIMITS, ...l });
const directoriesOf = (d: Record<string, User['permissions']> | null) =>
  Object.fromEntries(
    Object.entries(d ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([dir, perms]) => [dir, canonicalPermissions(perms)] as const),
  );
const timeOf = (iso: string | null) => (iso === null ? null : Date.parse(iso));

/** Compares as JSON: every value here is plain data with keys in a fixed order. */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields where the target's user differs from what would be carried from the source, in
 * PLAN_FIELDS order: only fields both backends hold, and `homeDirectory` only where both name
 * homes alike (SFTPGo's disk paths are not SFTP To Go's storage paths).
 */
export function differences(source: UserFacts, target: UserFacts, from: SideProfile, to: SideProfile): FieldDifference[] {
  const s = source.user;
  const t = target.user;
  const both = (f: keyof FieldCapabilities) => from.fields[f] && to.fields[f];
  const out: FieldDifference[] = [];
  const check = (field: FieldDifference['field'], a: unknown, b: unknown, shown: [unknown, unknown] = [a, b]) => {
    if (!same(a, b)) out.push({ field, source: shown[0], target: shown[1] });
  };

  if (s.accessLevel !== 'custom') check('accessLevel', s.accessLevel, t.accessLevel);
  else check('permissions', canonicalPermissions(s.permissions), canonicalPermissions(t.permissions));
  if (both('directoryPermissions')) check('directoryPermissions', directoriesOf(s.directoryPermissions), directoriesOf(t.directoryPermissions));
  check('status', s.status, t.status);
  if (from.rules.homes === to.rules.homes) check('homeDirectory', s.homeDirectory, t.homeDirectory);
  if (both('independentChroot')) check('chrootDirectory', s.chrootDirectory, t.chrootDirectory);
  if (both('expiration')) check('expiresAt', timeOf(s.expiresAt), timeOf(t.expiresAt), [s.expiresAt, t.expiresAt]);
  if (both('limits')) check('limits', limitsOf(s.limits), limitsOf(t.limits));
  if (both('displayName')) check('displayName', s.displayName || null, t.displayName || null);
  if (source.sshKeys !== null && target.sshKeys !== null) check('sshKeys', fingerprints(source.sshKeys), fingerprints(target.sshKeys));
  if (source.networkRules !== null && target.networkRules !== null) {
    check('networkRules', allowedFrom(source.networkRules), allowedFrom(target.networkRules));
  }
  return out;
}
