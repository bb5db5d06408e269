/**
 * The one request pipeline every answer goes through (src/http/app.ts mounts it first):
 * `requestPipeline` gives each request its id, logger and default headers, and once answered
 * `observeRequest` writes its log line and metrics; `authorize` is the one access check, made once
 * per request by whichever step of a route asks first.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { GatewayConfig, Scope } from '../config.js';
import { GatewayError } from '../domain/errors.js';
import { lazyChild, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  createAuthenticator, mayReach, requireBackend, requireScope, type Principal, type Sha256,
} from '../security/auth.js';
import { countedAddress, throttled, type LimiterFactory } from '../security/throttle.js';
import { requestIdOf } from './request-id.js';
import type { BackendEntry, GatewayEnv } from './request-vars.js';

/**
 * What every `/v1` answer tells caches, unless it says more (an answer carrying a password says
 * `no-store`): it is for this caller only — no shared cache may keep it — and is revalidated.
 */
export const PRIVATE_ANSWER = 'private, no-cache';

const HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Where a request's line and metrics go. */
export interface RequestObserver {
  /** Writes the one line per request (its fields are the gateway's own, never caller text or secrets). */
  requestLogger: Logger;
  metrics: Metrics;
}

/**
 * The request's log line and metrics, once it is answered. The route label is the matched route's
 * template, or `unmatched` (a 404, or a method no route has): one label, never the path. A method
 * that is not HTTP's own is `OTHER`, so labels stay bounded.
 */
export function observeRequest(out: RequestObserver, c: Context<GatewayEnv>, started: number): void {
  const ms = performance.now() - started;
  const matched = routePath(c, -1);
  const route = matched === '*' || matched === '/*' || matched === '' ? 'unmatched' : matched;
  const backend = c.get('backend')?.name ?? null;
  const status = c.res.status;
  out.metrics.observeRequest({
    route, method: HTTP_METHODS.has(c.req.method) ? c.req.method : 'OTHER', status, backend, seconds: ms / 1000,
  });
  out.requestLogger.info(
    {
      requestId: c.get('requestId'),
      method: c.req.method,
      route: matched,
      status,
      durationMs: Math.round(ms * 10) / 10,
      backend,
      principal: c.get('principal')?.name ?? null,
    },
    'request',
  );
}

/**
 * First for every request: its id (the caller's X-Request-Id when safe, else a new one) and a
 * logger bound to it; then the route; then the headers every answer carries (`X-Request-Id`, and
 * on `/v1` a `Cache-Control` unless the route said one) and its line and metrics, after `onError`
 * has made any failure an answer.
 */
export function requestPipeline(logger: Logger, out: RequestObserver): MiddlewareHandler<GatewayEnv> {
  return async function pipeline(c, next) {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('logger', lazyChild(logger, { requestId }));
    await next();
    if (!c.get('answerComplete')) withRequestHeaders(c.res, requestId, c.req.path);
    observeRequest(out, c, started);
  };
}

/**
 * Sets them on the answer's own headers: `c.header()` on a finished answer would rebuild it around
 * a body stream, and @hono/node-server would lose its fast path for ready bodies.
 */
function withRequestHeaders(res: Response, requestId: string, path: string): void {
  const { headers } = res;
  headers.set('x-request-id', requestId);
  if ((path.startsWith('/v1/') || path === '/v1') && !headers.has('cache-control')) headers.set('cache-control', PRIVATE_ANSWER);
}

/**
 * Marks an answer made with every header the pipeline would add (the list's stored page): the
 * pipeline then leaves its headers alone, so @hono/node-server writes its plain headers object as
 * it is, without building a Headers object.
 */
export function completeAnswer(c: Context<GatewayEnv>, res: Response): Response {
  c.set('answerComplete', true);
  return res;
}

/**
 * A request's principal, or the 401/429 it gets. The first answer is kept on the context, so a
 * request is authenticated (and counted by the throttle) once, whichever step asks.
 */
export type RequestAuthenticator = (c: Context<GatewayEnv>) => Promise<Principal>;

export function oncePerRequest(authenticate: (c: Context<GatewayEnv>) => Promise<Principal>): RequestAuthenticator {
  return (c) => {
    let outcome = c.get('authentication');
    if (!outcome) {
      outcome = authenticate(c);
      c.set('authentication', outcome);
    }
    return outcome;
  };
}

/** What the access check needs. */
export interface AccessDeps {
  authenticate: RequestAuthenticator;
  backends: ReadonlyMap<string, BackendEntry>;
}

/**
 * The access check, in CONTRACT §1's order: the API key (401, or 429 by the throttle), the scope
 * (403), then — when a backend is named — the key's grant of it (403) and its existence (404).
 * Puts the principal and the backend on the request, for every later step and the log line.
 */
export async function authorize(c: Context<GatewayEnv>, deps: AccessDeps, scope: Scope, backendName?: string): Promise<Principal> {
  const principal = await deps.authenticate(c);
  c.set('principal', principal);
  requireScope(principal, scope);
  if (backendName === undefined) return principal;
  requireBackend(principal, backendName);
  const entry = deps.backends.get(backendName);
  if (!entry) throw unknownBackend(backendName, principal, deps.backends);
  c.set('backend', entry);
  return principal;
}

/** A 404 for a backend name nobody configured, listing those this key may use (CONTRACT §4). */
export function unknownBackend(name: string, principal: Principal, backends: ReadonlyMap<string, BackendEntry>): GatewayError {
  const usable = [...backends.keys()].filter((b) => mayReach(principal, b));
  return new GatewayError(404, 'not_found', `No backend named "${name}": this key may use ${usable.map((b) => `"${b}"`).join(', ') || 'none'}`, {
    details: { backends: usable },
  });
}

/** What the request authenticator is built from. */
export interface AuthenticatorDeps {
  config: GatewayConfig;
  sha256?: Sha256;
  limiters: LimiterFactory;
  logger: Logger;
  metrics: Metrics;
  clientAddress?: (c: Context<GatewayEnv>) => string | undefined;
}

/**
 * The API key check, guarded by the throttle's rules (CONTRACT §7) and run once per request. Demo
 * mode (no keys) has nothing to guess, so nothing is throttled there.
 */
export function requestAuthenticator(deps: AuthenticatorDeps): RequestAuthenticator {
  const { config } = deps;
  const check = createAuthenticator(config.auth?.apiKeys ?? null, deps.sha256);
  if (!config.auth) return oncePerRequest((c) => check(c.req.header('authorization')));
  const keyLimits = new Map(config.auth.apiKeys.flatMap((k) => (k.requestsPerMinute ? [[k.name, k.requestsPerMinute] as const] : [])));
  const guarded = throttled(check, {
    failedAuthPerMinute: config.auth.failedAuthPerMinute,
    keyLimits,
    makeLimiter: deps.limiters,
    logger: deps.logger,
    onThrottled: (rule) => deps.metrics.observeThrottled(rule),
  });
  const trustProxy = config.server.trustProxy;
  const addressOf = (c: Context<GatewayEnv>): string => {
    // Trusted only when told: otherwise any caller could name a fresh address per guess.
    const forwarded = trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
    const address = forwarded || deps.clientAddress?.(c);
    return address ? countedAddress(address) : 'unknown';
  };
  return oncePerRequest((c) => guarded(c.req.header('authorization'), addressOf(c)));
}
