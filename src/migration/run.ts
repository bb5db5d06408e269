/**
 * Running a migration: the plan made again, then each user it would create is created on the
 * target — user, keys, rules and password in one create, which each adapter makes all-or-nothing —
 * a few at a time, with transient upstream failures retried. The source is only read. A run
 * records each user's step (src/migration/state.ts) before and after its create, so a run
 * stopped anywhere finishes when run again: a user it may have half-made is deleted and made
 * anew, a generated password it never reported is replaced and reported. Users already on the
 * target are never written, so a second run creates nothing.
 */
import { GatewayError } from '../domain/errors.js';
import { generatePassword } from '../domain/secrets.js';
import type { CallContext } from '../provider-kit/adapter.js';
import type { AuditSink } from '../security/audit.js';
import { preparePlan, type MigrationSide, type PlanOptions } from './plan.js';
import type { MigrationPlan, PlannedUser } from './plan-types.js';
import { mapFewAtATime } from './read-side.js';
import { RUN_OUTCOMES, type MigrationReport, type ReportedUser, type RunOutcome } from './report-types.js';
import type { Carried } from './carry.js';
import type { MigrationState } from './state.js';

export type * from './report-types.js';

export interface RunOptions extends PlanOptions {
  /** Users migrated at once. @default 4 */
  concurrency?: number;
  /** Tries of one user's create when the upstream fails transiently (5xx, timeout, 429). @default 4 */
  attempts?: number;
  /** The first wait between tries, doubled each time. @default 500 */
  backoffMs?: number;
  /** Stops starting users (those running finish): the rest are `pending`, for a later run. */
  signal?: AbortSignal;
}

export interface RunDeps {
  ctx: CallContext;
  state: MigrationState;
  /** One `user.migrate` event per user created, naming who ran it. */
  audit?: { sink: AuditSink; apiKey: string };
  /** Called as each user is done (for a progress bar): how many are done of how many. */
  progress?: (done: number, total: number, user: ReportedUser) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => new Date().toISOString();

/** A failure that may not happen again: an upstream 5xx, timeout, unreachable or open circuit, or a 429. */
export const isTransient = (err: unknown) =>
  err instanceof GatewayError && (err.status === 429 || err.status === 502 || err.status === 503 || err.status === 504);

const messageOf = (err: unknown) => (err instanceof GatewayError ? `${err.status} ${err.code}: ${err.message}` : 'the gateway failed');

interface Running {
  source: MigrationSide;
  target: MigrationSide;
  deps: RunDeps;
  attempts: number;
  backoffMs: number;
}

/**
 * Runs the migration of `source`'s users (or `options.usernames`) to `target`, and answers the
 * report: the only place a generated password is ever shown.
 */
export async function runMigration(
  source: MigrationSide,
  target: MigrationSide,
  options: RunOptions,
  deps: RunDeps,
): Promise<MigrationReport> {
  const release = await deps.state.acquire();
  try {
    const { plan, carried } = await preparePlan(source, target, options, deps.ctx);
    const running: Running = { source, target, deps, attempts: Math.max(1, options.attempts ?? 4), backoffMs: options.backoffMs ?? 500 };
    let done = 0;
    const concurrency = Math.min(Math.max(1, options.concurrency ?? 4), 32);
    const users = await mapFewAtATime(plan.users, async (planned) => {
      const user = options.signal?.aborted
        ? reported(planned, 'pending', { why: 'the run was stopped before this user: run it again' })
        : await migrateUser(planned, carried.get(planned.username)!, running);
      deps.progress?.(++done, plan.users.length, user);
      return user;
    }, concurrency);

    const report = reportOf(plan, users);
    deps.ctx.logger.info({ from: source.name, to: target.name, ...report.summary.outcomes }, 'migration run');
    return report;
  } finally {
    await release();
  }
}

/**
 * Records that the report reached its reader (printed, or handed to the HTTP answer): the
 * generated passwords in it count as shown, and a later run replaces none of them. Until then a
 * later run gives those users new passwords and reports them — a report lost to a crash costs a
 * rotation, never a password nobody saw.
 */
export async function markReported(report: MigrationReport, state: MigrationState): Promise<void> {
  for (const u of report.users) {
    if (u.outcome === 'created' && u.password === 'generated') {
      await state.put(u.username, { step: 'done', sourceId: u.sourceId, targetId: u.targetId!, password: 'generated', reported: true, at: now() });
    }
  }
}

function reported(p: PlannedUser, outcome: RunOutcome, extra: Partial<ReportedUser> = {}): ReportedUser {
  return {
    username: p.username,
    sourceId: p.sourceId,
    targetUsername: p.targetUsername,
    outcome,
    ...(p.targetId !== undefined ? { targetId: p.targetId } : {}),
    ...extra,
    dropped: p.dropped,
    narrowed: p.narrowed,
  };
}

async function migrateUser(p: PlannedUser, carried: Carried, r: Running): Promise<ReportedUser> {
  if (p.action === 'conflict') return reported(p, 'conflict', { why: p.why! });
  const record = await r.deps.state.get(p.username);
  if (p.action === 'exists') {
    if (record?.step === 'creating') {
      // A run stopped while creating it: it may be half-made. It is ours (the plan then said
      // `create`), so it is made anew.
      await r.target.adapter.deleteUser(p.targetId!, r.deps.ctx);
      r.deps.ctx.logger.warn({ backend: r.target.name, userId: p.targetId }, 'migration: deleted a user a stopped run may have half-made');
    } else if (record?.step === 'done' && record.targetId === p.targetId && record.password === 'generated' && !record.reported) {
      return replaceUnreportedPassword(p, r);
    } else {
      return p.comparison === 'same'
        ? reported(p, 'exists')
        : reported(p, 'differs', { differences: p.differences ?? [], why: 'the target has a user of this name that differs: it was not changed' });
    }
  } else if (p.blocked !== undefined) {
    return reported(p, 'skipped', { why: p.blocked });
  }
  return createWithRetries(p, carried, r, record?.step === 'creating');
}

async function createWithRetries(p: PlannedUser, carried: Carried, r: Running, mayBeThere: boolean): Promise<ReportedUser> {
  const { deps, target } = r;
  let last: unknown;
  // A create that failed by a timeout or a 5xx may have landed; one that answered 409 did not
  // (another user has the name, and is not ours to delete).
  let mayHaveLanded = mayBeThere;
  for (let attempt = 1; attempt <= r.attempts; attempt++) {
    try {
      if (mayHaveLanded) await removeByUsername(p.targetUsername, r);
      await deps.state.put(p.username, { step: 'creating', sourceId: p.sourceId, at: now() });
      const password = p.password === 'carried' ? await r.source.adapter.revealPassword!(p.sourceId, deps.ctx) : null;
      const { user, generatedPassword } = await target.adapter.createUser(
        password ? { ...carried.input, password } : carried.input,
        deps.ctx,
      );
      const kind = password ? 'carried' : 'generated';
      await deps.state.put(p.username, { step: 'done', sourceId: p.sourceId, targetId: user.id, password: kind, reported: false, at: now() });
      audit(r, user.id, p.targetUsername, [...Object.keys(carried.input), ...(password ? ['password'] : [])]);
      return reported(p, 'created', {
        targetId: user.id, password: kind, attempts: attempt,
        ...(kind === 'generated' && generatedPassword ? { generatedPassword } : {}),
      });
    } catch (err) {
      last = err;
      if (!isTransient(err)) break;
      mayHaveLanded = true;
      deps.ctx.logger.warn({ backend: target.name, attempt, reason: messageOf(err) }, 'migration: a create failed, trying again');
      if (attempt < r.attempts) await sleep(r.backoffMs * 2 ** (attempt - 1));
    }
  }
  // Nothing half-made may stay behind a failed user (the adapters undo their own partial creates;
  // this catches a create whose answer was lost). Failing that, the record says `creating`, and
  // the next run deletes it.
  try {
    if (mayHaveLanded) await removeByUsername(p.targetUsername, r);
    await deps.state.put(p.username, { step: 'failed', sourceId: p.sourceId, at: now() });
  } catch {
    // left for the next run
  }
  return reported(p, 'failed', { why: messageOf(last), attempts: r.attempts });
}

/** Deletes the target's user of this name, if any: one a stopped or failed try of this run made. */
async function removeByUsername(username: string, r: Running): Promise<void> {
  const { adapter } = r.target;
  const page = await adapter.listUsers({ limit: 1, offset: 0, order: 'asc', username }, r.deps.ctx);
  const found = page.data.find((u) => u.username === username);
  if (found === undefined) return;
  await adapter.deleteUser(found.id, r.deps.ctx);
  r.deps.ctx.logger.warn({ backend: r.target.name, userId: found.id }, 'migration: deleted a user an unfinished try made');
}

/** A user made by a run that stopped before its report: its generated password was never shown, so it gets a new one. */
async function replaceUnreportedPassword(p: PlannedUser, r: Running): Promise<ReportedUser> {
  const { operations } = r.target.adapter;
  const id = p.targetId!;
  let password: string;
  if (operations.passwordRotation) password = (await operations.passwordRotation.rotatePassword(id, r.deps.ctx)).password;
  else if (operations.passwordSet) await operations.passwordSet.setPassword(id, (password = generatePassword()), r.deps.ctx);
  else return reported(p, 'exists', { why: 'made by a stopped run; its generated password was never shown, and this target cannot set another' });
  return reported(p, 'created', { password: 'generated', generatedPassword: password, why: 'made by a stopped run: a new password replaces the one never shown' });
}

function audit(r: Running, userId: string, username: string, fields: string[]): void {
  const a = r.deps.audit;
  if (!a) return;
  a.sink.emit({
    kind: 'audit', time: now(), requestId: r.deps.ctx.requestId, apiKey: a.apiKey, backend: r.target.name,
    action: 'user.migrate', userId, username, fields: [...fields].sort(), status: 201,
  });
}

function reportOf(plan: MigrationPlan, users: ReportedUser[]): MigrationReport {
  const outcomes = Object.fromEntries(RUN_OUTCOMES.map((o) => [o, 0])) as Record<RunOutcome, number>;
  for (const u of users) outcomes[u.outcome] += 1;
  return {
    from: plan.from,
    to: plan.to,
    policy: plan.policy,
    users,
    unknownUsernames: plan.unknownUsernames,
    summary: { users: users.length, outcomes, generatedPasswords: users.filter((u) => u.generatedPassword !== undefined).length },
    complete: outcomes.failed === 0 && outcomes.pending === 0,
  };
}
