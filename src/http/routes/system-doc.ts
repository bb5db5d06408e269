/**
 * The document's entries for the routes that need no key (src/http/routes/system.ts serves them as
 * plain Hono routes, with nothing to validate): what they answer, and `security: []`.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { describeRoute, securityOf } from '../openapi-route-doc.js';
import type { GatewayEnv } from '../request-vars.js';

export const Liveness = z.object({ status: z.literal('ok') }).openapi('Liveness', { example: { status: 'ok' } });

export const Readiness = z
  .object({
    status: z.enum(['ready', 'degraded']).openapi({ description: '`degraded`: serving, but without the configured cache' }),
    config: z.literal('ok'),
    cache: z.object({
      driver: z.enum(['memory', 'redis', 'kv', 'none']),
      state: z.enum(['ok', 'connecting', 'down', 'disabled']).openapi({ description: '`ok` once the store answered since its last failure' }),
    }),
    backends: z.number().int().min(0).openapi({ description: 'Configured backends' }),
  })
  .openapi('Readiness', { example: { status: 'ready', config: 'ok', cache: { driver: 'redis', state: 'ok' }, backends: 2 } });

/** What `/openapi.json` answers: this document (only its first fields spelt out). */
const OpenApiDocument = z
  .looseObject({
    openapi: z.literal('3.1.0'),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .openapi({ example: { openapi: '3.1.0', info: { title: 'sftp-gateway', version: '0.1.0' }, paths: {} } });

const DocsPage = z.string().openapi({ example: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sftp-gateway — API reference</title>' });

const SYSTEM_ROUTES = [
  { path: '/healthz', operationId: 'getLiveness', summary: 'Liveness', description: 'The process is up.', schema: Liveness, type: 'application/json' },
  {
    path: '/readyz', operationId: 'getReadiness', summary: 'Readiness: config and cache state',
    description: 'Never calls an upstream, so one slow provider cannot take instances out.', schema: Readiness, type: 'application/json',
  },
  { path: '/openapi.json', operationId: 'getOpenApiDocument', summary: 'This OpenAPI 3.1 document', schema: OpenApiDocument, type: 'application/json' },
  { path: '/docs', operationId: 'getDocs', summary: 'The API reference page', schema: DocsPage, type: 'text/html' },
] as const;

export function documentSystemRoutes(app: OpenAPIHono<GatewayEnv>): void {
  for (const r of SYSTEM_ROUTES) {
    app.openAPIRegistry.registerPath({
      method: 'get', path: r.path, operationId: r.operationId, tags: ['System'], summary: r.summary,
      description: describeRoute({ description: 'description' in r ? r.description : undefined, scope: null }),
      security: securityOf(null),
      responses: { 200: { description: r.summary, content: { [r.type]: { schema: r.schema } } } },
    });
  }
}
