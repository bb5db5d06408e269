/** SSH keys of a user: list, add, delete. Keys are parsed and fingerprinted here, once, for every provider. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { GatewayEnv } from '../request-vars.js';
import { SshKey, SshKeyInput, pageOf } from '../../domain/model.js';
import { UserIdParams, idParam, jsonResponse, mountBackendRoute, type RouteDeps } from '../route-kit.js';
import { parseSshPublicKey } from '../../domain/ssh-key.js';
import { sshKeyExample, sshKeyInputExample, sshKeyListExample } from '../openapi-examples.js';

const KeyParams = UserIdParams.extend({ keyId: idParam('keyId', 'nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8') });

export function mountSshKeyRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps): void {
  const tag = 'SSH keys';

  mountBackendRoute(app, deps, {
    method: 'get', path: '/users/{id}/ssh-keys', operationId: 'listSshKeys', tag, scope: 'read',
    capability: 'sshKeys', summary: "List a user's SSH keys", params: UserIdParams,
    success: { status: 200, description: 'Every key of the user', schema: pageOf(SshKey, 'SshKeyList'), example: sshKeyListExample },
  }, async (c, { params, operations, ctx }) =>
    jsonResponse(c, 200, { data: await operations.listSshKeys(params.id, ctx), nextCursor: null }, { 'x-cache': 'BYPASS' }));

  mountBackendRoute(app, deps, {
    method: 'post', path: '/users/{id}/ssh-keys', operationId: 'addSshKey', tag, scope: 'write', idempotent: true,
    capability: 'sshKeys', summary: 'Add an SSH key',
    description: 'OpenSSH one-line public key format; an invalid key is a 400.',
    conflicts: 'the user already has the key',
    params: UserIdParams, body: SshKeyInput, bodyExample: sshKeyInputExample,
    success: { status: 201, description: 'The added key', schema: SshKey, example: sshKeyExample },
  }, async (c, { params, body, operations, ctx }) => {
    const parsed = await parseSshPublicKey(body.publicKey, 'publicKey');
    const key = await operations.addSshKey(params.id, parsed, ctx);
    // No Location: a single key has no GET route (the list has them all; DELETE takes key.id).
    return jsonResponse(c, 201, key);
  });

  mountBackendRoute(app, deps, {
    method: 'delete', path: '/users/{id}/ssh-keys/{keyId}', operationId: 'deleteSshKey', tag, scope: 'write',
    capability: 'sshKeys', summary: 'Delete an SSH key', params: KeyParams,
    conflicts: 'it is the last SSH key of an SFTPGo user without a password',
    success: { status: 204, description: 'Deleted' },
  }, async (c, { params, operations, ctx }) => {
    await operations.deleteSshKey(params.id, params.keyId, ctx);
    return c.body(null, 204);
  });
}
