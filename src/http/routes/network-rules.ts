/** Network inbound rules of a user: read, and replace as a whole set. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { GatewayEnv } from '../request-vars.js';
import { invalidRequest } from '../../domain/errors.js';
import { NetworkRule, networkRuleList, pageOf } from '../../domain/model.js';
import { normalizeCidr } from '../../domain/cidr.js';
import { UserIdParams, jsonResponse, mountBackendRoute, type RouteDeps } from '../route-kit.js';
import { networkRuleListExample, networkRuleSetExample, networkRulesInForceExample } from '../openapi-examples.js';

const RuleSet = z.object({ data: networkRuleList() }).strict().openapi('NetworkRuleSet');

export function mountNetworkRuleRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps): void {
  const tag = 'Network rules';

  mountBackendRoute(app, deps, {
    method: 'get', path: '/users/{id}/network-rules', operationId: 'listNetworkRules', tag, scope: 'read',
    capability: 'networkRules', summary: "List a user's network inbound rules", params: UserIdParams,
    success: { status: 200, description: 'Every rule', schema: pageOf(NetworkRule, 'NetworkRuleList'), example: networkRuleListExample },
  }, async (c, { params, operations, ctx }) =>
    jsonResponse(c, 200, { data: await operations.listNetworkRules(params.id, ctx), nextCursor: null }, { 'x-cache': 'BYPASS' }));

  mountBackendRoute(app, deps, {
    method: 'put', path: '/users/{id}/network-rules', operationId: 'replaceNetworkRules', tag, scope: 'write',
    capability: 'networkRules', summary: 'Replace the whole set of network inbound rules',
    description: 'A bare IP becomes a /32 or /128; anything else that is not a CIDR is a 400. At most 100 rules; an ' +
      '`id` given to two rules is a 400. SFTPGo holds only enabled rules of protocol `any` without a description (422).',
    params: UserIdParams, body: RuleSet, bodyExample: networkRuleSetExample,
    success: {
      status: 200, description: 'The rules now in force', schema: z.object({ data: z.array(NetworkRule) }), example: networkRulesInForceExample,
    },
  }, async (c, { params, body, operations, ctx }) => {
    const rules = body.data.map((rule, i) => {
      const cidr = normalizeCidr(rule.cidr);
      if (!cidr) throw invalidRequest(`"${rule.cidr}" is not an IP address or a CIDR`, [{ path: `data.${i}.cidr`, message: 'not a CIDR' }]);
      return { ...rule, cidr };
    });
    return jsonResponse(c, 200, { data: await operations.replaceNetworkRules(params.id, rules, ctx) });
  });
}
