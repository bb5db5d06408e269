/**
 * What a route's OpenAPI entry says that follows from what the route does: the scope it needs (as a
 * security requirement and a line of its description) and the problem answers it can give. Routes
 * declare their traits (src/http/route-kit.ts derives them from each route's spec); nothing here is
 * a list kept by hand per route.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Scope } from '../config.js';
import { GatewayError, type ErrorCode } from '../domain/errors.js';
import { Problem } from '../domain/model.js';
import type { GatewayEnv } from './request-vars.js';

/** What a route does, as far as its possible answers go (CONTRACT §1, §4, §6). */
export interface RouteTraits {
  /** The scope its key needs; null: no key at all (then it is never throttled either). */
  scope: Scope | null;
  /** `{backend}` in its path: a backend nobody configured is a 404. */
  backendParam?: boolean;
  /** A user, key or connection id in its path: a malformed one is a 400, an unknown one a 404. */
  resourceParams?: boolean;
  /** It reads a query: a bad one is a 400. */
  query?: boolean;
  /** It takes a JSON body: 400, 413, 415, and 422 for what the provider cannot represent. */
  body?: boolean;
  /**
   * Its body names backends and users rather than describing a resource (a migration's): an
   * unknown backend is a 404, and nothing in it is for a provider to refuse (no 422).
   */
  bodyNamesBackends?: boolean;
  /** It honours `Idempotency-Key`: a bad key is a 400, a repeat still running a 409, a reused key a 422. */
  idempotent?: boolean;
  /** It can clash with what the upstream holds (username taken, key present, scan running…): a 409. */
  conflicts?: boolean;
  /** It needs a capability: a 501 where the backend's provider (or, for migrations, the runtime) lacks it. */
  capability?: boolean;
  /** Its answer depends on an upstream call whose failures it passes on: 429, 502, 503, 504. */
  upstream?: boolean;
}

interface ProblemDoc {
  code: ErrorCode;
  description: string;
  /** A realistic answer (validated against `Problem` by test/openapi-document.test.ts). */
  detail: string;
  backend?: string;
  errors?: { path: string; message: string }[];
  details?: Record<string, unknown>;
  headers?: Record<string, { description: string; schema: { type: 'string' } }>;
}

const PROBLEM_TYPE_BASE = 'https://sftp-gateway.dev/problems/';
const EXAMPLE_REQUEST_ID = '3f0c8a5e-9b1d-4c2e-8f7a-6d5b4c3a2e19';

/** Every problem answer of a documented route, by status: its shared response and an example. */
const PROBLEMS: Record<number, ProblemDoc> = {
  400: {
    code: 'invalid_request',
    description: 'Malformed JSON, a bad path id, query, header or body field, an invalid SSH key or CIDR',
    detail: 'The request body is not valid: username is required',
    backend: 'onprem',
    errors: [{ path: 'username', message: 'is required' }],
  },
  401: {
    code: 'unauthorized',
    description: 'No or unknown API key',
    detail: 'An API key is required: send "Authorization: Bearer <API key>"',
    headers: { 'WWW-Authenticate': { description: 'Always `Bearer realm="sftp-gateway"`', schema: { type: 'string' } } },
  },
  403: {
    code: 'forbidden',
    description: 'The key lacks the scope, or may not reach this backend',
    detail: 'The API key "billing" lacks the "write" scope',
  },
  404: {
    code: 'not_found',
    description: 'Unknown backend (`details.backends` lists those the key may use), user, SSH key or connection',
    detail: 'user 42 not found',
    backend: 'onprem',
  },
  409: {
    code: 'conflict',
    description:
      'Conflict: username taken, key already present, scan running, root user protected, last way to log in, ' +
      'or a request with the same Idempotency-Key still running (the operation says which apply)',
    detail: 'username "acme_uploads" is already taken',
    backend: 'onprem',
  },
  413: { code: 'payload_too_large', description: 'Body over 1 MiB', detail: 'The request body is larger than 1 MiB', backend: 'onprem' },
  415: {
    code: 'unsupported_media_type', description: 'Body not application/json', detail: 'Send the body as application/json', backend: 'onprem',
  },
  422: {
    code: 'not_supported_by_provider',
    description:
      'Well-formed, but this provider cannot represent it (`not_supported_by_provider`; a refused permission set ' +
      'names the nearest levels in `details.narrower` and `details.broader`), or an Idempotency-Key reused with a ' +
      'different request (`idempotency_key_reused`)',
    detail:
      'SFTP To Go cannot represent this request: permissions: SFTP To Go stores only the access levels none, read-only, ' +
      'write-only, read-write and full',
    backend: 'togo',
    errors: [{ path: 'permissions', message: 'SFTP To Go stores only the access levels none, read-only, write-only, read-write and full' }],
    details: { narrower: ['read-only'], broader: ['read-write'] },
  },
  429: {
    code: 'rate_limited',
    description:
      'Too many failed authentications from this address, or this key is over its requests a minute; or the ' +
      'upstream is rate limiting the gateway (its Retry-After passes through)',
    detail: 'Too many failed authentications from this address: try again in 42 s',
    headers: {
      'Retry-After': { description: "Whole seconds to wait (the gateway's own), or the upstream's value as it sent it", schema: { type: 'string' } },
    },
  },
  501: {
    code: 'not_supported_by_provider',
    description: "The endpoint is outside the backend provider's capabilities",
    detail: 'Backend "togo" (sftptogo) does not support connections',
    backend: 'togo',
  },
  502: {
    code: 'upstream_error',
    description: 'The upstream answered 5xx or something that is not its documented shape, or refused a request the gateway built',
    detail: 'SFTPGo answered 500: database is locked',
    backend: 'onprem',
  },
  503: {
    code: 'upstream_unavailable',
    description: 'The upstream could not be reached, or its circuit breaker is open',
    detail: 'SFTPGo could not be reached (connection refused or reset)',
    backend: 'onprem',
  },
  504: {
    code: 'upstream_timeout',
    description: 'The upstream did not answer in time',
    detail: 'SFTPGo did not answer within 5000 ms',
    backend: 'onprem',
  },
};

/** The statuses of `components.responses.Problem<status>`. */
export const PROBLEM_STATUSES = Object.keys(PROBLEMS).map(Number);

/** The example answer of a problem status, as the gateway writes it (src/http/problem.ts). */
export function problemExample(status: number): Record<string, unknown> {
  const doc = PROBLEMS[status];
  if (!doc) throw new Error(`no documented problem ${status}`);
  const { code, detail, backend, errors, details } = doc;
  return {
    type: PROBLEM_TYPE_BASE + code,
    title: new GatewayError(status, code, detail).title,
    status,
    detail,
    code,
    requestId: EXAMPLE_REQUEST_ID,
    ...(backend ? { backend } : {}),
    ...(errors ? { errors } : {}),
    ...(details ? { details } : {}),
  };
}

export function registerErrorResponses(app: OpenAPIHono<GatewayEnv>): void {
  app.openAPIRegistry.register('Problem', Problem);
  for (const [status, doc] of Object.entries(PROBLEMS)) {
    app.openAPIRegistry.registerComponent('responses', `Problem${status}`, {
      description: doc.description,
      ...(doc.headers ? { headers: doc.headers } : {}),
      content: {
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, example: problemExample(Number(status)) },
      },
    });
  }
}

/**
 * The problem statuses a route with these traits can answer. Never 412/428 (no route takes
 * If-Match) nor 405 (an answer of paths, not of operations).
 */
export function problemStatusesOf(t: RouteTraits): number[] {
  const statuses = new Set<number>();
  if (t.scope) statuses.add(401).add(403).add(429); // the throttle guards every keyed request
  if (t.resourceParams || t.query || t.body || t.idempotent) statuses.add(400);
  if (t.backendParam || t.resourceParams || t.bodyNamesBackends) statuses.add(404);
  if (t.conflicts || t.idempotent) statuses.add(409);
  if (t.body) statuses.add(413).add(415);
  if ((t.body && !t.bodyNamesBackends) || t.idempotent) statuses.add(422);
  if (t.capability) statuses.add(501);
  if (t.upstream) statuses.add(429).add(502).add(503).add(504);
  return [...statuses].sort((a, b) => a - b);
}

/** The route's problem answers, each a reference to its shared response. */
export function problemResponsesOf(t: RouteTraits): Record<string, { $ref: string }> {
  return Object.fromEntries(problemStatusesOf(t).map((s) => [String(s), { $ref: `#/components/responses/Problem${s}` }]));
}

/** The OpenAPI 3.1 security requirement of a route: the bearer key with its scope, or none at all. */
export function securityOf(scope: Scope | null): Array<Record<string, string[]>> {
  return scope ? [{ bearerAuth: [scope] }] : [];
}

/** The scope line of a description (renderers show descriptions, not always security requirements). */
export function scopeLine(scope: Scope | null, rawNeedsAdmin = false): string {
  if (!scope) return 'No API key needed.';
  return rawNeedsAdmin && scope !== 'admin' ? `Scope: \`${scope}\` (\`admin\` with \`include=raw\`).` : `Scope: \`${scope}\`.`;
}

/** A route's description: its own text, when it answers 409, and the scope line last. */
export function describeRoute(opts: { description?: string; conflicts?: string; scope: Scope | null; rawNeedsAdmin?: boolean }): string {
  return [opts.description, opts.conflicts && `409 \`conflict\` when ${opts.conflicts}.`, scopeLine(opts.scope, opts.rawNeedsAdmin)]
    .filter(Boolean)
    .join('\n\n');
}
