/**
 * Declares a backend-scoped route once and mounts it twice: under `/v1/backends/{backend}` and as
 * the default-backend alias under `/v1`. Before any validation, each route checks, in the order
 * of CONTRACT §1: the API key (401), the scope and backend (403/404), the capability (501).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { CallContext } from './adapter.js';
import { requireScope, type Authenticator } from './auth.js';
import type { ListCache } from './list-cache.js';
import type { Scope } from './config.js';
import type { BackendEntry, GatewayEnv } from './env.js';
import { GatewayError, notFound, unsupportedEndpoint } from './errors.js';
import { Problem, type Capability } from './model.js';

export const MAX_BODY_BYTES = 1024 * 1024;

type AnyObject = z.ZodObject<z.ZodRawShape>;
type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteDeps {
  authenticate: Authenticator;
  backends: ReadonlyMap<string, BackendEntry>;
  defaultBackend: string;
  cache: ListCache;
}

export interface BackendRouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Relative to the backend, e.g. `/users/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  scope: Scope;
  capability?: Capability;
  params?: P;
  query?: Q;
  body?: B;
  success: { status: number; description: string; schema?: z.ZodType; headers?: Record<string, { description: string; schema: { type: 'string' } }> };
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  backend: BackendEntry;
  ctx: CallContext;
}

/** The problem answers every backend route may give, documented once. */
const ERROR_STATUSES: Record<number, string> = {
  400: 'Malformed JSON, a bad query, body field, SSH key or CIDR',
  401: 'No or unknown API key',
  403: 'The key lacks the scope, or may not reach this backend',
  404: 'Unknown backend or resource',
  409: 'Conflict: username taken, key already present, scan running, root user protected',
  413: 'Body over 1 MiB',
  415: 'Body not application/json',
  422: 'Well-formed, but this provider cannot represent it',
  429: "The upstream is rate limiting (its Retry-After passes through)",
  501: "The endpoint is outside the backend provider's capabilities",
  502: 'The upstream answered 5xx or something that is not its documented shape',
  503: 'The upstream could not be reached',
  504: 'The upstream did not answer in time',
};
/** Every route refers to these shared responses (registered once by `registerErrorResponses`). */
export const errorResponses = Object.fromEntries(
  Object.keys(ERROR_STATUSES).map((status) => [status, { $ref: `#/components/responses/Problem${status}` }]),
);

export function registerErrorResponses(app: OpenAPIHono<GatewayEnv>): void {
  app.openAPIRegistry.register('Problem', Problem);
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    app.openAPIRegistry.registerComponent('responses', `Problem${status}`, {
      description,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
  }
}

export const BackendParam = z.object({
  backend: z.string().openapi({ param: { name: 'backend', in: 'path' }, example: 'onprem' }),
});

/** Resolves, authorizes and capability-checks the backend: runs before any validation. */
function accessCheck(deps: RouteDeps, scope: Scope, capability: Capability | undefined): MiddlewareHandler<GatewayEnv> {
  return async function checkAccess(c, next) {
    const principal = await deps.authenticate(c.req.header('authorization'));
    c.set('principal', principal);
    requireScope(principal, scope);
    if (c.req.query('include') === 'raw') requireScope(principal, 'admin');
    const name = c.req.param('backend') ?? deps.defaultBackend;
    const allowed = !principal.backends || principal.backends.has(name);
    const entry = deps.backends.get(name);
    if (!allowed) {
      throw new GatewayError(403, 'forbidden', `The API key "${principal.name}" may not reach backend "${name}"`);
    }
    if (!entry) throw notFound(`No backend named "${name}"`);
    c.set('backend', entry);
    if (capability && !entry.adapter.capabilities[capability]) {
      throw unsupportedEndpoint(`Backend "${name}" (${entry.adapter.provider}) does not support ${capability}`);
    }
    await next();
  };
}

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new GatewayError(413, 'payload_too_large', 'The request body is larger than 1 MiB');
  },
});

export function mountBackendRoute<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends z.ZodType | undefined,
>(
  app: OpenAPIHono<GatewayEnv>,
  deps: RouteDeps,
  spec: BackendRouteSpec<P, Q, B>,
  handler: (c: Context<GatewayEnv>, input: RouteInput<Infer<P>, Infer<Q>, Infer<B>>) => Promise<Response>,
): void {
  const middleware: MiddlewareHandler<GatewayEnv>[] = [accessCheck(deps, spec.scope, spec.capability)];
  if (spec.body) middleware.push(limitBody as MiddlewareHandler<GatewayEnv>);
  const isWrite = spec.method !== 'get';

  const run = async (c: Context<GatewayEnv>) => {
    const valid = (target: string) => (c.req.valid as (t: string) => unknown)(target);
    const backend = c.get('backend');
    try {
      return await handler(c, {
        params: (spec.params ? valid('param') : undefined) as Infer<P>,
        query: (spec.query ? valid('query') : undefined) as Infer<Q>,
        body: (spec.body ? valid('json') : undefined) as Infer<B>,
        backend,
        ctx: { requestId: c.get('requestId'), logger: c.get('logger') },
      });
    } finally {
      // A write may have changed the upstream even when it failed half-way: lists go stale either way.
      if (isWrite) await deps.cache.invalidate(backend.name);
    }
  };

  for (const scoped of [true, false]) {
    const params = scoped ? (spec.params ? BackendParam.merge(spec.params) : BackendParam) : spec.params;
    const route = createRoute({
      method: spec.method,
      path: scoped ? `/v1/backends/{backend}${spec.path}` : `/v1${spec.path}`,
      operationId: scoped ? spec.operationId : `${spec.operationId}OnDefaultBackend`,
      summary: scoped ? spec.summary : `${spec.summary} (default backend)`,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      security: [{ bearerAuth: [] }],
      middleware,
      request: {
        ...(params ? { params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : {}),
      },
      responses: {
        [spec.success.status]: {
          description: spec.success.description,
          ...(spec.success.headers ? { headers: spec.success.headers } : {}),
          ...(spec.success.schema ? { content: { 'application/json': { schema: spec.success.schema } } } : {}),
        },
        ...errorResponses,
      },
    });
    app.openapi(route, run as never);
  }
}

/** A JSON answer with a status; `c.json` would lose our content type on errors, so errors never come here. */
export function jsonResponse(c: Context<GatewayEnv>, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status as 200, { 'content-type': 'application/json', ...headers });
}

/** Path parameter for a resource id: what no provider would mint is a 400 before any upstream call. */
export const idParam = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._~:@-]+$/, 'must be 1..128 of A-Z a-z 0-9 . _ ~ : @ -')
    .openapi({ param: { name, in: 'path' }, example });

/** `{id}` of every route under a user. */
export const UserIdParams = z.object({ id: idParam('id', '42') });
