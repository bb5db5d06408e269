/**
 * `POST /v1/migrations` as zod schemas: its body, and its two answers — the plan
 * (src/migration/plan-types.ts) and the run's report (src/migration/report-types.ts), mirrored
 * field by field. The type checks at the end fail the build when either side changes alone.
 */
import { z } from '@hono/zod-openapi';
import { FIXED_LEVELS, Provider, USERNAME_MAX } from '../../domain/model.js';
import { PLAN_FIELDS, type MigrationPlan as Plan } from '../../migration/plan-types.js';
import { RUN_OUTCOMES, type MigrationReport as Report } from '../../migration/report-types.js';
import { migrationPlanExample } from '../openapi-migration-examples.js';

/** The most usernames one request may name (each 1..255 characters; the 1 MiB body limit comes first for long ones). */
export const MAX_USERNAMES = 10_000;
export const MAX_CONCURRENCY = 16;

const countsOf = <const K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<K, z.ZodNumber>);

export const MigrationRequest = z
  .object({
    from: z.string().min(1).max(255).openapi({ description: 'The source backend: only read', example: 'onprem' }),
    to: z.string().min(1).max(255).openapi({ description: 'The target backend: another one', example: 'togo' }),
    usernames: z
      .array(z.string().min(1).max(USERNAME_MAX))
      .min(1)
      .max(MAX_USERNAMES)
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        names.forEach((name, i) => {
          if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i], message: `repeats "${name}"` });
          seen.add(name);
        });
      })
      .optional()
      .openapi({
        uniqueItems: true,
        description: "Only these source users (default: all); a name the source lacks is listed in the answer's `unknownUsernames`",
      }),
    dryRun: z.boolean().default(true).openapi({ description: 'Only plan, writing nothing: a run must be asked for with `false`' }),
    narrow: z.boolean().default(false).openapi({
      description: 'Give a permission set the target cannot store its nearest narrower level (never a broader one); else skip the user',
    }),
    acceptWidening: z.boolean().default(false).openapi({
      description: 'Migrate a user even when a field lost on the way widens its access (no expiry, any address); else skip it',
    }),
    concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).default(4).openapi({ description: 'Users created at once by a run' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.from === body.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must name another backend than `from`' });
  })
  .openapi('MigrationRequest');
export type MigrationRequest = z.infer<typeof MigrationRequest>;

const FixedLevel = z.enum(FIXED_LEVELS)
  .openapi('FixedLevel');
const PlanField = z.enum(PLAN_FIELDS).openapi('PlanField');

const DroppedField = z
  .object({
    field: PlanField,
    why: z.string(),
    narrower: z.array(FixedLevel).optional().openapi({ description: 'For a permission set the target cannot store: the largest levels inside it' }),
    broader: z.array(FixedLevel).optional().openapi({ description: '…and the smallest levels containing it (either list may be empty)' }),
    directory: z.string().optional().openapi({ description: "For one sub-directory's permissions: which directory" }),
    cidr: z.string().optional().openapi({ description: 'For one network rule: its CIDR' }),
    widens: z.literal(true).optional().openapi({
      description: 'Losing it gives the user more than the source allows: a run skips the user unless `acceptWidening`',
    }),
  })
  .openapi('DroppedField', { description: 'A field of a source user that cannot be carried to the target as it is' });

const NarrowedField = z
  .object({
    field: z.enum(['accessLevel', 'permissions', 'directoryPermissions']),
    directory: z.string().optional().openapi({ description: 'For one sub-directory: which one' }),
    level: FixedLevel,
  })
  .openapi('NarrowedField', { description: 'A permission set a run gives a narrower level (with `narrow`)' });

const FieldDifference = z
  .object({ field: PlanField, source: z.unknown(), target: z.unknown() })
  .openapi('FieldDifference', { description: 'One field where the source user and the target user of its name disagree' });

const MigrationPolicy = z.object({ narrow: z.boolean(), acceptWidening: z.boolean() }).openapi('MigrationPolicy');

const PlannedBackend = z
  .object({ backend: z.string(), provider: Provider, apiVersion: z.string().nullable(), serverVersion: z.string().nullable() })
  .openapi('PlannedBackend');

/** What both answers say of each user. */
const userBase = {
  username: z.string(),
  sourceId: z.string(),
  targetUsername: z.string().openapi({ description: 'The name as the target would store it (a target may lowercase names)' }),
};

const PlannedUser = z
  .object({
    ...userBase,
    action: z.enum(['create', 'exists', 'conflict']),
    targetId: z.string().optional().openapi({ description: "`exists` (and a conflict with an existing user): the target user's id" }),
    comparison: z.enum(['same', 'differs']).optional().openapi({ description: '`exists`: whether the target user holds what would be carried' }),
    differences: z.array(FieldDifference).optional(),
    why: z.string().optional().openapi({ description: '`conflict`: why the target cannot have this user' }),
    dropped: z.array(DroppedField),
    narrowed: z.array(NarrowedField),
    blocked: z.string().optional().openapi({ description: "`create`: why a run would skip this user under the plan's policy" }),
    password: z.enum(['carried', 'generated']).openapi({
      description: '`carried`: the source reveals it and the target can set it; `generated`: the target makes a new one, shown once by the run',
    }),
  })
  .openapi('PlannedUser');

const PlanSummary = z
  .object({
    users: z.number().int(),
    actions: countsOf(['create', 'exists', 'conflict']),
    comparisons: countsOf(['same', 'differs']),
    dropped: z.partialRecord(PlanField, z.number().int()).openapi({ description: 'How many users lose each field' }),
    password: countsOf(['carried', 'generated']),
    narrowed: z.number().int(),
    blocked: z.number().int(),
    unknownUsernames: z.number().int(),
  })
  .openapi('PlanSummary');

export const MigrationPlan = z
  .object({
    from: PlannedBackend,
    to: PlannedBackend,
    policy: MigrationPolicy,
    users: z.array(PlannedUser).openapi({ description: 'Sorted by source username' }),
    unknownUsernames: z.array(z.string()),
    summary: PlanSummary,
  })
  .openapi('MigrationPlan', { description: 'What a run would do (`dryRun`, the default): nothing was written', example: migrationPlanExample });

const ReportedUser = z
  .object({
    ...userBase,
    outcome: z.enum(RUN_OUTCOMES).openapi({
      description: '`created` now; `exists`/`differs`: already there, not written; `conflict`; `skipped` by the policy (see `why`); '
        + '`failed` after its retries, nothing left half-made; `pending`: the run stopped before it (run again)',
    }),
    targetId: z.string().optional(),
    why: z.string().optional(),
    differences: z.array(FieldDifference).optional(),
    dropped: z.array(DroppedField),
    narrowed: z.array(NarrowedField),
    password: z.enum(['carried', 'generated']).optional(),
    generatedPassword: z.string().optional().openapi({
      description: '`created` with a generated password: the password, shown this once — it is kept nowhere, and a later run never shows it again',
    }),
    attempts: z.number().int().optional().openapi({ description: 'Tries of its create (more than one after transient upstream failures)' }),
  })
  .openapi('ReportedUser');

export const MigrationReport = z
  .object({
    from: PlannedBackend,
    to: PlannedBackend,
    policy: MigrationPolicy,
    users: z.array(ReportedUser),
    unknownUsernames: z.array(z.string()),
    summary: z.object({ users: z.number().int(), outcomes: countsOf(RUN_OUTCOMES), generatedPasswords: z.number().int() }),
    complete: z.boolean().openapi({ description: 'False when a user failed or the run was stopped: run it again to finish' }),
  })
  .openapi('MigrationReport', { description: 'What a run did (`dryRun: false`)' });

/** True only when A and B are the same type (not merely assignable either way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
// The answers are the migration's own types, no more and no less.
true satisfies Same<z.infer<typeof MigrationPlan>, Plan>;
true satisfies Same<z.infer<typeof MigrationReport>, Report>;
