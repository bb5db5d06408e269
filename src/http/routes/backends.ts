/** The configured backends, their capabilities, and a live health check of one. */
import { z, createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Scope } from '../../config.js';
import { Backend } from '../../domain/model.js';
import { capabilitiesOf } from '../../provider-kit/adapter.js';
import { mayReach } from '../../security/auth.js';
import { authorize } from '../pipeline.js';
import type { BackendEntry, GatewayEnv } from '../request-vars.js';
import { BackendParam, jsonResponse, type RouteDeps } from '../route-kit.js';
import { backendExample, backendListExample } from '../openapi-examples.js';
import { describeRoute, problemResponsesOf, securityOf, type RouteTraits } from '../openapi-route-doc.js';

/** Both routes need a key with this scope: what `authorize` enforces below, and what the document says. */
const SCOPE: Scope = 'read';
const LIST: RouteTraits = { scope: SCOPE };
/** Its health check never fails the request (an upstream that fails is `health.ok: false`): no 5xx. */
const ONE: RouteTraits = { scope: SCOPE, backendParam: true };

/**
 * A backend as known now: its server's versions once reached (null before), and the
 * capabilities and permission names that go with them (assumed until then; see docs/providers.md).
 */
function describe(entry: BackendEntry): z.infer<typeof Backend> {
  const { adapter } = entry;
  const server = adapter.server?.() ?? { apiVersion: null, serverVersion: null };
  return {
    name: entry.name,
    provider: adapter.provider,
    default: entry.isDefault,
    apiVersion: server.apiVersion,
    serverVersion: server.serverVersion,
    capabilities: capabilitiesOf(adapter),
    permissions: [...adapter.permissions],
  };
}

export function mountBackendRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/backends', operationId: 'listBackends', tags: ['Backends'],
      summary: 'List the backends this key may reach',
      description: describeRoute({ description: 'Only the backends the key may use.', scope: LIST.scope }),
      security: securityOf(LIST.scope),
      responses: {
        200: {
          description: 'Backends',
          content: {
            'application/json': { schema: z.object({ data: z.array(Backend) }).openapi('BackendList'), example: backendListExample },
          },
        },
        ...problemResponsesOf(LIST),
      },
    }),
    async (c) => {
      const principal = await authorize(c, deps, SCOPE);
      const data = [...deps.backends.values()].filter((b) => mayReach(principal, b.name)).map(describe);
      return jsonResponse(c, 200, { data });
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/backends/{backend}', operationId: 'getBackend', tags: ['Backends'],
      summary: 'A backend with a live health check of its upstream',
      description: describeRoute({
        description: 'An upstream that fails still answers 200, with `health.ok: false`. `circuit` is the state of the '
          + "backend's circuit breaker: while it is open, the backend's calls answer 503 at once.",
        scope: ONE.scope,
      }),
      security: securityOf(ONE.scope),
      request: { params: BackendParam },
      responses: {
        200: { description: 'The backend', content: { 'application/json': { schema: Backend, example: backendExample } } },
        ...problemResponsesOf(ONE),
      },
    }),
    async (c) => {
      await authorize(c, deps, SCOPE, c.req.param('backend'));
      const entry = c.get('backend');
      const started = performance.now();
      const result = await entry.adapter.health({ requestId: c.get('requestId'), logger: c.get('logger') });
      const health = { ok: result.ok, latencyMs: Math.round(performance.now() - started), detail: result.detail };
      // Read after the health check, so the versions and the circuit shown are what it found.
      const circuit = entry.adapter.circuit?.();
      return jsonResponse(c, 200, { ...describe(entry), health, ...(circuit ? { circuit } : {}) });
    },
  );
}
