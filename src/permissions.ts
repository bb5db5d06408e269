/**
 * Permissions ⇄ access levels (CONTRACT §3). One table, used in both directions, so a level
 * can never map to a set that does not map back to it.
 */
import { PERMISSIONS, type AccessLevel, type Permission } from './model.js';
import { invalidRequest } from './errors.js';

type Level = Exclude<AccessLevel, 'custom'>;

export const LEVEL_PERMISSIONS: Readonly<Record<Level, readonly Permission[]>> = {
  none: [],
  'read-only': ['list', 'download'],
  'write-only': ['upload', 'create_dirs'],
  'read-write': ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'],
  full: PERMISSIONS,
};
const LEVELS = Object.keys(LEVEL_PERMISSIONS) as Level[];

// Sets as bit masks (bit i = PERMISSIONS[i]): mapping a list of users compares a set per user,
// and masks made that ~10× cheaper than building and comparing arrays.
const BIT: ReadonlyMap<string, number> = new Map(PERMISSIONS.map((p, i) => [p, 1 << i]));

/** The mask of a set; names that are not permissions add nothing. */
function maskOf(perms: Iterable<string>): number {
  let mask = 0;
  for (const p of perms) mask |= BIT.get(p) ?? 0;
  return mask;
}

const LEVEL_BY_MASK: ReadonlyMap<number, Level> = new Map(LEVELS.map((l) => [maskOf(LEVEL_PERMISSIONS[l]), l]));

/** Deduplicates and sorts into the canonical order of CONTRACT §2. */
export function canonicalPermissions(perms: Iterable<Permission>): Permission[] {
  const mask = maskOf(perms);
  return PERMISSIONS.filter((_, i) => mask & (1 << i));
}

const isSubset = (a: readonly Permission[], b: readonly Permission[]) => a.every((p) => b.includes(p));

/** The access level a permission set is exactly equal to, else `custom`. */
export function accessLevelOf(perms: readonly Permission[]): AccessLevel {
  return LEVEL_BY_MASK.get(maskOf(perms)) ?? 'custom';
}

/** The permission set of a level; `custom` has none of its own. */
export function permissionsOf(level: Level): Permission[] {
  return [...LEVEL_PERMISSIONS[level]];
}

/**
 * For a set a provider cannot represent: the largest representable levels inside it (`narrower`)
 * and the smallest ones containing it (`broader`), so the caller can choose knowingly.
 */
export function nearestLevels(
  perms: readonly Permission[],
  representable: readonly Level[],
): { narrower: Level[]; broader: Level[] } {
  const asked = canonicalPermissions(perms);
  const inside = representable.filter((l) => isSubset(LEVEL_PERMISSIONS[l], asked));
  const around = representable.filter((l) => isSubset(asked, LEVEL_PERMISSIONS[l]));
  // Keep only maximal levels inside, and minimal levels around.
  const narrower = inside.filter(
    (l) => !inside.some((o) => o !== l && isSubset(LEVEL_PERMISSIONS[l], LEVEL_PERMISSIONS[o])),
  );
  const broader = around.filter(
    (l) => !around.some((o) => o !== l && isSubset(LEVEL_PERMISSIONS[o], LEVEL_PERMISSIONS[l])),
  );
  return { narrower, broader };
}

/**
 * The permission set a create or patch asks for: from `permissions`, from `accessLevel`, or both
 * when they agree. Undefined when neither is given. Throws 400 when they disagree.
 */
export function requestedPermissions(input: {
  accessLevel?: AccessLevel;
  permissions?: Permission[];
}): Permission[] | undefined {
  const { accessLevel, permissions } = input;
  if (permissions !== undefined) {
    const canon = canonicalPermissions(permissions);
    if (accessLevel !== undefined && accessLevelOf(canon) !== accessLevel) {
      throw invalidRequest(
        `accessLevel "${accessLevel}" does not match permissions [${canon.join(', ')}] (that set is "${accessLevelOf(canon)}")`,
        [{ path: 'accessLevel', message: 'disagrees with permissions' }],
      );
    }
    return canon;
  }
  if (accessLevel === undefined) return undefined;
  if (accessLevel === 'custom') {
    throw invalidRequest('accessLevel "custom" needs an explicit permissions list', [
      { path: 'permissions', message: 'required with accessLevel "custom"' },
    ]);
  }
  return permissionsOf(accessLevel);
}
