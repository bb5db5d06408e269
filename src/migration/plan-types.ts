/**
 * What a migration plan says: plain JSON data, sorted, holding no secret, so that it can be
 * answered as is by a route or printed by the CLI.
 */
import type { Provider } from '../domain/model.js';
import type { FixedLevel } from '../domain/model.js';

export type { FixedLevel };

export type PlannedAction = 'create' | 'exists' | 'conflict';

/** The fields a plan compares or drops, in the order it reports them. */
export const PLAN_FIELDS = [
  'accessLevel', 'permissions', 'directoryPermissions', 'status', 'homeDirectory', 'chrootDirectory',
  'expiresAt', 'limits', 'displayName', 'sshKeys', 'networkRules',
] as const;
export type PlanField = (typeof PLAN_FIELDS)[number];

/** A field of a source user that cannot be carried to the target as it is. */
export interface DroppedField {
  field: PlanField;
  why: string;
  /** For a permission set the target cannot store: the largest levels inside it. */
  narrower?: FixedLevel[];
  /** …and the smallest levels containing it (either list may be empty). */
  broader?: FixedLevel[];
  /** For one sub-directory's permissions: which directory. */
  directory?: string;
  /** For one network rule: its CIDR. */
  cidr?: string;
  /**
   * Losing it would give the user more than the source allows (no expiry, any address): a run
   * skips the user unless asked to accept that (`acceptWidening`).
   */
  widens?: true;
}

/** A permission set a run gives a narrower level, because the target cannot store it (`narrow`). */
export interface NarrowedField {
  field: 'accessLevel' | 'permissions' | 'directoryPermissions';
  /** For one sub-directory: which one (absent for the root, or for all directories folded into it). */
  directory?: string;
  /** The level the target gets: the nearest one inside what the source grants. */
  level: FixedLevel;
}

/** What a run may do with what the target cannot hold as it is. */
export interface MigrationPolicy {
  /** Give a permission set the target cannot store its nearest narrower level (never a broader one); else skip the user. */
  narrow: boolean;
  /** Migrate a user even when a field lost on the way widens its access (no expiry, any address); else skip it. */
  acceptWidening: boolean;
}

/** One field where the source user and the target's same-named user disagree. */
export interface FieldDifference {
  field: PlanField;
  source: unknown;
  target: unknown;
}

/** What happens to one source user. */
export interface PlannedUser {
  username: string;
  sourceId: string;
  /** The name as the target would store it (a target may lowercase names). */
  targetUsername: string;
  action: PlannedAction;
  /** `exists` (and a conflict with an existing user): the target user's id. */
  targetId?: string;
  /** `exists`: whether the target user already holds what would be carried. */
  comparison?: 'same' | 'differs';
  /** `exists`: the fields that differ, each as the source and the target hold it. */
  differences?: FieldDifference[];
  /** `conflict`: why the target cannot have this user. */
  why?: string;
  dropped: DroppedField[];
  /** What a run gives a narrower level (only with `narrow`). */
  narrowed: NarrowedField[];
  /** Why a run would skip this user under the plan's policy (a `create` only). */
  blocked?: string;
  /**
   * `carried`: the source reveals the password and the target can set it. `generated`: the target
   * makes a new one, reported once when the migration runs.
   */
  password: 'carried' | 'generated';
}

/** A backend as the plan found it. */
export interface PlannedBackend {
  backend: string;
  provider: Provider;
  apiVersion: string | null;
  serverVersion: string | null;
}

export interface PlanSummary {
  users: number;
  actions: Record<PlannedAction, number>;
  comparisons: { same: number; differs: number };
  /** How many users lose each field (a user with two dropped rules counts once). */
  dropped: Partial<Record<PlanField, number>>;
  password: { carried: number; generated: number };
  /** Users a run would give a narrower level, and users it would skip (see `blocked`). */
  narrowed: number;
  blocked: number;
  unknownUsernames: number;
}

export interface MigrationPlan {
  from: PlannedBackend;
  to: PlannedBackend;
  policy: MigrationPolicy;
  /** Sorted by source username (code-unit order). */
  users: PlannedUser[];
  /** Names asked for in `usernames` that the source does not have, sorted. */
  unknownUsernames: string[];
  summary: PlanSummary;
}
