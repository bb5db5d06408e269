/**
 * Builds the gateway from injected dependencies. It reads no environment: the runtime entries
 * (src/node/main.ts, later src/worker/main.ts) parse the config and pass everything in.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { routePath } from 'hono/route';
import type { ProviderAdapter } from '../provider-kit/adapter.js';
import { consoleAuditSink, type AuditSink } from '../security/audit.js';
import { createAuthenticator, oncePerRequest, type RequestAuthenticator, type Sha256 } from '../security/auth.js';
import type { ListCache } from '../cache/list-cache.js';
import type { GatewayConfig } from '../config.js';
import type { BackendEntry, GatewayEnv } from './request-vars.js';
import { GatewayError, invalidRequest } from '../domain/errors.js';
import { REQUIRED } from '../domain/model.js';
import { lazyChild, type Logger } from '../observability/logger.js';
import { noopMetrics, type Metrics } from '../observability/metrics.js';
import { problemResponse, toGatewayError } from './problem.js';
import { PRIVATE_ANSWER, registerErrorResponses, type RouteDeps } from './route-kit.js';
import { requestIdOf } from './request-id.js';
import { cachedUserList } from './routes/users-stored-page.js';
import { mountBackendRoutes } from './routes/backends.js';
import { mountNetworkRuleRoutes } from './routes/network-rules.js';
import { mountSessionRoutes } from './routes/sessions.js';
import { mountSshKeyRoutes } from './routes/ssh-keys.js';
import { mountSystemRoutes } from './routes/system.js';
import { mountUserRoutes } from './routes/users.js';
import { countedAddress, throttled, type LimiterFactory } from '../security/throttle.js';
import { memoryLimiters } from '../security/throttle-memory.js';

export interface AppDeps {
  config: GatewayConfig;
  /** One adapter per configured backend, built by the entry (see src/backends.ts). */
  adapters: ReadonlyMap<string, ProviderAdapter>;
  cache: ListCache;
  logger: Logger;
  /**
   * Writes the one line per request. Its fields are the gateway's own (method, route template,
   * status, duration, backend and key names from the config, a checked request id), never caller
   * text or secrets, so the Node entry passes a logger that skips redaction. @default logger
   */
  requestLogger?: Logger;
  /**
   * Where request metrics go, and what `GET /metrics` renders (src/node/metrics.ts on Node).
   * @default noopMetrics: nothing is measured and `/metrics` is a 404 (e.g. on Workers).
   */
  metrics?: Metrics;
  /** SHA-256 for API key checks. @default WebCrypto's (the Node entry passes node:crypto's, synchronous and cheaper) */
  sha256?: Sha256;
  /**
   * Where the audit events of write routes go (src/security/audit.ts; the Node entry passes the configured
   * sink, src/node/audit.ts). @default consoleAuditSink(): one line per event through console.log
   */
  audit?: AuditSink;
  /**
   * Makes the throttle's counters (src/security/throttle.ts). @default memoryLimiters: this process's (or
   * isolate's) memory; the Node entry passes Redis-backed ones with the Redis cache.
   */
  limiters?: LimiterFactory;
  /**
   * The address a request came from (the socket's peer on Node, `CF-Connecting-IP` on Workers),
   * unless `server.trustProxy` makes it `X-Forwarded-For`'s first hop. @default none: every request
   * without one counts as the one address "unknown".
   */
  clientAddress?: (c: Context<GatewayEnv>) => string | undefined;
}

export const API_VERSION = '0.1.0';

const HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Who may read `/metrics`: anyone without a token (CONTRACT §6); with one, only a request bearing
 * it, compared as SHA-256 digests in constant time as API keys are.
 */
function metricsReader(token: string | undefined, sha256?: Sha256): (authorization: string | undefined) => Promise<boolean> {
  if (token === undefined) return async () => true;
  const check = createAuthenticator([{ name: 'metrics', key: token, scopes: ['read'] }], sha256);
  return (authorization) => check(authorization).then(() => true, () => false);
}

/**
 * The API key check, guarded by the throttle's rules (CONTRACT §7) and run once per request. Demo
 * mode (no keys) has nothing to guess, so nothing is throttled there.
 */
function requestAuthenticator(deps: AppDeps, metrics: Metrics): RequestAuthenticator {
  const { config } = deps;
  const check = createAuthenticator(config.auth?.apiKeys ?? null, deps.sha256);
  if (!config.auth) return oncePerRequest((c) => check(c.req.header('authorization')));
  const keyLimits = new Map(config.auth.apiKeys.flatMap((k) => (k.requestsPerMinute ? [[k.name, k.requestsPerMinute] as const] : [])));
  const guarded = throttled(check, {
    failedAuthPerMinute: config.auth.failedAuthPerMinute,
    keyLimits,
    makeLimiter: deps.limiters ?? memoryLimiters,
    logger: deps.logger,
    onThrottled: (rule) => metrics.observeThrottled(rule),
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

/** A Hono route path (`/v1/backends/:backend/users/:id`) as a regular expression of the paths it takes. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`); // exactly: Hono's routing is strict about a trailing slash too
}

export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const requestLogger = deps.requestLogger ?? logger;
  const backends = new Map<string, BackendEntry>(
    [...deps.adapters].map(([name, adapter]) => [name, { name, adapter, isDefault: name === config.defaultBackend }]),
  );

  const app = new OpenAPIHono<GatewayEnv>({
    // Validation failures of params, query and body: one 400 shape naming each field.
    defaultHook: (result) => {
      if (result.success) return;
      const errors = result.error.issues.flatMap((issue) => {
        const base = issue.path.map(String).join('.');
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
        }
        return [{ path: base || '(body)', message: issue.message }];
      });
      const where = result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target;
      const said = errors.map((e) => (e.message === REQUIRED ? `${e.path} ${REQUIRED}` : `${e.path}: ${e.message}`));
      throw invalidRequest(`The request ${where} is not valid: ${said.join('; ')}`, errors);
    },
  });

  const metrics = deps.metrics ?? noopMetrics;
  const authenticate = requestAuthenticator(deps, metrics);
  // First: a stored page of users is answered here, with the same checks, line and metrics (see the file).
  const cachedList = cachedUserList({
    authenticate, backends, defaultBackend: config.defaultBackend, cache: deps.cache, requestLogger, metrics,
  });
  app.use('/v1/users', cachedList);
  app.use('/v1/backends/:backend/users', cachedList);

  // What every answer gets: its request id, its log line (and below, its metrics). The short way
  // above writes the same for its answers: a field added here must be added there too.
  app.use('*', async function requestContext(c, next) {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('logger', lazyChild(logger, { requestId }));
    // Before next(): a prepared header goes into the answer as it is made. Set afterwards, Hono
    // would rebuild the finished Response around a body stream, and @hono/node-server would lose
    // its fast path for string bodies (measured: most of a cache hit's CPU).
    c.header('x-request-id', requestId);
    const api = c.req.path.startsWith('/v1/') || c.req.path === '/v1';
    if (api) c.header('cache-control', PRIVATE_ANSWER); // an answer with a secret says no-store instead
    await next();
    // An answer built as a bare Response (an idempotent replay) did not take the prepared headers.
    if (c.res.headers.get('x-request-id') !== requestId) c.header('x-request-id', requestId);
    if (api && !c.res.headers.has('cache-control')) c.header('cache-control', PRIVATE_ANSWER);
    requestLogger.info(
      {
        requestId,
        method: c.req.method,
        route: routePath(c, -1),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        backend: c.get('backend')?.name ?? null,
        principal: c.get('principal')?.name ?? null,
      },
      'request',
    );
  });

  // Each backend's breaker phase, read at scrape time (never an upstream call).
  for (const [name, adapter] of deps.adapters) {
    if (adapter.circuit) metrics.registerCircuit(name, () => adapter.circuit!().state);
  }
  // After requestContext, so that errors are already answers (onError runs inside) when it reads the status.
  app.use('*', async function requestMetrics(c, next) {
    const started = performance.now();
    await next();
    const route = routePath(c, -1);
    metrics.observeRequest({
      // Only this middleware matched: no route did (a 404 or a method no route has). One label, not the path.
      route: route === '*' || route === '/*' || route === '' ? 'unmatched' : route,
      // A method is the caller's text: any other than HTTP's own is one label, so labels stay bounded.
      method: HTTP_METHODS.has(c.req.method) ? c.req.method : 'OTHER',
      status: c.res.status,
      backend: c.get('backend')?.name ?? null,
      seconds: (performance.now() - started) / 1000,
    });
  });

  app.onError((err, c) => {
    const known = toGatewayError(err);
    if (known) return problemResponse(c, known);
    // Unknown failures: log the stack, answer without it.
    c.get('logger')?.error({ err }, 'unhandled error');
    return problemResponse(c, new GatewayError(500, 'internal_error', 'The gateway failed to handle this request'));
  });
  // A known path asked with another method is a 405 naming the methods it has (CONTRACT §4).
  let routeMethods: Array<{ pattern: RegExp; method: string }> | undefined;
  app.notFound((c) => {
    routeMethods ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ pattern: patternOf(r.path), method: r.method }));
    const allowed = [...new Set(routeMethods.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length === 0) return problemResponse(c, new GatewayError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`));
    if (allowed.includes('GET')) allowed.push('HEAD');
    const allow = allowed.sort().join(', ');
    return problemResponse(c, new GatewayError(405, 'method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}: use ${allow}`, {
      headers: { Allow: allow },
    }));
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from the gateway config, with its scopes (read, write, admin)',
  });

  registerErrorResponses(app);

  const routeDeps: RouteDeps = {
    authenticate,
    backends,
    defaultBackend: config.defaultBackend,
    cache: deps.cache,
    passwordMinLength: config.passwordMinLength,
    audit: deps.audit ?? consoleAuditSink(),
  };
  mountBackendRoutes(app, routeDeps);
  mountUserRoutes(app, routeDeps);
  mountSshKeyRoutes(app, routeDeps);
  mountNetworkRuleRoutes(app, routeDeps);
  mountSessionRoutes(app, routeDeps);

  let document: Record<string, unknown> | undefined;
  const openApiDocument = () =>
    (document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'sftp-gateway',
        version: API_VERSION,
        description:
          'One provider-neutral REST API for SFTP users, carried to SFTP To Go or SFTPGo. Every ' +
          'backend route exists twice: under /v1/backends/{backend} and, for the default backend, under /v1.',
      },
    }) as unknown as Record<string, unknown>);
  mountSystemRoutes(app, { cache: deps.cache, backendCount: backends.size, document: openApiDocument });

  // Prometheus text format, no key (CONTRACT §6). Mounted only when the implementation can render:
  // without one (noopMetrics) `/metrics` falls to the 404 problem like any unknown path.
  const render = metrics.render?.bind(metrics);
  if (render) {
    const allowed = metricsReader(config.metrics.token, deps.sha256);
    app.get('/metrics', async (c) => {
      if (!(await allowed(c.req.header('authorization')))) {
        return problemResponse(c, new GatewayError(401, 'unauthorized', 'GET /metrics needs "Authorization: Bearer <metrics token>" (API keys are not accepted)'));
      }
      const { contentType, body } = await render();
      return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
    });
  }

  return { app, openApiDocument };
}
