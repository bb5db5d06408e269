/**
 * After a run: does the target hold each source user as the run would have made it? Reads both
 * sides as a plan does and compares user by user (fields both backends hold, keys by
 * fingerprint, rules by CIDR); a user missing on the target is a difference too.
 */
import type { CallContext } from '../provider-kit/adapter.js';
import { planMigration, type MigrationSide, type PlanOptions } from './plan.js';
import type { FieldDifference, PlannedBackend } from './plan-types.js';

export type VerifiedResult = 'same' | 'differs' | 'missing' | 'conflict';

export interface VerifiedUser {
  username: string;
  sourceId: string;
  targetUsername: string;
  result: VerifiedResult;
  targetId?: string;
  differences?: FieldDifference[];
  /** `missing`: why a run would not make it (the policy's skip); `conflict`: why the target cannot have it. */
  why?: string;
}

export interface Verification {
  from: PlannedBackend;
  to: PlannedBackend;
  users: VerifiedUser[];
  unknownUsernames: string[];
  summary: Record<VerifiedResult, number>;
  /** Every user is on the target, the same. */
  ok: boolean;
}

/** @example (await verifyMigration(togo, onprem, { narrow: true }, ctx)).ok // true after a complete run */
export async function verifyMigration(
  source: MigrationSide,
  target: MigrationSide,
  options: PlanOptions,
  ctx: CallContext,
): Promise<Verification> {
  const plan = await planMigration(source, target, options, ctx);
  const summary: Record<VerifiedResult, number> = { same: 0, differs: 0, missing: 0, conflict: 0 };
  const users = plan.users.map((p): VerifiedUser => {
    const base = { username: p.username, sourceId: p.sourceId, targetUsername: p.targetUsername };
    const result: VerifiedResult = p.action === 'create' ? 'missing' : p.action === 'conflict' ? 'conflict' : p.comparison === 'same' ? 'same' : 'differs';
    summary[result] += 1;
    return {
      ...base, result,
      ...(p.targetId !== undefined ? { targetId: p.targetId } : {}),
      ...(result === 'differs' ? { differences: p.differences ?? [] } : {}),
      ...(result === 'conflict' ? { why: p.why! } : result === 'missing' && p.blocked !== undefined ? { why: p.blocked } : {}),
    };
  });
  return {
    from: plan.from, to: plan.to, users, unknownUsernames: plan.unknownUsernames, summary,
    ok: summary.same === users.length && plan.unknownUsernames.length === 0,
  };
}
