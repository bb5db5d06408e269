/**
 * `sftp-gateway migrate`'s text for people: the plan (--dry-run), the report of a run and a
 * verification, each a table with a summary line under it. Pure: no I/O. The report's table is
 * the one place a generated password is printed.
 */
import type { DroppedField, MigrationPlan, NarrowedField, PlannedUser } from '../migration/plan-types.js';
import type { MigrationReport } from '../migration/report-types.js';
import type { Verification } from '../migration/verify.js';
import { formatTable } from './table.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The fields a user loses, each once: `displayName,networkRules`. */
export const droppedText = (dropped: readonly DroppedField[]) => [...new Set(dropped.map((d) => d.field))].join(',');

/** `permissions→read-only`, `directoryPermissions /in→read-only`. */
export const narrowedText = (narrowed: readonly NarrowedField[]) =>
  narrowed.map((n) => `${n.field}${n.directory !== undefined ? ` ${n.directory}` : ''}→${n.level}`).join(',');

/** What a run would do with the user, as a run would report it: create, skip, exists, differs, conflict. */
export function plannedAction(u: PlannedUser): string {
  if (u.action === 'conflict') return 'conflict';
  if (u.action === 'exists') return u.comparison === 'differs' ? 'differs' : 'exists';
  return u.blocked !== undefined ? 'skip' : 'create';
}

function plannedWhy(u: PlannedUser): string | undefined {
  if (u.action === 'conflict') return u.why;
  if (u.action === 'exists') return u.comparison === 'differs' ? `differs in ${(u.differences ?? []).map((d) => d.field).join(',')}` : undefined;
  return u.blocked;
}

export const unknownLine = (names: readonly string[], from: string) =>
  names.length > 0 ? `not on ${from}: ${names.join(', ')}\n` : '';

/**
 * @example formatPlan(plan)
 * // USERNAME  ACTION  TARGET NAME  PASSWORD  NARROWED  DROPPED  WHY
 * // alice     create  alice        carried   -         -        -
 * // plan onprem → togo: 1 user: 1 to create, 0 to skip, 0 exist, 0 differ, 0 conflicts; passwords: 1 carried, 0 generated
 */
export function formatPlan(plan: MigrationPlan): string {
  const table = formatTable(
    ['USERNAME', 'ACTION', 'TARGET NAME', 'PASSWORD', 'NARROWED', 'DROPPED', 'WHY'],
    plan.users.map((u) => [u.username, plannedAction(u), u.targetUsername, u.password, narrowedText(u.narrowed), droppedText(u.dropped), plannedWhy(u)]),
  );
  return `${plan.users.length > 0 ? table : 'no users\n'}${planSummary(plan)}\n${unknownLine(plan.unknownUsernames, plan.from.backend)}`;
}

/** One line: what a run of this plan would do. */
export function planSummary(plan: MigrationPlan): string {
  const s = plan.summary;
  const dropped = Object.entries(s.dropped).map(([field, n]) => `${field} ${n}`).join(', ');
  return `plan ${plan.from.backend} → ${plan.to.backend}: ${plural(s.users, 'user')}: ` +
    `${s.actions.create - s.blocked} to create, ${s.blocked} to skip, ${s.comparisons.same} exist, ${s.comparisons.differs} differ, ` +
    `${s.actions.conflict} conflicts; passwords: ${s.password.carried} carried, ${s.password.generated} generated; ` +
    `${s.narrowed} narrowed${dropped ? `; users losing a field: ${dropped}` : ''}`;
}

/**
 * The report: one row per user, the generated password itself in PASSWORD (`(carried)` for a
 * carried one), then the summary.
 */
export function formatReport(report: MigrationReport): string {
  const table = formatTable(
    ['USERNAME', 'OUTCOME', 'SOURCE ID', 'TARGET ID', 'PASSWORD', 'NARROWED', 'DROPPED', 'WHY'],
    report.users.map((u) => [
      u.username, u.outcome, u.sourceId, u.targetId,
      u.generatedPassword ?? (u.password === 'carried' ? '(carried)' : undefined),
      narrowedText(u.narrowed), droppedText(u.dropped), u.why,
    ]),
  );
  return `${report.users.length > 0 ? table : 'no users\n'}${reportSummary(report)}\n`;
}

/** One line: the count of each outcome, and whether the run finished. */
export function reportSummary(report: MigrationReport): string {
  const o = report.summary.outcomes;
  const counts = (Object.keys(o) as Array<keyof typeof o>).map((k) => `${o[k]} ${k}`).join(', ');
  return `run ${report.from.backend} → ${report.to.backend}: ${plural(report.summary.users, 'user')}: ${counts}; ` +
    `${plural(report.summary.generatedPasswords, 'generated password')}; ${report.complete ? 'complete' : 'incomplete'}`;
}

/** The verification: one row per user, the differences field by field, then the summary. */
export function formatVerification(v: Verification): string {
  const table = formatTable(
    ['USERNAME', 'RESULT', 'TARGET NAME', 'TARGET ID', 'DIFFERS IN', 'WHY'],
    v.users.map((u) => [u.username, u.result, u.targetUsername, u.targetId, (u.differences ?? []).map((d) => d.field).join(','), u.why]),
  );
  const differing = v.users.flatMap((u) => (u.differences ?? []).map((d) => [u.username, d.field, d.source, d.target]));
  const details = differing.length > 0 ? `\n${formatTable(['USERNAME', 'FIELD', 'SOURCE', 'TARGET'], differing)}` : '';
  const s = v.summary;
  const summary = `verify ${v.from.backend} → ${v.to.backend}: ${plural(v.users.length, 'user')}: ` +
    `${s.same} same, ${s.differs} differ, ${s.missing} missing, ${s.conflict} conflicts; ${v.ok ? 'ok' : 'not ok'}`;
  return `${v.users.length > 0 ? table : 'no users\n'}${details}${summary}\n${unknownLine(v.unknownUsernames, v.from.backend)}`;
}
