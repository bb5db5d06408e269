/**
 * What a run creates on the target for one source user: the create request (all but the
 * password, which is read only when the user is created), the permission sets it narrows, why it
 * would skip the user instead, and what the target user will hold — which is what a later plan or
 * verify compares the target with. Pure: no I/O.
 */
import { FIXED_LEVELS, type NetworkRule, type NetworkRuleInput, type Permission, type User, type UserCreate } from '../domain/model.js';
import { canonicalPermissions, nearestLevels, permissionsOf } from '../domain/permissions.js';
import type { SideProfile, UserFacts } from './field-rules.js';
import type { DroppedField, FixedLevel, MigrationPolicy, NarrowedField } from './plan-types.js';

const PERMISSION_DROPS = new Set<DroppedField['field']>(['accessLevel', 'permissions', 'directoryPermissions']);

export interface Carried {
  /** The target's create request, but the password. */
  input: Omit<UserCreate, 'password'>;
  narrowed: NarrowedField[];
  /** Why a run skips this user under the policy; undefined when it can carry it. */
  blocked?: string;
  /** What the target user will hold once created, as a comparison reads it. */
  intended: UserFacts;
}

/**
 * The nearest narrower level: of the largest levels inside a set, the one granting most of it
 * (read-only before write-only on a tie). Undefined when no level fits inside.
 */
function narrowest(narrower: readonly FixedLevel[] | undefined, to: SideProfile): FixedLevel | undefined {
  const sized = (narrower ?? []).map((level) => ({ level, size: permissionsOf(level, to.vocab).length }));
  sized.sort((a, b) => b.size - a.size || FIXED_LEVELS.indexOf(a.level) - FIXED_LEVELS.indexOf(b.level));
  return sized[0]?.level;
}

const intersect = (a: readonly Permission[], b: readonly Permission[]) => a.filter((p) => b.includes(p));

/** The root's and the directories' permissions as the target will have them. */
function carryPermissions(facts: UserFacts, dropped: DroppedField[], to: SideProfile, policy: MigrationPolicy) {
  const u = facts.user;
  const narrowed: NarrowedField[] = [];
  const blocked: string[] = [];
  let root: { accessLevel: User['accessLevel']; permissions: Permission[] } = { accessLevel: u.accessLevel, permissions: canonicalPermissions(u.permissions) };
  let directories: Record<string, Permission[]> | null = u.directoryPermissions === null ? null : { ...u.directoryPermissions };

  const narrowTo = (d: DroppedField, narrower: FixedLevel[] | undefined, apply: (level: FixedLevel) => void) => {
    const level = narrowest(narrower, to);
    if (!policy.narrow) blocked.push(level === undefined ? d.why : `${d.why} (narrow would give it "${level}")`);
    else if (level === undefined) blocked.push(`${d.why}, and no level ${to.label} can store there is narrower`);
    else {
      apply(level);
      narrowed.push({ field: d.field as NarrowedField['field'], ...(d.directory !== undefined ? { directory: d.directory } : {}), level });
    }
  };
  const setRoot = (level: FixedLevel) => {
    root = { accessLevel: level, permissions: permissionsOf(level, to.vocab) };
  };

  for (const d of dropped) {
    if (d.field === 'accessLevel' || d.field === 'permissions') narrowTo(d, d.narrower, setRoot);
  }
  for (const d of dropped) {
    if (d.field !== 'directoryPermissions') continue;
    if (d.directory !== undefined) {
      const dir = d.directory;
      narrowTo(d, d.narrower, (level) => {
        directories = { ...directories, [dir]: permissionsOf(level, to.vocab) };
      });
    } else {
      // No per-directory permissions there: the root gets what the root and every directory all grant.
      const common = Object.values(u.directoryPermissions ?? {}).reduce((acc, perms) => intersect(acc, perms), root.permissions);
      narrowTo(d, nearestLevels(common, to.rules.rootLevels, to.vocab).narrower as FixedLevel[], (level) => {
        setRoot(level);
        directories = null;
      });
    }
  }
  return { root, directories, narrowed, blocked };
}

/** The rules the target can hold, as its create takes them (ids are the target's to give). */
function carriedRules(rules: NetworkRule[] | null, to: SideProfile): NetworkRuleInput[] {
  if (rules === null || !to.networkRules) return [];
  return rules
    .filter((r) => to.refusals.networkRuleRefusal(r) === undefined)
    .map((r) => ({ cidr: r.cidr, protocol: r.protocol, enabled: r.enabled, description: r.description }));
}

/**
 * The home of a user on a target whose homes are folders of one shared storage (SFTP To Go), for
 * a source whose homes are paths on its own disk (SFTPGo): the home's own folder at the storage's
 * root (`/srv/sftpgo/data/acme` → `/acme`). Left to the target's default, the user would get the
 * whole storage, every other user's files with it.
 */
export function storageHome(home: string, username: string): string {
  return `/${home.split('/').filter(Boolean).pop() ?? username}`;
}

/**
 * The create request for `facts.user` on `to`, named `targetUsername`.
 *
 * @example carry(facts, plan.dropped, sftpToGo, sftpgo, 'acme', { narrow: true, acceptWidening: false })
 *   // { input: { username: 'acme', accessLevel: 'read-only', … }, narrowed: [{ field: 'accessLevel', level: 'read-only' }], … }
 */
export function carry(
  facts: UserFacts,
  dropped: DroppedField[],
  from: SideProfile,
  to: SideProfile,
  targetUsername: string,
  policy: MigrationPolicy,
): Carried {
  const u = facts.user;
  const perms = carryPermissions(facts, dropped, to, policy);
  const blocked = [...perms.blocked];
  if (!policy.acceptWidening) {
    blocked.push(...dropped.filter((d) => d.widens && !PERMISSION_DROPS.has(d.field)).map((d) => d.why));
  }
  const rules = carriedRules(facts.networkRules, to);
  const keys = to.sshKeys ? facts.sshKeys ?? [] : [];
  const sameHomes = from.rules.homes === to.rules.homes;
  // Between providers that name homes alike, the home (and a jail apart from it) as it is; into
  // a shared storage, a folder of the user's own, jailed there as the source jailed it in its home.
  // Into a server's disk, the target's default (SFTPGo: its homeDirectoryBase/username).
  const home = sameHomes ? u.homeDirectory : to.rules.homes === 'storage' ? storageHome(u.homeDirectory, targetUsername) : undefined;
  const jail = sameHomes ? u.chrootDirectory : home ?? null;
  const limits = to.fields.limits && u.limits !== null
    ? Object.fromEntries(Object.entries(u.limits).filter(([, v]) => v !== null))
    : undefined;
  const directories = to.fields.directoryPermissions ? perms.directories : null;

  const input: Omit<UserCreate, 'password'> = {
    username: targetUsername,
    status: u.status,
    ...(perms.root.accessLevel === 'custom' ? { permissions: perms.root.permissions } : { accessLevel: perms.root.accessLevel }),
    ...(directories !== null && Object.keys(directories).length > 0 ? { directoryPermissions: directories } : {}),
    ...(home !== undefined ? { homeDirectory: home } : {}),
    ...(to.fields.independentChroot && jail !== null ? { chrootDirectory: jail } : {}),
    ...(to.fields.expiration && u.expiresAt !== null ? { expiresAt: u.expiresAt } : {}),
    ...(limits !== undefined && Object.keys(limits).length > 0 ? { limits } : {}),
    ...(to.fields.displayName && u.displayName ? { displayName: u.displayName } : {}),
    ...(keys.length > 0 ? { sshKeys: keys.map((k) => k.publicKey) } : {}),
    ...(rules.length > 0 ? { networkRules: rules } : {}),
  };
  const intended: UserFacts = {
    user: { ...u, accessLevel: perms.root.accessLevel, permissions: perms.root.permissions, directoryPermissions: directories ?? u.directoryPermissions },
    sshKeys: facts.sshKeys,
    networkRules: facts.networkRules === null ? null : rules.map((r, i) => ({ id: String(i), ...r })),
  };
  return { input, narrowed: perms.narrowed, ...(blocked.length > 0 ? { blocked: blocked.join('; ') } : {}), intended };
}
