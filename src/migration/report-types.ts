/** What a run answers: per user what happened, and the old and new ids. */
import type { DroppedField, FieldDifference, MigrationPolicy, NarrowedField, PlannedBackend } from './plan-types.js';

/**
 * - `created`: made on the target now (or, resumed, given the password a stopped run never reported);
 * - `exists`: already on the target, holding what would be carried: nothing written;
 * - `differs`: already on the target, differently: nothing written (a run never overwrites);
 * - `conflict`: the target cannot have this user; `skipped`: the policy keeps it (see `why`);
 * - `failed`: retries exhausted, nothing left half-made; `pending`: the run was stopped before it.
 */
export const RUN_OUTCOMES = ['created', 'exists', 'differs', 'conflict', 'skipped', 'failed', 'pending'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export interface ReportedUser {
  username: string;
  sourceId: string;
  targetUsername: string;
  outcome: RunOutcome;
  /** The user's id on the target, where it has one. */
  targetId?: string;
  why?: string;
  differences?: FieldDifference[];
  dropped: DroppedField[];
  narrowed: NarrowedField[];
  /** `created`: whether its password was carried or generated. */
  password?: 'carried' | 'generated';
  /** `created` with a generated password: the password, in this report only. */
  generatedPassword?: string;
  /** Tries of its create (more than one after transient upstream failures). */
  attempts?: number;
}

export interface MigrationReport {
  from: PlannedBackend;
  to: PlannedBackend;
  policy: MigrationPolicy;
  /** Sorted by source username. */
  users: ReportedUser[];
  unknownUsernames: string[];
  summary: { users: number; outcomes: Record<RunOutcome, number>; generatedPasswords: number };
  /** False when a user failed or the run was stopped: run it again to finish. */
  complete: boolean;
}
