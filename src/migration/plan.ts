/**
 * The plan of a migration from one backend to another: for each source user, whether it would be
 * created on the target, already exists there (and how it differs), or cannot be there at all;
 * which of its fields cannot be carried, and whether its password can. Planning only reads.
 */
import type { AdapterUser } from '../domain/model.js';
import type { CallContext } from '../provider-kit/adapter.js';
import { carry, type Carried } from './carry.js';
import { differences, droppedFields, type SideProfile, type UserFacts } from './field-rules.js';
import { PLAN_FIELDS, type MigrationPlan, type MigrationPolicy, type PlannedUser, type PlanSummary } from './plan-types.js';
import {
  describeSide, factsOf, listEveryUser, mapFewAtATime, profileOf, resolveSide, type MigrationSide,
} from './read-side.js';

export type { MigrationSide } from './read-side.js';
export type * from './plan-types.js';

export interface PlanOptions {
  /** Only these source users; a name the source does not have is reported in `unknownUsernames`. */
  usernames?: string[];
  /** What a run does with what the target cannot hold: narrow permission sets, accept wider access. */
  narrow?: boolean;
  acceptWidening?: boolean;
}

/** A plan, and for the run what it needs of each user beyond the plan's data (never a password). */
export interface PreparedPlan {
  plan: MigrationPlan;
  /** By source username: the create request a run sends. */
  carried: ReadonlyMap<string, Carried>;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** How the target would name a source user: as it stores names (lower-cased, where it may fold them). */
function targetNaming(target: MigrationSide, to: SideProfile, targetUsers: readonly AdapterUser[]): (username: string) => string {
  const mayLowercase = to.rules.mayLowercase();
  // A stored name with an upper-case letter shows that this server keeps names as given.
  const folds = mayLowercase && targetUsers.every((u) => u.username === u.username.toLowerCase());
  return folds ? (name) => name.toLowerCase() : (name) => name;
}

/** Why the target cannot take this user at all, or undefined. */
function conflictOf(
  username: string,
  targetName: string,
  sameTarget: readonly string[],
  existing: AdapterUser | undefined,
  to: SideProfile,
): string | undefined {
  const refused = to.refusals.usernameRefusal(targetName);
  if (refused !== undefined) return `${to.label} cannot have the username "${targetName}": ${refused}`;
  if (sameTarget.length > 1) {
    const others = sameTarget.filter((n) => n !== username).map((n) => `"${n}"`).join(', ');
    return `${others} would be "${targetName}" on ${to.label} too (it may store usernames in lower case)`;
  }
  if (existing?.isRoot) return `"${targetName}" is ${to.label}'s root credential, which a migration must not change`;
  return undefined;
}

/**
 * Plans moving `source`'s users (or only `options.usernames`) to `target`. Reads both backends
 * and writes nothing; the answer is plain JSON data, sorted by username, holding no password.
 *
 * @example
 * const plan = await planMigration({ name: 'togo', adapter: togo }, { name: 'onprem', adapter: onprem }, {}, ctx);
 * plan.users[0] // { username: 'acme_uploads', action: 'create', dropped: [], password: 'carried', … }
 */
export async function planMigration(
  source: MigrationSide,
  target: MigrationSide,
  options: PlanOptions,
  ctx: CallContext,
): Promise<MigrationPlan> {
  return (await preparePlan(source, target, options, ctx)).plan;
}

/** `planMigration`, keeping what a run needs of each user. */
export async function preparePlan(
  source: MigrationSide,
  target: MigrationSide,
  options: PlanOptions,
  ctx: CallContext,
): Promise<PreparedPlan> {
  const policy: MigrationPolicy = { narrow: options.narrow ?? false, acceptWidening: options.acceptWidening ?? false };
  await Promise.all([resolveSide(source, ctx), resolveSide(target, ctx)]);
  const from = profileOf(source);
  const to = profileOf(target);
  const [sourceUsers, targetUsers] = await Promise.all([listEveryUser(source, ctx), listEveryUser(target, ctx)]);

  const asked = options.usernames === undefined ? undefined : new Set(options.usernames);
  const chosen = sourceUsers
    .filter((u) => asked === undefined || asked.has(u.username))
    .sort((a, b) => byCodeUnits(a.username, b.username));
  const known = new Set(sourceUsers.map((u) => u.username));
  const unknownUsernames = [...(asked ?? [])].filter((n) => !known.has(n)).sort(byCodeUnits);

  const nameOnTarget = targetNaming(target, to, targetUsers);
  const onTarget = new Map(targetUsers.map((u) => [nameOnTarget(u.username), u]));
  const landing = new Map<string, string[]>();
  for (const u of chosen) {
    const name = nameOnTarget(u.username);
    landing.set(name, [...(landing.get(name) ?? []), u.username]);
  }

  const planning: Planning = {
    source, target, from, to, ctx, nameOnTarget, onTarget, landing,
    reveal: source.adapter.revealPassword?.bind(source.adapter),
    targetSetsPasswords: target.adapter.operations.passwordSet !== undefined,
    policy,
  };
  const planned = await mapFewAtATime(chosen, (u) => planUser(u, planning));
  const users = planned.map((p) => p.user);

  const plan: MigrationPlan = {
    from: describeSide(source),
    to: describeSide(target),
    policy,
    users: users.map(ordered),
    unknownUsernames,
    summary: summaryOf(users, unknownUsernames.length),
  };
  ctx.logger.info({ from: source.name, to: target.name, ...plan.summary.actions, unknown: unknownUsernames.length }, 'migration planned');
  return { plan, carried: new Map(planned.map((p) => [p.user.username, p.carried])) };
}

/** What planning one user needs to know of the whole migration. */
interface Planning {
  source: MigrationSide;
  target: MigrationSide;
  from: SideProfile;
  to: SideProfile;
  ctx: CallContext;
  nameOnTarget: (username: string) => string;
  /** The target's users by their name as it stores names. */
  onTarget: ReadonlyMap<string, AdapterUser>;
  /** Each target name → the chosen source users that would have it. */
  landing: ReadonlyMap<string, string[]>;
  reveal: ((id: string, ctx: CallContext) => Promise<string | null>) | undefined;
  targetSetsPasswords: boolean;
  policy: MigrationPolicy;
}

async function planUser(u: AdapterUser, p: Planning): Promise<{ user: PlannedUser; carried: Carried }> {
  const targetName = p.nameOnTarget(u.username);
  const existing = p.onTarget.get(targetName);
  const facts = await factsOf(p.source, u, p.ctx);
  // The password itself is only tested for presence, never kept.
  const carried = p.targetSetsPasswords && p.reveal !== undefined && Boolean(await p.reveal(u.id, p.ctx));
  const dropped = droppedFields(facts, p.to);
  const made = carry(facts, dropped, p.from, p.to, targetName, p.policy);
  const planned: PlannedUser = {
    username: u.username,
    sourceId: u.id,
    targetUsername: targetName,
    action: 'create',
    dropped,
    narrowed: made.narrowed,
    ...(made.blocked !== undefined ? { blocked: made.blocked } : {}),
    password: carried ? 'carried' : 'generated',
  };
  const why = conflictOf(u.username, targetName, p.landing.get(targetName) ?? [], existing, p.to);
  if (why !== undefined) return { user: { ...planned, action: 'conflict', ...(existing ? { targetId: existing.id } : {}), why }, carried: made };
  if (existing === undefined) return { user: planned, carried: made };
  const there: UserFacts = await factsOf(p.target, existing, p.ctx);
  // Compared with what a run would have made of the user (its narrowed levels, its carried rules).
  const diff = differences(made.intended, there, p.from, p.to);
  const user: PlannedUser = {
    ...planned, action: 'exists', targetId: existing.id, comparison: diff.length === 0 ? 'same' : 'differs', differences: diff,
  };
  return { user, carried: made };
}

/** The same keys in the same order for every user, so that a serialized plan is stable. */
function ordered(p: PlannedUser): PlannedUser {
  return {
    username: p.username,
    sourceId: p.sourceId,
    targetUsername: p.targetUsername,
    action: p.action,
    ...(p.targetId !== undefined ? { targetId: p.targetId } : {}),
    ...(p.comparison !== undefined ? { comparison: p.comparison, differences: p.differences ?? [] } : {}),
    ...(p.why !== undefined ? { why: p.why } : {}),
    dropped: p.dropped,
    narrowed: p.narrowed,
    // Only a user a run would create can be skipped for it.
    ...(p.blocked !== undefined && p.action === 'create' ? { blocked: p.blocked } : {}),
    password: p.password,
  };
}

export function summaryOf(users: readonly PlannedUser[], unknownUsernames: number): PlanSummary {
  const summary: PlanSummary = {
    users: users.length,
    actions: { create: 0, exists: 0, conflict: 0 },
    comparisons: { same: 0, differs: 0 },
    dropped: {},
    password: { carried: 0, generated: 0 },
    narrowed: 0,
    blocked: 0,
    unknownUsernames,
  };
  for (const u of users) {
    summary.actions[u.action] += 1;
    if (u.comparison) summary.comparisons[u.comparison] += 1;
    summary.password[u.password] += 1;
    if (u.narrowed.length > 0) summary.narrowed += 1;
    if (u.blocked !== undefined && u.action === 'create') summary.blocked += 1;
  }
  for (const field of PLAN_FIELDS) {
    const losing = users.filter((u) => u.dropped.some((d) => d.field === field)).length;
    if (losing > 0) summary.dropped[field] = losing;
  }
  return summary;
}
