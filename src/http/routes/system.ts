/** Liveness, readiness and the API description: no key needed. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ListCache } from '../../cache/list-cache.js';
import { mountDocs } from '../docs-routes.js';
import type { SwaggerUiAssets } from '../docs-swagger-ui.js';
import type { GatewayEnv } from '../request-vars.js';

export function mountSystemRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: { cache: ListCache; backendCount: number; document: () => Record<string, unknown>; swaggerUi?: SwaggerUiAssets },
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Readiness never calls an upstream: one slow provider must not take every instance out.
  app.get('/readyz', (c) => {
    const cache = deps.cache.state();
    // Still serving without the cache (lists go to the upstream), but not as configured.
    const status = cache === 'ok' || cache === 'disabled' ? 'ready' : 'degraded';
    return c.json({ status, config: 'ok', cache: { driver: deps.cache.driver, state: cache }, backends: deps.backendCount });
  });

  app.get('/openapi.json', (c) => c.json(deps.document()));
  mountDocs(app, { document: deps.document, swaggerUi: deps.swaggerUi });
}
