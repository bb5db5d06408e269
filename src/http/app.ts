/**
 * Builds the gateway from injected dependencies. It reads no environment: the runtime entries
 * (src/node/main.ts, src/worker/main.ts) parse the config, build the adapters through the
 * registry (src/providers.ts) and pass everything in.
 *
 * A request passes: the pipeline (src/http/pipeline.ts: id, logger, headers; at the end its line
 * and metrics) → the route (src/http/route-kit.ts: access check, capability, the route's own steps,
 * body checks, validation) → its handler (src/http/routes/) → the adapter.
 */
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ListCache } from '../cache/list-cache.js';
import type { GatewayConfig } from '../config.js';
import { GatewayError, invalidRequest } from '../domain/errors.js';
import { REQUIRED } from '../domain/model.js';
import type { Logger } from '../observability/logger.js';
import { noopMetrics, type Metrics } from '../observability/metrics.js';
import type { ProviderAdapter } from '../provider-kit/adapter.js';
import { consoleAuditSink, type AuditSink } from '../security/audit.js';
import { createAuthenticator, type Sha256 } from '../security/auth.js';
import type { LimiterFactory } from '../security/throttle.js';
import { memoryLimiters } from '../security/throttle-memory.js';
import type { SwaggerUiAssets } from './docs-swagger-ui.js';
import { requestAuthenticator, requestPipeline } from './pipeline.js';
import { problemResponse, toGatewayError } from './problem.js';
import { API_DESCRIPTION, LICENSE, SERVERS, TAGS } from './openapi-info.js';
import type { BackendEntry, GatewayEnv } from './request-vars.js';
import { registerErrorResponses, type RouteDeps } from './route-kit.js';
import { mountBackendRoutes } from './routes/backends.js';
import { mountMigrationRoutes } from './routes/migrations.js';
import { mountNetworkRuleRoutes } from './routes/network-rules.js';
import { mountSessionRoutes } from './routes/sessions.js';
import { mountSshKeyRoutes } from './routes/ssh-keys.js';
import { mountSystemRoutes } from './routes/system.js';
import { documentSystemRoutes } from './routes/system-doc.js';
import { mountUserRoutes } from './routes/users.js';

export interface AppDeps {
  config: GatewayConfig;
  /** One adapter per configured backend, built by the entry (src/providers.ts `createAdapters`). */
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
  /**
   * swagger-ui's files, for the interactive `/docs` (src/node/docs-assets.ts on Node).
   * @default none: `/docs` is the server-rendered reference, as on Workers
   */
  docsAssets?: SwaggerUiAssets;
  /**
   * Why this runtime cannot run `POST /v1/migrations`: it then answers a 501 with this detail, after
   * the key and scope checks (src/worker/main.ts says why Workers cannot). @default none: migrations run
   */
  migrationsRefusal?: string;
}

export const API_VERSION = '0.1.0';

/** Validation failures of params, query and body: one 400 shape naming each field. */
const validationHook: Hook<unknown, GatewayEnv, string, unknown> = (result) => {
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
};

export function createApp(deps: AppDeps) {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? noopMetrics;
  const app = new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });
  app.use('*', requestPipeline(logger, { requestLogger: deps.requestLogger ?? logger, metrics }));
  app.onError((err, c) => {
    const known = toGatewayError(err);
    if (known) return problemResponse(c, known);
    // Unknown failures: log the stack, answer without it.
    c.get('logger')?.error({ err }, 'unhandled error');
    return problemResponse(c, new GatewayError(500, 'internal_error', 'The gateway failed to handle this request'));
  });
  answerUnknownPaths(app);

  // Each backend's breaker phase, read at scrape time (never an upstream call).
  for (const [name, adapter] of deps.adapters) {
    const { circuit } = adapter;
    if (circuit) metrics.registerCircuit(name, () => circuit().state);
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from the gateway config (`auth.apiKeys`), with its scopes: read, write, admin',
  });
  registerErrorResponses(app);
  const routeDeps: RouteDeps = {
    authenticate: requestAuthenticator({ ...deps, limiters: deps.limiters ?? memoryLimiters, metrics }),
    backends: new Map<string, BackendEntry>(
      [...deps.adapters].map(([name, adapter]) => [name, { name, adapter, isDefault: name === config.defaultBackend }]),
    ),
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
  mountMigrationRoutes(app, routeDeps, { refusal: deps.migrationsRefusal });
  documentSystemRoutes(app);

  let document: Record<string, unknown> | undefined;
  const openApiDocument = () => (document ??= openApiDocumentOf(app));
  mountSystemRoutes(app, {
    cache: deps.cache, backendCount: deps.adapters.size, document: openApiDocument, swaggerUi: deps.docsAssets,
  });
  mountMetrics(app, metrics, config.metrics.token, deps.sha256);
  return { app, openApiDocument };
}

function openApiDocumentOf(app: OpenAPIHono<GatewayEnv>): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'sftp-gateway', version: API_VERSION, description: API_DESCRIPTION, license: LICENSE },
    servers: SERVERS,
    tags: TAGS,
  }) as unknown as Record<string, unknown>;
}

/** A Hono route path (`/v1/backends/:backend/users/:id`) as a regular expression of the paths it takes. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`); // exactly: Hono's routing is strict about a trailing slash too
}

/** No route: a 404, or a 405 naming the methods the path has when it is known (CONTRACT §4). */
function answerUnknownPaths(app: OpenAPIHono<GatewayEnv>): void {
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
}

/**
 * `GET /metrics` in Prometheus text format (CONTRACT §6), mounted only when the metrics can render
 * (without, it falls to the 404 like any unknown path). Anyone may read it without a token; with
 * one, only a request bearing it, compared as SHA-256 digests in constant time as API keys are.
 */
function mountMetrics(app: OpenAPIHono<GatewayEnv>, metrics: Metrics, token: string | undefined, sha256?: Sha256): void {
  const render = metrics.render?.bind(metrics);
  if (!render) return;
  const check = token === undefined ? undefined : createAuthenticator([{ name: 'metrics', key: token, scopes: ['read'] }], sha256);
  const allowed = (authorization: string | undefined) => (check ? check(authorization).then(() => true, () => false) : Promise.resolve(true));
  app.get('/metrics', async (c) => {
    if (!(await allowed(c.req.header('authorization')))) {
      return problemResponse(c, new GatewayError(401, 'unauthorized', 'GET /metrics needs "Authorization: Bearer <metrics token>" (API keys are not accepted)'));
    }
    const { contentType, body } = await render();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
}
