/** Liveness, readiness and the API description: no key needed. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ListCache } from '../../cache/list-cache.js';
import { renderDocs } from '../docs.js';
import type { GatewayEnv } from '../request-vars.js';

export function mountSystemRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: { cache: ListCache; backendCount: number; document: () => Record<string, unknown> },
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Readiness never calls an upstream: one slow provider must not take every instance out.
  app.get('/readyz', (c) => {
    const cache = deps.cache.state();
    // Still serving without the cache (lists go to the upstream), but not as configured.
    const status = cache === 'ok' || cache === 'disabled' ? 'ready' : 'degraded';
    return c.json({ status, config: 'ok', cache: { driver: deps.cache.driver, state: cache }, backends: deps.backendCount });
  });

  let docsHtml: string | undefined;
  app.get('/openapi.json', (c) => c.json(deps.document()));
  app.get('/docs', (c) => c.html((docsHtml ??= renderDocs(deps.document()))));
}
