/**
 * Declares a backend-scoped route once and mounts it twice: under `/v1/backends/{backend}` and as
 * the default-backend alias under `/v1`. Before any validation, each route checks, in the order
 * of CONTRACT §1: the API key (401), the scope and backend (403/404), the capability (501).
 */
import { createRoute, z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { TypedResponse } from 'hono/types';
import type { JSONParsed } from 'hono/utils/types';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { bodyLimit } from 'hono/body-limit';
import type { ListCache } from '../cache/list-cache.js';
import type { Scope } from '../config.js';
import { GatewayError, invalidRequest, unsupportedEndpoint } from '../domain/errors.js';
import { firstMalformedString } from '../domain/unicode.js';
import type { CallContext, CapabilityOperations, OperationCapability } from '../provider-kit/adapter.js';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN, REPLAYED_HEADER, idempotencyGuardFor } from '../reliability/idempotency.js';
import { auditActionOf, type AuditSink } from '../security/audit.js';
import { auditTrail } from './audit-trail.js';
import { requireScope } from '../security/auth.js';
import { authorize, type AccessDeps } from './pipeline.js';
import { problemResponse, toGatewayError } from './problem.js';
import { describeRoute, problemResponsesOf, securityOf, type RouteTraits } from './openapi-route-doc.js';
import type { BackendEntry, GatewayEnv } from './request-vars.js';

export const MAX_BODY_BYTES = 1024 * 1024;

type AnyObject = z.ZodObject<z.ZodRawShape>;
type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteDeps extends AccessDeps {
  defaultBackend: string;
  cache: ListCache;
  /** The shortest caller-chosen password, in code points (config `passwordMinLength`). */
  passwordMinLength: number;
  /** Where every write route's audit event goes (src/security/audit.ts); without one, writes are not audited. */
  audit?: AuditSink;
}

export interface BackendRouteSpec<
  P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined, C extends OperationCapability | undefined,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Relative to the backend, e.g. `/users/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The scope its key needs: enforced by the access check, and what the document says. */
  scope: Scope;
  /** When it answers 409 beyond an Idempotency-Key repeat (e.g. "the username is taken"); documented. */
  conflicts?: string;
  /** The operations the route calls: a backend without them answers 501, before any validation. */
  capability?: C;
  params?: P;
  query?: Q;
  body?: B;
  /** An example body for the document (checked against `body` by test/openapi-document.test.ts). */
  bodyExample?: unknown;
  /**
   * Honours an `Idempotency-Key` header (src/reliability/idempotency.ts): the first answer is kept and
   * replayed to repeats. Runs after the access check and validation, around the handler.
   */
  idempotent?: true;
  /**
   * A step of the route's own, run by the access check once it passed, before validation: it may
   * answer itself (the list's stored page, src/http/routes/users-stored-page.ts) or hand on with `next()`.
   */
  before?: MiddlewareHandler<GatewayEnv>;
  success: {
    status: number;
    description: string;
    schema?: z.ZodType;
    /** An example answer for the document (checked against `schema`). */
    example?: unknown;
    headers?: Record<string, { description: string; schema: { type: 'string' } }>;
  };
}

export interface RouteInput<P, Q, B, C extends OperationCapability | undefined> {
  params: P;
  query: Q;
  body: B;
  backend: BackendEntry;
  /** The backend's operations of the route's capability (the access check made sure it has them). */
  operations: C extends OperationCapability ? CapabilityOperations[C] : undefined;
  ctx: CallContext;
}

export { registerErrorResponses } from './openapi-route-doc.js';

/** The optional `Idempotency-Key` request header of idempotent routes (validated: a bad one is a 400). */
const IdempotencyHeaders = z.object({
  [IDEMPOTENCY_KEY_HEADER]: z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN, 'must be 1..255 printable ASCII characters')
    .optional()
    .openapi({
      description:
        'Makes a retry safe: the first answer (below 500, but a 429) is kept for 24 h per API key and backend, and a ' +
        'repeat with the same request gets it back with `Idempotent-Replayed: true`, without reaching the provider. ' +
        'The same key with a different request is a 422 `idempotency_key_reused`; a repeat while the first still ' +
        'runs waits for it, or is a 409. 1..255 printable ASCII characters; use a fresh random value (a UUID) per request.',
      example: '5f2b4a0e-3c1d-4e8f-9a7b-6d5c4b3a2f10',
    }),
});

const REPLAYED_RESPONSE_HEADER = {
  [REPLAYED_HEADER]: {
    description: '`true` when this is the kept answer of an earlier request with the same `Idempotency-Key`',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

export const BackendParam = z.object({
  backend: z.string().openapi({ param: { name: 'backend', in: 'path' }, example: 'onprem' }),
});

/** The backend's operations of `capability` as known now: a 501 when it has none. */
function operationsOf<C extends OperationCapability>(entry: BackendEntry, capability: C): CapabilityOperations[C] {
  const operations = entry.adapter.operations[capability];
  if (!operations) throw unsupportedEndpoint(`Backend "${entry.name}" (${entry.adapter.provider}) does not support ${capability}`);
  return operations as CapabilityOperations[C];
}

/**
 * The access check of a backend route (src/http/pipeline.ts `authorize`), then its capability,
 * then the route's own first step if it has one: all before any validation.
 */
function accessCheck(
  deps: RouteDeps, scope: Scope, capability: OperationCapability | undefined, before: MiddlewareHandler<GatewayEnv> | undefined,
): MiddlewareHandler<GatewayEnv> {
  return async function checkAccess(c, next) {
    const principal = await authorize(c, deps, scope, c.req.param('backend') ?? deps.defaultBackend);
    if (c.req.query('include') === 'raw') requireScope(principal, 'admin');
    if (capability) {
      // Where what a backend can do depends on its server's version, find the server first (once).
      const entry = c.get('backend');
      await entry.adapter.resolve?.(callContext(c), capability);
      operationsOf(entry, capability);
    }
    // Called here rather than as a middleware of its own: one step less for every list read.
    return before ? before(c, next) : next();
  };
}

/** What an adapter call carries from its request. */
export const callContext = (c: Context<GatewayEnv>): CallContext => ({ requestId: c.get('requestId'), logger: c.get('logger') });

/** The JSON media types @hono/zod-openapi's media-type gate accepts (its `jsonRequestRegex`). */
const JSON_MEDIA_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * A JSON body with a lone surrogate in any string is refused (400) before validation: no field
 * of any provider can hold it, and it would crash a mapping or be mangled upstream.
 */
export const refuseMalformedText: MiddlewareHandler<GatewayEnv> = async function refuseMalformedText(c, next) {
  // Only a body the route's media-type gate takes as JSON: any other gets its 415 from that gate,
  // in the contract's order (so "application/json;" is a 415 there, and must not be a 400 here).
  if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) return next();
  let body: unknown;
  try {
    body = await c.req.json(); // cached by Hono: the validator reads the same parse
  } catch {
    return next(); // not JSON: the media-type and JSON checks answer 415/400
  }
  const path = firstMalformedString(body);
  if (path !== undefined) {
    throw invalidRequest(`${path} is not well-formed Unicode text (it holds a lone surrogate)`, [
      { path, message: 'not well-formed Unicode' },
    ]);
  }
  await next();
};

/** A body over 1 MiB is a 413, before it is read whole. */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new GatewayError(413, 'payload_too_large', 'The request body is larger than 1 MiB');
  },
});

export function mountBackendRoute<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends z.ZodType | undefined,
  C extends OperationCapability | undefined = undefined,
>(
  app: OpenAPIHono<GatewayEnv>,
  deps: RouteDeps,
  spec: BackendRouteSpec<P, Q, B, C>,
  handler: (c: Context<GatewayEnv>, input: RouteInput<Infer<P>, Infer<Q>, Infer<B>, C>) => Promise<Response>,
): void {
  const middleware: MiddlewareHandler<GatewayEnv>[] = [accessCheck(deps, spec.scope, spec.capability, spec.before)];
  if (spec.body) middleware.push(limitBody as MiddlewareHandler<GatewayEnv>, refuseMalformedText);
  const isWrite = spec.method !== 'get';
  // First of all, so that it sees every answer, refusals included (src/security/audit.ts).
  if (isWrite && deps.audit) {
    middleware.unshift(auditTrail({
      sink: deps.audit, action: auditActionOf(spec.operationId), backends: deps.backends, defaultBackend: deps.defaultBackend,
      isJson: (contentType) => JSON_MEDIA_TYPE.test(contentType), maxBodyBytes: MAX_BODY_BYTES,
    }));
  }

  const run = async (c: Context<GatewayEnv>) => {
    const valid = (target: string) => (c.req.valid as (t: string) => unknown)(target);
    const backend = c.get('backend');
    const ctx = callContext(c);
    const input: RouteInput<Infer<P>, Infer<Q>, Infer<B>, C> = {
      params: (spec.params ? valid('param') : undefined) as Infer<P>,
      query: (spec.query ? valid('query') : undefined) as Infer<Q>,
      body: (spec.body ? valid('json') : undefined) as Infer<B>,
      backend,
      // Checked by the access check, after the server was found: this cannot fail.
      operations: (spec.capability ? operationsOf(backend, spec.capability) : undefined) as RouteInput<never, never, never, C>['operations'],
      ctx,
    };
    const execute = async () => {
      try {
        return await handler(c, input);
      } finally {
        // A write may have changed the upstream even when it failed half-way: lists go stale either way.
        if (isWrite) await deps.cache.invalidate(backend.name);
      }
    };
    const idempotencyKey = spec.idempotent ? c.req.header('idempotency-key') : undefined;
    if (idempotencyKey === undefined) return execute();
    // After the access check and validation: a refused or malformed request keeps nothing.
    const { backend: _scopedBackend, ...params } = (input.params ?? {}) as Record<string, unknown>;
    return idempotencyGuardFor(deps.cache).handle(
      {
        key: idempotencyKey,
        principal: c.get('principal').name,
        // Bound to the backend's identity: a config change never replays another upstream's answer.
        backend: deps.cache.identity(backend.name),
        request: { operation: spec.operationId, params, body: input.body },
        logger: c.get('logger'),
      },
      // The gateway's own errors are answers too (a 4xx is kept); anything else is never kept.
      async () => {
        try {
          return await execute();
        } catch (err) {
          const known = toGatewayError(err);
          if (known) return problemResponse(c, known);
          throw err;
        }
      },
    );
  };

  // Every route calls its backend's upstream and passes its failures on.
  const traits = (scoped: boolean): RouteTraits => ({
    scope: spec.scope, backendParam: scoped, resourceParams: spec.params !== undefined, query: spec.query !== undefined,
    body: spec.body !== undefined, idempotent: spec.idempotent === true, conflicts: spec.conflicts !== undefined,
    capability: spec.capability !== undefined, upstream: true,
  });
  const description = describeRoute({
    description: spec.description, conflicts: spec.conflicts, scope: spec.scope,
    rawNeedsAdmin: spec.query !== undefined && 'include' in spec.query.shape,
  });

  for (const scoped of [true, false]) {
    const params = scoped ? (spec.params ? BackendParam.merge(spec.params) : BackendParam) : spec.params;
    // As a RouteConfig: each route's answer type varies with its spec, and `run` makes a Response for any.
    const route: RouteConfig = createRoute({
      method: spec.method,
      path: scoped ? `/v1/backends/{backend}${spec.path}` : `/v1${spec.path}`,
      operationId: scoped ? spec.operationId : `${spec.operationId}OnDefaultBackend`,
      summary: scoped ? spec.summary : `${spec.summary} (default backend)`,
      description,
      tags: [spec.tag],
      security: securityOf(spec.scope),
      middleware,
      request: {
        ...(params ? { params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.idempotent ? { headers: IdempotencyHeaders } : {}),
        ...(spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body, ...exampleOf(spec.bodyExample) } } } }
          : {}),
      },
      responses: {
        [spec.success.status]: {
          description: spec.success.description,
          ...(spec.success.headers || spec.idempotent
            ? { headers: { ...spec.success.headers, ...(spec.idempotent ? REPLAYED_RESPONSE_HEADER : {}) } }
            : {}),
          ...(spec.success.schema
            ? { content: { 'application/json': { schema: spec.success.schema, ...exampleOf(spec.success.example) } } }
            : {}),
        },
        ...problemResponsesOf(traits(scoped)),
      },
    });
    app.openapi(route, run);
  }
}

const exampleOf = (example: unknown) => (example === undefined ? {} : { example });

/** A JSON answer (errors are problem+json answers: src/http/problem.ts). */
export function jsonResponse<T extends object, S extends ContentfulStatusCode>(
  c: Context<GatewayEnv>, status: S, body: T, headers: Record<string, string> = {},
): Response & TypedResponse<JSONParsed<T>, S, 'json'> {
  return c.json(body, status, headers);
}

/** Path parameter for a resource id: what no provider would mint is a 400 before any upstream call. */
export const idParam = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._~:@-]+$/, 'must be 1..128 of A-Z a-z 0-9 . _ ~ : @ -')
    .openapi({ param: { name, in: 'path' }, example });

/**
 * `{id}` of every route under a user: a provider's id, or (SFTPGo API v2) a username, which may
 * hold any character but `/` (percent-encoded in the path). What no provider would mint — a
 * control character, a `/`, leading or trailing spaces, over 255 characters — is a 400.
 */
export const UserIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\u0000-\u001f\u007f]+$/, 'must hold no "/" and no control character')
    .refine((id) => id.trim() === id, 'must not begin or end with a space')
    .openapi({
      param: { name: 'id', in: 'path' },
      example: '42',
      description: "The user's id (SFTPGo API v2: its username)",
      // The regex and the refine above as one pattern (`\s` is exactly what `trim` removes).
      pattern: String.raw`^[^/\s\u0000-\u001f\u007f]([^/\u0000-\u001f\u007f]*[^/\s\u0000-\u001f\u007f])?$`,
    }),
});
