/** Live server state (SFTPGo): connections and quota scans. Admin scope. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { GatewayEnv } from '../request-vars.js';
import { Connection, QuotaScan } from '../../domain/model.js';
import { UserIdParams, idParam, jsonResponse, mountBackendRoute, type RouteDeps } from '../route-kit.js';
import { connectionListExample, quotaScanListExample } from '../openapi-examples.js';

export function mountSessionRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps): void {
  mountBackendRoute(app, deps, {
    method: 'get', path: '/connections', operationId: 'listConnections', tag: 'Connections', scope: 'admin',
    capability: 'connections', summary: 'List active connections',
    success: {
      status: 200, description: 'Active connections', schema: z.object({ data: z.array(Connection) }).openapi('ConnectionList'),
      example: connectionListExample,
    },
  }, async (c, { operations, ctx }) =>
    jsonResponse(c, 200, { data: await operations.listConnections(ctx) }, { 'x-cache': 'BYPASS' }));

  mountBackendRoute(app, deps, {
    method: 'delete', path: '/connections/{connectionId}', operationId: 'closeConnection', tag: 'Connections',
    scope: 'admin', capability: 'connections', summary: 'Close a connection',
    params: z.object({ connectionId: idParam('connectionId', 'SFTP_a8f0e1c2d3b4_1') }),
    success: { status: 204, description: 'Closed' },
  }, async (c, { params, operations, ctx }) => {
    await operations.closeConnection(params.connectionId, ctx);
    return c.body(null, 204);
  });

  mountBackendRoute(app, deps, {
    method: 'get', path: '/quota-scans', operationId: 'listQuotaScans', tag: 'Quota scans', scope: 'admin',
    capability: 'quotaScans', summary: 'List running quota scans',
    success: {
      status: 200, description: 'Running scans', schema: z.object({ data: z.array(QuotaScan) }).openapi('QuotaScanList'),
      example: quotaScanListExample,
    },
  }, async (c, { operations, ctx }) =>
    jsonResponse(c, 200, { data: await operations.listQuotaScans(ctx) }, { 'x-cache': 'BYPASS' }));

  mountBackendRoute(app, deps, {
    method: 'post', path: '/users/{id}/quota-scans', operationId: 'startQuotaScan', tag: 'Quota scans',
    scope: 'admin', capability: 'quotaScans', summary: "Start a scan of a user's stored files",
    conflicts: 'a scan is already running for the user',
    params: UserIdParams,
    success: { status: 202, description: 'Started' },
  }, async (c, { params, operations, ctx }) => {
    await operations.startQuotaScan(params.id, ctx);
    return c.body(null, 202);
  });
}
