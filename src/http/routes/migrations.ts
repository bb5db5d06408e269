/**
 * `POST /v1/migrations`: plans — by default — or runs the move of users from one backend to
 * another (src/migration/). Not backend-scoped: both backends are named in the body, and the key
 * must reach both. A run records its progress in the cache store (Redis when the cache is Redis,
 * so every instance sees it), holds the pair of backends while it lasts (a second run at once is
 * a 409), audits each user it creates, and shows each generated password once, in its answer.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { createMemoryStore, type CacheStore } from '../../cache/store.js';
import type { Scope } from '../../config.js';
import { unsupportedEndpoint } from '../../domain/errors.js';
import { planMigration, type MigrationSide } from '../../migration/plan.js';
import { markReported, runMigration, type MigrationReport } from '../../migration/run.js';
import { cacheStoreState } from '../../migration/state.js';
import { requireBackend, type Principal } from '../../security/auth.js';
import { migrationReportExample, migrationRequestExample } from '../openapi-migration-examples.js';
import { describeRoute, problemResponsesOf, securityOf, type RouteTraits } from '../openapi-route-doc.js';
import { authorize, unknownBackend } from '../pipeline.js';
import type { GatewayEnv } from '../request-vars.js';
import { callContext, jsonResponse, limitBody, refuseMalformedText, type RouteDeps } from '../route-kit.js';
import { MigrationPlan, MigrationReport as MigrationReportSchema, MigrationRequest } from './migration-schemas.js';

const SCOPE: Scope = 'admin';
/** 409: another run of the pair; 501: a runtime that cannot migrate (Workers); 5xx: an upstream failing. */
const TRAITS: RouteTraits = { scope: SCOPE, body: true, bodyNamesBackends: true, conflicts: true, capability: true, upstream: true };

/**
 * Records a process keeps for its runs when the cache is in memory: tens of thousands of small
 * records (a few MB), so that one large run never evicts its own lock or records.
 */
const LOCAL_STATE_ENTRIES = 50_000;

export interface MigrationRouteOptions {
  /** Why this runtime cannot migrate: every request past the key and scope checks is then a 501 saying so. */
  refusal?: string;
}

const DESCRIPTION = [
  'Moves users from the backend `from` to the backend `to`: each user with its keys, network rules and password '
    + '(carried where the source reveals it and the target can set it; else the target generates one). The source is only read.',
  '**A dry run by default**: the answer is the plan (`MigrationPlan`) and nothing is written. With `dryRun: false` the users '
    + 'are created and the answer is the report (`MigrationReport`). A run never changes a user the target already has, so '
    + 'running it again creates only what is missing (`exists` for the rest); a run that was stopped (`complete: false`) '
    + 'finishes when run again. Each created user is audited as `user.migrate`.',
  '**Generated passwords are shown once**, in `generatedPassword` of the report, and kept nowhere: store them before '
    + 'anything else. The answer says `Cache-Control: no-store`.',
  'The key must reach both backends. A gateway on Cloudflare Workers answers 501, dry runs included: a migration makes '
    + "several upstream calls per user, beyond a Worker request's subrequest limit.",
].join('\n\n');

export function mountMigrationRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps, options: MigrationRouteOptions = {}): void {
  const { driver } = deps.cache.store;
  // Shared stores (Redis) hold the state for every instance. An in-process cache gets a store of
  // its own: in the list cache's small LRU a large run would push out its own lock.
  const stateStore: CacheStore = driver === 'memory' || driver === 'none' ? createMemoryStore(LOCAL_STATE_ENTRIES) : deps.cache.store;

  const checkAccess: MiddlewareHandler<GatewayEnv> = async function checkAccess(c, next) {
    await authorize(c, deps, SCOPE);
    if (options.refusal !== undefined) throw unsupportedEndpoint(options.refusal);
    await next();
  };

  app.openapi(
    createRoute({
      method: 'post', path: '/v1/migrations', operationId: 'migrateUsers', tags: ['Migrations'],
      summary: 'Plan (by default) or run a migration of users to another backend',
      description: describeRoute({
        description: DESCRIPTION, conflicts: 'another migration between the same two backends is running', scope: SCOPE,
      }),
      security: securityOf(SCOPE),
      // Every answer, refusals included: a report holds passwords, and no answer of a run is for a cache.
      middleware: [noStore, checkAccess, limitBody as MiddlewareHandler<GatewayEnv>, refuseMalformedText],
      request: {
        body: { required: true, content: { 'application/json': { schema: MigrationRequest, example: migrationRequestExample } } },
      },
      responses: {
        200: {
          description: 'The plan (a dry run), or the report of the run (`dryRun: false`)',
          content: { 'application/json': { schema: z.union([MigrationPlan, MigrationReportSchema]), example: migrationReportExample } },
        },
        ...problemResponsesOf(TRAITS),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const [source, target] = sidesOf(deps, principal, body.from, body.to);
      const planOptions = { usernames: body.usernames, narrow: body.narrow, acceptWidening: body.acceptWidening };
      if (body.dryRun) return jsonResponse(c, 200, await planMigration(source, target, planOptions, callContext(c)));
      const report = await run(c, deps, stateStore, [source, target], { ...planOptions, concurrency: body.concurrency });
      return jsonResponse(c, 200, report);
    },
  );
}

const noStore: MiddlewareHandler<GatewayEnv> = async function noStore(c, next) {
  await next();
  c.res.headers.set('cache-control', 'no-store');
};

/** Both backends, in CONTRACT §1's order: the key's grant of each (403), then that each exists (404). */
function sidesOf(deps: RouteDeps, principal: Principal, from: string, to: string): [MigrationSide, MigrationSide] {
  requireBackend(principal, from);
  requireBackend(principal, to);
  const side = (name: string): MigrationSide => {
    const entry = deps.backends.get(name);
    if (!entry) throw unknownBackend(name, principal, deps.backends);
    return { name, adapter: entry.adapter };
  };
  return [side(from), side(to)];
}

type RunRequest = Pick<MigrationRequest, 'usernames' | 'narrow' | 'acceptWidening' | 'concurrency'>;

async function run(
  c: Context<GatewayEnv>, deps: RouteDeps, stateStore: CacheStore, [source, target]: [MigrationSide, MigrationSide], asked: RunRequest,
): Promise<MigrationReport> {
  const { cache } = deps;
  // Under the backends' identities: a changed upstream behind a name starts afresh.
  const state = cacheStoreState(stateStore, cache.keyPrefix, {
    from: source.name, to: target.name, identity: `${cache.identity(source.name)}>${cache.identity(target.name)}`,
  });
  const audit = deps.audit ? { sink: deps.audit, apiKey: c.get('principal').name } : undefined;
  let report: MigrationReport | undefined;
  try {
    // A caller that hangs up stops the run from starting more users: the rest are `pending`, for the next run.
    report = await runMigration(source, target, { ...asked, signal: c.req.raw.signal }, {
      ctx: callContext(c), state, ...(audit ? { audit } : {}),
    });
    // Handed to the answer: if the caller hung up, the passwords are lost — rotate them (docs/migrations.md).
    await markReported(report, state);
    return report;
  } finally {
    // The target's cached lists must show what the run made — or may have made, if it failed part-way.
    const outcomes = report?.summary.outcomes;
    if (outcomes === undefined || outcomes.created + outcomes.failed > 0) await cache.invalidate(target.name);
  }
}
