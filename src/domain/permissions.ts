/**
 * Permissions ⇄ access levels (CONTRACT §3). One table, used in both directions, so a level
 * can never map to a set that does not map back to it. `full` is every name the backend has, so
 * the table is read against a backend's vocabulary (`Backend.permissions`).
 */
import { BASIC_PERMISSIONS, PERMISSIONS, type AccessLevel, type Permission } from './model.js';
import { invalidRequest } from './errors.js';
import { cleanPath } from './paths.js';

type Level = Exclude<AccessLevel, 'custom'>;

/** The fixed levels; `full` is the backend's whole vocabulary. */
const FIXED_LEVELS: Readonly<Record<Exclude<Level, 'full'>, readonly Permission[]>> = {
  none: [],
  'read-only': ['list', 'download'],
  'write-only': ['upload', 'create_dirs'],
  'read-write': ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'],
};

// Sets as bit masks (bit i = PERMISSIONS[i]): mapping a list of users compares a set per user,
// and masks made that ~10× cheaper than building and comparing arrays.
const BIT: ReadonlyMap<string, number> = new Map(PERMISSIONS.map((p, i) => [p, 1 << i]));

/** The mask of a set; names that are not permissions add nothing. */
function maskOf(perms: Iterable<string>): number {
  let mask = 0;
  for (const p of perms) mask |= BIT.get(p) ?? 0;
  return mask;
}

const FIXED_BY_MASK: ReadonlyMap<number, Level> = new Map(
  Object.entries(FIXED_LEVELS).map(([level, perms]) => [maskOf(perms), level as Level]),
);

/** The permission names one backend can grant, in canonical order, with their mask. */
export interface Vocabulary {
  readonly names: readonly Permission[];
  readonly mask: number;
}

/** Builds a backend's vocabulary once (its names are put in canonical order). */
export function vocabularyOf(names: Iterable<Permission>): Vocabulary {
  const mask = maskOf(names);
  return Object.freeze({ names: Object.freeze(PERMISSIONS.filter((_, i) => mask & (1 << i))), mask });
}

/** SFTP To Go and SFTPGo 0.9.x: the first eight names. */
export const BASIC_VOCABULARY = vocabularyOf(BASIC_PERMISSIONS);

/** Deduplicates and sorts into the canonical order of CONTRACT §2. */
export function canonicalPermissions(perms: Iterable<Permission>): Permission[] {
  const mask = maskOf(perms);
  return PERMISSIONS.filter((_, i) => mask & (1 << i));
}

const isSubset = (a: readonly Permission[], b: readonly Permission[]) => a.every((p) => b.includes(p));

/** The access level a permission set is exactly equal to on this backend, else `custom`. */
export function accessLevelOf(perms: readonly Permission[], vocab: Vocabulary): AccessLevel {
  const mask = maskOf(perms);
  if (mask === vocab.mask) return 'full';
  return FIXED_BY_MASK.get(mask) ?? 'custom';
}

/** The permission set of a level on this backend; `custom` has none of its own. */
export function permissionsOf(level: Level, vocab: Vocabulary): Permission[] {
  return level === 'full' ? [...vocab.names] : [...FIXED_LEVELS[level]];
}

/** The names of a set this backend does not have, in canonical order (empty when it has them all). */
export function namesOutside(perms: readonly Permission[], vocab: Vocabulary): Permission[] {
  const outside = maskOf(perms) & ~vocab.mask;
  return PERMISSIONS.filter((_, i) => outside & (1 << i));
}

/**
 * For a set a provider cannot represent: the largest representable levels inside it (`narrower`)
 * and the smallest ones containing it (`broader`), so the caller can choose knowingly.
 */
export function nearestLevels(
  perms: readonly Permission[],
  representable: readonly Level[],
  vocab: Vocabulary,
): { narrower: Level[]; broader: Level[] } {
  const asked = canonicalPermissions(perms);
  const setOf = (l: Level) => permissionsOf(l, vocab);
  const inside = representable.filter((l) => isSubset(setOf(l), asked));
  const around = representable.filter((l) => isSubset(asked, setOf(l)));
  // Keep only maximal levels inside, and minimal levels around.
  const narrower = inside.filter((l) => !inside.some((o) => o !== l && isSubset(setOf(l), setOf(o))));
  const broader = around.filter((l) => !around.some((o) => o !== l && isSubset(setOf(o), setOf(l))));
  return { narrower, broader };
}

/**
 * The permission set a create or patch asks for: from `permissions`, from `accessLevel`, or both
 * when they agree. Undefined when neither is given. Throws 400 when they disagree.
 */
export function requestedPermissions(
  input: { accessLevel?: AccessLevel; permissions?: Permission[] },
  vocab: Vocabulary,
): Permission[] | undefined {
  const { accessLevel, permissions } = input;
  if (permissions !== undefined) {
    const canon = canonicalPermissions(permissions);
    const level = accessLevelOf(canon, vocab);
    if (accessLevel !== undefined && level !== accessLevel) {
      throw invalidRequest(
        `accessLevel "${accessLevel}" does not match permissions [${canon.join(', ')}] (that set is "${level}" on this backend)`,
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
  return permissionsOf(accessLevel, vocab);
}

/**
 * The sub-directory permissions a create or patch asks for, with each path cleaned
 * (`/in/` → `/in`) and each set canonical. Undefined when absent; `{}` for null (clears them).
 * Two keys naming one directory are a 400.
 */
export function requestedDirectories(
  input: { directoryPermissions?: Record<string, Permission[]> | null },
): Record<string, Permission[]> | undefined {
  const given = input.directoryPermissions;
  if (given === undefined) return undefined;
  const out: Record<string, Permission[]> = {};
  for (const [dir, perms] of Object.entries(given ?? {})) {
    const clean = cleanPath(dir);
    if (clean === '/') {
      throw invalidRequest(`directoryPermissions: "${dir}" is the root directory: set its permissions with accessLevel or permissions`, [
        { path: `directoryPermissions.${dir}`, message: 'is the root directory' },
      ]);
    }
    if (out[clean] !== undefined) {
      throw invalidRequest(`directoryPermissions: "${dir}" names the same directory as another key (${clean})`, [
        { path: `directoryPermissions.${dir}`, message: `the same directory as another key (${clean})` },
      ]);
    }
    out[clean] = canonicalPermissions(perms);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
